#include "config/expand.h"

#include <gtest/gtest.h>

#include <map>

namespace moat::config {
namespace {

using Values = std::map<std::string, std::string, std::less<>>;

// Expands `name` among `values` (unexpanded texts).
class ExpanderFixture {
 public:
  explicit ExpanderFixture(Values values)
      : values_(std::move(values)), expander_([this](std::string_view name) {
          auto it = values_.find(name);
          return it == values_.end() ? std::nullopt : std::optional<std::string>(it->second);
        }) {}

  std::string value(std::string_view name) {
    const std::string* value = expander_.expand(name);
    return value ? *value : "<failed>";
  }
  ParameterExpander& expander() { return expander_; }

 private:
  Values values_;
  ParameterExpander expander_;
};

std::string expand_with(Values values, std::string text) {
  values["text_under_test"] = std::move(text);
  ExpanderFixture fixture(std::move(values));
  return fixture.value("text_under_test");
}

TEST(ParameterExpanderTest, ReplacesTheThreeReferenceForms) {
  EXPECT_EQ(expand_with({{"foo", "F"}}, "$foo ${foo} $(foo)"), "F F F");
}

TEST(ParameterExpanderTest, NameEndsAtTheFirstNonNameCharacter) {
  EXPECT_EQ(expand_with({{"foo", "F"}, {"foo_1", "G"}}, "$foo.x $foo_1-y"), "F.x G-y");
}

TEST(ParameterExpanderTest, UndefinedNameExpandsToEmpty) {
  EXPECT_EQ(expand_with({}, "a${nope}b$nope"), "ab");
}

TEST(ParameterExpanderTest, ExpandsRecursively) {
  EXPECT_EQ(expand_with({{"a", "<$b>"}, {"b", "[$c]"}, {"c", "C"}}, "$a"), "<[C]>");
}

TEST(ParameterExpanderTest, QuestionMarkGivesTextWhenValueIsNotEmpty) {
  EXPECT_EQ(expand_with({{"foo", "F"}, {"empty", ""}}, "${foo?yes}|${empty?yes}|${nope?yes}"),
            "yes||");
}

TEST(ParameterExpanderTest, ColonGivesTextWhenValueIsEmpty) {
  EXPECT_EQ(expand_with({{"foo", "F"}, {"empty", ""}}, "${foo:no}|${empty:no}|${nope:no}"),
            "|no|no");
}

TEST(ParameterExpanderTest, ConditionalTextIsExpanded) {
  EXPECT_EQ(expand_with({{"foo", "F"}}, "${nope:$foo}${foo?[$foo]}"), "F[F]");
}

TEST(ParameterExpanderTest, ConditionalTextMayContainBraces) {
  EXPECT_EQ(expand_with({{"foo", "F"}}, "${foo?a}b}"), "ab}");
  EXPECT_EQ(expand_with({{"foo", "F"}}, "${foo?${foo}x}"), "Fx");
}

TEST(ParameterExpanderTest, Postfix3FormChoosesOneOfTwoTexts) {
  EXPECT_EQ(expand_with({{"foo", "F"}}, "${foo?{A}:{B}}"), "A");
  EXPECT_EQ(expand_with({}, "${nope?{A}:{B}}"), "B");
  EXPECT_EQ(expand_with({{"foo", "F"}}, "${foo?{ a b } : { c }}"), "a b");
  EXPECT_EQ(expand_with({{"foo", "F"}}, "${foo?{a}}"), "a");
  EXPECT_EQ(expand_with({}, "${nope:{x}}s"), "xs");
}

TEST(ParameterExpanderTest, DoubleDollarIsALiteralDollar) {
  EXPECT_EQ(expand_with({{"foo", "F"}}, "$$foo"), "$foo");
}

TEST(ParameterExpanderTest, DollarBeforeOtherCharactersStays) {
  EXPECT_EQ(expand_with({}, "a$-b $ c$"), "a$-b $ c$");
}

TEST(ParameterExpanderTest, BrokenBracesAreAnErrorOfTheValueThatHasThem) {
  for (std::string text : {"${foo", "$(foo}", "${}", "${foo bar}", "${foo?{a}x}", "${foo?{a"}) {
    ExpanderFixture fixture(Values{{"bad", text}, {"user", "x $bad"}});
    EXPECT_EQ(fixture.value("user"), "<failed>") << text;
    ASSERT_EQ(fixture.expander().errors().size(), 1u) << text;
    EXPECT_EQ(fixture.expander().errors()[0].parameter, "bad") << text;
  }
}

TEST(ParameterExpanderTest, LoopIsReportedOnceNamingTheCycle) {
  ExpanderFixture fixture(Values{{"a", "$b"}, {"b", "x$a"}, {"c", "$a"}});
  EXPECT_EQ(fixture.value("c"), "<failed>");
  EXPECT_EQ(fixture.value("a"), "<failed>");
  EXPECT_EQ(fixture.value("b"), "<failed>");
  ASSERT_EQ(fixture.expander().errors().size(), 1u);
  EXPECT_EQ(fixture.expander().errors()[0].parameter, "a");
  EXPECT_EQ(fixture.expander().errors()[0].message, "reference loop: $a -> $b -> $a");
}

TEST(ParameterExpanderTest, SelfReferenceIsALoop) {
  ExpanderFixture fixture(Values{{"a", "${a?x}"}});
  EXPECT_EQ(fixture.value("a"), "<failed>");
  ASSERT_EQ(fixture.expander().errors().size(), 1u);
  EXPECT_EQ(fixture.expander().errors()[0].message, "reference loop: $a -> $a");
}

TEST(ParameterExpanderTest, DeepChainIsCutAtTheDepthLimit) {
  Values values;
  for (int i = 0; i < 300; ++i) values["p" + std::to_string(i)] = "$p" + std::to_string(i + 1);
  ExpanderFixture fixture(std::move(values));
  EXPECT_EQ(fixture.value("p0"), "<failed>");
  ASSERT_EQ(fixture.expander().errors().size(), 1u);
  EXPECT_EQ(fixture.expander().errors()[0].parameter, "p0");
}

TEST(ParameterExpanderTest, DeeplyNestedTextIsCutAtTheDepthLimit) {
  std::string text;
  for (int i = 0; i < 5000; ++i) text += "${a?";
  ExpanderFixture fixture(Values{{"a", "x"}, {"deep", text + std::string(5000, '}')}});
  EXPECT_EQ(fixture.value("deep"), "<failed>");
  EXPECT_EQ(fixture.expander().errors().size(), 1u);
}

TEST(ParameterExpanderTest, ExponentialGrowthStopsAtTheSizeLimit) {
  Values values;
  for (int i = 0; i < 40; ++i)
    values["p" + std::to_string(i)] = "$p" + std::to_string(i + 1) + "$p" + std::to_string(i + 1);
  values["p40"] = "xxxxxxxx";
  ExpanderFixture fixture(std::move(values));
  EXPECT_EQ(fixture.value("p0"), "<failed>");
  ASSERT_EQ(fixture.expander().errors().size(), 1u);
  EXPECT_EQ(fixture.expander().errors()[0].parameter, "p0");
}

TEST(ParameterExpanderTest, ValueIsComputedOnce) {
  int lookups = 0;
  ParameterExpander expander([&](std::string_view name) -> std::optional<std::string> {
    ++lookups;
    if (name == "a") return "$b $b $b";
    return "B";
  });
  EXPECT_EQ(*expander.expand("a"), "B B B");
  EXPECT_EQ(*expander.expand("a"), "B B B");
  EXPECT_EQ(lookups, 2);
}

TEST(ScanReferencesTest, FindsNamesAlsoInsideConditionalTexts) {
  std::vector<std::string> names;
  std::string error = scan_references("$a ${b?$c} ${d?{$e}:{${f}}} $$g $(h)",
                                      [&](std::string_view name) { names.emplace_back(name); });
  EXPECT_EQ(error, "");
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "c", "d", "e", "f", "h"}));
}

