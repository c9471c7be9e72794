// check_greylist against canned decisions (greylist::DecisionSet::put): the
// allowlists, the reply and header postgrey's users know, DEFER_IF_PERMIT.
#include <gtest/gtest.h>

#include "engine_test_base.h"
#include "greylist/decision.h"
#include "restrict/evaluation.h"
#include "restrict/restrictions.h"
#include "spf/result_set.h"

namespace moat::restriction {
namespace {

using Kind = greylist::Outcome::Kind;

class GreylistCheckTest : public testing::EngineTestBase {
 protected:
  void load(const std::string& text = "") {
    build(
        "myhostname = mx.here.test\nmydestination = localhost, $myhostname\n"
        "smtpd_recipient_restrictions = reject_unauth_destination, check_greylist\n",
        text);
    ASSERT_FALSE(has_error()) << problem_text();
  }

  Context rcpt(const std::string& recipient = "bob@mx.here.test",
               const std::string& ip = "198.51.100.7",
               const std::string& sender = "alice@sender.test",
               const std::string& name = "unknown") {
    recipient_ = recipient;
    ip_ = ip;
    sender_ = sender;
    name_ = name;
    helo_ = "mail.sender.test";
    Context c = rcpt_context();
    c.greylist = &decisions_;
    c.spf = &spf_;
    return c;
  }

  // Answers the question the last check noted.
  void decide(Kind kind, int64_t waited = 0, bool first_pass = false) {
    greylist::Question q;
    q.ask.triplet = noted_triplet();
    greylist::Outcome o;
    o.kind = kind;
    o.waited = waited;
    o.left = 300 - waited;
    o.first_pass = first_pass;
    decisions_.put(q, o);
  }
  std::string noted_triplet() {
    // The engine notes exactly one question per RCPT here; find it by asking
    // for every candidate key is not possible, so the test knows the key.
    return "grey:" + network_ + "/alice@sender.test/" + recipient_;
  }

  Verdict check(const Context& c) { return engine_.check(Check::kRecipient, c, effects_); }

