#include "restrict/restrictions.h"

#include <gtest/gtest.h>

namespace moat::restriction {
namespace {

class RestrictionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = config::Config::load_text(
        "myhostname = mx.here.test\nmydestination = localhost\nrelay_domains = relay.test\n"
        "local_recipient_maps =\n",
        "main.cf");
    ASSERT_TRUE(loaded.ok());
    config_ = loaded.config;
    std::vector<config::Problem> problems;
    destinations_ = deliver::Destinations::build(*config_, problems);
    environment_.destinations = &destinations_;
  }

  Verdict evaluate(const std::string& list_text, const std::string& recipient, bool trusted) {
    std::vector<std::string> errors;
    std::vector<std::string> names;
    for (size_t start = 0; start < list_text.size();) {
      auto end = list_text.find(' ', start);
      if (end == std::string::npos) end = list_text.size();
      names.push_back(list_text.substr(start, end - start));
      start = end + 1;
    }
    const auto list = RestrictionList::compile(names, errors);
    EXPECT_TRUE(errors.empty());
    resolved_ = destinations_.resolve(recipient);
    Context context;
    context.stage = Stage::kRcpt;
    context.recipient = recipient;
    context.resolved_recipient = &resolved_;
    context.client_in_mynetworks = trusted;
    return list.evaluate(context, environment_);
  }

  std::shared_ptr<const config::Config> config_;
  deliver::Destinations destinations_;
  deliver::ResolvedAddress resolved_;
  Environment environment_;
};

TEST_F(RestrictionsTest, DefaultRelayRestrictionsDeferOutsidersToRemoteDomains) {
  const std::string list = "permit_mynetworks permit_sasl_authenticated defer_unauth_destination";
  EXPECT_TRUE(evaluate(list, "u@remote.test", true).is_permit());
  const auto verdict = evaluate(list, "u@remote.test", false);
  ASSERT_TRUE(verdict.is_reject());
  EXPECT_EQ(verdict.reply.code, 454);
  EXPECT_EQ(verdict.reply.enhanced, "4.7.1");
  EXPECT_EQ(verdict.reply.text, "<u@remote.test>: Relay access denied");
  EXPECT_TRUE(evaluate(list, "u@localhost", false).is_dunno());
  EXPECT_TRUE(evaluate(list, "u@relay.test", false).is_dunno());
}

TEST_F(RestrictionsTest, RejectUnauthDestinationUsesRelayDomainsRejectCode) {
  const auto verdict = evaluate("reject_unauth_destination", "u%remote.test@localhost", false);
  ASSERT_TRUE(verdict.is_reject());
  EXPECT_EQ(verdict.reply.code, 554);
  EXPECT_EQ(verdict.reply.enhanced, "5.7.1");
}

TEST_F(RestrictionsTest, FirstDecisionWins) {
  EXPECT_TRUE(evaluate("permit reject", "u@remote.test", false).is_permit());
  EXPECT_TRUE(evaluate("reject permit", "u@remote.test", false).is_reject());
  EXPECT_TRUE(evaluate("permit_auth_destination reject", "u@localhost", false).is_permit());
}

TEST(RestrictionList, UnknownNamesAreErrors) {
  std::vector<std::string> errors;
  RestrictionList::compile({"permit_mynetworks", "reject_everything"}, errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("reject_everything"), std::string::npos);
}

}  // namespace
}  // namespace moat::restriction
