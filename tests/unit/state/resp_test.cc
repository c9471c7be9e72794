// The RESP2 reply reader and command encoding.
#include "state/resp.h"

#include <gtest/gtest.h>

namespace moat::state::resp {
namespace {

using Type = Reply::Type;

Reply simple(std::string text) {
  return {.type = Type::kSimple, .text = std::move(text)};
}
Reply bulk(std::string text) {
  return {.type = Type::kBulk, .text = std::move(text)};
}
Reply integer(int64_t value) {
  return {.type = Type::kInteger, .integer = value};
}
Reply array(std::vector<Reply> elements) {
  return {.type = Type::kArray, .elements = std::move(elements)};
}

// Every reply the bytes complete, read in one piece.
std::vector<Reply> read_all(std::string_view bytes, Limits limits = {}) {
  ReplyReader reader(limits);
  EXPECT_TRUE(reader.feed(bytes)) << reader.error();
  std::vector<Reply> replies;
  Reply reply;
  while (reader.next(reply)) replies.push_back(reply);
  return replies;
}

// The error the bytes end in ("" when they are fine).
std::string error_of(std::string_view bytes, Limits limits = {}) {
  ReplyReader reader(limits);
  reader.feed(bytes);
  return reader.error();
}

TEST(ReplyReader, ReadsEveryType) {
  const auto replies =
      read_all("+OK\r\n-ERR wrong\r\n:42\r\n:-7\r\n$5\r\nhello\r\n$0\r\n\r\n$-1\r\n*-1\r\n*0\r\n");
  ASSERT_EQ(replies.size(), 9u);
  EXPECT_EQ(replies[0], simple("OK"));
  EXPECT_EQ(replies[1], (Reply{.type = Type::kError, .text = "ERR wrong"}));
  EXPECT_EQ(replies[2], integer(42));
  EXPECT_EQ(replies[3], integer(-7));
  EXPECT_EQ(replies[4], bulk("hello"));
  EXPECT_EQ(replies[5], bulk(""));
  EXPECT_EQ(replies[6].type, Type::kNull);
  EXPECT_EQ(replies[7].type, Type::kNull);
  EXPECT_EQ(replies[8], array({}));
}

TEST(ReplyReader, BulkStringsAreBinary) {
  const std::string payload("a\r\nb\0c", 6);
  const auto replies = read_all("$6\r\n" + payload + "\r\n");
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0], bulk(payload));
}

TEST(ReplyReader, NestedArrays) {
  const auto replies = read_all("*3\r\n:1\r\n*2\r\n$1\r\na\r\n*1\r\n+x\r\n$-1\r\n+after\r\n");
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0].type, Type::kArray);
  ASSERT_EQ(replies[0].elements.size(), 3u);
  EXPECT_EQ(replies[0].elements[0], integer(1));
  EXPECT_EQ(replies[0].elements[1], array({bulk("a"), array({simple("x")})}));
  EXPECT_EQ(replies[0].elements[2].type, Type::kNull);
  EXPECT_EQ(replies[1], simple("after"));
  EXPECT_EQ(describe(replies[0]), "[(integer) 1, [\"a\", [x]], (nil)]");
}

// Any split of the stream gives the same replies: fed byte by byte, and
// cut in two at every position.
TEST(ReplyReader, SplitReadsGiveTheSameReplies) {
  const std::string stream =
      "+OK\r\n*2\r\n$3\r\nfoo\r\n*2\r\n:10\r\n-NOSCRIPT x\r\n$-1\r\n$4\r\n\r\n\r\n\r\n";
  const auto whole = read_all(stream);
  ASSERT_EQ(whole.size(), 4u);
  ReplyReader bytewise;
  std::vector<Reply> replies;
  for (char c : stream) {
    ASSERT_TRUE(bytewise.feed(std::string_view(&c, 1))) << bytewise.error();
    Reply reply;
    while (bytewise.next(reply)) replies.push_back(reply);
  }
  EXPECT_EQ(replies, whole);
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    ReplyReader reader;
    ASSERT_TRUE(reader.feed(std::string_view(stream).substr(0, cut)));
    ASSERT_TRUE(reader.feed(std::string_view(stream).substr(cut)));
    std::vector<Reply> got;
    Reply reply;
    while (reader.next(reply)) got.push_back(reply);
    EXPECT_EQ(got, whole) << "cut at " << cut;
  }
}

