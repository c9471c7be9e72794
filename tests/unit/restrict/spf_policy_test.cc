// check_spf against canned SPF results (spf::ResultSet::put): which results
// each moat_spf_* setting refuses, the replies, and the headers.
#include <gtest/gtest.h>

#include "engine_test_base.h"
#include "restrict/evaluation.h"
#include "restrict/restrictions.h"
#include "spf/result_set.h"

namespace moat::restriction {
namespace {

using spf::Result;

class SpfPolicyTest : public testing::EngineTestBase {
 protected:
  void load(const std::string& text = "") {
    build(
        "myhostname = mx.here.test\nmydestination = localhost, $myhostname\n"
        "moat_spf_skip_addresses = ::1\n"
        "smtpd_recipient_restrictions = check_spf, permit_mynetworks, "
        "reject_unauth_destination\n",
        text);
    ASSERT_FALSE(has_error()) << problem_text();
  }

  Context rcpt(const std::string& sender = "alice@sender.test",
               const std::string& helo = "mail.sender.test",
               const std::string& ip = "198.51.100.7") {
    sender_ = sender;
    helo_ = helo;
    ip_ = ip;
    Context c = rcpt_context();
    c.spf = &results_;
    return c;
  }

  static spf::SpfResult result(Result r, std::string comment = "", std::string explanation = "") {
    return {.result = r, .explanation = std::move(explanation), .comment = std::move(comment)};
  }
  // The results for the MAIL FROM and HELO identities of rcpt()'s defaults.
  void mail_from(spf::SpfResult r, const std::string& sender = "alice@sender.test",
                 const std::string& helo = "mail.sender.test") {
    results_.put(sender, helo, std::move(r));
  }
  void helo(spf::SpfResult r, const std::string& name = "mail.sender.test") {
    results_.put("", name, std::move(r));
  }

  Verdict check(const Context& c) { return engine_.check(Check::kRecipient, c, effects_); }

