#include "smtp/reply.h"

#include <gtest/gtest.h>

namespace moat::smtp {
namespace {

TEST(Reply, WireIsCodeEnhancedCodeAndTextEndedByCrLf) {
  EXPECT_EQ((Reply{250, "2.0.0", "Ok"}).wire(), "250 2.0.0 Ok\r\n");
}

TEST(Reply, WireWithoutEnhancedCodeIsCodeAndText) {
  EXPECT_EQ((Reply{220, "", "mx.example.com ESMTP"}).wire(), "220 mx.example.com ESMTP\r\n");
}

TEST(Reply, MultiLineTextRepeatsCodeAndEnhancedCodeWithDashOnAllButLastLine) {
  const Reply reply{550, "5.7.1", "first line\nsecond line\nthird line"};
  EXPECT_EQ(reply.wire(),
            "550-5.7.1 first line\r\n"
            "550-5.7.1 second line\r\n"
            "550 5.7.1 third line\r\n");
}

TEST(Reply, MultiLineEhloStyleReplyWithoutEnhancedCode) {
  const Reply reply{250, "", "mx.example.com\nPIPELINING\nSIZE 10240000"};
  EXPECT_EQ(reply.wire(), "250-mx.example.com\r\n250-PIPELINING\r\n250 SIZE 10240000\r\n");
}

TEST(Reply, EmptyTextLeavesNoTrailingSpace) {
  EXPECT_EQ((Reply{250, "", ""}).wire(), "250\r\n");
  EXPECT_EQ((Reply{250, "2.0.0", ""}).wire(), "250 2.0.0\r\n");
  EXPECT_EQ((Reply{250, "", "a\n"}).wire(), "250-a\r\n250\r\n");
}

TEST(Reply, BareCarriageReturnInTextCannotEndTheLine) {
  // Reply texts can echo client input; a CR must not frame a line of its own.
  EXPECT_EQ((Reply{555, "5.5.4", "Unsupported option: X\r250 fake"}).wire(),
            "555 5.5.4 Unsupported option: X 250 fake\r\n");
}

TEST(Reply, AppendWireAppendsToWhatIsThere) {
  std::string out = "250 2.1.0 Ok\r\n";
  append_wire(out, Reply{250, "2.1.5", "Ok"});
  EXPECT_EQ(out, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n");
}

TEST(Reply, LogTextJoinsLinesWithASpace) {
  EXPECT_EQ((Reply{250, "2.0.0", "Ok"}).log_text(), "250 2.0.0 Ok");
  EXPECT_EQ((Reply{550, "5.7.1", "one\ntwo"}).log_text(), "550 5.7.1 one two");
  EXPECT_EQ((Reply{221, "", "Bye"}).log_text(), "221 Bye");
}

TEST(Reply, ClassifiesByFirstDigit) {
  EXPECT_TRUE((Reply{250, "2.0.0", "Ok"}).is_positive());
  EXPECT_TRUE((Reply{354, "", "End data with <CR><LF>.<CR><LF>"}).is_positive());
  EXPECT_TRUE((Reply{450, "4.7.1", "x"}).is_temporary());
  EXPECT_FALSE((Reply{450, "4.7.1", "x"}).is_permanent());
  EXPECT_TRUE((Reply{554, "5.7.1", "x"}).is_permanent());
}

}  // namespace
}  // namespace moat::smtp
