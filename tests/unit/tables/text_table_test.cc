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
  EXPECT_EQ(table->find("team"), "a, b, c");
  EXPECT_EQ(table->find("quoted name"), "x");
}

TEST(TextTable, AliasesLineWithoutColonIsAnError) {
  std::string error;
  TextTable::parse("root: x\nbroken line\n", SourceFormat::kAliases, &error);
  EXPECT_NE(error.find("line 2"), std::string::npos) << error;
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
