// check_*_{a,mx,ns}_access with canned DNS answers: what is looked up, in
// which rounds, and the replies and warnings Postfix 3.7 gives.
#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include "dns/answer_set.h"
#include "engine_test_base.h"
#include "restrict/evaluation.h"
#include "restrict/restrictions.h"

namespace moat::restriction {
namespace {

class DnsAccessTest : public testing::EngineTestBase {
 protected:
  // "TYPE:PATH" of a new table file.
  std::string table(const std::string& type, const std::string& text) {
    return type + ":" + write_file("t" + std::to_string(++tables_) + "." + type, text);
  }

  void load(const std::string& text) {
    build(
        "myhostname = mx.here.test\nmydestination = localhost, $myhostname\n"
        // The client is in mynetworks so that the relay check passes it on.
        "mynetworks = 198.51.100.0/24\n"
        "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n",
        text);
    for (const auto& p : problems_) ASSERT_FALSE(p.is_error()) << p.to_string();
  }

  // A request at RCPT; the test sets the names it needs.
  Context context() {
    Context c;
    c.stage = Stage::kRcpt;
    c.client_address = asio::ip::make_address("198.51.100.7");
    c.client_ip = "198.51.100.7";
    c.client_name = client_name_;
    c.reverse_client_name = reverse_name_;
    c.client_name_status = NameStatus::kOk;
    c.reverse_client_name_status = NameStatus::kOk;
    c.helo = helo_;
    c.has_helo = !helo_.empty();
    c.sender = sender_;
    c.has_sender = true;
    c.recipient = recipient_;
    c.dns = &answers_;
    return c;
  }

  Verdict run(Check check) {
    effects_ = {};
    return engine_.check(check, context(), effects_);
  }

  // Looks up what the last evaluation asked for: with no resolver every
  // question gets a temporary failure "no resolver".
  void fetch() {
    asio::io_context io;
    asio::co_spawn(io, answers_.fetch_needed(), asio::detached);
    io.run();
  }
  // After fetch(): whether the question was asked (only then it has an answer).
  bool asked(const std::string& name, dns::Type type) {
    const dns::Answer* a = answers_.find(name, type);
    return a && a->error == "no resolver";
  }

  void put(const std::string& name, dns::Type type, dns::Status status,
           std::vector<dns::Record> records = {}) {
    dns::Answer a;
    a.status = status;
    a.records = std::move(records);
    if (status == dns::Status::kTempFail) a.error = "SERVFAIL";
    answers_.put(name, type, std::move(a));
  }
  void mx(const std::string& name, const std::vector<std::string>& hosts) {
    std::vector<dns::Record> records;
    for (const auto& host : hosts) {
      dns::Record r;
      r.type = dns::Type::kMX;
      r.preference = 10;
      r.target = host;
      records.push_back(r);
    }
    put(name, dns::Type::kMX, dns::Status::kOk, std::move(records));
  }
  void ns(const std::string& name, const std::vector<std::string>& hosts) {
    std::vector<dns::Record> records;
    for (const auto& host : hosts) {
      dns::Record r;
      r.type = dns::Type::kNS;
      r.target = host;
      records.push_back(r);
    }
    put(name, dns::Type::kNS, dns::Status::kOk, std::move(records));
  }
  // A records (or NoData when empty); AAAA NoData.
  void host(const std::string& name, const std::vector<std::string>& v4) {
    std::vector<dns::Record> records;
    for (const auto& text : v4) {
      dns::Record r;
      r.type = dns::Type::kA;
      const auto bytes = asio::ip::make_address_v4(text).to_bytes();
      std::copy(bytes.begin(), bytes.end(), r.address.begin());
      records.push_back(r);
    }
    const auto status = records.empty() ? dns::Status::kNoData : dns::Status::kOk;
    put(name, dns::Type::kA, status, std::move(records));
    put(name, dns::Type::kAAAA, dns::Status::kNoData);
  }

  std::string warnings() const {
    std::string out;
    for (const auto& w : effects_.warnings) out += w + "\n";
    return out;
  }