TEST(ReplyReader, IncompleteReplyWaits) {
  ReplyReader reader;
  EXPECT_TRUE(reader.feed("*2\r\n:1\r\n$3\r\nab"));
  Reply reply;
  EXPECT_FALSE(reader.next(reply));
  EXPECT_TRUE(reader.feed("c\r\n"));
  ASSERT_TRUE(reader.next(reply));
  EXPECT_EQ(reply, array({integer(1), bulk("abc")}));
}

TEST(ReplyReader, MalformedStreamsAreErrors) {
  EXPECT_EQ(error_of("?what\r\n"), "unknown reply type");
  EXPECT_EQ(error_of("\r\n"), "empty reply line");
  EXPECT_EQ(error_of("+OK\n"), "reply line not ended by CRLF");
  EXPECT_EQ(error_of("+O\rK\r\n"), "CR inside a reply line");
  EXPECT_EQ(error_of(":12x\r\n"), "bad integer reply");
  EXPECT_EQ(error_of(":\r\n"), "bad integer reply");
  EXPECT_EQ(error_of(":+1\r\n"), "bad integer reply");
  EXPECT_EQ(error_of(":99999999999999999999\r\n"), "bad integer reply");
  EXPECT_EQ(error_of("$-2\r\n"), "bad bulk string length");
  EXPECT_EQ(error_of("$abc\r\n"), "bad bulk string length");
  EXPECT_EQ(error_of("$3\r\nabcde"), "bulk string not followed by CRLF");
  EXPECT_EQ(error_of("*-5\r\n"), "bad array length");
  EXPECT_EQ(error_of("%1\r\n"), "unknown reply type");  // RESP3 is not spoken
}

TEST(ReplyReader, AFailedReaderRefusesMoreInput) {
  ReplyReader reader;
  EXPECT_FALSE(reader.feed("+OK\r\n!\r\n"));
  EXPECT_TRUE(reader.failed());
  EXPECT_FALSE(reader.feed("+OK\r\n"));
  Reply reply;
  ASSERT_TRUE(reader.next(reply));  // what came before the error still counts
  EXPECT_EQ(reply, simple("OK"));
  EXPECT_FALSE(reader.next(reply));
  reader.reset();
  EXPECT_TRUE(reader.feed("+again\r\n"));
  ASSERT_TRUE(reader.next(reply));
  EXPECT_EQ(reply, simple("again"));
}

TEST(ReplyReader, LimitsBoundMemory) {
  const Limits small{.max_line = 16, .max_bulk = 8, .max_depth = 2, .max_reply_bytes = 1024};
  EXPECT_EQ(error_of("+" + std::string(20, 'x'), small), "reply line too long");
  EXPECT_EQ(error_of("$9\r\n", small), "bulk string too long");  // refused before the payload
  EXPECT_EQ(error_of("$9223372036854775807\r\n"), "bulk string too long");
  EXPECT_EQ(error_of("*1\r\n*1\r\n*1\r\n:1\r\n", small), "arrays nested too deep");
  EXPECT_EQ(error_of("*1000\r\n", small), "array too long");
  EXPECT_EQ(error_of("*9223372036854775807\r\n"), "array too long");
  // Many small elements add up.
  std::string many = "*15\r\n";
  for (int i = 0; i < 15; ++i) many += "$8\r\n12345678\r\n";
  EXPECT_EQ(error_of(many, small), "reply too large");
  // Within the limits all is well, and the budget is per reply.
  std::string fits;
  for (int i = 0; i < 20; ++i) fits += "*2\r\n$8\r\n12345678\r\n*1\r\n:1\r\n";
  EXPECT_EQ(read_all(fits, small).size(), 20u);
}

TEST(AppendCommand, EncodesAnArrayOfBulkStrings) {
  std::string out;
  append_command(out, {"SET", "k", std::string_view("a\0b", 3)});
  EXPECT_EQ(out, std::string("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\na\0b\r\n", 29));
  append_command(out, {"PING"});
  EXPECT_TRUE(out.ends_with("*1\r\n$4\r\nPING\r\n"));
  std::string empty;
  append_command(empty, {""});
  EXPECT_EQ(empty, "*1\r\n$0\r\n\r\n");
}

}  // namespace
}  // namespace moat::state::resp
