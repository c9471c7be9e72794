// moat as a policy server: requests become contexts, moat_policy_restrictions
// decides, the verdict comes back as the action Postfix expects.
#include <gtest/gtest.h>

#include <filesystem>

#include "../state/store_contract.h"
#include "config/config.h"
#include "policy/responder.h"
#include "state/lmdb_store.h"

namespace moat::policy {
namespace {

using state::testing::run_on;

class ResponderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/moat-responder-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    responder_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void load(const std::string& restrictions, const std::string& more = "") {
    auto loaded = config::Config::load_text(
        "myhostname = mx.here.test\nmydestination = $myhostname\nmynetworks = 192.0.2.0/24\n"
        "moat_greylist_delay = 300s\nmoat_policy_restrictions = " +
            restrictions + "\n" + more,
        "main.cf");
    ASSERT_TRUE(loaded.config);
    auto smtpd = smtp::build_smtpd_config(loaded.config);
    ASSERT_TRUE(smtpd.smtpd) << (smtpd.problems.empty() ? "" : smtpd.problems[0].to_string());
    auto database = state::LmdbDatabase::open((dir_ / "state.lmdb").string());
    ASSERT_TRUE(database) << database.error();
    store_ = state::make_lmdb_store(*database, loop_);
    responder_ = std::make_unique<Responder>(smtpd.smtpd, smtp::LoopServices{nullptr, store_});
  }

  static Attributes request(std::string client = "198.51.100.7",
                            std::string recipient = "bob@mx.here.test",
                            std::string instance = "a.1", std::string sender = "al@x.test") {
    return {{"request", "smtpd_access_policy"},  {"protocol_state", "RCPT"},
            {"protocol_name", "ESMTP"},          {"client_address", std::move(client)},
            {"client_name", "unknown"},          {"reverse_client_name", "unknown"},
            {"helo_name", "mail.x.test"},        {"sender", std::move(sender)},
            {"recipient", std::move(recipient)}, {"recipient_count", "0"},
            {"instance", std::move(instance)}};
  }

  std::string ask(const Attributes& r) { return run_on(loop_, responder_->answer(r)); }

  std::filesystem::path dir_;
  asio::io_context loop_;
  std::shared_ptr<state::Store> store_;
  std::unique_ptr<Responder> responder_;
};

TEST_F(ResponderTest, GreylistingAnswersDeferIfPermitThenRemembers) {
  load("check_greylist");
  EXPECT_EQ(ask(request()),
            "DEFER_IF_PERMIT 4.2.0 Greylisted, see https://postgrey.schweikert.ch/help/"
            "mx.here.test.html");
  // The same triplet in a later transaction: still too early.
  EXPECT_TRUE(ask(request("198.51.100.7", "bob@mx.here.test", "b.2"))
                  .starts_with("DEFER_IF_PERMIT 4.2.0 "));
}

TEST_F(ResponderTest, RejectsLoseTheirPrefixPostfixAddsItsOwn) {
  load("check_recipient_access inline:{{bad@mx.here.test=REJECT go away}}");
  EXPECT_EQ(ask(request("198.51.100.7", "bad@mx.here.test")), "554 5.7.1 go away");
  EXPECT_EQ(ask(request("198.51.100.7", "good@mx.here.test")), "DUNNO");
}

TEST_F(ResponderTest, PermitIsOkAndHeadersArePrepended) {
  load("permit_mynetworks, check_client_access inline:{{198.51.100.7=PREPEND X-Seen: yes}}");
  EXPECT_EQ(ask(request("192.0.2.1")), "OK");
  EXPECT_EQ(ask(request("198.51.100.7")), "PREPEND X-Seen: yes");
}

TEST_F(ResponderTest, OtherRequestsAndBadAddressesAreDunno) {
  load("reject");
  auto other = request();
  other[0].value = "something_else";
  EXPECT_EQ(ask(other), "DUNNO");
  EXPECT_EQ(ask(request("not-an-address")), "DUNNO");
  EXPECT_EQ(ask(request()), "554 5.7.1 Access denied");
}

TEST(ActionText, StripsWhatPostfixWillAddBack) {
  EXPECT_EQ(action_text("<b@x>: Recipient address rejected: Greylisted"), "Greylisted");
  EXPECT_EQ(action_text("<mail.x>: Helo command rejected: need fully-qualified hostname"),
            "need fully-qualified hostname");
  EXPECT_EQ(action_text("Service unavailable; Client host [192.0.2.1] blocked using z"),
            "Service unavailable; Client host [192.0.2.1] blocked using z");
  EXPECT_EQ(action_text("<b@x>: something else"), "<b@x>: something else");
}

}  // namespace
}  // namespace moat::policy
