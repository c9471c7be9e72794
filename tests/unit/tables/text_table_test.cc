#include "tables/text_table.h"

#include <gtest/gtest.h>

namespace moat::tables {
namespace {

TEST(TextTable, PostmapFormatKeysAreCaseInsensitive) {
  std::string error;
  auto table = TextTable::parse("# c\nExample.COM  OK\n\nfoo@bar REJECT go away\n",
                                SourceFormat::kPostmap, &error);
  EXPECT_EQ(error, "");
  EXPECT_EQ(table->find("example.com"), "OK");
  EXPECT_EQ(table->find("FOO@BAR"), "REJECT go away");
  EXPECT_EQ(table->find("missing"), std::nullopt);
}

TEST(TextTable, AliasesFormatWithContinuationLines) {
  std::string error;
  auto table =
      TextTable::parse("team: a,\n  b,\n\tc\n\"quoted name\": x\n", SourceFormat::kAliases, &error);
  EXPECT_EQ(error, "");
  // Continuation lines are joined as they are (Postfix's readlline).
  EXPECT_EQ(table->find("team"), "a,  b,\tc");
  EXPECT_EQ(table->find("quoted name"), "x");
}

TEST(TextTable, AliasesLineWithoutColonIsAnError) {
  std::string error;
  TextTable::parse("root: x\nbroken line\n", SourceFormat::kAliases, &error);
  EXPECT_NE(error.find("line 2"), std::string::npos) << error;
}

// Answers marked "postmap" are what Postfix 3.7.11's `postmap -q KEY
// texthash:FILE` (or inline:/static:) answered.
TEST(TextTable, PostmapKeysQuotesDuplicatesAndContinuations) {
  std::string error;
  auto table = TextTable::parse(
      "Key1 val one  \n\"quoted key\" qv\nMiXeD@Dom.Example  mixed\ndup 1\ndup 2\n"
      "only\n  cont\nx y\n z\na\tb\nmulti first\n  second line\n",
      SourceFormat::kPostmap, &error);
  EXPECT_EQ(error, "");
  EXPECT_EQ(table->find("KEY1"), "val one");             // postmap: "val one"
  EXPECT_EQ(table->find("\"quoted key\""), "qv");        // postmap: qv
  EXPECT_EQ(table->find("quoted key"), std::nullopt);    // postmap: not found
  EXPECT_EQ(table->find("\"quoted"), std::nullopt);      // postmap: not found
  EXPECT_EQ(table->find("mixed@dom.example"), "mixed");  // postmap: mixed
  EXPECT_EQ(table->find("dup"), "1");                    // postmap: 1 (and a warning)
  EXPECT_EQ(table->find("only"), "cont");                // postmap: cont
  EXPECT_EQ(table->find("x"), "y z");                    // postmap: "y z"
  EXPECT_EQ(table->find("a"), "b");                      // postmap: b
}

TEST(Tables, InlineAndStaticForms) {
  // postmap: "value with spaces", "v2"
  auto table = open_table("inline:{ {key = value with spaces}, k2=v2 }", SourceFormat::kPostmap);
  ASSERT_TRUE(table.table) << table.error;
  EXPECT_EQ(table.table->find("key"), "value with spaces");
  EXPECT_EQ(table.table->find("K2"), "v2");
  // postmap: fatal "missing '=' after attribute name"
  EXPECT_EQ(open_table("inline:{ k2 = v2 }", SourceFormat::kPostmap).table, nullptr);
  EXPECT_EQ(open_table("inline:k=v", SourceFormat::kPostmap).table, nullptr);
  // postmap: "hello world"
  EXPECT_EQ(open_table("static:{ hello world }", SourceFormat::kPostmap).table->find("x"),
            "hello world");
  EXPECT_FALSE(open_table("static:OK", SourceFormat::kPostmap).table->matches_patterns());
}

TEST(Tables, OpenByTypeAndName) {
  EXPECT_EQ(open_table("static:OK", SourceFormat::kPostmap).table->find("anything"), "OK");
  auto inline_table = open_table("inline:{a=1, b=2}", SourceFormat::kPostmap);
  ASSERT_TRUE(inline_table.table) << inline_table.error;
  EXPECT_EQ(inline_table.table->find("b"), "2");
  EXPECT_TRUE(open_table("unix:passwd.byname", SourceFormat::kPostmap).table->find("root"));
  EXPECT_TRUE(open_table("proxy:unix:passwd.byname", SourceFormat::kPostmap).table);
  EXPECT_NE(open_table("hash:/nonexistent/file", SourceFormat::kPostmap).error, "");
  EXPECT_NE(open_table("nosuchtype:x", SourceFormat::kPostmap).error, "");
  EXPECT_NE(open_table("no-colon", SourceFormat::kPostmap).error, "");
}

}  // namespace
}  // namespace moat::tables
