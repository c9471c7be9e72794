#include "dns/answer_set.h"

#include <gtest/gtest.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

namespace moat::dns {
namespace {

Answer with_ttl(Status status, uint32_t ttl) {
  Answer a;
  a.status = status;
  a.ttl = ttl;
  return a;
}

TEST(DnsAnswerSet, UnknownQuestionsAreNotedOnceThenAnswered) {
  AnswerSet answers;  // no resolver: needed questions fail temporarily
  EXPECT_EQ(answers.find("Host.Example.", Type::kA), nullptr);
  EXPECT_EQ(answers.find("Host.Example.", Type::kA), nullptr);
  EXPECT_EQ(answers.find("host.example", Type::kMX), nullptr);
  EXPECT_TRUE(answers.has_needed());
  asio::io_context io;
  asio::co_spawn(io, answers.fetch_needed(), asio::detached);
  io.run();
  EXPECT_FALSE(answers.has_needed());
  // Case and a trailing dot do not make another name.
  const Answer* a = answers.find("host.example", Type::kA);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->status, Status::kTempFail);
  EXPECT_EQ(a->error, "no resolver");
  ASSERT_NE(answers.find("HOST.example.", Type::kMX), nullptr);
}

TEST(DnsAnswerSet, PutAnswersAndTypesAreApart) {
  AnswerSet answers;
  answers.put("a.example", Type::kA, with_ttl(Status::kOk, 60));
  answers.put("a.example", Type::kMX, with_ttl(Status::kNxDomain, 30));
  ASSERT_NE(answers.find("A.EXAMPLE", Type::kA), nullptr);
  EXPECT_EQ(answers.find("a.example", Type::kA)->ttl, 60u);
  EXPECT_EQ(answers.find("a.example", Type::kMX)->status, Status::kNxDomain);
  EXPECT_EQ(answers.find("a.example", Type::kTXT), nullptr);
  // A second put replaces the first.
  answers.put("a.example", Type::kA, with_ttl(Status::kNoData, 5));
  EXPECT_EQ(answers.find("a.example", Type::kA)->status, Status::kNoData);
}

TEST(DnsAnswerSet, TrimForgetsOnlyWhenThereAreMany) {
  AnswerSet answers;
  answers.put("kept.example", Type::kA, with_ttl(Status::kOk, 60));
  answers.trim();
  EXPECT_NE(answers.find("kept.example", Type::kA), nullptr);
  for (int i = 0; i < 2000; ++i) {
    answers.put("n" + std::to_string(i) + ".example", Type::kA, with_ttl(Status::kOk, 60));
  }
  EXPECT_NE(answers.find("n1999.example", Type::kA), nullptr);  // still there until trimmed
  answers.trim();
  EXPECT_EQ(answers.find("kept.example", Type::kA), nullptr);
}

}  // namespace
}  // namespace moat::dns
