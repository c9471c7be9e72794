// The Public Suffix List's rules, and Debian's copy of the list.
#include <gtest/gtest.h>

#include <filesystem>

#include "dns/public_suffix.h"

namespace moat::dns {
namespace {

TEST(PublicSuffixList, RulesWildcardsAndExceptions) {
  const auto list =
      PublicSuffixList::parse("// comment\ncom\nuk\nco.uk\n*.ck\n!www.ck\n  jp  // trailing\n\n");
  EXPECT_EQ(list.size(), 6u);
  EXPECT_EQ(list.organizational_domain("mx1.mail.Example.COM."), "example.com");
  EXPECT_EQ(list.organizational_domain("a.b.example.co.uk"), "example.co.uk");
  EXPECT_EQ(list.organizational_domain("example.uk"), "example.uk");
  EXPECT_EQ(list.organizational_domain("a.b.c.ck"), "b.c.ck");  // *.ck: c.ck is a suffix
  EXPECT_EQ(list.organizational_domain("mail.www.ck"), "www.ck");
  EXPECT_EQ(list.organizational_domain("host.example.jp"), "example.jp");
  // Not listed: the default rule "*".
  EXPECT_EQ(list.organizational_domain("a.example.unlisted"), "example.unlisted");
  // A suffix itself, or a single label, is its own answer.
  EXPECT_EQ(list.organizational_domain("co.uk"), "co.uk");
  EXPECT_EQ(list.organizational_domain("localhost"), "localhost");
}

TEST(PublicSuffixList, DebiansList) {
  const std::string path = "/usr/share/publicsuffix/public_suffix_list.dat";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "publicsuffix is not installed";
  std::string error;
  const auto list = PublicSuffixList::load(path, error);
  ASSERT_TRUE(list) << error;
  EXPECT_GT(list->size(), 5000u);
  EXPECT_EQ(list->organizational_domain("mail-ed1-f41.google.com"), "google.com");
  EXPECT_EQ(list->organizational_domain("smtp.example.co.uk"), "example.co.uk");
  EXPECT_EQ(list->organizational_domain("a.b.example.s3.amazonaws.com"),
            "example.s3.amazonaws.com");
  std::string missing;
  EXPECT_FALSE(PublicSuffixList::load("/nonexistent/list.dat", missing));
  EXPECT_EQ(missing, "/nonexistent/list.dat: cannot be read");
}

}  // namespace
}  // namespace moat::dns
