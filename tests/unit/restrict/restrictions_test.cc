#include "restrict/restrictions.h"

#include "dns/answer_set.h"
#include "engine_test_base.h"
#include "restrict/evaluation.h"

#include <gtest/gtest.h>

namespace moat::restriction {
namespace {

// A config snapshot with the given main.cf lines, its destinations and engine.
class RestrictionsTest : public testing::EngineTestBase {
 protected:
  // "texthash:PATH" of a new table file.
  std::string table(const std::string& name, const std::string& text) {
    return "texthash:" + write_file(name, text);
  }

  // Loads main.cf text (on top of a small base) and builds the engine.
  void load(const std::string& text) {
    build(
        "myhostname = mx.here.test\nmydestination = localhost, $myhostname\n"
        "relay_domains = relay.test\nlocal_recipient_maps = inline:{root=x, postmaster=x}\n"
        "mynetworks = 192.0.2.0/24\n",
        text);
  }

  // A request at RCPT for `recipient` from `sender` after HELO `helo`.
  Context rcpt(const std::string& recipient, const std::string& sender = "s@client.test",
               const std::string& helo = "client.test") {
    recipient_ = recipient;
    sender_ = sender;
    helo_ = helo;
    ip_ = "198.51.100.7";
    Context c = rcpt_context();
    c.client_name_status = NameStatus::kOk;
    c.reverse_client_name_status = NameStatus::kOk;
    c.dns = &answers_;
    return c;
  }

  // Sets the answer of every type asked about `name` to `status` (A records
  // for kOk), as if looked up.
  void answer(const std::string& name, dns::Type type, dns::Status status,
              std::vector<dns::Record> records = {}) {
    dns::Answer a;
    a.status = status;
    a.records = std::move(records);
    if (status == dns::Status::kTempFail) a.error = "SERVFAIL";
    answers_.put(name, type, std::move(a));
  }
  void no_such_name(const std::string& name) {
    for (auto type : {dns::Type::kA, dns::Type::kAAAA, dns::Type::kMX}) {
      answer(name, type, dns::Status::kNxDomain);
    }
  }
  static dns::Record mx(std::string target) {
    dns::Record r;
    r.type = dns::Type::kMX;
    r.target = std::move(target);
    return r;
  }

  // The decision at RCPT as the session makes it with smtpd_delay_reject = yes.
  Verdict decide(const Context& c) {
    effects_ = {};
    Verdict verdict;
    for (auto check : {Check::kClient, Check::kHelo, Check::kSender, Check::kRecipient}) {
      verdict = engine_.check(check, c, effects_);
      if (verdict.is_reject() || verdict.is_pending()) return verdict;
    }
    return Engine::apply_defer_if_permit(verdict, effects_);
  }

  std::string reply_of(const Verdict& v) { return v.reply.log_text(); }

  // Only the sender check, as at MAIL with smtpd_delay_reject = no.
  Verdict sender_check(const Context& c) {
    effects_ = {};
    return engine_.check(Check::kSender, c, effects_);
  }