  spf::ResultSet results_;
  Effects effects_;
};

TEST_F(SpfPolicyTest, MailFromFailIsRefusedWithPolicydSpfReply) {
  load();
  helo(result(Result::kNone));
  mail_from(result(Result::kFail, "", "SPF fail - not authorized"));
  const auto v = check(rcpt());
  ASSERT_TRUE(v.is_reject());
  EXPECT_EQ(v.reply.code, 550);
  EXPECT_EQ(v.reply.enhanced, "5.7.23");
  EXPECT_EQ(v.reply.text,
            "<bob@mx.here.test>: Recipient address rejected: Message rejected due to: SPF fail - "
            "not authorized. Please see "
            "https://www.open-spf.org/Why;id=alice@sender.test;ip=198.51.100.7;r=mx.here.test");
  EXPECT_TRUE(effects_.prepend.empty());
}

TEST_F(SpfPolicyTest, ExplanationOfTheDomainIsTheReason) {
  load();
  helo(result(Result::kNone));
  mail_from(result(Result::kFail, "", "alice is not allowed to use 198.51.100.7"));
  const auto v = check(rcpt());
  ASSERT_TRUE(v.is_reject());
  EXPECT_NE(v.reply.text.find("Message rejected due to: alice is not allowed to use "
                              "198.51.100.7. Please see"),
            std::string::npos)
      << v.reply.text;
}

TEST_F(SpfPolicyTest, PassPrependsReceivedSpfAndGoesOn) {
  load();
  helo(result(Result::kNone));
  mail_from(result(Result::kPass));
  const auto v = check(rcpt());
  EXPECT_TRUE(v.is_dunno());
  ASSERT_EQ(effects_.prepend.size(), 1u);
  EXPECT_EQ(effects_.prepend[0],
            "Received-SPF: pass (mx.here.test: domain of alice@sender.test designates "
            "198.51.100.7 as permitted sender)\n\tclient-ip=198.51.100.7; "
            "envelope-from=\"alice@sender.test\"; helo=mail.sender.test; receiver=mx.here.test; "
            "identity=mailfrom");
}

TEST_F(SpfPolicyTest, HeloFailRefusesFirstWhateverMailFromSays) {
  load();
  helo(result(Result::kFail, "", "SPF fail - not authorized"));
  mail_from(result(Result::kPass));
  const auto v = check(rcpt());
  ASSERT_TRUE(v.is_reject());
  EXPECT_NE(v.reply.text.find("Why;id=mail.sender.test;ip=198.51.100.7;r=mx.here.test"),
            std::string::npos)
      << v.reply.text;
}

TEST_F(SpfPolicyTest, SoftfailIsAcceptedByDefaultRefusedWhenAsked) {
  load();
  helo(result(Result::kNone));
  mail_from(result(Result::kSoftFail));
  EXPECT_TRUE(check(rcpt()).is_dunno());
  ASSERT_EQ(effects_.prepend.size(), 1u);
  EXPECT_TRUE(effects_.prepend[0].starts_with(
      "Received-SPF: softfail (mx.here.test: domain of transitioning alice@sender.test does not "
      "designate 198.51.100.7 as permitted sender)"))
      << effects_.prepend[0];

  load("moat_spf_mail_from_reject = Softfail\n");
  effects_.clear();
  const auto v = check(rcpt());
  ASSERT_TRUE(v.is_reject());
  EXPECT_EQ(v.reply.enhanced, "5.7.23");
  EXPECT_NE(
      v.reply.text.find("Message rejected due to: domain owner discourages use of this host."),
      std::string::npos)
      << v.reply.text;
}

TEST_F(SpfPolicyTest, SpfNotPassRefusesNeutral) {
  load("moat_spf_mail_from_reject = SPF_Not_Pass\n");
  helo(result(Result::kNone));
  mail_from(result(Result::kNeutral));
  const auto v = check(rcpt());
  ASSERT_TRUE(v.is_reject());
  EXPECT_NE(v.reply.text.find("due to: access neither permitted nor denied."), std::string::npos);
  // ... but not none.
  effects_.clear();
  mail_from(result(Result::kNone));
  EXPECT_TRUE(check(rcpt()).is_dunno());
}

TEST_F(SpfPolicyTest, PermerrorRefusedOnlyWhenAskedWith5724) {
  load();
  helo(result(Result::kNone));
  mail_from(result(Result::kPermError, "unknown mechanism \"moo\""));
  EXPECT_TRUE(check(rcpt()).is_dunno());
  ASSERT_EQ(effects_.prepend.size(), 1u);
  EXPECT_TRUE(effects_.prepend[0].starts_with(
      "Received-SPF: permerror (mx.here.test: permanent error in processing domain of "
      "alice@sender.test: unknown mechanism \"moo\")"));

  load("moat_spf_permerror_reject = yes\n");
  effects_.clear();
  const auto v = check(rcpt());
  ASSERT_TRUE(v.is_reject());
  EXPECT_EQ(v.reply.code, 550);
  EXPECT_EQ(v.reply.enhanced, "5.7.24");
  EXPECT_NE(v.reply.text.find("due to: SPF Permanent Error: unknown mechanism \"moo\"."),
            std::string::npos);
}

TEST_F(SpfPolicyTest, TemperrorDefersOnlyWhenAskedAndALaterRejectWins) {
  load();
  helo(result(Result::kNone));
  mail_from(result(Result::kTempError, "DNS timeout for sender.test"));
  EXPECT_TRUE(check(rcpt()).is_dunno());
  EXPECT_FALSE(effects_.defer_if_permit);

  load("moat_spf_temperror_defer = yes\n");
  effects_.clear();
  const auto v = Engine::apply_defer_if_permit(check(rcpt()), effects_);
  ASSERT_TRUE(v.is_reject());
  EXPECT_EQ(v.reply.code, 451);
  EXPECT_EQ(v.reply.enhanced, "4.4.3");
  EXPECT_NE(v.reply.text.find("Message deferred due to: SPF Temporary Error: DNS timeout for "
                              "sender.test. Please see"),
            std::string::npos)
      << v.reply.text;

  // DEFER_IF_PERMIT: a reject later in the list still wins.
  build(
      "myhostname = mx.here.test\nmoat_spf_skip_addresses =\nmoat_spf_temperror_defer = yes\n"
      "smtpd_recipient_restrictions = check_spf, reject\n",
      "");
  effects_.clear();
  const auto later = Engine::apply_defer_if_permit(check(rcpt()), effects_);
  ASSERT_TRUE(later.is_reject());
  EXPECT_EQ(later.reply.code, 554);
}

TEST_F(SpfPolicyTest, HeloNullActsOnlyForTheNullSender) {
  load("moat_spf_helo_reject = Null\n");
  helo(result(Result::kFail));
  mail_from(result(Result::kPass));
  EXPECT_TRUE(check(rcpt()).is_dunno());
  const auto v = check(rcpt(""));
  ASSERT_TRUE(v.is_reject());
  EXPECT_NE(v.reply.text.find("id=mail.sender.test"), std::string::npos);
}

TEST_F(SpfPolicyTest, HeloFalseNeverRefusesEvenErrors) {
  load("moat_spf_helo_reject = False\nmoat_spf_permerror_reject = yes\n");
  helo(result(Result::kPermError, "bad record"));
  EXPECT_TRUE(check(rcpt("")).is_dunno());
  ASSERT_EQ(effects_.prepend.size(), 1u);
  EXPECT_NE(effects_.prepend[0].find("identity=helo"), std::string::npos);
  EXPECT_NE(effects_.prepend[0].find("envelope-from=\"<>\""), std::string::npos);
}

TEST_F(SpfPolicyTest, NoCheckAsksForNothingOfThatIdentity) {
  load("moat_spf_helo_reject = No_Check\n");
  mail_from(result(Result::kPass));
  EXPECT_TRUE(check(rcpt()).is_dunno());
  EXPECT_FALSE(results_.has_needed());

  load("moat_spf_helo_reject = No_Check\nmoat_spf_mail_from_reject = No_Check\n");
  effects_.clear();
  EXPECT_TRUE(check(rcpt("carol@other.test")).is_dunno());
  EXPECT_TRUE(effects_.prepend.empty());
  EXPECT_FALSE(results_.has_needed());
}

TEST_F(SpfPolicyTest, UnknownResultsMakeTheCheckPendingAllAtOnce) {
  load("moat_spf_domain_whitelist = fwd.test\n");
  EXPECT_TRUE(check(rcpt()).is_pending());
  EXPECT_TRUE(results_.has_needed());
  // The three questions were noted in one go.
  results_.put("postmaster@fwd.test", "fwd.test", result(Result::kFail));
  EXPECT_TRUE(check(rcpt()).is_pending());
  helo(result(Result::kNone));
  EXPECT_TRUE(check(rcpt()).is_pending());
  mail_from(result(Result::kFail));
  EXPECT_FALSE(results_.has_needed());
  EXPECT_TRUE(check(rcpt()).is_reject());
}

TEST_F(SpfPolicyTest, RejectNotPassDomainsRefusesSoftfailWithReceiverPolicy) {
  load("moat_spf_reject_not_pass_domains = Sender.test, other.test\n");
  helo(result(Result::kNone));
  mail_from(result(Result::kSoftFail));
  const auto v = check(rcpt());
  ASSERT_TRUE(v.is_reject());
  EXPECT_NE(v.reply.text.find("due to: Receiver policy for SPF Softfail."), std::string::npos)
      << v.reply.text;
  // Only the listed domain itself.
  effects_.clear();
  mail_from(result(Result::kSoftFail), "alice@sub.sender.test");
  EXPECT_TRUE(check(rcpt("alice@sub.sender.test")).is_dunno());
}

TEST_F(SpfPolicyTest, SkippedClientsGetACommentHeaderAndNoCheck) {
  load();
  EXPECT_TRUE(check(rcpt("alice@sender.test", "mail.sender.test", "::1")).is_dunno());
  EXPECT_FALSE(results_.has_needed());
  ASSERT_EQ(effects_.prepend.size(), 1u);
  EXPECT_EQ(effects_.prepend[0],
            "X-Comment: SPF check N/A for local connections - client-ip=::1; "
            "helo=mail.sender.test; envelope-from=alice@sender.test; receiver=mx.here.test");

  load("moat_spf_whitelist = 198.51.100.0/24\n");
  effects_.clear();
  EXPECT_TRUE(check(rcpt()).is_dunno());
  EXPECT_FALSE(results_.has_needed());
  ASSERT_EQ(effects_.prepend.size(), 1u);
  EXPECT_TRUE(effects_.prepend[0].starts_with("X-Comment: SPF skipped for whitelisted relay - "));
}

TEST_F(SpfPolicyTest, DefaultSkipsLoopbackClients) {
  build("myhostname = mx.here.test\nsmtpd_recipient_restrictions = check_spf, reject\n", "");
  for (const char* ip : {"127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.2"}) {
    effects_.clear();
    EXPECT_TRUE(check(rcpt("alice@sender.test", "x.test", ip)).is_reject()) << ip;
    EXPECT_FALSE(results_.has_needed()) << ip;
    ASSERT_EQ(effects_.prepend.size(), 1u) << ip;
  }
}

TEST_F(SpfPolicyTest, DomainWhitelistPassSkips) {
  load("moat_spf_domain_whitelist = fwd.test\n");
  results_.put("postmaster@fwd.test", "fwd.test", result(Result::kPass));
  helo(result(Result::kFail));
  mail_from(result(Result::kFail));
  EXPECT_TRUE(check(rcpt()).is_dunno());
  ASSERT_EQ(effects_.prepend.size(), 1u);
  EXPECT_TRUE(
      effects_.prepend[0].starts_with("X-Comment: SPF skipped for whitelisted relay domain - "));
}

TEST_F(SpfPolicyTest, MailFromNoneReportsTheHeloResult) {
  load();
  helo(result(Result::kPass));
  mail_from(result(Result::kNone));
  EXPECT_TRUE(check(rcpt()).is_dunno());
  ASSERT_EQ(effects_.prepend.size(), 1u);
  EXPECT_NE(effects_.prepend[0].find("identity=helo"), std::string::npos) << effects_.prepend[0];
}

TEST_F(SpfPolicyTest, AuthenticationResultsHeader) {
  load("moat_spf_header_type = AR\n");
  helo(result(Result::kNone));
  mail_from(result(Result::kPass));
  EXPECT_TRUE(check(rcpt()).is_dunno());
  ASSERT_EQ(effects_.prepend.size(), 1u);
  EXPECT_EQ(effects_.prepend[0],
            "Authentication-Results: mx.here.test;\n\tspf=pass (domain of alice@sender.test "
            "designates 198.51.100.7 as permitted sender) smtp.mailfrom=sender.test");

  load("moat_spf_header_type = AR\nmoat_spf_authserv_id = example.net\n");
  effects_.clear();
  EXPECT_TRUE(check(rcpt("")).is_dunno());
  ASSERT_EQ(effects_.prepend.size(), 1u);
  EXPECT_TRUE(effects_.prepend[0].starts_with("Authentication-Results: example.net;\n\tspf=none"));
  EXPECT_TRUE(effects_.prepend[0].ends_with(" smtp.helo=mail.sender.test"));
}

TEST_F(SpfPolicyTest, HeaderTypeNoneAddsNothing) {
  load("moat_spf_header_type = None\n");
  helo(result(Result::kNone));
  mail_from(result(Result::kPass));
  EXPECT_TRUE(check(rcpt()).is_dunno());
  EXPECT_TRUE(effects_.prepend.empty());
}

TEST_F(SpfPolicyTest, CommentsAndValuesAreQuotedSafely) {
  load();
  helo(result(Result::kNone), "[198.51.100.7]");
  mail_from(result(Result::kPass), "\"a(b)\"@sender.test", "[198.51.100.7]");
  EXPECT_TRUE(check(rcpt("\"a(b)\"@sender.test", "[198.51.100.7]")).is_dunno());
  ASSERT_EQ(effects_.prepend.size(), 1u);
  EXPECT_NE(effects_.prepend[0].find("domain of \"a\\(b\\)\"@sender.test designates"),
            std::string::npos)
      << effects_.prepend[0];
  EXPECT_NE(effects_.prepend[0].find("envelope-from=\"\\\"a(b)\\\"@sender.test\"; "
                                     "helo=\"[198.51.100.7]\";"),
            std::string::npos)
      << effects_.prepend[0];
}

TEST_F(SpfPolicyTest, WarnIfRejectOnlyLogs) {
  build(
      "myhostname = mx.here.test\nmoat_spf_skip_addresses =\n"
      "smtpd_recipient_restrictions = warn_if_reject check_spf, permit\n",
      "");
  helo(result(Result::kNone));
  mail_from(result(Result::kFail));
  EXPECT_TRUE(check(rcpt()).is_permit());
  ASSERT_EQ(effects_.events.size(), 1u);
  EXPECT_EQ(effects_.events[0].action, "reject_warning");
}

TEST_F(SpfPolicyTest, BeforeMailThereIsNothingToCheck) {
  build(
      "myhostname = mx.here.test\nmoat_spf_skip_addresses =\n"
      "smtpd_client_restrictions = check_spf\n",
      "");
  auto c = rcpt();
  c.has_sender = false;
  c.sender = "";
  EXPECT_TRUE(engine_.check(Check::kClient, c, effects_).is_dunno());
  EXPECT_FALSE(results_.has_needed());
}

TEST_F(SpfPolicyTest, BadSettingsNameTheParameter) {
  build("myhostname = mx.here.test\n",
        "moat_spf_helo_reject = Sometimes\nmoat_spf_mail_from_reject = Null\n"
        "moat_spf_header_type = XML\nmoat_spf_whitelist = 10.0.0.0/99\n");
  const auto text = problem_text();
  EXPECT_NE(text.find("moat_spf_helo_reject"), std::string::npos) << text;
  EXPECT_NE(text.find("\"Sometimes\""), std::string::npos) << text;
  EXPECT_NE(text.find("moat_spf_mail_from_reject"), std::string::npos) << text;
  EXPECT_NE(text.find("moat_spf_header_type"), std::string::npos) << text;
  EXPECT_NE(text.find("moat_spf_whitelist"), std::string::npos) << text;
  EXPECT_TRUE(has_error());
}

}  // namespace
}  // namespace moat::restriction
