#include "config/values.h"

#include <gtest/gtest.h>

namespace moat::config {
namespace {

using std::chrono::seconds;
using List = std::vector<std::string>;

TEST(ParseBooleanTest, AcceptsYesAndNoInAnyCase) {
  EXPECT_EQ(parse_boolean("yes"), true);
  EXPECT_EQ(parse_boolean("YES"), true);
  EXPECT_EQ(parse_boolean("No"), false);
}

TEST(ParseBooleanTest, RejectsAnythingElse) {
  EXPECT_EQ(parse_boolean(""), std::nullopt);
  EXPECT_EQ(parse_boolean("true"), std::nullopt);
  EXPECT_EQ(parse_boolean("1"), std::nullopt);
  EXPECT_EQ(parse_boolean("yes "), std::nullopt);
}

TEST(ParseIntegerTest, AcceptsDecimalWithOptionalMinus) {
  EXPECT_EQ(parse_integer("0"), 0);
  EXPECT_EQ(parse_integer("10240000"), 10240000);
  EXPECT_EQ(parse_integer("-1"), -1);
}

TEST(ParseIntegerTest, RejectsJunkAndOverflow) {
  EXPECT_EQ(parse_integer(""), std::nullopt);
  EXPECT_EQ(parse_integer("12k"), std::nullopt);
  EXPECT_EQ(parse_integer(" 12"), std::nullopt);
  EXPECT_EQ(parse_integer("+12"), std::nullopt);
  EXPECT_EQ(parse_integer("99999999999999999999"), std::nullopt);
}

TEST(ParseTimeTest, AppliesEachUnit) {
  EXPECT_EQ(parse_time("300s", 's'), seconds(300));
  EXPECT_EQ(parse_time("5m", 's'), seconds(300));
  EXPECT_EQ(parse_time("1h", 's'), seconds(3600));
  EXPECT_EQ(parse_time("35d", 's'), seconds(35 * 86400));
  EXPECT_EQ(parse_time("1w", 's'), seconds(604800));
}

TEST(ParseTimeTest, BareNumberTakesTheDefaultUnit) {
  EXPECT_EQ(parse_time("300", 's'), seconds(300));
  EXPECT_EQ(parse_time("5", 'd'), seconds(5 * 86400));
  EXPECT_EQ(parse_time("0", 'h'), seconds(0));
}

TEST(ParseTimeTest, RejectsBadValues) {
  EXPECT_EQ(parse_time("5x", 's'), std::nullopt);
  EXPECT_EQ(parse_time("", 's'), std::nullopt);
  EXPECT_EQ(parse_time("s", 's'), std::nullopt);
  EXPECT_EQ(parse_time("-5s", 's'), std::nullopt);
  EXPECT_EQ(parse_time("1h30m", 's'), std::nullopt);
  EXPECT_EQ(parse_time("5", 'x'), std::nullopt);
}

TEST(ParseTimeTest, RejectsOverflow) {
  EXPECT_EQ(parse_time("9223372036854775807w", 's'), std::nullopt);
  EXPECT_EQ(parse_time("9223372036854775807s", 's'), seconds(9223372036854775807LL));
}

TEST(SplitListTest, SplitsOnCommasAndWhitespace) {
  EXPECT_EQ(split_list("a, b,c\td\n e"), (List{"a", "b", "c", "d", "e"}));
}

TEST(SplitListTest, DropsEmptyElements) {
  EXPECT_EQ(split_list(" ,, a ,,"), (List{"a"}));
  EXPECT_EQ(split_list(""), List{});
  EXPECT_EQ(split_list(" , "), List{});
}

TEST(SplitListTest, BracesKeepOneElementWithoutThem) {
  EXPECT_EQ(split_list("check_policy_service { inet:127.0.0.1:10023, timeout=10s }, permit"),
            (List{"check_policy_service", "inet:127.0.0.1:10023, timeout=10s", "permit"}));
}

TEST(SplitListTest, OnlyOutermostBracesAreRemoved) {
  EXPECT_EQ(split_list("{ check_policy_service { inet:x, timeout=10s } }"),
            (List{"check_policy_service { inet:x, timeout=10s }"}));
}

TEST(SplitListTest, BracesInsideAnElementStay) {
  EXPECT_EQ(split_list("CONNECT regexp:{{/^[^A-Z]/ Bogus}}"),
            (List{"CONNECT", "regexp:{{/^[^A-Z]/ Bogus}}"}));
  EXPECT_EQ(split_list("{a}{b}"), (List{"{a}{b}"}));
}

TEST(SplitListTest, UnclosedBraceRunsToTheEnd) {
  EXPECT_EQ(split_list("a {b, c"), (List{"a", "{b, c"}));
}

}  // namespace
}  // namespace moat::config
