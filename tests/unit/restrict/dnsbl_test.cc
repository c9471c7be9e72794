// reject_rbl_client & co against canned DNS answers (dns::AnswerSet::put).
#include <gtest/gtest.h>

#include "dns/answer_set.h"
#include "engine_test_base.h"
#include "restrict/evaluation.h"
#include "restrict/restrictions.h"

namespace moat::restriction {
namespace {

class DnsblTest : public testing::EngineTestBase {
 protected:
  std::string table(const std::string& name, const std::string& text) {
    return "texthash:" + write_file(name, text);
  }

  void load(const std::string& text) {
    build(
        "myhostname = mx.here.test\nmydestination = localhost, $myhostname\n"
        "relay_domains = relay.test\nlocal_recipient_maps = inline:{root=x, postmaster=x}\n"
        "mynetworks = 192.0.2.0/24\n",
        text);
  }

  // RCPT from client `ip` (named `name`, "unknown" when not verified).
  Context rcpt(const std::string& recipient, const std::string& ip = "198.51.100.7",
               const std::string& name = "unknown", const std::string& sender = "s@client.test",
               const std::string& helo = "client.test") {
    recipient_ = recipient;
    sender_ = sender;
    helo_ = helo;
    ip_ = ip;
    name_ = name;
    Context c = rcpt_context();
    c.dns = &answers_;
    return c;
  }

  static dns::Record a(uint8_t a0, uint8_t a1, uint8_t a2, uint8_t a3) {
    dns::Record r;
    r.type = dns::Type::kA;
    r.address = {a0, a1, a2, a3};
    return r;
  }
  static dns::Record txt(std::string text) {
    dns::Record r;
    r.type = dns::Type::kTXT;
    r.text = std::move(text);
    return r;
  }
  void answer(const std::string& name, dns::Type type, dns::Status status,
              std::vector<dns::Record> records = {}) {
    dns::Answer answer;
    answer.status = status;
    answer.records = std::move(records);
    if (status == dns::Status::kTempFail) answer.error = "SERVFAIL";
    answers_.put(name, type, std::move(answer));
  }
  // `name` listed with `address` and optional TXT reasons.
  void listed(const std::string& name, dns::Record address, std::vector<std::string> reasons = {}) {
    answer(name, dns::Type::kA, dns::Status::kOk, {address});
    std::vector<dns::Record> texts;
    for (auto& reason : reasons) texts.push_back(txt(reason));
    answer(name, dns::Type::kTXT, texts.empty() ? dns::Status::kNoData : dns::Status::kOk, texts);
  }
  void not_listed(const std::string& name) { answer(name, dns::Type::kA, dns::Status::kNxDomain); }

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

