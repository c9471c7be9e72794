#include "config/main_cf.h"

#include <gtest/gtest.h>

namespace moat::config {
namespace {

TEST(ParseMainCfTest, ReadsNameValueLines) {
  ParsedFile parsed = parse_main_cf("myhostname = mx.example.com\nrelayhost=[10.0.0.1]\n", "f");
  ASSERT_EQ(parsed.settings.size(), 2u);
  EXPECT_EQ(parsed.settings[0].name, "myhostname");
  EXPECT_EQ(parsed.settings[0].value, "mx.example.com");
  EXPECT_EQ(parsed.settings[0].line, 1);
  EXPECT_EQ(parsed.settings[1].name, "relayhost");
  EXPECT_EQ(parsed.settings[1].value, "[10.0.0.1]");
  EXPECT_EQ(parsed.settings[1].line, 2);
  EXPECT_TRUE(parsed.problems.empty());
}

TEST(ParseMainCfTest, TrimsBlanksAroundNameAndValue) {
  ParsedFile parsed = parse_main_cf("baz   =   \t  v  w \t \r\n", "f");
  ASSERT_EQ(parsed.settings.size(), 1u);
  EXPECT_EQ(parsed.settings[0].name, "baz");
  EXPECT_EQ(parsed.settings[0].value, "v  w");
}

TEST(ParseMainCfTest, ContinuationLinesJoinWithOneSpace) {
  ParsedFile parsed = parse_main_cf("a = x   \n      y\n\t\tz  \nb = 1\n", "f");
  ASSERT_EQ(parsed.settings.size(), 2u);
  EXPECT_EQ(parsed.settings[0].value, "x y z");
  EXPECT_EQ(parsed.settings[0].line, 1);
  EXPECT_EQ(parsed.settings[1].line, 4);
}

TEST(ParseMainCfTest, CrlfLineEndsReadLikeLf) {
  ParsedFile parsed = parse_main_cf("a = x\r\n  y\r\n\r\nb = 2\r\n", "f");
  ASSERT_EQ(parsed.settings.size(), 2u);
  EXPECT_EQ(parsed.settings[0].value, "x y");
  EXPECT_EQ(parsed.settings[1].value, "2");
  EXPECT_TRUE(parsed.problems.empty());
}

TEST(ParseMainCfTest, ValueMayStartOnTheContinuationLine) {
  ParsedFile parsed = parse_main_cf("myorigin =\n  example.com\n", "f");
  ASSERT_EQ(parsed.settings.size(), 1u);
  EXPECT_EQ(parsed.settings[0].value, "example.com");
}

TEST(ParseMainCfTest, CommentAndBlankLinesInsideAContinuationAreSkipped) {
  ParsedFile parsed = parse_main_cf("a = x\n# comment\n\n   # indented comment\n  y\n", "f");
  ASSERT_EQ(parsed.settings.size(), 1u);
  EXPECT_EQ(parsed.settings[0].value, "x y");
  EXPECT_TRUE(parsed.problems.empty());
}

TEST(ParseMainCfTest, HashInsideAValueIsNotAComment) {
  ParsedFile parsed = parse_main_cf("bar = c # not a comment\n", "f");
  ASSERT_EQ(parsed.settings.size(), 1u);
  EXPECT_EQ(parsed.settings[0].value, "c # not a comment");
}

TEST(ParseMainCfTest, EmptyValueIsAllowed) {
  ParsedFile parsed = parse_main_cf("relayhost =\n", "f");
  ASSERT_EQ(parsed.settings.size(), 1u);
  EXPECT_EQ(parsed.settings[0].value, "");
}

TEST(ParseMainCfTest, EqualsMayComeOnTheContinuationLine) {
  ParsedFile parsed = parse_main_cf("foo\n  = bar\n", "f");
  ASSERT_EQ(parsed.settings.size(), 1u);
  EXPECT_EQ(parsed.settings[0].name, "foo");
  EXPECT_EQ(parsed.settings[0].value, "bar");
}

TEST(ParseMainCfTest, EverythingAfterTheFirstEqualsIsTheValue) {
  ParsedFile parsed = parse_main_cf("a=b=c\n", "f");
  ASSERT_EQ(parsed.settings.size(), 1u);
  EXPECT_EQ(parsed.settings[0].name, "a");
  EXPECT_EQ(parsed.settings[0].value, "b=c");
}

TEST(ParseMainCfTest, DuplicatesAreAllKeptInFileOrder) {
  ParsedFile parsed = parse_main_cf("a = 1\na = 2\n", "f");
  ASSERT_EQ(parsed.settings.size(), 2u);
  EXPECT_EQ(parsed.settings[1].value, "2");
}

TEST(ParseMainCfTest, LineWithoutEqualsIsAnErrorNamingTheParameter) {
  ParsedFile parsed = parse_main_cf("a = 1\nbar\nb = 2\n", "main.cf");
  ASSERT_EQ(parsed.problems.size(), 1u);
  EXPECT_EQ(parsed.problems[0].to_string(), "main.cf:2: bar: missing '=' after parameter name");
  EXPECT_EQ(parsed.settings.size(), 2u);
}

TEST(ParseMainCfTest, SpaceInsideTheNameIsAnError) {
  ParsedFile parsed = parse_main_cf("foo bar = x\n", "main.cf");
  ASSERT_EQ(parsed.problems.size(), 1u);
  EXPECT_EQ(parsed.problems[0].parameter, "foo");
  EXPECT_EQ(parsed.problems[0].line, 1);
  EXPECT_NE(parsed.problems[0].message.find("\"bar = x\""), std::string::npos);
  EXPECT_TRUE(parsed.settings.empty());
}

TEST(ParseMainCfTest, MissingNameIsAnError) {
  ParsedFile parsed = parse_main_cf("= x\n", "main.cf");
  ASSERT_EQ(parsed.problems.size(), 1u);
  EXPECT_EQ(parsed.problems[0].to_string(), "main.cf:1: missing parameter name before '='");
}

TEST(ParseMainCfTest, ContinuationBeforeAnyParameterIsOneError) {
  ParsedFile parsed = parse_main_cf("  leading = x\n  more\na = 1\n", "main.cf");
  ASSERT_EQ(parsed.problems.size(), 1u);
  EXPECT_EQ(parsed.problems[0].line, 1);
  EXPECT_TRUE(parsed.problems[0].is_error());
  ASSERT_EQ(parsed.settings.size(), 1u);
  EXPECT_EQ(parsed.settings[0].name, "a");
}

TEST(ParseMainCfTest, LastLineWithoutNewlineIsRead) {
  ParsedFile parsed = parse_main_cf("a = 1\nb = 2", "f");
  ASSERT_EQ(parsed.settings.size(), 2u);
  EXPECT_EQ(parsed.settings[1].value, "2");
}

TEST(ParseMainCfTest, EmptyTextHasNothing) {
  ParsedFile parsed = parse_main_cf("", "f");
  EXPECT_TRUE(parsed.settings.empty());
  EXPECT_TRUE(parsed.problems.empty());
}

TEST(ParseMainCfTest, ManyContinuationLinesStayLinear) {
  std::string text = "a = x\n";
  for (int i = 0; i < 200000; ++i) text += " y\n";
  ParsedFile parsed = parse_main_cf(text, "f");
  ASSERT_EQ(parsed.settings.size(), 1u);
  EXPECT_EQ(parsed.settings[0].value.size(), 1u + 2u * 200000u);
}

}  // namespace
}  // namespace moat::config