  int tables_ = 0;
  Effects effects_;
  dns::AnswerSet answers_;
  std::string client_name_ = "unknown", reverse_name_ = "unknown";
  std::string helo_ = "client.test", sender_ = "s@client.test", recipient_ = "r@remote.test";
};

TEST_F(DnsAccessTest, SenderMxHostInABlockedNetworkInTwoLookupRounds) {
  load("smtpd_sender_restrictions = check_sender_mx_access " +
       table("cidr", "203.0.113.0/24 REJECT bad network\n") + "\n");
  sender_ = "sender@badmx.test";
  EXPECT_TRUE(run(Check::kSender).is_pending());
  fetch();
  EXPECT_TRUE(asked("badmx.test", dns::Type::kMX));
  mx("badmx.test", {"mx.badnet.test"});
  EXPECT_TRUE(run(Check::kSender).is_pending());
  fetch();
  EXPECT_TRUE(asked("mx.badnet.test", dns::Type::kA));
  EXPECT_TRUE(asked("mx.badnet.test", dns::Type::kAAAA));
  host("mx.badnet.test", {"203.0.113.1"});
  const auto verdict = run(Check::kSender);
  ASSERT_TRUE(verdict.is_reject());
  EXPECT_EQ(verdict.reply.code, 554);
  EXPECT_EQ(verdict.reply.log_text(),
            "554 5.7.1 <sender@badmx.test>: Sender address rejected: bad network");
  EXPECT_EQ(warnings(), "");
}

TEST_F(DnsAccessTest, AddressesOfEveryMxHostAreAskedInOneRound) {
  load("smtpd_sender_restrictions = check_sender_mx_access " +
       table("cidr", "203.0.113.0/24 REJECT bad network\n") + "\n");
  sender_ = "s@three.test";
  mx("three.test", {"a.three.test", "b.three.test", "c.three.test"});
  EXPECT_TRUE(run(Check::kSender).is_pending());
  fetch();
  for (const auto* name : {"a.three.test", "b.three.test", "c.three.test"}) {
    EXPECT_TRUE(asked(name, dns::Type::kA)) << name;
    EXPECT_TRUE(asked(name, dns::Type::kAAAA)) << name;
  }
  host("a.three.test", {"198.51.100.1"});
  host("b.three.test", {"198.51.100.2"});
  host("c.three.test", {"203.0.113.3"});
  EXPECT_EQ(run(Check::kSender).reply.text, "<s@three.test>: Sender address rejected: bad network");
}

TEST_F(DnsAccessTest, MxHostNameAndParentDomainsMatchWithoutAddressLookups) {
  const auto names = table("texthash", "provider.test REJECT bad provider\n");
  load("smtpd_sender_restrictions = check_sender_mx_access " + names + "\n");
  sender_ = "s@customer.test";
  mx("customer.test", {"mx1.eu.provider.test"});
  auto verdict = run(Check::kSender);
  ASSERT_TRUE(verdict.is_reject());
  EXPECT_EQ(verdict.reply.log_text(),
            "554 5.7.1 <s@customer.test>: Sender address rejected: bad provider");
  // Without subdomain matching the parent must be written ".provider.test".
  load("parent_domain_matches_subdomains =\nsmtpd_sender_restrictions = check_sender_mx_access " +
       names + "\n");
  EXPECT_TRUE(run(Check::kSender).is_pending());  // on to the MX host's addresses
  host("mx1.eu.provider.test", {"198.51.100.1"});
  EXPECT_TRUE(run(Check::kSender).is_dunno());
  load("parent_domain_matches_subdomains =\nsmtpd_sender_restrictions = check_sender_mx_access " +
       table("texthash", ".provider.test REJECT dot provider\n") + "\n");
  EXPECT_EQ(run(Check::kSender).reply.text,
            "<s@customer.test>: Sender address rejected: dot provider");
}

TEST_F(DnsAccessTest, WithoutMxTheNameIsItsOwnMxHost) {
  load("smtpd_sender_restrictions = check_sender_mx_access " +
       table("cidr", "203.0.113.0/24 REJECT bad network\n") + "\n");
  sender_ = "s@aonly.test";
  put("aonly.test", dns::Type::kMX, dns::Status::kNoData);
  EXPECT_TRUE(run(Check::kSender).is_pending());
  host("aonly.test", {"203.0.113.7"});
  EXPECT_EQ(run(Check::kSender).reply.text, "<s@aonly.test>: Sender address rejected: bad network");

  // A name that does not exist is tried too; its address lookup fails.
  sender_ = "s@nonexistent.test";
  put("nonexistent.test", dns::Type::kMX, dns::Status::kNxDomain);
  put("nonexistent.test", dns::Type::kA, dns::Status::kNxDomain);
  put("nonexistent.test", dns::Type::kAAAA, dns::Status::kNxDomain);
  EXPECT_TRUE(run(Check::kSender).is_dunno());
  EXPECT_EQ(warnings(),
            "Unable to look up MX host nonexistent.test for Sender address s@nonexistent.test: "
            "Name or service not known\n");
}

TEST_F(DnsAccessTest, TheImplicitMxHostIsMatchedByName) {
  load("smtpd_helo_restrictions = check_helo_mx_access " +
       table("texthash", "aonly.test REJECT named\n") + "\n");
  helo_ = "aonly.test";
  put("aonly.test", dns::Type::kMX, dns::Status::kNoData);
  EXPECT_EQ(run(Check::kHelo).reply.log_text(),
            "554 5.7.1 <aonly.test>: Helo command rejected: named");
}

TEST_F(DnsAccessTest, NullMxIsNotChecked) {
  load("smtpd_sender_restrictions = check_sender_mx_access " +
       table("cidr", "0.0.0.0/0 REJECT everything\n") + "\n");
  sender_ = "s@nullmx.test";
  mx("nullmx.test", {""});
  EXPECT_TRUE(run(Check::kSender).is_dunno());
  EXPECT_EQ(warnings(), "");
}

TEST_F(DnsAccessTest, NsAccessUsesTheNearestParentWithNsRecords) {
  load("smtpd_sender_restrictions = check_sender_ns_access " +
       table("texthash", "ns1.bad-provider.test REJECT bad DNS provider\n") + "\n");
  sender_ = "s@deep.sub.nsbad.test";
  EXPECT_TRUE(run(Check::kSender).is_pending());
  fetch();
  EXPECT_TRUE(asked("deep.sub.nsbad.test", dns::Type::kNS));
  put("deep.sub.nsbad.test", dns::Type::kNS, dns::Status::kNxDomain);
  EXPECT_TRUE(run(Check::kSender).is_pending());
  fetch();  // every parent at once
  EXPECT_TRUE(asked("sub.nsbad.test", dns::Type::kNS));
  EXPECT_TRUE(asked("nsbad.test", dns::Type::kNS));
  EXPECT_TRUE(asked("test", dns::Type::kNS));
  put("sub.nsbad.test", dns::Type::kNS, dns::Status::kNoData);
  ns("nsbad.test", {"ns1.bad-provider.test"});
  put("test", dns::Type::kNS, dns::Status::kTempFail);  // never reached
  EXPECT_EQ(run(Check::kSender).reply.log_text(),
            "554 5.7.1 <s@deep.sub.nsbad.test>: Sender address rejected: bad DNS provider");
  EXPECT_EQ(warnings(), "");
}

TEST_F(DnsAccessTest, NsAddressInABlockedNetwork) {
  load("smtpd_recipient_restrictions = check_recipient_ns_access " +
       table("cidr", "203.0.113.0/24 REJECT bad provider network\n") + "\n");
  recipient_ = "r@nsbad.test";
  ns("nsbad.test", {"ns1.bad-provider.test"});
  host("ns1.bad-provider.test", {"203.0.113.67"});
  EXPECT_EQ(run(Check::kRecipient).reply.log_text(),
            "554 5.7.1 <r@nsbad.test>: Recipient address rejected: bad provider network");
}

TEST_F(DnsAccessTest, NsNotFoundUpToTheTopIsAWarning) {
  load("smtpd_sender_restrictions = check_sender_ns_access " + table("texthash", "x REJECT\n") +
       "\n");
  sender_ = "s@a.b.test";
  put("a.b.test", dns::Type::kNS, dns::Status::kNxDomain);
  put("b.test", dns::Type::kNS, dns::Status::kNxDomain);
  put("test", dns::Type::kNS, dns::Status::kNxDomain);
  EXPECT_TRUE(run(Check::kSender).is_dunno());
  EXPECT_EQ(warnings(), "Unable to look up NS host for s@a.b.test: Host not found\n");
  // A parent that fails temporarily ends the walk and is named.
  put("b.test", dns::Type::kNS, dns::Status::kTempFail);
  EXPECT_TRUE(run(Check::kSender).is_dunno());
  EXPECT_EQ(warnings(), "Unable to look up NS host for b.test: Host not found, try again\n");
}

TEST_F(DnsAccessTest, ClientAAccess) {
  load("smtpd_client_restrictions = check_client_a_access " +
       table("cidr", "203.0.113.0/24 REJECT bad network\n") + "\n");
  // "unknown" is not looked up.
  EXPECT_TRUE(run(Check::kClient).is_dunno());
  client_name_ = "multi.test";
  EXPECT_TRUE(run(Check::kClient).is_pending());
  host("multi.test", {"198.51.100.7", "203.0.113.5"});
  EXPECT_EQ(run(Check::kClient).reply.log_text(),
            "554 5.7.1 <multi.test[198.51.100.7]>: Client host rejected: bad network");
}

TEST_F(DnsAccessTest, AAccessNeverMatchesTheNameItself) {
  load("smtpd_client_restrictions = check_client_a_access " +
       table("texthash", "multi.test REJECT by name\n") + "\n");
  client_name_ = "multi.test";
  host("multi.test", {"198.51.100.7"});
  EXPECT_TRUE(run(Check::kClient).is_dunno());
  // and its failures are not warned about
  put("multi.test", dns::Type::kA, dns::Status::kTempFail);
  put("multi.test", dns::Type::kAAAA, dns::Status::kTempFail);
  EXPECT_TRUE(run(Check::kClient).is_dunno());
  EXPECT_EQ(warnings(), "");
}

TEST_F(DnsAccessTest, ReverseClientHostnameAAccess) {
  load("smtpd_client_restrictions = check_reverse_client_hostname_a_access " +
       table("cidr", "203.0.113.0/24 REJECT bad network\n") + "\n");
  reverse_name_ = "multi.test";
  host("multi.test", {"203.0.113.5"});
  EXPECT_EQ(run(Check::kClient).reply.log_text(),
            "554 5.7.1 <multi.test>: Unverified Client host rejected: bad network");
}

TEST_F(DnsAccessTest, HeloAAccessAndAddressLiterals) {
  const auto net = table("cidr", "203.0.113.0/24 REJECT bad network\n");
  load("smtpd_helo_restrictions = check_helo_a_access " + net + "\n");
  helo_ = "badnet-host.test";
  host("badnet-host.test", {"203.0.113.2"});
  EXPECT_EQ(run(Check::kHelo).reply.log_text(),
            "554 5.7.1 <badnet-host.test>: Helo command rejected: bad network");
  // An address literal is its own A and MX host, with no DNS lookup.
  helo_ = "[203.0.113.9]";
  EXPECT_EQ(run(Check::kHelo).reply.text, "<[203.0.113.9]>: Helo command rejected: bad network");
  load("smtpd_helo_restrictions = check_helo_mx_access " + net + "\n");
  EXPECT_TRUE(run(Check::kHelo).is_reject());
  // ... but has no NS.
  load("smtpd_helo_restrictions = check_helo_ns_access " + net + "\n");
  EXPECT_TRUE(run(Check::kHelo).is_dunno());
}

TEST_F(DnsAccessTest, TemporaryFailuresAreWarningsNeverRefusals) {
  load("smtpd_sender_restrictions = check_sender_mx_access " +
       table("cidr", "0.0.0.0/0 REJECT everything\n") + ", check_sender_ns_access " +
       table("cidr", "0.0.0.0/0 REJECT everything\n") + "\n");
  sender_ = "s@host.servfail.test";
  put("host.servfail.test", dns::Type::kMX, dns::Status::kTempFail);
  put("host.servfail.test", dns::Type::kNS, dns::Status::kTempFail);
  EXPECT_TRUE(run(Check::kSender).is_dunno());
  EXPECT_EQ(warnings(),
            "Unable to look up MX host for host.servfail.test: Host not found, try again\n"
            "Unable to look up NS host for host.servfail.test: Host not found, try again\n");
  // An MX host whose addresses cannot be looked up is skipped.
  load("smtpd_sender_restrictions = check_sender_mx_access " +
       table("cidr", "203.0.113.0/24 REJECT bad network\n") + "\n");
  sender_ = "s@two.test";
  mx("two.test", {"down.two.test", "bad.two.test"});
  put("down.two.test", dns::Type::kA, dns::Status::kTempFail);
  put("down.two.test", dns::Type::kAAAA, dns::Status::kNoData);
  host("bad.two.test", {"203.0.113.4"});
  EXPECT_TRUE(run(Check::kSender).is_reject());
  EXPECT_EQ(warnings(),
            "Unable to look up MX host down.two.test for Sender address s@two.test: "
            "Temporary failure in name resolution\n");
}

TEST_F(DnsAccessTest, AtMostOneHundredMxHosts) {
  load("smtpd_sender_restrictions = check_sender_mx_access " +
       table("texthash", "mx150.many.test REJECT the last one\n") + "\n");
  sender_ = "s@many.test";
  std::vector<std::string> hosts;
  for (int i = 1; i <= 150; ++i) hosts.push_back("mx" + std::to_string(i) + ".many.test");
  mx("many.test", hosts);
  EXPECT_TRUE(run(Check::kSender).is_pending());
  EXPECT_EQ(warnings(),
            "DNS record count limit (100) exceeded -- dropping excess record(s) after "
            "qname=many.test qtype=MX\n");
  fetch();
  EXPECT_TRUE(asked("mx100.many.test", dns::Type::kAAAA));
  EXPECT_FALSE(asked("mx101.many.test", dns::Type::kA));
  for (int i = 1; i <= 100; ++i) host("mx" + std::to_string(i) + ".many.test", {"198.51.100.9"});
  EXPECT_TRUE(run(Check::kSender).is_dunno());
}

TEST_F(DnsAccessTest, TheFirstMatchDecidesEvenDunno) {
  load("smtpd_sender_restrictions = check_sender_mx_access " +
       table("texthash", "first.two.test DUNNO\n203.0.113.4 REJECT bad\n") + "\n");
  sender_ = "s@two.test";
  mx("two.test", {"first.two.test", "bad.two.test"});
  EXPECT_TRUE(run(Check::kSender).is_dunno());  // no address is needed
  mx("two.test", {"bad.two.test", "first.two.test"});
  EXPECT_TRUE(run(Check::kSender).is_pending());
  fetch();
  EXPECT_TRUE(asked("bad.two.test", dns::Type::kA));
  EXPECT_FALSE(asked("first.two.test", dns::Type::kA));  // its name decides first
}

TEST_F(DnsAccessTest, OkIsAServerConfigurationError) {
  load("smtpd_sender_restrictions = check_sender_mx_access " +
       table("texthash", "mx.ok.test OK\n") + "\n");
  sender_ = "s@ok.test";
  mx("ok.test", {"mx.ok.test"});
  EXPECT_EQ(run(Check::kSender).reply.log_text(), "451 4.3.5 Server configuration error");
}

TEST_F(DnsAccessTest, RepliesNameWhatWasLookedUpInAnyList) {
  load("smtpd_recipient_restrictions = check_sender_a_access " +
       table("cidr", "203.0.113.0/24 REJECT bad network\n") + "\n");
  sender_ = "s@badnet-host.test";
  host("badnet-host.test", {"203.0.113.2"});
  EXPECT_EQ(run(Check::kRecipient).reply.log_text(),
            "554 5.7.1 <s@badnet-host.test>: Sender address rejected: bad network");
}

TEST_F(DnsAccessTest, NullSenderAndMissingRecipientAreSkipped) {
  load("smtpd_sender_restrictions = check_sender_mx_access " +
       table("cidr", "0.0.0.0/0 REJECT everything\n") +
       "\nsmtpd_recipient_restrictions = check_recipient_mx_access " +
       table("cidr", "0.0.0.0/0 REJECT everything\n") + "\nsmtpd_null_access_lookup_key = <>\n");
  sender_ = "";
  recipient_ = "";
  EXPECT_TRUE(run(Check::kSender).is_dunno());
  EXPECT_TRUE(run(Check::kRecipient).is_dunno());
}

TEST_F(DnsAccessTest, LocalDomainsAreCheckedToo) {
  load("smtpd_recipient_restrictions = check_recipient_mx_access " +
       table("texthash", "mx.here.test REJECT local\n") + "\n");
  recipient_ = "root@mx.here.test";
  put("mx.here.test", dns::Type::kMX, dns::Status::kNoData);
  EXPECT_EQ(run(Check::kRecipient).reply.text,
            "<root@mx.here.test>: Recipient address rejected: local");
}

}  // namespace
}  // namespace moat::restriction