  Effects effects_;
  dns::AnswerSet answers_;
};

constexpr const char* kListedReply =
    "554 5.7.1 Service unavailable; Client host [198.51.100.7] blocked using zen.example; "
    "listed for spam";

TEST_F(DnsblTest, RblClientPendingThenListedWithReason) {
  load("smtpd_client_restrictions = reject_rbl_client zen.example\n");
  ASSERT_FALSE(has_error()) << problem_text();
  auto c = rcpt("root@localhost");
  EXPECT_TRUE(decide(c).is_pending());
  EXPECT_TRUE(answers_.has_needed());
  answer("7.100.51.198.zen.example", dns::Type::kA, dns::Status::kOk, {a(127, 0, 0, 2)});
  // Listed: the TXT record of the same name is the next question.
  EXPECT_TRUE(decide(c).is_pending());
  answer("7.100.51.198.zen.example", dns::Type::kTXT, dns::Status::kOk, {txt("listed for spam")});
  EXPECT_EQ(reply_of(decide(c)), kListedReply);
}

TEST_F(DnsblTest, RblClientNotListedOrWithoutReason) {
  load("smtpd_client_restrictions = reject_rbl_client zen.example\n");
  auto c = rcpt("root@localhost");
  not_listed("7.100.51.198.zen.example");
  EXPECT_FALSE(decide(c).is_reject());
  answer("7.100.51.198.zen.example", dns::Type::kA, dns::Status::kNoData);
  EXPECT_FALSE(decide(c).is_reject());
  listed("7.100.51.198.zen.example", a(127, 0, 0, 3));
  EXPECT_EQ(reply_of(decide(c)),
            "554 5.7.1 Service unavailable; Client host [198.51.100.7] blocked using "
            "zen.example");
}

TEST_F(DnsblTest, SeveralTxtRecordsAreJoined) {
  load("smtpd_client_restrictions = reject_rbl_client zen.example\n");
  listed("7.100.51.198.zen.example", a(127, 0, 0, 2), {"one", "two"});
  EXPECT_EQ(reply_of(decide(rcpt("root@localhost"))),
            "554 5.7.1 Service unavailable; Client host [198.51.100.7] blocked using "
            "zen.example; one / two");
  // Bytes outside printable ASCII become spaces (Postfix's dns_get_rr).
  listed("7.100.51.198.zen.example", a(127, 0, 0, 2), {"bad\r\nbytes\x01\xff"});
  EXPECT_EQ(reply_of(decide(rcpt("root@localhost"))),
            "554 5.7.1 Service unavailable; Client host [198.51.100.7] blocked using "
            "zen.example; bad  bytes  ");
  // Of a record with several strings, Postfix 3.7 takes the first only.
  dns::Record split = txt("first second");
  split.strings = {"first ", "second"};
  answer("7.100.51.198.zen.example", dns::Type::kTXT, dns::Status::kOk, {split});
  EXPECT_EQ(reply_of(decide(rcpt("root@localhost"))),
            "554 5.7.1 Service unavailable; Client host [198.51.100.7] blocked using "
            "zen.example; first ");
  listed("7.100.51.198.zen.example", a(127, 0, 0, 2), {std::string(600, 'x')});
  auto reply = reply_of(decide(rcpt("root@localhost")));
  EXPECT_TRUE(reply.ends_with("; " + std::string(500, 'x'))) << reply;
}

TEST_F(DnsblTest, Ipv6ClientsUseNibbles) {
  load("smtpd_client_restrictions = reject_rbl_client zen.example\n");
  const std::string query =
      "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.zen.example";
  listed(query, a(127, 0, 0, 2));
  EXPECT_EQ(reply_of(decide(rcpt("root@localhost", "2001:db8::1"))),
            "554 5.7.1 Service unavailable; Client host [2001:db8::1] blocked using "
            "zen.example");
}

TEST_F(DnsblTest, ReplyFilters) {
  load(
      "smtpd_client_restrictions = reject_rbl_client zen.example=127.0.0.[2..9],"
      " reject_rbl_client other.example=127.0.[0..254].[2;4;6], reject_rbl_client "
      "exact.example=127.0.0.2\n");
  ASSERT_FALSE(has_error()) << problem_text();
  auto c = rcpt("root@localhost");
  listed("7.100.51.198.zen.example", a(127, 0, 0, 10));
  not_listed("7.100.51.198.other.example");
  listed("7.100.51.198.exact.example", a(127, 0, 0, 3));
  EXPECT_FALSE(decide(c).is_reject());
  listed("7.100.51.198.other.example", a(127, 0, 9, 4));
  EXPECT_EQ(reply_of(decide(c)),
            "554 5.7.1 Service unavailable; Client host [198.51.100.7] blocked using "
            "other.example");
  listed("7.100.51.198.zen.example", a(127, 0, 0, 9));
  EXPECT_EQ(reply_of(decide(c)),
            "554 5.7.1 Service unavailable; Client host [198.51.100.7] blocked using "
            "zen.example");
}

TEST_F(DnsblTest, BadFiltersAreConfigErrors) {
  for (const char* filter : {"127.0.0", "127.0.0.256", "127.0.0.[2..1]", "127.0.0.[2", "127.0.0.2x",
                             "127.0.0.[2,3]", "", "[127.0.0.2"}) {
    load(std::string("smtpd_client_restrictions = reject_rbl_client zen.example=") + filter + "\n");
    EXPECT_TRUE(has_error()) << filter;
  }
  load("smtpd_client_restrictions = reject_rbl_client zen.example=[127.0.0.[2;3]]\n");
  EXPECT_FALSE(has_error()) << problem_text();
  load("smtpd_client_restrictions = reject_rbl_client zen.example=127.0.0.[3..4]\n");
  EXPECT_FALSE(has_error()) << problem_text();
  load("smtpd_client_restrictions = reject_rbl_client zen.example=127.0.0.x\n");
  EXPECT_NE(problem_text().find("need decimal number 0..255 or \"[\" at \"127.0.0.>x<\""),
            std::string::npos)
      << problem_text();
}

TEST_F(DnsblTest, RefusedQueryCodesAndAnswersOutsideLoopbackAreNoListing) {
  load("smtpd_client_restrictions = reject_rbl_client zen.example\n");
  auto c = rcpt("root@localhost");
  listed("7.100.51.198.zen.example", a(127, 255, 255, 254));
  EXPECT_FALSE(decide(c).is_reject());
  ASSERT_EQ(effects_.warnings.size(), 1u);
  EXPECT_EQ(effects_.warnings[0],
            "dnsbl zen.example: unexpected answer 127.255.255.254 for 7.100.51.198.zen.example "
            "(list refused the query?); not treated as a listing");
  listed("7.100.51.198.zen.example", a(10, 0, 0, 2));
  EXPECT_FALSE(decide(c).is_reject());
  EXPECT_EQ(effects_.warnings.size(), 1u);
  // Even a filter that names the code does not make it a listing.
  load("smtpd_client_restrictions = reject_rbl_client zen.example=127.255.255.[0..255]\n");
  listed("7.100.51.198.zen.example", a(127, 255, 255, 252));
  EXPECT_FALSE(decide(c).is_reject());
  // A good code beside it still lists.
  answer("7.100.51.198.zen.example", dns::Type::kA, dns::Status::kOk,
         {a(127, 255, 255, 254), a(127, 0, 0, 2)});
  load("smtpd_client_restrictions = reject_rbl_client zen.example\n");
  EXPECT_TRUE(decide(c).is_reject());
}

TEST_F(DnsblTest, LookupFailureIsNotListedWithPostfixWarning) {
  load("smtpd_client_restrictions = reject_rbl_client zen.example, reject_rbl_client ok.example\n");
  auto c = rcpt("root@localhost");
  answer("7.100.51.198.zen.example", dns::Type::kA, dns::Status::kTempFail);
  listed("7.100.51.198.ok.example", a(127, 0, 0, 2));
  EXPECT_EQ(reply_of(decide(c)),
            "554 5.7.1 Service unavailable; Client host [198.51.100.7] blocked using "
            "ok.example");
  ASSERT_EQ(effects_.warnings.size(), 1u);
  EXPECT_EQ(effects_.warnings[0],
            "7.100.51.198.zen.example: RBL lookup error: Host or domain name not found. Name "
            "service error for name=7.100.51.198.zen.example type=A: Host not found, try again");
}

TEST_F(DnsblTest, DefaultRblReplyAndMapsRblRejectCode) {
  load(
      "maps_rbl_reject_code = 550\n"
      "default_rbl_reply = $rbl_code 5.7.0 $rbl_class $rbl_what on $rbl_domain said $rbl_txt\n"
      "smtpd_client_restrictions = reject_rbl_client zen.example=127.0.0.2\n");
  ASSERT_FALSE(has_error()) << problem_text();
  listed("7.100.51.198.zen.example", a(127, 0, 0, 2), {"listed for spam"});
  EXPECT_EQ(reply_of(decide(rcpt("root@localhost"))),
            "550 5.7.0 Client host 198.51.100.7 on zen.example said listed for spam");
  // Without an enhanced code: 5.7.1 (4.7.1 with the class digit fixed).
  load(
      "default_rbl_reply = $rbl_code go away\n"
      "smtpd_client_restrictions = reject_rbl_client zen.example\n");
  EXPECT_EQ(reply_of(decide(rcpt("root@localhost"))), "554 5.7.1 go away");
  load(
      "default_rbl_reply = 450 4.7.1 ${rbl_reason:no reason}\n"
      "smtpd_client_restrictions = reject_rbl_client zen.example\n");
  listed("7.100.51.198.zen.example", a(127, 0, 0, 2));
  EXPECT_EQ(reply_of(decide(rcpt("root@localhost"))), "450 4.7.1 no reason");
}

TEST_F(DnsblTest, BadReplyTemplates) {
  load(
      "default_rbl_reply = $rbl_code $nonsense\n"
      "smtpd_client_restrictions = reject_rbl_client zen.example\n");
  EXPECT_TRUE(has_error());
  load(
      "default_rbl_reply = $rbl_code ${rbl_code\n"
      "smtpd_client_restrictions = reject_rbl_client zen.example\n");
  EXPECT_TRUE(has_error());
  // Postfix's mac_expand: an unknown name in ${name?text} / ${name:text}
  // tests as empty (with a warning); only a plain $name spoils a template.
  load(
      "default_rbl_reply = $rbl_code ${nonsense:fine}${nonsense?bad}\n"
      "smtpd_client_restrictions = reject_rbl_client zen.example\n");
  ASSERT_FALSE(has_error()) << problem_text();
  listed("7.100.51.198.zen.example", a(127, 0, 0, 2));
  EXPECT_EQ(reply_of(decide(rcpt("root@localhost"))), "554 5.7.1 fine");
  EXPECT_EQ(effects_.warnings.size(), 2u);
  // A reply that does not start with a 4XX/5XX code: Postfix's warning and 450.
  load(
      "default_rbl_reply = blocked by $rbl_domain\n"
      "smtpd_client_restrictions = reject_rbl_client zen.example\n");
  ASSERT_FALSE(has_error()) << problem_text();
  listed("7.100.51.198.zen.example", a(127, 0, 0, 2));
  EXPECT_EQ(reply_of(decide(rcpt("root@localhost"))), "450 4.7.1 Service unavailable");
  ASSERT_EQ(effects_.warnings.size(), 1u);
  EXPECT_EQ(effects_.warnings[0], "rbl response code configuration error: blocked by zen.example");
}

TEST_F(DnsblTest, RblReplyMapsKeyIsTheArgumentAsWritten) {
  const auto maps =
      table("rbl_reply",
            "zen.example 550 5.7.1 custom: $client_address is listed by $rbl_domain ($rbl_reason)\n"
            "filtered.example=127.0.0.2 421 4.7.0 filtered $rbl_domain\n"
            "broken.example 554 $unknown_name\n");
  load("rbl_reply_maps = " + maps +
       "\nsmtpd_client_restrictions = reject_rbl_client zen.example, reject_rbl_client "
       "filtered.example=127.0.0.2, reject_rbl_client broken.example\n");
  ASSERT_FALSE(has_error()) << problem_text();
  auto c = rcpt("root@localhost");
  listed("7.100.51.198.zen.example", a(127, 0, 0, 2), {"listed for spam"});
  EXPECT_EQ(reply_of(decide(c)),
            "550 5.7.1 custom: 198.51.100.7 is listed by zen.example (listed for spam)");
  not_listed("7.100.51.198.zen.example");
  listed("7.100.51.198.filtered.example", a(127, 0, 0, 2));
  EXPECT_EQ(reply_of(decide(c)), "421 4.7.0 filtered filtered.example");
  // A template that cannot be expanded: a warning, and the default reply.
  not_listed("7.100.51.198.filtered.example");
  listed("7.100.51.198.broken.example", a(127, 0, 0, 2));
  EXPECT_EQ(reply_of(decide(c)),
            "554 5.7.1 Service unavailable; Client host [198.51.100.7] blocked using "
            "broken.example");
  ASSERT_EQ(effects_.warnings.size(), 2u);
  EXPECT_EQ(effects_.warnings[0], "unknown macro name \"unknown_name\" in expansion request");
  EXPECT_EQ(effects_.warnings[1],
            "rbl_reject_reply: bad rbl reply template for domain broken.example: 554 "
            "$unknown_name");
}

TEST_F(DnsblTest, TemplateNamesOfTheSession) {
  load(
      "default_rbl_reply = $rbl_code <$client> <$client_name> <$reverse_client_name> "
      "<$helo_name> <$sender> <$sender_name> <$sender_domain> <$recipient> <$recipient_name> "
      "<$recipient_domain> <$server_name>\n"
      "smtpd_recipient_restrictions = reject_rbl_client zen.example, "
      "reject_unauth_destination\n");
  ASSERT_FALSE(has_error()) << problem_text();
  listed("7.100.51.198.zen.example", a(127, 0, 0, 2));
  EXPECT_EQ(reply_of(decide(rcpt("root@localhost", "198.51.100.7", "host.example", "", "h.test"))),
            "554 5.7.1 <host.example[198.51.100.7]> <host.example> <host.example> <h.test> <<>> "
            "<<>> <> <root@localhost> <root> <localhost> <mx.here.test>");
}

TEST_F(DnsblTest, WarnIfRejectAndDeferIfReject) {
  load("smtpd_client_restrictions = warn_if_reject reject_rbl_client zen.example\n");
  listed("7.100.51.198.zen.example", a(127, 0, 0, 2), {"listed for spam"});
  auto c = rcpt("root@localhost");
  EXPECT_FALSE(decide(c).is_reject());
  ASSERT_EQ(effects_.events.size(), 1u);
  EXPECT_EQ(effects_.events[0].action, "reject_warning");
  EXPECT_EQ(effects_.events[0].text, kListedReply);
  load("smtpd_client_restrictions = defer_if_reject reject_rbl_client zen.example\n");
  EXPECT_EQ(reply_of(decide(c)),
            "450 4.7.0 <unknown[198.51.100.7]>: Client host rejected: defer_if_reject requested");
}

TEST_F(DnsblTest, RhsblClientNeedsAVerifiedName) {
  load("smtpd_client_restrictions = reject_rhsbl_client rhs.example\n");
  EXPECT_FALSE(decide(rcpt("root@localhost")).is_pending());  // "unknown": no lookup
  EXPECT_FALSE(answers_.has_needed());
  listed("bad.host.test.rhs.example", a(127, 0, 0, 2), {"host listed"});
  EXPECT_EQ(reply_of(decide(rcpt("root@localhost", "198.51.100.7", "bad.host.test"))),
            "554 5.7.1 Service unavailable; Client host [bad.host.test] blocked using "
            "rhs.example; host listed");
}

TEST_F(DnsblTest, RhsblReverseClientHeloSenderRecipient) {
  load("smtpd_client_restrictions = reject_rhsbl_reverse_client rhs.example\n");
  auto c = rcpt("root@localhost", "198.51.100.7", "unknown");
  c.reverse_client_name = "ptr.host.test";
  listed("ptr.host.test.rhs.example", a(127, 0, 0, 2));
  EXPECT_EQ(reply_of(decide(c)),
            "554 5.7.1 Service unavailable; Unverified Client host [ptr.host.test] blocked "
            "using rhs.example");

  load("smtpd_helo_restrictions = reject_rhsbl_helo rhs.example\n");
  listed("badhelo.test.rhs.example", a(127, 0, 0, 2));
  EXPECT_EQ(reply_of(decide(rcpt("root@localhost", "198.51.100.7", "unknown", "s@client.test",
                                 "badhelo.test"))),
            "554 5.7.1 Service unavailable; Helo command [badhelo.test] blocked using "
            "rhs.example");
  // Address literals and numeric names are not looked up.
  for (const char* helo : {"[192.0.2.1]", "192.0.2.1", "host.123"}) {
    answers_ = dns::AnswerSet();
    EXPECT_FALSE(decide(rcpt("root@localhost", "198.51.100.7", "unknown", "s@client.test", helo))
                     .is_pending())
        << helo;
    EXPECT_FALSE(answers_.has_needed()) << helo;
  }

  load("smtpd_sender_restrictions = reject_rhsbl_sender rhs.example\n");
  listed("spammer.test.rhs.example", a(127, 0, 0, 2), {"sender domain listed"});
  EXPECT_EQ(
      reply_of(decide(rcpt("root@localhost", "198.51.100.7", "unknown", "Someone@spammer.test"))),
      "554 5.7.1 Service unavailable; Sender address [Someone@spammer.test] blocked "
      "using rhs.example; sender domain listed");
  // The null sender is not looked up.
  answers_ = dns::AnswerSet();
  EXPECT_TRUE(decide(rcpt("root@localhost", "198.51.100.7", "unknown", "")).is_dunno());
  EXPECT_FALSE(answers_.has_needed());

  load("smtpd_recipient_restrictions = reject_rhsbl_recipient rhs.example, permit\n");
  listed("relay.test.rhs.example", a(127, 0, 0, 2));
  EXPECT_EQ(reply_of(decide(rcpt("x@relay.test"))),
            "554 5.7.1 Service unavailable; Recipient address [x@relay.test] blocked using "
            "rhs.example");
}

TEST_F(DnsblTest, SenderClassFixesAddressDsn) {
  load(
      "default_rbl_reply = $rbl_code 5.1.1 no\n"
      "smtpd_sender_restrictions = reject_rhsbl_sender rhs.example\n");
  listed("spammer.test.rhs.example", a(127, 0, 0, 2));
  EXPECT_EQ(reply_of(decide(rcpt("root@localhost", "198.51.100.7", "unknown", "s@spammer.test"))),
            "554 5.1.7 no");
}

TEST_F(DnsblTest, DnswlPermitsAndDefersOnFailure) {
  load("smtpd_client_restrictions = permit_dnswl_client wl.example, reject\n");
  auto c = rcpt("root@localhost");
  EXPECT_TRUE(decide(c).is_pending());
  listed("7.100.51.198.wl.example", a(127, 0, 10, 0));
  EXPECT_FALSE(decide(c).is_reject());
  not_listed("7.100.51.198.wl.example");
  EXPECT_EQ(reply_of(decide(c)),
            "554 5.7.1 <unknown[198.51.100.7]>: Client host rejected: Access denied");
  // A lookup failure: the later reject becomes a deferral (DEFER_IF_REJECT).
  answer("7.100.51.198.wl.example", dns::Type::kA, dns::Status::kTempFail);
  EXPECT_EQ(reply_of(decide(c)),
            "450 4.7.1 <198.51.100.7>: Client host rejected: Service unavailable");
  ASSERT_EQ(effects_.warnings.size(), 1u);
  EXPECT_TRUE(effects_.warnings[0].starts_with("7.100.51.198.wl.example: RBL lookup error:"));
  // ... and nothing when nothing rejects.
  load("smtpd_client_restrictions = permit_dnswl_client wl.example\n");
  EXPECT_FALSE(decide(c).is_reject());
}

TEST_F(DnsblTest, DnswlFilterAndRefusedCodes) {
  load(
      "smtpd_client_restrictions = permit_dnswl_client wl.example=127.0.[0..255].[1..3], "
      "reject\n");
  auto c = rcpt("root@localhost");
  listed("7.100.51.198.wl.example", a(127, 0, 10, 0));
  EXPECT_TRUE(decide(c).is_reject());
  listed("7.100.51.198.wl.example", a(127, 0, 10, 2));
  EXPECT_FALSE(decide(c).is_reject());
  load("smtpd_client_restrictions = permit_dnswl_client wl.example, reject\n");
  listed("7.100.51.198.wl.example", a(127, 255, 255, 255));
  EXPECT_TRUE(decide(c).is_reject());
}

TEST_F(DnsblTest, DnswlNeverPermitsRelaying) {
  load("smtpd_relay_restrictions = permit_dnswl_client wl.example, reject_unauth_destination\n");
  listed("7.100.51.198.wl.example", a(127, 0, 10, 0));
  EXPECT_EQ(reply_of(decide(rcpt("u@remote.test"))),
            "554 5.7.1 <u@remote.test>: Relay access denied");
  EXPECT_FALSE(decide(rcpt("root@localhost")).is_reject());
}

TEST_F(DnsblTest, RhswlNeedsAVerifiedName) {
  load("smtpd_client_restrictions = permit_rhswl_client rhswl.example, reject\n");
  EXPECT_TRUE(decide(rcpt("root@localhost")).is_reject());
  EXPECT_FALSE(answers_.has_needed());
  listed("trusted.test.rhswl.example", a(127, 0, 0, 2));
  auto c = rcpt("root@localhost", "198.51.100.7", "trusted.test");
  EXPECT_FALSE(decide(c).is_reject());
  answer("trusted.test.rhswl.example", dns::Type::kA, dns::Status::kTempFail);
  EXPECT_EQ(reply_of(decide(c)),
            "450 4.7.1 <trusted.test>: Client host rejected: Service unavailable");
}

TEST_F(DnsblTest, InvalidQueryNamesAreNotListedAndNotAsked) {
  // Postfix's dns_lookup refuses names that are not valid host names: a
  // zone written with a trailing dot never lists, silently.
  load(
      "smtpd_client_restrictions = reject_rbl_client zen.example.\n"
      "smtpd_sender_restrictions = reject_rhsbl_sender rhs.example\n");
  ASSERT_FALSE(has_error()) << problem_text();
  const std::string long_label(64, 'a');
  auto verdict =
      decide(rcpt("root@localhost", "198.51.100.7", "unknown", "s@" + long_label + ".example"));
  EXPECT_TRUE(verdict.is_dunno());
  EXPECT_FALSE(answers_.has_needed());
  EXPECT_TRUE(effects_.warnings.empty());
}

TEST_F(DnsblTest, ZonesForPrefetchAndCheck) {
  load(
      "smtpd_restriction_classes = strict\nstrict = reject_rbl_client c.example\n"
      "smtpd_client_restrictions = reject_rbl_client a.example=127.0.0.2, "
      "permit_dnswl_client w.example, reject_rbl_client a.example\n"
      "smtpd_sender_restrictions = reject_rhsbl_sender r.example\n");
  ASSERT_FALSE(has_error()) << problem_text();
  std::vector<std::string> zones;
  for (const auto& z : engine_.dns_list_zones()) {
    zones.push_back(z.zone + (z.domains ? " domains" : "") + (z.client_address ? " client" : ""));
  }
  EXPECT_EQ(zones, (std::vector<std::string>{"c.example client", "a.example client",
                                             "w.example client", "r.example domains"}));
}

TEST_F(DnsblTest, RuntimeListFromAnAccessTable) {
  const auto access = table("access",
                            "198.51.100.7 reject_rbl_client zen.example=127.0.0.[2\n"
                            "198.51.100 reject_rbl_client zen.example\n");
  load("smtpd_client_restrictions = check_client_access " + access + "\n");
  EXPECT_EQ(reply_of(decide(rcpt("root@localhost"))), "451 4.3.5 Server configuration error");
  listed("8.100.51.198.zen.example", a(127, 0, 0, 2));
  EXPECT_EQ(reply_of(decide(rcpt("root@localhost", "198.51.100.8"))),
            "554 5.7.1 Service unavailable; Client host [198.51.100.8] blocked using "
            "zen.example");
}

}  // namespace
}  // namespace moat::restriction
