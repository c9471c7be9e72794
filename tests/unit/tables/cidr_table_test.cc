// cidr: tables. Answers marked "postmap" are what Postfix 3.7.11's
// `postmap -q KEY cidr:FILE` answered for the same text.
#include "tables/cidr_table.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

namespace moat::tables {
namespace {

std::unique_ptr<CidrTable> cidr(std::string_view text) {
  std::string error;
  auto table = CidrTable::parse(text, "t.cidr", &error);
  EXPECT_TRUE(table) << error;
  return table;
}

std::string cidr_error(std::string_view text) {
  std::string error;
  EXPECT_FALSE(CidrTable::parse(text, "t.cidr", &error));
  return error;
}

TEST(CidrTable, NetworksAddressesAndFamilies) {
  auto table = cidr(
      "192.168.1.0/24 NET24\n10.0.0.1 HOST\n2001:db8::/32 V6\n[2001:db9::]/32 V6B\n"
      "0.0.0.0/0 ALL4\n::/0 ALL6\n");
  EXPECT_TRUE(table->matches_patterns());
  EXPECT_EQ(table->find("192.168.1.77"), "NET24");  // postmap: NET24
  EXPECT_EQ(table->find("10.0.0.1"), "HOST");       // postmap: HOST
  EXPECT_EQ(table->find("1.2.3.9"), "ALL4");        // postmap: ALL4
  EXPECT_EQ(table->find("2001:db8::1"), "V6");      // postmap: V6
  EXPECT_EQ(table->find("2001:DB8::1"), "V6");      // postmap: V6
  EXPECT_EQ(table->find("2001:db9::1"), "V6B");     // postmap: V6B
  // An IPv4 network does not match an IPv4-mapped IPv6 key. postmap: ALL6
  EXPECT_EQ(table->find("::ffff:192.168.1.1"), "ALL6");
  EXPECT_EQ(table->find("::1"), "ALL6");  // postmap: ALL6
  // Keys that are not addresses never match. postmap: not found for each.
  EXPECT_EQ(table->find("010.0.0.1"), std::nullopt);
  EXPECT_EQ(table->find("abc"), std::nullopt);
  EXPECT_EQ(table->find(""), std::nullopt);
  EXPECT_EQ(table->find("1.2.3"), std::nullopt);
  EXPECT_EQ(table->find("[::1]"), std::nullopt);
}

TEST(CidrTable, IfEndifAndNegation) {
  auto table = cidr("if 172.16.0.0/12\n172.16.5.0/24 INNER\nendif\n!172.16.0.0/12 NOT\n");
  EXPECT_EQ(table->find("172.16.5.1"), "INNER");       // postmap: INNER
  EXPECT_EQ(table->find("172.16.6.1"), std::nullopt);  // postmap: not found
  EXPECT_EQ(table->find("8.8.8.8"), "NOT");            // postmap: NOT
  // A negated IPv4 rule does not apply to IPv6 keys. postmap: not found, NOT
  auto negated = cidr("!10.0.0.0/8 NOT\n");
  EXPECT_EQ(negated->find("2001:db8::1"), std::nullopt);
  EXPECT_EQ(negated->find("11.0.0.1"), "NOT");
  auto block = cidr("if !10.0.0.0/8\n0.0.0.0/0 OUT\n::/0 OUT6\nendif\n");
  EXPECT_EQ(block->find("2001:db8::1"), std::nullopt);  // postmap: not found
  EXPECT_EQ(block->find("11.0.0.1"), "OUT");            // postmap: OUT
  EXPECT_EQ(block->find("10.0.0.1"), std::nullopt);
}

TEST(CidrTable, ErrorsNameFileAndLine) {
  // Postfix's own words; Postfix skips the rule, moat refuses the table.
  EXPECT_EQ(cidr_error("10.0.0.0/8 ok\n1.2.3.4/24 BAD\n"),
            "t.cidr, line 2: non-null host address bits in \"1.2.3.4/24\", perhaps you should "
            "use \"1.2.3.0/24\" instead");
  EXPECT_EQ(cidr_error("10.0.0.0/33 x\n"), "t.cidr, line 1: bad mask length in \"10.0.0.0/33\"");
  EXPECT_EQ(cidr_error("10.0.0.0/8\n"), "t.cidr, line 1: no lookup result");
  EXPECT_EQ(cidr_error("# c\nexample.com x\n"),
            "t.cidr, line 2: bad address pattern: \"example.com\"");
  EXPECT_EQ(cidr_error("endif\n"), "t.cidr, line 1: ENDIF without matching IF");
  EXPECT_EQ(cidr_error("if 10.0.0.0/8\n"), "t.cidr, line 1: IF has no matching ENDIF");
  EXPECT_NE(cidr_error("2001:db8::1/129 x\n"), "");
  EXPECT_EQ(cidr_error(" 10.0.0.0/8 x\n"),
            "t.cidr, line 1: logical line must not start with whitespace");
  EXPECT_NE(cidr_error("10.0.0.0/-1 x\n"), "");
  EXPECT_EQ(cidr_error("10.0.0.0/99999999999 x\n"),
            "t.cidr, line 1: bad mask length in \"10.0.0.0/99999999999\"");
}

TEST(CidrTable, LargeIndexedRunKeepsFirstMatchOrder) {
  std::string text = "10.1.2.3 FIRST\n";
  for (int i = 0; i < 1000; ++i) text += fmt::format("10.{}.{}.0/24 NET{}\n", i / 256, i % 256, i);
  text += "10.0.0.0/8 WIDE\n10.1.2.3 LATE\nif 11.0.0.0/8\n11.0.0.0/16 IN\nendif\n11.0.0.0/8 OUT\n";
  for (int i = 0; i < 20; ++i) text += fmt::format("2001:db8:{:x}::/48 V6-{}\n", i, i);
  auto table = cidr(text);
  EXPECT_EQ(table->find("10.1.2.3"), "FIRST");
  EXPECT_EQ(table->find("10.1.2.4"), "NET258");
  EXPECT_EQ(table->find("10.0.5.9"), "NET5");
  EXPECT_EQ(table->find("10.200.0.1"), "WIDE");
  EXPECT_EQ(table->find("11.0.1.1"), "IN");
  EXPECT_EQ(table->find("11.1.1.1"), "OUT");
  EXPECT_EQ(table->find("2001:db8:13::1"), "V6-19");
  EXPECT_EQ(table->find("2001:db8:14::1"), std::nullopt);
}

}  // namespace
}  // namespace moat::tables