  Effects effects_;
  dns::AnswerSet answers_;  // no resolver: tests put() every answer
};

TEST_F(RestrictionsTest, DefaultRelayRestrictionsDeferOutsidersToRemoteDomains) {
  load("");
  ASSERT_FALSE(has_error()) << problem_text();
  auto verdict = decide(rcpt("u@remote.test"));
  ASSERT_TRUE(verdict.is_reject());
  EXPECT_EQ(reply_of(verdict), "454 4.7.1 <u@remote.test>: Relay access denied");
  EXPECT_FALSE(decide(rcpt("root@localhost")).is_reject());
  EXPECT_FALSE(decide(rcpt("u@relay.test")).is_reject());
  auto trusted = rcpt("u@remote.test");
  trusted.client_in_mynetworks = true;
  EXPECT_FALSE(decide(trusted).is_reject());
}

TEST_F(RestrictionsTest, RejectUnauthDestinationUsesRelayDomainsRejectCode) {
  load(
      "smtpd_relay_restrictions =\nsmtpd_recipient_restrictions = reject_unauth_destination\n"
      "relay_domains_reject_code = 550\n");
  auto verdict = decide(rcpt("u%remote.test@localhost"));
  EXPECT_EQ(reply_of(verdict), "550 5.7.1 <u%remote.test@localhost>: Relay access denied");
}

TEST_F(RestrictionsTest, GenericWordsNameTheListTheyRunIn) {
  load("smtpd_client_restrictions = reject\n");
  EXPECT_EQ(reply_of(decide(rcpt("root@localhost"))),
            "554 5.7.1 <unknown[198.51.100.7]>: Client host rejected: Access denied");
  load("smtpd_helo_restrictions = reject\nreject_code = 550\n");
  EXPECT_EQ(reply_of(decide(rcpt("root@localhost"))),
            "550 5.7.1 <client.test>: Helo command rejected: Access denied");
  load("smtpd_sender_restrictions = defer\n");
  EXPECT_EQ(reply_of(decide(rcpt("root@localhost"))),
            "450 4.3.2 <s@client.test>: Sender address rejected: Try again later");
  load("smtpd_recipient_restrictions = permit_mynetworks, reject\n");
  EXPECT_EQ(reply_of(decide(rcpt("root@localhost"))),
            "554 5.7.1 <root@localhost>: Recipient address rejected: Access denied");
}

TEST_F(RestrictionsTest, FirstDecisionEndsAListButNotTheNextList) {
  load("smtpd_client_restrictions = permit, reject\nsmtpd_sender_restrictions = reject\n");
  EXPECT_EQ(reply_of(decide(rcpt("root@localhost"))),
            "554 5.7.1 <s@client.test>: Sender address rejected: Access denied");
  load("smtpd_recipient_restrictions = permit_auth_destination, reject\n");
  EXPECT_TRUE(decide(rcpt("root@localhost")).is_permit());
}

TEST_F(RestrictionsTest, HeloChecksNeedAHelo) {
  load("smtpd_helo_restrictions = reject\n");
  EXPECT_FALSE(decide(rcpt("root@localhost", "s@client.test", "")).is_reject());
}

TEST_F(RestrictionsTest, DeferIfPermitTurnsALaterPermitIntoADeferral) {
  load("smtpd_recipient_restrictions = defer_if_permit, reject_unauth_destination, permit\n");
  EXPECT_EQ(reply_of(decide(rcpt("root@localhost"))),
            "450 4.7.0 <root@localhost>: Recipient address rejected: defer_if_permit requested");
}

TEST_F(RestrictionsTest, DeferIfRejectTurnsALaterRejectIntoADeferral) {
  load("smtpd_recipient_restrictions = defer_if_reject, reject\n");
  EXPECT_EQ(reply_of(decide(rcpt("root@localhost"))),
            "450 4.7.0 <root@localhost>: Recipient address rejected: defer_if_reject requested");
  load("smtpd_recipient_restrictions = defer_if_reject, permit\n");
  EXPECT_TRUE(decide(rcpt("root@localhost")).is_permit());
}

TEST_F(RestrictionsTest, WarnIfRejectLogsAndContinues) {
  load("smtpd_recipient_restrictions = warn_if_reject, reject, permit\n");
  EXPECT_TRUE(decide(rcpt("root@localhost")).is_permit());
  ASSERT_EQ(effects_.events.size(), 1u);
  EXPECT_EQ(effects_.events[0].action, "reject_warning");
  EXPECT_EQ(effects_.events[0].text,
            "554 5.7.1 <root@localhost>: Recipient address rejected: Access denied");
  // Only the next restriction is affected.
  load("smtpd_recipient_restrictions = warn_if_reject, permit_mynetworks, reject\n");
  EXPECT_TRUE(decide(rcpt("root@localhost")).is_reject());
}

TEST_F(RestrictionsTest, SleepIsRecordedForTheSession) {
  load("smtpd_recipient_restrictions = sleep 2, permit\n");
  EXPECT_TRUE(decide(rcpt("root@localhost")).is_permit());
  EXPECT_EQ(effects_.sleep.count(), 2);
}

TEST_F(RestrictionsTest, UnauthPipelining) {
  load("smtpd_recipient_restrictions = reject_unauth_pipelining, permit\n");
  auto c = rcpt("root@localhost");
  EXPECT_TRUE(decide(c).is_permit());
  c.improper_pipelining = true;
  EXPECT_EQ(reply_of(decide(c)),
            "503 5.5.0 <root@localhost>: Recipient address rejected: Improper use of SMTP "
            "command pipelining");
}

TEST_F(RestrictionsTest, AccessTableResults) {
  const auto access = table("access",
                            "reject@x.test REJECT\n"
                            "text@x.test REJECT Go away\n"
                            "code@x.test 550 5.7.0 Not you\n"
                            "soft@x.test 450 Later\n"
                            "defer@x.test DEFER\n"
                            "deferp@x.test DEFER_IF_PERMIT\n"
                            "ok@x.test OK\n"
                            "number@x.test 1234\n"
                            "dunno@x.test DUNNO\n"
                            "warn@x.test WARN look\n"
                            "hold@x.test HOLD\n"
                            "discard@x.test DISCARD\n"
                            "prepend@x.test PREPEND X-Tag: yes\n"
                            "class@x.test strict\n"
                            "list@x.test reject_unauth_destination, permit\n"
                            "bogus@x.test no_such_restriction\n"
                            "table@x.test check_client_access hash:/nonexistent\n"
                            "x.test REJECT Domain\n");
  load("smtpd_sender_restrictions = check_sender_access " + access +
       "\nsmtpd_restriction_classes = strict\nstrict = reject\n");
  ASSERT_FALSE(has_error()) << problem_text();
  auto from = [&](const std::string& sender) {
    return sender_check(rcpt("root@localhost", sender));
  };
  EXPECT_EQ(reply_of(from("reject@x.test")),
            "554 5.7.1 <reject@x.test>: Sender address rejected: Access denied");
  EXPECT_EQ(reply_of(from("text@x.test")),
            "554 5.7.1 <text@x.test>: Sender address rejected: Go away");
  EXPECT_EQ(reply_of(from("code@x.test")),
            "550 5.7.0 <code@x.test>: Sender address rejected: Not you");
  EXPECT_EQ(reply_of(from("soft@x.test")),
            "450 4.7.1 <soft@x.test>: Sender address rejected: Later");
  EXPECT_EQ(reply_of(from("defer@x.test")),
            "450 4.7.1 <defer@x.test>: Sender address rejected: Access denied");
  EXPECT_EQ(reply_of(decide(rcpt("root@localhost", "deferp@x.test"))),
            "450 4.7.1 <deferp@x.test>: Sender address rejected: Service unavailable");
  EXPECT_TRUE(from("ok@x.test").is_permit());
  EXPECT_TRUE(from("number@x.test").is_permit());
  // DUNNO stops the table search: the domain entry is not consulted.
  EXPECT_FALSE(from("dunno@x.test").is_reject());
  EXPECT_FALSE(from("warn@x.test").is_reject());
  ASSERT_EQ(effects_.events.size(), 1u);
  EXPECT_EQ(effects_.events[0].action, "warn");
  EXPECT_EQ(effects_.events[0].text, "look");
  EXPECT_FALSE(from("hold@x.test").is_reject());
  EXPECT_EQ(effects_.events.at(0).text, "<hold@x.test>: Sender address triggers HOLD action");
  EXPECT_TRUE(from("discard@x.test").is_permit());
  EXPECT_TRUE(effects_.discard);
  EXPECT_EQ(effects_.events.at(0).action, "discard");
  EXPECT_FALSE(from("prepend@x.test").is_reject());
  ASSERT_EQ(effects_.prepend.size(), 1u);
  EXPECT_EQ(effects_.prepend[0], "X-Tag: yes");
  EXPECT_EQ(reply_of(from("class@x.test")),
            "554 5.7.1 <class@x.test>: Sender address rejected: Access denied");
  EXPECT_TRUE(from("list@x.test").is_permit());
  // Unknown names and tables in a result: a server error, never an accept.
  EXPECT_EQ(reply_of(from("bogus@x.test")), "451 4.3.5 Server configuration error");
  EXPECT_EQ(reply_of(from("table@x.test")), "451 4.3.5 Server configuration error");
  EXPECT_EQ(reply_of(from("other@x.test")),
            "554 5.7.1 <other@x.test>: Sender address rejected: Domain");
}

TEST_F(RestrictionsTest, AddressLookupKeysInAccessOrder) {
  const auto access = table("access",
                            "user+ext@a.test REJECT full\n"
                            "user@b.test REJECT base\n"
                            "c.test REJECT domain\n"
                            "d.test REJECT parent\n"
                            "user@ REJECT localpart\n"
                            "<> REJECT null\n");
  load(
      "recipient_delimiter = +\nsmtpd_relay_restrictions =\n"
      "smtpd_recipient_restrictions = check_recipient_access " +
      access + ", check_sender_access " + access + ", reject\n");
  auto text = [&](const std::string& to, const std::string& from = "s@client.test") {
    return decide(rcpt(to, from)).reply.text;
  };
  EXPECT_EQ(text("user+ext@a.test"), "<user+ext@a.test>: Recipient address rejected: full");
  EXPECT_EQ(text("user+ext@b.test"), "<user+ext@b.test>: Recipient address rejected: base");
  EXPECT_EQ(text("x@c.test"), "<x@c.test>: Recipient address rejected: domain");
  EXPECT_EQ(text("x@sub.d.test"), "<x@sub.d.test>: Recipient address rejected: parent");
  EXPECT_EQ(text("user+other@e.test"),
            "<user+other@e.test>: Recipient address rejected: localpart");
  EXPECT_EQ(text("USER@E.TEST"), "<USER@E.TEST>: Recipient address rejected: localpart");
  EXPECT_EQ(text("root@localhost", ""), "<>: Sender address rejected: null");
  EXPECT_EQ(text("root@localhost"), "<root@localhost>: Recipient address rejected: Access denied");
}

TEST_F(RestrictionsTest, PatternTablesGetOnlyTheFullKey) {
  const auto full = table("full.regexp", "/@example\\.org$/ REJECT full\n");
  const auto domain = table("domain.regexp", "/^example\\.org$/ REJECT domain\n");
  const auto net = table("net.cidr", "198.51.100.0/24 REJECT cidr\n");
  auto regexp = [](std::string spec) { return "regexp:" + spec.substr(spec.find(':') + 1); };
  auto cidr = [](std::string spec) { return "cidr:" + spec.substr(spec.find(':') + 1); };
  load("smtpd_sender_restrictions = check_sender_access " + regexp(full) + "\n");
  EXPECT_EQ(decide(rcpt("root@localhost", "x@example.org")).reply.text,
            "<x@example.org>: Sender address rejected: full");
  // "example.org" is a partial key (the domain): a pattern table never sees it.
  load("smtpd_sender_restrictions = check_sender_access " + regexp(domain) + "\n");
  EXPECT_FALSE(decide(rcpt("root@localhost", "x@example.org")).is_reject());
  load("smtpd_client_restrictions = check_client_access " + cidr(net) + "\n");
  EXPECT_EQ(decide(rcpt("root@localhost")).reply.text,
            "<unknown[198.51.100.7]>: Client host rejected: cidr");
}

TEST_F(RestrictionsTest, ParentDomainsWithoutSubdomainMatching) {
  const auto access = table("access", "d.test REJECT parent\n.e.test REJECT dot\n");
  load(
      "parent_domain_matches_subdomains =\nsmtpd_relay_restrictions =\n"
      "smtpd_recipient_restrictions = " +
      access + ", reject\n");
  auto text = [&](const std::string& to) { return decide(rcpt(to)).reply.text; };
  EXPECT_EQ(text("x@sub.d.test"), "<x@sub.d.test>: Recipient address rejected: Access denied");
  EXPECT_EQ(text("x@d.test"), "<x@d.test>: Recipient address rejected: parent");
  EXPECT_EQ(text("x@sub.e.test"), "<x@sub.e.test>: Recipient address rejected: dot");
}

TEST_F(RestrictionsTest, ClientLookupKeys) {
  const auto names = table("names", "unknown REJECT no name\n");
  const auto net = table("net", "198.51.100 REJECT net\n");
  const auto host = table("host", "198.51.100.7 OK\n");
  load("smtpd_client_restrictions = check_client_access " + net + "\n");
  EXPECT_EQ(decide(rcpt("root@localhost")).reply.text,
            "<unknown[198.51.100.7]>: Client host rejected: net");
  load("smtpd_client_restrictions = check_client_access " + host + ", reject\n");
  EXPECT_FALSE(decide(rcpt("root@localhost")).is_reject());
  load("smtpd_client_restrictions = " + names + "\n");
  EXPECT_EQ(decide(rcpt("root@localhost")).reply.text,
            "<unknown[198.51.100.7]>: Client host rejected: no name");
}

TEST_F(RestrictionsTest, ReverseClientHostnameNamesTheUnverifiedName) {
  const auto net = table("net", "198.51.100 REJECT net\n");
  load("smtpd_client_restrictions = check_reverse_client_hostname_access " + net + "\n");
  EXPECT_EQ(reply_of(decide(rcpt("root@localhost"))),
            "554 5.7.1 <unknown>: Unverified Client host rejected: net");
}

TEST_F(RestrictionsTest, MessageActionsNeedATransaction) {
  const auto access = table("access", "client.test HOLD\nother.test DISCARD\n");
  load("smtpd_helo_restrictions = check_helo_access " + access + "\n");
  auto c = rcpt("root@localhost");
  c.stage = Stage::kHelo;
  c.has_sender = false;  // HELO with smtpd_delay_reject = no
  Effects effects;
  EXPECT_TRUE(engine_.check(Check::kHelo, c, effects).is_dunno());
  EXPECT_TRUE(effects.events.empty());
  c.helo = "other.test";
  EXPECT_TRUE(engine_.check(Check::kHelo, c, effects).is_dunno());
  EXPECT_FALSE(effects.discard);
  // In a transaction (RCPT with smtpd_delay_reject = yes) they apply.
  EXPECT_FALSE(decide(rcpt("root@localhost", "s@client.test", "client.test")).is_reject());
  ASSERT_EQ(effects_.events.size(), 1u);
  EXPECT_EQ(effects_.events[0].text, "<client.test>: Helo command triggers HOLD action");
}

TEST_F(RestrictionsTest, ClientIpv6Prefixes) {
  const auto net = table("net6", "2001:db8:1 REJECT six\n");
  load("smtpd_client_restrictions = check_client_access " + net + "\n");
  auto c = rcpt("root@localhost");
  c.client_address = asio::ip::make_address("2001:db8:1::5");
  c.client_ip = "2001:db8:1::5";
  EXPECT_EQ(decide(c).reply.text, "<unknown[2001:db8:1::5]>: Client host rejected: six");
}

TEST_F(RestrictionsTest, HeloRestrictions) {
  const auto access = table("helo", "bad.test REJECT Bad HELO\nexample.net 550 Parent\n");
  load("smtpd_helo_restrictions = reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname, " +
       access + "\n");
  auto helo = [&](const std::string& name) {
    return reply_of(decide(rcpt("root@localhost", "s@client.test", name)));
  };
  EXPECT_EQ(helo("bad_name!"), "501 5.5.2 <bad_name!>: Helo command rejected: Invalid name");
  EXPECT_EQ(helo("localname"),
            "504 5.5.2 <localname>: Helo command rejected: need fully-qualified hostname");
  EXPECT_EQ(helo("bad.test"), "554 5.7.1 <bad.test>: Helo command rejected: Bad HELO");
  EXPECT_EQ(helo("x.example.net"), "550 5.7.1 <x.example.net>: Helo command rejected: Parent");
  EXPECT_FALSE(decide(rcpt("root@localhost", "s@client.test", "[192.0.2.1]")).is_reject());
  EXPECT_FALSE(decide(rcpt("root@localhost", "s@client.test", "ok.example.org")).is_reject());
  EXPECT_TRUE(decide(rcpt("root@localhost", "s@client.test", "[300.1.1.1]")).is_reject());
}

TEST_F(RestrictionsTest, HostnameSyntax) {
  EXPECT_TRUE(valid_hostname("mail.example.org"));
  EXPECT_TRUE(valid_hostname("a_b.example.org"));
  EXPECT_TRUE(valid_hostname("localname"));
  EXPECT_FALSE(valid_hostname("-bad.example"));
  EXPECT_FALSE(valid_hostname("bad-.example"));
  EXPECT_FALSE(valid_hostname("a..b"));
  EXPECT_FALSE(valid_hostname("1.2.3.4"));
  EXPECT_FALSE(valid_hostname(std::string(64, 'a') + ".test"));
  EXPECT_TRUE(valid_address_literal("[IPv6:2001:db8::1]"));
  EXPECT_FALSE(valid_address_literal("[example.org]"));
}

TEST_F(RestrictionsTest, NonFqdnAddresses) {
  load(
      "smtpd_sender_restrictions = reject_non_fqdn_sender\n"
      "smtpd_relay_restrictions = reject_non_fqdn_recipient, permit_auth_destination, reject\n"
      "non_fqdn_reject_code = 550\n");
  EXPECT_EQ(reply_of(decide(rcpt("root@localhost", "s@localname"))),
            "550 5.5.2 <s@localname>: Sender address rejected: need fully-qualified address");
  EXPECT_FALSE(decide(rcpt("root@mx.here.test", "")).is_reject());
  EXPECT_EQ(reply_of(decide(rcpt("root@localname"))),
            "550 5.5.2 <root@localname>: Recipient address rejected: need fully-qualified address");
}

TEST_F(RestrictionsTest, UnlistedSenderAndRecipient) {
  load(
      "smtpd_sender_restrictions = reject_unlisted_sender\n"
      "smtpd_recipient_restrictions = reject_unlisted_recipient, permit\n");
  EXPECT_EQ(reply_of(decide(rcpt("root@localhost", "nobody@localhost"))),
            "550 5.1.0 <nobody@localhost>: Sender address rejected: User unknown in local "
            "recipient table");
  EXPECT_EQ(reply_of(decide(rcpt("nobody@localhost"))),
            "550 5.1.1 <nobody@localhost>: Recipient address rejected: User unknown in local "
            "recipient table");
  EXPECT_TRUE(decide(rcpt("root@localhost", "root@localhost")).is_permit());
  EXPECT_EQ(reply_of(engine_.unlisted_recipient(rcpt("nobody@mx.here.test"))),
            "550 5.1.1 <nobody@mx.here.test>: Recipient address rejected: User unknown in local "
            "recipient table");
}

TEST_F(RestrictionsTest, ImplicitUnlistedSenderEvenAfterPermit) {
  load("smtpd_reject_unlisted_sender = yes\nsmtpd_sender_restrictions = permit\n");
  EXPECT_TRUE(engine_.has_list(Check::kSender));
  EXPECT_EQ(reply_of(sender_check(rcpt("root@localhost", "nobody@localhost"))),
            "550 5.1.0 <nobody@localhost>: Sender address rejected: User unknown in local "
            "recipient table");
  EXPECT_TRUE(sender_check(rcpt("root@localhost", "root@localhost")).is_permit());
  EXPECT_TRUE(sender_check(rcpt("root@localhost", "")).is_permit());
}

TEST_F(RestrictionsTest, MultiRecipientBounce) {
  load(
      "smtpd_recipient_restrictions = reject_multi_recipient_bounce, permit\n"
      "smtpd_data_restrictions = reject_multi_recipient_bounce\n");
  auto c = rcpt("root@localhost", "");
  EXPECT_TRUE(decide(c).is_permit());
  c.recipient_count = 1;
  EXPECT_EQ(reply_of(decide(c)),
            "550 5.5.3 <root@localhost>: Recipient address rejected: Multi-recipient bounce");
  c.stage = Stage::kData;
  Effects effects;
  EXPECT_FALSE(engine_.check(Check::kData, c, effects).is_reject());
  c.recipient_count = 2;
  EXPECT_EQ(reply_of(engine_.check(Check::kData, c, effects)),
            "550 5.5.3 <DATA>: Data command rejected: Multi-recipient bounce");
}

TEST_F(RestrictionsTest, DataAndEndOfDataNameTheirStage) {
  const auto access = table("access", "s@client.test REJECT Go away\n");
  load("smtpd_data_restrictions = check_sender_access " + access +
       "\nsmtpd_end_of_data_restrictions = defer\n");
  auto c = rcpt("root@localhost");
  c.stage = Stage::kData;
  Effects effects;
  EXPECT_EQ(reply_of(engine_.check(Check::kData, c, effects)),
            "554 5.7.1 <s@client.test>: Sender address rejected: Go away");
  c.stage = Stage::kEndOfData;
  EXPECT_EQ(reply_of(engine_.check(Check::kEndOfData, c, effects)),
            "450 4.3.2 <END-OF-MESSAGE>: End-of-data rejected: Try again later");
}

TEST_F(RestrictionsTest, SenderCheckAtMailWithoutDelayKeepsDeferIfPermitPending) {
  const auto access = table("access", "s@client.test DEFER_IF_PERMIT\n");
  load("smtpd_delay_reject = no\nsmtpd_sender_restrictions = check_sender_access " + access + "\n");
  EXPECT_FALSE(engine_.delay_reject());
  auto c = rcpt("");
  c.stage = Stage::kMail;
  Effects at_mail;
  EXPECT_TRUE(engine_.check(Check::kSender, c, at_mail).is_dunno());
  ASSERT_TRUE(at_mail.defer_if_permit);
  // At RCPT only the recipient lists run; the pending deferral applies.
  Effects at_rcpt;
  at_rcpt.defer_if_permit = at_mail.defer_if_permit;
  auto verdict = engine_.check(Check::kRecipient, rcpt("root@localhost"), at_rcpt);
  EXPECT_EQ(reply_of(Engine::apply_defer_if_permit(verdict, at_rcpt)),
            "450 4.7.1 <s@client.test>: Sender address rejected: Service unavailable");
}

TEST_F(RestrictionsTest, PermitInetInterfacesAndSasl) {
  load(
      "inet_interfaces = 198.51.100.7\nsmtpd_client_restrictions = permit_inet_interfaces, "
      "permit_sasl_authenticated, reject\n");
  EXPECT_FALSE(decide(rcpt("root@localhost")).is_reject());
  load(
      "inet_interfaces = 192.0.2.9\nsmtpd_client_restrictions = permit_inet_interfaces, "
      "permit_sasl_authenticated, reject\n");
  EXPECT_TRUE(decide(rcpt("root@localhost")).is_reject());
}

TEST_F(RestrictionsTest, DnsBasedRestrictionsAreValid) {
  load(
      "smtpd_client_restrictions = reject_rbl_client zen.example, reject_unknown_client_hostname,"
      " permit_dnswl_client list.example, reject_unknown_reverse_client_hostname\n"
      "smtpd_helo_restrictions = reject_unknown_helo_hostname, reject_rhsbl_helo rhs.example\n"
      "smtpd_recipient_restrictions = reject_unknown_recipient_domain, check_policy_service "
      "inet:127.0.0.1:10023, reject_unknown_sender_domain, reject_unauth_destination\n");
  ASSERT_FALSE(has_error()) << problem_text();
}

TEST_F(RestrictionsTest, UnknownClientHostnameUsesTheNameStatus) {
  load("smtpd_client_restrictions = reject_unknown_client_hostname\n");
  auto c = rcpt("root@localhost");
  EXPECT_TRUE(decide(c).is_dunno());
  c.client_name_status = NameStatus::kForged;
  EXPECT_EQ(reply_of(decide(c)),
            "450 4.7.25 Client host rejected: cannot find your hostname, [198.51.100.7]");
  load("unknown_client_reject_code = 550\nsmtpd_client_restrictions = reject_unknown_client\n");
  c = rcpt("root@localhost");
  c.client_name_status = NameStatus::kPerm;
  EXPECT_EQ(reply_of(decide(c)),
            "550 5.7.25 Client host rejected: cannot find your hostname, [198.51.100.7]");
  // A temporary DNS failure never refuses for good.
  c.client_name_status = NameStatus::kTemp;
  EXPECT_EQ(reply_of(decide(c)),
            "450 4.7.25 Client host rejected: cannot find your hostname, [198.51.100.7]");
}

TEST_F(RestrictionsTest, UnknownReverseClientHostnameOnlyNeedsAPtr) {
  load(
      "unknown_client_reject_code = 554\n"
      "smtpd_client_restrictions = reject_unknown_reverse_client_hostname\n");
  auto c = rcpt("root@localhost");
  c.client_name_status = NameStatus::kForged;  // a PTR that does not resolve back is enough
  EXPECT_TRUE(decide(c).is_dunno());
  c.reverse_client_name_status = NameStatus::kPerm;
  EXPECT_EQ(reply_of(decide(c)),
            "554 5.7.1 Client host rejected: cannot find your reverse hostname, [198.51.100.7]");
  c.reverse_client_name_status = NameStatus::kTemp;
  EXPECT_EQ(reply_of(decide(c)),
            "450 4.7.1 Client host rejected: cannot find your reverse hostname, [198.51.100.7]");
}

TEST_F(RestrictionsTest, UnknownHeloHostnameAsksDnsThenDecides) {
  load("smtpd_helo_restrictions = reject_unknown_helo_hostname\n");
  auto c = rcpt("root@localhost", "s@client.test", "nx.example");
  EXPECT_TRUE(decide(c).is_pending());
  EXPECT_TRUE(answers_.has_needed());
  no_such_name("nx.example");
  EXPECT_EQ(reply_of(decide(c)), "450 4.7.1 <nx.example>: Helo command rejected: Host not found");

  c = rcpt("root@localhost", "s@client.test", "host.example");
  answer("host.example", dns::Type::kA, dns::Status::kOk, {dns::Record{}});
  answer("host.example", dns::Type::kAAAA, dns::Status::kNoData);
  answer("host.example", dns::Type::kMX, dns::Status::kNoData);
  EXPECT_TRUE(decide(c).is_dunno());

  // An address literal is checked for syntax only.
  c = rcpt("root@localhost", "s@client.test", "[192.0.2.1]");
  EXPECT_TRUE(decide(c).is_dunno());
  c = rcpt("root@localhost", "s@client.test", "[192.0.2.300]");
  EXPECT_EQ(reply_of(decide(c)),
            "501 5.5.2 <[192.0.2.300]>: Helo command rejected: invalid ip address");
}

TEST_F(RestrictionsTest, UnknownHeloHostnameTemporaryFailureFollowsTheTempfailAction) {
  load(
      "unknown_hostname_reject_code = 550\nsmtpd_helo_restrictions = "
      "reject_unknown_helo_hostname\n");
  auto c = rcpt("root@localhost", "s@client.test", "flaky.example");
  for (auto type : {dns::Type::kA, dns::Type::kAAAA, dns::Type::kMX}) {
    answer("flaky.example", type, dns::Status::kTempFail);
  }
  // defer_if_permit: the 450 waits for a later permit, a later reject wins.
  EXPECT_EQ(reply_of(decide(c)),
            "450 4.7.1 <flaky.example>: Helo command rejected: Host not found");
  ASSERT_EQ(effects_.warnings.size(), 1u);
  EXPECT_EQ(effects_.warnings[0], "flaky.example: address or MX lookup error: SERVFAIL");
  load(
      "unknown_helo_hostname_tempfail_action = defer\n"
      "smtpd_helo_restrictions = reject_unknown_helo_hostname, permit\n");
  effects_ = {};
  EXPECT_EQ(reply_of(engine_.check(Check::kHelo, c, effects_)),
            "450 4.7.1 <flaky.example>: Helo command rejected: Host not found");
}

TEST_F(RestrictionsTest, UnknownSenderAndRecipientDomains) {
  load(
      "unknown_address_reject_code = 554\nsmtpd_relay_restrictions =\n"
      "smtpd_recipient_restrictions = reject_unknown_sender_domain, "
      "reject_unknown_recipient_domain, permit_mynetworks, reject_unauth_destination\n");
  no_such_name("nx.example");
  auto c = rcpt("root@localhost", "s@nx.example");
  EXPECT_EQ(reply_of(decide(c)),
            "554 5.1.8 <s@nx.example>: Sender address rejected: Domain not found");

  answer("nullmx.example", dns::Type::kMX, dns::Status::kOk, {mx("")});
  answer("nullmx.example", dns::Type::kA, dns::Status::kNoData);
  answer("nullmx.example", dns::Type::kAAAA, dns::Status::kNoData);
  c = rcpt("root@localhost", "s@nullmx.example");
  EXPECT_EQ(reply_of(decide(c)),
            "550 5.7.27 <s@nullmx.example>: Sender address rejected: Domain nullmx.example does "
            "not accept mail (nullMX)");
  c = rcpt("x@nullmx.example", "s@localhost");
  EXPECT_EQ(reply_of(decide(c)),
            "556 5.1.10 <x@nullmx.example>: Recipient address rejected: Domain nullmx.example "
            "does not accept mail (nullMX)");
  c = rcpt("x@nx.example", "s@localhost");
  EXPECT_EQ(reply_of(decide(c)),
            "554 5.1.2 <x@nx.example>: Recipient address rejected: Domain not found");
  // Local domains and address literals are never looked up.
  c = rcpt("root@localhost", "s@[192.0.2.1]");
  EXPECT_TRUE(decide(c).is_dunno());
  EXPECT_FALSE(answers_.has_needed());
}

TEST_F(RestrictionsTest, PendingRelayRestrictionsStopTheCheck) {
  // A DNS answer still to come in smtpd_relay_restrictions must not let the
  // recipient list decide without it.
  load(
      "smtpd_relay_restrictions = reject_unknown_recipient_domain, reject_unauth_destination\n"
      "smtpd_recipient_restrictions = permit\n");
  auto c = rcpt("x@relay.test", "s@localhost");
  EXPECT_TRUE(decide(c).is_pending());
  no_such_name("relay.test");
  EXPECT_EQ(reply_of(decide(c)),
            "450 4.1.2 <x@relay.test>: Recipient address rejected: Domain not found");
}

TEST_F(RestrictionsTest, ConfigErrors) {
  load(
      "smtpd_recipient_restrictions = permit_mynetworks, reject_everything, "
      "reject_unauth_destination\n");
  ASSERT_TRUE(has_error());
  EXPECT_NE(problem_text().find("main.cf:6: smtpd_recipient_restrictions: unknown restriction "
                                "\"reject_everything\""),
            std::string::npos)
      << problem_text();
  load("smtpd_sender_restrictions = check_sender_access\n");
  EXPECT_NE(problem_text().find("needs an argument"), std::string::npos);
  load("smtpd_sender_restrictions = check_sender_access hash:/nonexistent/file\n");
  EXPECT_TRUE(has_error());
  load("smtpd_relay_restrictions =\nsmtpd_recipient_restrictions = permit_mynetworks\n");
  EXPECT_NE(problem_text().find("at least one working instance"), std::string::npos);
  load("smtpd_relay_restrictions = warn_if_reject, reject_unauth_destination\n");
  EXPECT_TRUE(has_error());
}

TEST_F(RestrictionsTest, RelayOpeningOrdersAreWarnings) {
  const auto access = table("access", "x OK\n");
  load(
      "smtpd_relay_restrictions =\nsmtpd_recipient_restrictions = permit_mynetworks,\n"
      "  check_sender_access " +
      access + ", reject_unauth_destination\n");
  EXPECT_FALSE(has_error()) << problem_text();
  EXPECT_NE(problem_text().find("main.cf:7: smtpd_recipient_restrictions: warning: "
                                "\"check_sender_access\" before reject_unauth_destination"),
            std::string::npos)
      << problem_text();
  load(
      "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n"
      "smtpd_recipient_restrictions = check_sender_access " +
      access + "\n");
  EXPECT_EQ(problem_text().find("warning"), std::string::npos) << problem_text();
}

TEST_F(RestrictionsTest, RestrictionClassesUsableInLists) {
  load(
      "smtpd_restriction_classes = local_only\nlocal_only = permit_auth_destination, reject\n"
      "smtpd_recipient_restrictions = local_only\n");
  ASSERT_FALSE(has_error()) << problem_text();
  EXPECT_TRUE(decide(rcpt("root@localhost")).is_permit());
  EXPECT_TRUE(decide(rcpt("x@remote.test")).is_reject());
}

}  // namespace
}  // namespace moat::restriction
