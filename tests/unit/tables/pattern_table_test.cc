// regexp: and pcre: tables. The expected answers marked "postmap" are what
// Postfix 3.7.11's `postmap -q KEY regexp:FILE` answered for the same text.
#include "tables/pattern_table.h"

#include <gtest/gtest.h>

namespace moat::tables {
namespace {

std::unique_ptr<PatternTable> regexp(std::string_view text) {
  std::string error;
  auto table = parse_regexp_table(text, "t.regexp", &error);
  EXPECT_TRUE(table) << error;
  EXPECT_EQ(error, "");
  return table;
}

std::unique_ptr<PatternTable> pcre(std::string_view text) {
  std::string error;
  auto table = parse_pcre_table(text, "t.pcre", &error);
  EXPECT_TRUE(table) << error;
  return table;
}

std::string regexp_error(std::string_view text) {
  std::string error;
  EXPECT_FALSE(parse_regexp_table(text, "t.regexp", &error));
  return error;
}

TEST(RegexpTable, SubstitutesGroupsInEveryForm) {
  // postmap: "user=Bob dom=Example.COM $"
  auto table = regexp("/^(.*)@(.*)$/ user=$1 dom=${2} $$\n");
  EXPECT_EQ(table->find("Bob@Example.COM"), "user=Bob dom=Example.COM $");
  EXPECT_EQ(table->find("no-at-sign"), std::nullopt);
  EXPECT_EQ(regexp("/(a)(b)/ $(2)$(1)\n")->find("ab"), "ba");
  EXPECT_TRUE(table->matches_patterns());
}

TEST(RegexpTable, CaseInsensitiveByDefaultAndTheIFlagTogglesIt) {
  EXPECT_EQ(regexp("/ABC/ X\n")->find("abc"), "X");
  EXPECT_EQ(regexp("/ABC/i X\n")->find("abc"), std::nullopt);  // postmap: not found
  EXPECT_EQ(regexp("/ABC/i X\n")->find("ABC"), "X");
}

TEST(RegexpTable, NegatedRuleAndFirstMatchWins) {
  auto table = regexp("/a/ first\n/a/ second\n!/foo/ NOTFOO\n");
  EXPECT_EQ(table->find("A"), "first");  // postmap: first
  EXPECT_EQ(table->find("xyz"), "NOTFOO");
  EXPECT_EQ(table->find("foo"), std::nullopt);  // postmap: not found
}

TEST(RegexpTable, IfEndifBlocks) {
  // postmap: ab -> AB, cb -> B
  auto table = regexp("if /^a/\n/b$/ AB\nendif\n/b$/ B\n");
  EXPECT_EQ(table->find("ab"), "AB");
  EXPECT_EQ(table->find("cb"), "B");
  EXPECT_EQ(regexp("IF /a/\n/b/ AB\nENDIF\n")->find("ab"), "AB");  // postmap: AB
  auto nested = regexp("if /a/\nif !/b/\n/c/ A-NOT-B-C\nendif\n/c/ A-C\nendif\n/./ ANY\n");
  EXPECT_EQ(nested->find("ac"), "A-NOT-B-C");
  EXPECT_EQ(nested->find("abc"), "A-C");
  EXPECT_EQ(nested->find("ab"), "ANY");
  EXPECT_EQ(nested->find("x"), "ANY");
}

TEST(RegexpTable, ResultWhitespaceContinuationAndComments) {
  EXPECT_EQ(regexp("/a/ x # not a comment\n")->find("a"), "x # not a comment");  // postmap
  EXPECT_EQ(regexp("/^b$/m MULTI\n")->find("a\nb"), "MULTI");                    // postmap
  EXPECT_EQ(regexp("/ABC/  trailing   \n")->find("abc"), "trailing");  // postmap: "trailing"
  // postmap: "more text" (the rule continues on the indented line)
  EXPECT_EQ(regexp("#c\n/abc/\n  more text\n")->find("abc"), "more text");
  EXPECT_EQ(regexp("/abc/ one\n\ttwo\n# comment\n")->find("abc"), "one\ttwo");
}

TEST(RegexpTable, DelimitersAndEscapes) {
  EXPECT_EQ(regexp("/a\\/b/ SLASH\n")->find("a/b"), "SLASH");  // postmap: SLASH
  EXPECT_EQ(regexp("|a/b| BAR\n")->find("a/b"), "BAR");        // postmap: BAR
}

TEST(RegexpTable, UnmatchedGroupIsEmptyAndEmptyResultIsNotFound) {
  EXPECT_EQ(regexp("/(a)(b)?/ [$2]\n")->find("a"), "[]");  // postmap: "[]"
  // postmap warns "empty string result is not allowed" and answers nothing.
  EXPECT_EQ(regexp("/(a)(b)?/ $2\n")->find("a"), std::nullopt);
}

TEST(RegexpTable, ExtendedFlagOffMeansBasicSyntax) {
  EXPECT_EQ(regexp("/a+/ ERE\n")->find("aaa"), "ERE");
  EXPECT_EQ(regexp("/a+/x BRE\n")->find("aaa"), std::nullopt);
  EXPECT_EQ(regexp("/a+/x BRE\n")->find("a+"), "BRE");
}

TEST(RegexpTable, ErrorsNameFileAndLine) {
  // Postfix warns about these (same words) and skips the rule; moat refuses the table.
  EXPECT_EQ(regexp_error("/ok/ x\n/[/ x\n"), "t.regexp, line 2: Invalid regular expression");
  EXPECT_EQ(regexp_error("/(a)|(b)/ x$2y\n"),
            "t.regexp, line 1: non-numeric replacement index \"2y\"");
  EXPECT_EQ(regexp_error("/(a)/ [$0]\n"), "t.regexp, line 1: out-of-range replacement index \"0\"");
  EXPECT_EQ(regexp_error("/(a)/ $2\n"), "t.regexp, line 1: out-of-range replacement index \"2\"");
  // Found by fuzzing (signed overflow while reading the number).
  EXPECT_EQ(regexp_error("/(a)/ $99999999999999\n"),
            "t.regexp, line 1: out-of-range replacement index \"99999999999999\"");
  EXPECT_EQ(regexp_error("\n\n/nomatch/\n"), "t.regexp, line 3: no replacement text");
  EXPECT_EQ(regexp_error("/a/q x\n"), "t.regexp, line 1: unknown regexp option \"q\"");
  EXPECT_EQ(regexp_error("/abc x\n"), "t.regexp, line 1: unmatched delimiter '/' in \"/abc x\"");
  EXPECT_EQ(regexp_error("endif\n"), "t.regexp, line 1: ENDIF without matching IF");
  EXPECT_EQ(regexp_error("/a/ x\nif /b/\n/c/ y\n"), "t.regexp, line 2: IF has no matching ENDIF");
  EXPECT_NE(regexp_error("!/(a)/ $1\n"), "");
  // postmap: "logical line must not start with whitespace" (and skips it)
  EXPECT_EQ(regexp_error("  /a/ x\n"),
            "t.regexp, line 1: logical line must not start with whitespace");
  // postmap: "ignoring extra text after IF statement" and "do not prepend
  // whitespace to statements between IF and ENDIF"
  EXPECT_EQ(regexp_error("if /a/\n  /b/ y\nendif\n"),
            "t.regexp, line 1: extra text after IF statement: \"/b/ y\" (do not prepend "
            "whitespace to statements between IF and ENDIF)");
  EXPECT_NE(regexp_error("word x\n"), "");
}

TEST(RegexpTable, BoundedRepetitionAndItsLimit) {
  EXPECT_EQ(regexp("/^a{3}b$/ X\n")->find("aaab"), "X");
  EXPECT_EQ(regexp("/^a\\{3\\}b$/x BRE\n")->find("aaab"), "BRE");
  EXPECT_EQ(regexp("/(a{100}){100}/ X\n")->find("a"), std::nullopt);
  EXPECT_EQ(regexp("/^a+b+$/ PLUS\n")->find("aabb"), "PLUS");
  EXPECT_EQ(regexp("/^a*b?c*$/x BRE-STAR\n")->find("aab?cc"), "BRE-STAR");
  EXPECT_EQ(regexp_error(std::string("/^()") + std::string(40, '*') + "$/ X\n"),
            "t.regexp, line 1: more than two adjacent repetition operators");
  // Found by fuzzing: glibc's regcomp() takes seconds for this one.
  EXPECT_EQ(regexp_error("/^(.(2$)>)*++++++/ X\n"),
            "t.regexp, line 1: more than two adjacent repetition operators");
  EXPECT_EQ(regexp("/^<(.*?)>$/ [$1]\n")->find("<a>"), "[a]");
  // Stacked '+' doubles glibc's automaton each time (found by fuzzing).
  EXPECT_NE(regexp_error("/(.*+++++++++++++++++++++)/ X\n"), "");
  // glibc's regcomp would need gigabytes for these; they are refused.
  EXPECT_EQ(
      regexp_error("/((a{100}){100}){100}/ X\n"),
      "t.regexp, line 1: regular expression too complex (repetition counts multiply too far)");
  EXPECT_NE(regexp_error("/\\(\\(a\\{100\\}\\)\\{100\\}\\)\\{100\\}/x X\n").find("too complex"),
            std::string::npos);
}

TEST(PcreTable, PerlSyntaxFlagsAndGroups) {
  auto table = pcre("/^(\\w+)@example\\.com$/ W=$1\n/a b c/x SPACED-ABC\n/^X.Y$/s DOTALL\n");
  EXPECT_EQ(table->find("Joe@EXAMPLE.com"), "W=Joe");
  EXPECT_EQ(table->find("abc"), "SPACED-ABC");
  // s toggles DOTALL, which is on by default in pcre_table(5). postmap: "y"
  // from the later rule, for the table in the PostmapAnswers test below.
  EXPECT_EQ(table->find("x\ny"), std::nullopt);
  EXPECT_EQ(pcre("/^X.Y$/ DOT\n")->find("x\ny"), "DOT");
  EXPECT_EQ(pcre("/ABC/i X\n")->find("abc"), std::nullopt);
  EXPECT_EQ(pcre("/(a+?)/U [$1]\n")->find("aaa"), "[aaa]");
  EXPECT_EQ(pcre("/(b)/A [$1]\n")->find("ab"), std::nullopt);
  EXPECT_TRUE(pcre("if !/^a/\n/(.)$/ $1\nendif\n")->find("bc") == "c");
  std::string error;
  EXPECT_FALSE(parse_pcre_table("/ok/ x\n/(/ y\n", "t.pcre", &error));
  EXPECT_EQ(error.rfind("t.pcre, line 2: ", 0), 0u) << error;
  EXPECT_FALSE(parse_pcre_table("/a/Z x\n", "t.pcre", &error));
  EXPECT_EQ(error, "t.pcre, line 1: unknown pcre option \"Z\"");
}

// What Postfix 3.7.11's postmap -q answered for this pcre: table.
TEST(PcreTable, PostmapAnswers) {
  auto table = pcre(
      "/^(\\w+)@example\\.com$/ W=$1\n/a b c/x SPACED\n/^X.Y$/s DOTALL\n/ABC/i CASE\n"
      "/(a+?)/U [$1]\n/(b)/A [$1]\nif !/^a/\n/(.)$/ $1\nendif\n/^<(.*?)>$/ lazy=$1\n"
      "/^Z(q)?$/ [$1]\n");
  EXPECT_EQ(table->find("Joe@EXAMPLE.com"), "W=Joe");
  EXPECT_EQ(table->find("abc"), "SPACED");
  EXPECT_EQ(table->find("x\ny"), "y");
  EXPECT_EQ(table->find("ABC"), "SPACED");
  EXPECT_EQ(table->find("aaa"), "[aaa]");
  EXPECT_EQ(table->find("ab"), "[a]");
  EXPECT_EQ(table->find("bc"), "[b]");
  EXPECT_EQ(table->find("<a>"), "[a]");
  EXPECT_EQ(table->find("z"), "z");
}

TEST(PcreTable, ManyGroupsAndUnusedGroups) {
  auto table = pcre("/(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)/ $9${10}\n");
  EXPECT_EQ(table->find("abcdefghij"), "ij");
}

}  // namespace
}  // namespace moat::tables
