// The policy protocol's framing: encoding, and reading with its limits.
#include <gtest/gtest.h>

#include "policy/attributes.h"

namespace moat::policy {
namespace {

TEST(PolicyAttributes, EncodeAndFind) {
  const Attributes a{{"request", "smtpd_access_policy"}, {"sender", "a@b"}, {"x", "1\n2"}};
  EXPECT_EQ(encode(a), "request=smtpd_access_policy\nsender=a@b\nx=1 2\n\n");
  ASSERT_TRUE(find(a, "sender"));
  EXPECT_EQ(*find(a, "sender"), "a@b");
  EXPECT_FALSE(find(a, "recipient"));
  EXPECT_EQ(encode({}), "\n");
}

TEST(PolicyAttributes, ReadsRequestsByteByByteAndSeveralAtOnce) {
  const std::string wire =
      "request=smtpd_access_policy\nsender=\nrecipient=b@c\n\naction=x=y\r\n\n";
  Reader byte_by_byte;
  std::vector<Attributes> got;
  for (char c : wire) {
    ASSERT_TRUE(byte_by_byte.feed(std::string_view(&c, 1)));
    while (auto r = byte_by_byte.next()) got.push_back(std::move(*r));
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0],
            (Attributes{{"request", "smtpd_access_policy"}, {"sender", ""}, {"recipient", "b@c"}}));
  EXPECT_EQ(got[1], (Attributes{{"action", "x=y"}}));

  Reader at_once;
  ASSERT_TRUE(at_once.feed(wire + "partial=1\n"));
  EXPECT_TRUE(at_once.next());
  EXPECT_TRUE(at_once.next());
  EXPECT_FALSE(at_once.next());
  EXPECT_EQ(at_once.pending_bytes(), 0u);  // "partial=1" is parsed, its request not ended
  ASSERT_TRUE(at_once.feed("\n"));
  EXPECT_EQ(*at_once.next(), (Attributes{{"partial", "1"}}));
}

TEST(PolicyAttributes, BadStreamsFailForGood) {
  for (const std::string& bad :
       {std::string("no equals sign\n"), std::string("=value\n"), std::string("a=b\0c\n", 6)}) {
    Reader r;
    EXPECT_FALSE(r.feed(bad)) << bad;
    EXPECT_TRUE(r.failed());
    EXPECT_FALSE(r.feed("a=b\n\n"));
    EXPECT_FALSE(r.next());
  }
  Reader long_line({.max_line = 16, .max_attributes = 4});
  EXPECT_TRUE(long_line.feed(std::string(16, 'x') + "\r"));  // maybe "\r\n" next
  EXPECT_FALSE(long_line.feed("x"));                         // no newline yet, already too long
  EXPECT_EQ(long_line.error(), "line too long");
  Reader many({.max_line = 16, .max_attributes = 2});
  EXPECT_FALSE(many.feed("a=1\nb=2\nc=3\n"));
  EXPECT_EQ(many.error(), "too many attributes");
}

}  // namespace
}  // namespace moat::policy
