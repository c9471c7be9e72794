#include "deliver/destinations.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace moat::deliver {
namespace {

namespace fs = std::filesystem;

class DestinationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("moat-dest-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "aliases")
        << "# comment\npostmaster: root\nroot: root\n"
           "team: alice,\n  bob\nalice: alice\nbob: bob\nvuser: v@virt.test\n"
           "loop1: loop2\nloop2: loop1\npipe: \"|/bin/cat\"\n";
    std::ofstream(dir_ / "vmailbox") << "v@virt.test v/\nbox@virt.test box\n@catch.test all/\n";
  }
  void TearDown() override { fs::remove_all(dir_); }

  Destinations build(const std::string& extra = "") {
    const std::string text =
        "myhostname = mx.here.test\nmydestination = localhost, $myhostname\n"
        "alias_maps = hash:" +
        (dir_ / "aliases").string() +
        "\n"
        "local_recipient_maps = $alias_maps\n"
        "virtual_mailbox_domains = virt.test catch.test\n"
        "virtual_mailbox_maps = texthash:" +
        (dir_ / "vmailbox").string() +
        "\n"
        "virtual_mailbox_base = /vmail\n"
        "moat_local_maildir_base = /local\n"
        "relay_domains = relay.test\n"
        "recipient_delimiter = +\n" +
        extra;
    auto loaded = config::Config::load_text(text, "main.cf");
    EXPECT_TRUE(loaded.ok());
    config_ = loaded.config;
    std::vector<config::Problem> problems;
    auto destinations = Destinations::build(*config_, problems);
    EXPECT_TRUE(problems.empty()) << problems.front().to_string();
    return destinations;
  }

  fs::path dir_;
  std::shared_ptr<const config::Config> config_;
};

TEST_F(DestinationsTest, ClassifiesDomains) {
  const auto d = build();
  EXPECT_EQ(d.resolve("root@localhost").address_class, AddressClass::kLocal);
  EXPECT_EQ(d.resolve("root@MX.HERE.TEST").address_class, AddressClass::kLocal);
  EXPECT_EQ(d.resolve("postmaster").address_class, AddressClass::kLocal);
  EXPECT_EQ(d.resolve("v@virt.test").address_class, AddressClass::kVirtualMailbox);
  EXPECT_EQ(d.resolve("x@relay.test").address_class, AddressClass::kRelay);
  EXPECT_EQ(d.resolve("x@sub.relay.test").address_class, AddressClass::kRelay);
  EXPECT_EQ(d.resolve("x@other.test").address_class, AddressClass::kRemote);
}

TEST_F(DestinationsTest, RoutingTricksThroughALocalDomainResolveToTheRemoteAddress) {
  const auto d = build();
  for (const char* trick :
       {"user%other.test@localhost", "other.test!user@localhost", "user@other.test@localhost"}) {
    const auto resolved = d.resolve(trick);
    EXPECT_EQ(resolved.address_class, AddressClass::kRemote) << trick;
    EXPECT_EQ(resolved.address, "user@other.test") << trick;
    EXPECT_FALSE(d.is_authorized_destination(resolved)) << trick;
  }
}

TEST_F(DestinationsTest, SenderRoutedRelayAddressIsNotAuthorized) {
  const auto d = build();
  EXPECT_TRUE(d.is_authorized_destination(d.resolve("x@relay.test")));
  EXPECT_FALSE(d.is_authorized_destination(d.resolve("x%elsewhere.test@relay.test")));
}

TEST_F(DestinationsTest, PercentHackCanBeTurnedOff) {
  const auto d = build("allow_percent_hack = no\n");
  const auto resolved = d.resolve("user%other.test@localhost");
  EXPECT_EQ(resolved.address_class, AddressClass::kLocal);
}

TEST_F(DestinationsTest, LocalRecipientsAreCheckedAgainstTheMapsWithExtensions) {
  const auto d = build();
  EXPECT_EQ(d.check(d.resolve("postmaster@localhost")), RecipientStatus::kKnown);
  EXPECT_EQ(d.check(d.resolve("PostMaster@localhost")), RecipientStatus::kKnown);
  EXPECT_EQ(d.check(d.resolve("alice+tag@localhost")), RecipientStatus::kKnown);
  EXPECT_EQ(d.check(d.resolve("nobody@localhost")), RecipientStatus::kUnknownLocal);
  EXPECT_EQ(d.check(d.resolve("v@virt.test")), RecipientStatus::kKnown);
  EXPECT_EQ(d.check(d.resolve("w@virt.test")), RecipientStatus::kUnknownVirtual);
  EXPECT_EQ(d.check(d.resolve("anyone@catch.test")), RecipientStatus::kKnown);
}

TEST_F(DestinationsTest, AliasesExpandToMaildirsRecursively) {
  const auto d = build();
  const auto team = d.expand(d.resolve("team@localhost"));
  ASSERT_EQ(team.error, "");
  ASSERT_EQ(team.mailboxes.size(), 2u);
  EXPECT_EQ(team.mailboxes[0].path, "/local/alice/");
  EXPECT_EQ(team.mailboxes[1].path, "/local/bob/");
  const auto postmaster = d.expand(d.resolve("postmaster@localhost"));
  ASSERT_EQ(postmaster.mailboxes.size(), 1u);
  EXPECT_EQ(postmaster.mailboxes[0].path, "/local/root/");
  EXPECT_EQ(postmaster.mailboxes[0].delivered_to, "root@localhost");
}

TEST_F(DestinationsTest, AliasToAVirtualMailbox) {
  const auto d = build();
  const auto expansion = d.expand(d.resolve("vuser@localhost"));
  ASSERT_EQ(expansion.mailboxes.size(), 1u);
  EXPECT_EQ(expansion.mailboxes[0].path, "/vmail/v/");
  EXPECT_EQ(expansion.mailboxes[0].transport, "virtual");
}

TEST_F(DestinationsTest, AliasLoopsAndCommandsAreErrorsNotCrashes) {
  const auto d = build();
  EXPECT_NE(d.expand(d.resolve("loop1@localhost")).error, "");
  EXPECT_NE(d.expand(d.resolve("pipe@localhost")).error, "");
}

TEST_F(DestinationsTest, VirtualMailboxPathsAndCatchAll) {
  const auto d = build();
  EXPECT_EQ(d.expand(d.resolve("box@virt.test")).mailboxes.at(0).path, "/vmail/box");
  EXPECT_EQ(d.expand(d.resolve("who@catch.test")).mailboxes.at(0).path, "/vmail/all/");
}

}  // namespace
}  // namespace moat::deliver