TEST(ScanReferencesTest, ReportsBrokenSyntax) {
  EXPECT_NE(scan_references("x ${a", [](std::string_view) {}), "");
}

TEST(ExpandTemplateTest, ValuesAreNotExpandedAgain) {
  auto lookup = [](std::string_view name) -> std::optional<std::string_view> {
    if (name == "helo") return "$evil ${x";
    return std::nullopt;
  };
  EXPECT_EQ(expand_template("helo=$helo", lookup), "helo=$evil ${x");
}

TEST(ExpandTemplateTest, ExpandsTheDefaultRblReply) {
  auto lookup = [](std::string_view name) -> std::optional<std::string_view> {
    if (name == "rbl_code") return "554";
    if (name == "rbl_class") return "Client host";
    if (name == "rbl_what") return "192.0.2.1";
    if (name == "rbl_domain") return "zen.example";
    return std::nullopt;
  };
  const std::string text =
      "$rbl_code Service unavailable; $rbl_class [$rbl_what] blocked using "
      "$rbl_domain${rbl_reason?; $rbl_reason}";
  EXPECT_EQ(expand_template(text, lookup),
            "554 Service unavailable; Client host [192.0.2.1] blocked using zen.example");
}

TEST(ExpandTemplateTest, BrokenSyntaxGivesNothing) {
  EXPECT_EQ(expand_template("${x", [](std::string_view) { return std::nullopt; }), std::nullopt);
}

}  // namespace
}  // namespace moat::config