  std::string network_ = "198.51.100.0";
  greylist::DecisionSet decisions_;
  spf::ResultSet spf_;
  Effects effects_;
};

TEST_F(GreylistCheckTest, UnknownDecisionIsPendingThenGreylistedAsPostgreyReplies) {
  load();
  EXPECT_TRUE(check(rcpt()).is_pending());
  EXPECT_TRUE(decisions_.has_needed());
  decide(Kind::kGreylisted);
  const auto v = Engine::apply_defer_if_permit(check(rcpt()), effects_);
  ASSERT_TRUE(v.is_reject());
  EXPECT_EQ(v.reply.code, 450);
  EXPECT_EQ(v.reply.enhanced, "4.2.0");
  EXPECT_EQ(v.reply.text,
            "<bob@mx.here.test>: Recipient address rejected: Greylisted, see "
            "https://postgrey.schweikert.ch/help/mx.here.test.html");
}

TEST_F(GreylistCheckTest, TextTakesSecondsLeftAndRecipientDomain) {
  load("moat_greylist_text = wait %s more seconds for %r\n");
  check(rcpt());
  decide(Kind::kGreylisted, 100);
  const auto v = Engine::apply_defer_if_permit(check(rcpt()), effects_);
  EXPECT_EQ(v.reply.text,
            "<bob@mx.here.test>: Recipient address rejected: wait 200 more seconds for "
            "mx.here.test");
}

TEST_F(GreylistCheckTest, FirstPassGetsXGreylistLaterPassesNothing) {
  load();
  check(rcpt());
  decide(Kind::kPass, 305, true);
  EXPECT_TRUE(check(rcpt()).is_dunno());
  ASSERT_EQ(effects_.prepend.size(), 1u);
  EXPECT_TRUE(
      effects_.prepend[0].starts_with("X-Greylist: delayed 305 seconds by moat at "
                                      "mx.here.test; "))
      << effects_.prepend[0];
  effects_.clear();
  decide(Kind::kPass, 5000, false);
  EXPECT_TRUE(check(rcpt()).is_dunno());
  EXPECT_TRUE(effects_.prepend.empty());
}

TEST_F(GreylistCheckTest, AGreylistedRecipientStillLosesToALaterReject) {
  build(
      "myhostname = mx.here.test\nmydestination = $myhostname\n"
      "smtpd_recipient_restrictions = check_greylist, reject\n",
      "");
  check(rcpt());
  decide(Kind::kGreylisted);
  const auto v = Engine::apply_defer_if_permit(check(rcpt()), effects_);
  ASSERT_TRUE(v.is_reject());
  EXPECT_EQ(v.reply.code, 554);
}

TEST_F(GreylistCheckTest, AllowlistsPassWithoutAsking) {
  const auto clients = write_file("clients", "friend.example\n203.0.113.0/24\n");
  const auto recipients = write_file("recipients", "postmaster@\n");
  load("moat_greylist_client_allowlist = " + clients +
       "\nmoat_greylist_recipient_allowlist = " + recipients + "\n");
  EXPECT_TRUE(
      check(rcpt("bob@mx.here.test", "198.51.100.7", "a@b.test", "mx.friend.example")).is_dunno());
  EXPECT_TRUE(check(rcpt("bob@mx.here.test", "203.0.113.9")).is_dunno());
  EXPECT_TRUE(check(rcpt("postmaster@mx.here.test")).is_dunno());
  EXPECT_FALSE(decisions_.has_needed());
}

TEST_F(GreylistCheckTest, SpfPassSkipsWhenAsked) {
  load("moat_greylist_skip_spf_pass = yes\n");
  EXPECT_TRUE(check(rcpt()).is_pending());
  EXPECT_FALSE(decisions_.has_needed()) << "SPF first: it may make greylisting moot";
  spf_.put("alice@sender.test", "mail.sender.test", {.result = spf::Result::kPass});
  EXPECT_TRUE(check(rcpt()).is_dunno());
  EXPECT_FALSE(decisions_.has_needed());
  spf_.put("alice@sender.test", "mail.sender.test", {.result = spf::Result::kSoftFail});
  EXPECT_TRUE(check(rcpt()).is_pending());
  EXPECT_TRUE(decisions_.has_needed());
}

TEST_F(GreylistCheckTest, StoreFailureFollowsTheFailureAction) {
  load();
  check(rcpt());
  decide(Kind::kFailed);
  EXPECT_TRUE(Engine::apply_defer_if_permit(check(rcpt()), effects_).is_dunno());
  load("moat_state_store_failure_action = defer\n");
  effects_.clear();
  const auto v = Engine::apply_defer_if_permit(check(rcpt()), effects_);
  ASSERT_TRUE(v.is_reject());
  EXPECT_EQ(v.reply.code, 451);
  EXPECT_EQ(v.reply.text, "<bob@mx.here.test>: Temporary lookup failure");
}

TEST_F(GreylistCheckTest, TripletUsesTheNetworkOrTheHost) {
  load();
  check(rcpt("bob@mx.here.test", "198.51.100.200"));
  network_ = "198.51.100.0";
  decide(Kind::kPass);
  // Another host of the same /24 finds the same triplet.
  EXPECT_TRUE(check(rcpt("bob@mx.here.test", "198.51.100.7")).is_dunno());

  load("moat_greylist_client = host\n");
  decisions_.clear();
  EXPECT_TRUE(check(rcpt("bob@mx.here.test", "198.51.100.7")).is_pending());
  network_ = "198.51.100.7";
  decide(Kind::kPass);
  EXPECT_TRUE(check(rcpt("bob@mx.here.test", "198.51.100.7")).is_dunno());
}

TEST_F(GreylistCheckTest, DomainModeUsesTheVerifiedNamesOrganisationalDomain) {
  const auto list = write_file("psl.dat", "uk\nco.uk\n");
  load("moat_greylist_client = domain\nmoat_public_suffix_list = " + list + "\n");
  auto c = rcpt("bob@mx.here.test", "198.51.100.7", "alice@sender.test", "mx1.big.co.uk");
  c.client_name_status = NameStatus::kOk;
  EXPECT_TRUE(check(c).is_pending());
  network_ = "big.co.uk";
  decide(Kind::kPass);
  // Another host of the same organisation, elsewhere on the net.
  auto other = rcpt("bob@mx.here.test", "203.0.113.5", "alice@sender.test", "out7.big.co.uk");
  other.client_name_status = NameStatus::kOk;
  EXPECT_TRUE(check(other).is_dunno());
  EXPECT_FALSE(decisions_.has_needed());
  // A name that is not forward-confirmed does not count: the network does.
  auto unverified = rcpt("bob@mx.here.test", "192.0.2.9", "alice@sender.test", "mx1.big.co.uk");
  unverified.client_name_status = NameStatus::kForged;
  EXPECT_TRUE(check(unverified).is_pending());
  network_ = "192.0.2.0";
  decide(Kind::kGreylisted);
  EXPECT_TRUE(check(unverified).is_dunno());  // DEFER_IF_PERMIT: pending in effects
  EXPECT_TRUE(effects_.defer_if_permit);
}

TEST_F(GreylistCheckTest, BadSettingsNameTheParameter) {
  build("myhostname = mx.here.test\n",
        "moat_greylist_client = planet\nmoat_greylist_ipv4_prefix = 33\n"
        "moat_state_store_failure_action = panic\n"
        "moat_greylist_client_allowlist = /nonexistent/clients\n");
  const auto text = problem_text();
  for (const char* p :
       {"moat_greylist_client:", "moat_greylist_ipv4_prefix", "moat_state_store_failure_action",
        "/nonexistent/clients: cannot be read"}) {
    EXPECT_NE(text.find(p), std::string::npos) << p << "\n" << text;
  }
  EXPECT_TRUE(has_error());
}

}  // namespace
}  // namespace moat::restriction
