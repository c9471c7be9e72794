#include "smtp/data_decoder.h"

#include <gtest/gtest.h>

namespace moat::smtp {
namespace {

using State = DataDecoder::State;

TEST(DataDecoder, EndsAtCrLfDotCrLfAndConvertsLineEndings) {
  DataDecoder decoder(1000, true);
  const std::string input = "Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n";
  const size_t used = decoder.feed(input);
  EXPECT_EQ(decoder.state(), State::kDone);
  EXPECT_EQ(input.substr(used), "QUIT\r\n");
  EXPECT_EQ(decoder.content(), "Subject: x\n\nbody\n");
}

TEST(DataDecoder, RemovesDotStuffing) {
  DataDecoder decoder(1000, true);
  decoder.feed("..leading dot\r\n...\r\n.\r\n");
  EXPECT_EQ(decoder.state(), State::kDone);
  EXPECT_EQ(decoder.content(), ".leading dot\n..\n");
}

TEST(DataDecoder, ResumesAcrossArbitrarySplits) {
  const std::string input = "a\r\n..b\r\nline three\r\n.\r\n";
  for (size_t split = 0; split <= input.size(); ++split) {
    DataDecoder decoder(1000, true);
    size_t used = decoder.feed(std::string_view(input).substr(0, split));
    used += decoder.feed(std::string_view(input).substr(used));
    EXPECT_EQ(decoder.state(), State::kDone) << split;
    EXPECT_EQ(decoder.content(), "a\n.b\nline three\n") << split;
    EXPECT_EQ(used, input.size());
  }
}

TEST(DataDecoder, ByteByByteFeedingGivesTheSameContent) {
  const std::string input = "x\r\n.y\r\n\r\n.\r\n";
  DataDecoder decoder(1000, true);
  for (char c : input) decoder.feed(std::string_view(&c, 1));
  EXPECT_EQ(decoder.state(), State::kDone);
  EXPECT_EQ(decoder.content(), "x\ny\n\n");
}

TEST(DataDecoder, BareLfIsRejectedWhenForbidden) {
  DataDecoder decoder(1000, true);
  decoder.feed("line\n.\n");
  EXPECT_EQ(decoder.state(), State::kBareLf);
}

TEST(DataDecoder, SmugglingSequencesNeverEndTheMessage) {
  for (const std::string smuggled :
       {"a\n.\nMAIL FROM:<x@y>\r\n", "a\r.\rMAIL FROM:<x@y>\r\n", "a\n.\r\nMAIL FROM:<x@y>\r\n",
        "a\r\n.\nMAIL FROM:<x@y>\r\n", "a\r\n.\r\rMAIL FROM:<x@y>\r\n"}) {
    DataDecoder decoder(1000, false);
    decoder.feed(smuggled);
    EXPECT_EQ(decoder.state(), State::kReading) << smuggled;
    decoder.feed("\r\n.\r\n");
    EXPECT_EQ(decoder.state(), State::kDone) << smuggled;
    EXPECT_NE(decoder.content().find("MAIL FROM"), std::string::npos) << smuggled;
  }
}

TEST(DataDecoder, OversizedMessageIsReadToTheEndButNotStored) {
  DataDecoder decoder(10, true);
  decoder.feed("0123456789abcdef\r\nmore\r\n.\r\n");
  EXPECT_EQ(decoder.state(), State::kDone);
  EXPECT_TRUE(decoder.size_exceeded());
  EXPECT_GT(decoder.size(), 10u);
}

TEST(DataDecoder, VeryLongLinesAreStoredInPiecesWithoutBreakingDotRules) {
  DataDecoder decoder(1 << 24, true);
  const std::string long_line = "." + std::string(200000, 'x');
  decoder.feed(long_line);
  decoder.feed("\r\n.\r\n");
  EXPECT_EQ(decoder.state(), State::kDone);
  EXPECT_EQ(decoder.content(), std::string(200000, 'x') + "\n");
}

TEST(DataDecoder, EmptyMessage) {
  DataDecoder decoder(10, true);
  decoder.feed(".\r\n");
  EXPECT_EQ(decoder.state(), State::kDone);
  EXPECT_EQ(decoder.content(), "");
}

}  // namespace
}  // namespace moat::smtp
