#include "spf/record_cache.h"

#include <gtest/gtest.h>

#include <memory>
#include <new>
#include <string>
#include <vector>

namespace moat::spf {
namespace {

RecordCache::AnswerPtr txt_answer(const std::vector<std::string>& texts) {
  auto answer = std::make_shared<dns::Answer>();
  answer->status = dns::Status::kOk;
  answer->ttl = 300;
  for (const auto& text : texts) {
    dns::Record record;
    record.type = dns::Type::kTXT;
    record.text = text;
    answer->records.push_back(record);
  }
  return answer;
}

TEST(SpfRecordCache, SelectsAndParsesLikeSelectRecord) {
  RecordCache cache(8, 100);
  const auto spf =
      cache.get(txt_answer({"google-site-verification=x", "v=spf1 ip4:192.0.2.0/24 -all"}));
  ASSERT_EQ(spf->status, RecordStatus::kOk);
  ASSERT_EQ(spf->record.directives.size(), 2u);
  EXPECT_EQ(spf->record.directives[0].mechanism, Mechanism::kIp4);
  EXPECT_EQ(spf->record.directives[1].qualifier, Qualifier::kFail);

  EXPECT_EQ(cache.get(txt_answer({"not spf"}))->status, RecordStatus::kNone);
  const auto two = cache.get(txt_answer({"v=spf1 -all", "v=spf1 +all"}));
  EXPECT_EQ(two->status, RecordStatus::kPermError);
  EXPECT_EQ(two->error, "more than one SPF record");
  EXPECT_EQ(cache.get(txt_answer({"v=spf1 foo"}))->status, RecordStatus::kPermError);
}

TEST(SpfRecordCache, SameAnswerIsAHit) {
  RecordCache cache(8, 100);
  const auto answer = txt_answer({"v=spf1 a mx -all"});
  const auto first = cache.get(answer);
  const auto second = cache.get(answer);
  EXPECT_EQ(first.get(), second.get());  // not parsed again
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.directives(), 3u);
}

TEST(SpfRecordCache, AnotherAnswerWithTheSameTextIsParsedAgain) {
  RecordCache cache(8, 100);
  const auto a = txt_answer({"v=spf1 -all"});
  const auto b = txt_answer({"v=spf1 -all"});
  EXPECT_NE(cache.get(a).get(), cache.get(b).get());
  EXPECT_EQ(cache.size(), 2u);
}

TEST(SpfRecordCache, EntryDoesNotKeepTheAnswerAlive) {
  RecordCache cache(8, 100);
  auto answer = txt_answer({"v=spf1 ip4:192.0.2.1 -all"});
  const std::weak_ptr<const dns::Answer> watch = answer;
  const auto before = cache.get(answer);
  answer.reset();  // the resolver's cache let it go (TTL ran out)
  EXPECT_TRUE(watch.expired());

  // The fresh answer the next lookup brings, same text: parsed again, the
  // old parse is never served for it.
  const auto fresh = txt_answer({"v=spf1 ip4:192.0.2.1 -all"});
  const auto after = cache.get(fresh);
  EXPECT_NE(before.get(), after.get());
  EXPECT_EQ(cache.get(fresh).get(), after.get());
}

// An answer not made by make_shared gives its memory back as soon as it
// dies, so a later answer may sit at the same address: the dead entry must
// not answer for it.
TEST(SpfRecordCache, DeadEntryAtAReusedAddressIsAMiss) {
  RecordCache cache(8, 100);
  alignas(dns::Answer) unsigned char storage[sizeof(dns::Answer)];
  const auto destroy_only = [](const dns::Answer* answer) { answer->~Answer(); };
  const auto in_storage = [&](const std::string& text) {
    auto* answer = new (storage) dns::Answer(*txt_answer({text}));
    return RecordCache::AnswerPtr(answer, destroy_only);
  };
  auto old = in_storage("v=spf1 -all");
  const auto old_record = cache.get(old);
  old.reset();
  const auto reused = in_storage("v=spf1 +all");
  const auto record = cache.get(reused);
  EXPECT_NE(record.get(), old_record.get());
  ASSERT_EQ(record->record.directives.size(), 1u);
  EXPECT_EQ(record->record.directives[0].qualifier, Qualifier::kPass);
  EXPECT_EQ(cache.size(), 1u);
}

TEST(SpfRecordCache, BoundedInEntries) {
  RecordCache cache(3, 100);
  std::vector<RecordCache::AnswerPtr> answers;
  for (int i = 0; i < 5; ++i) answers.push_back(txt_answer({"v=spf1 -all"}));
  std::vector<const RecordResult*> parsed;
  for (const auto& answer : answers) parsed.push_back(cache.get(answer).get());
  EXPECT_EQ(cache.size(), 3u);
  // The two least recently used went out; the last three are still hits.
  EXPECT_EQ(cache.get(answers[4]).get(), parsed[4]);
  EXPECT_EQ(cache.get(answers[3]).get(), parsed[3]);
  EXPECT_EQ(cache.get(answers[2]).get(), parsed[2]);
  EXPECT_NE(cache.get(answers[0]).get(), parsed[0]);
  EXPECT_EQ(cache.size(), 3u);
}

TEST(SpfRecordCache, HitMakesAnEntryRecent) {
  RecordCache cache(2, 100);
  const auto a = txt_answer({"v=spf1 -all"});
  const auto b = txt_answer({"v=spf1 -all"});
  const auto c = txt_answer({"v=spf1 -all"});
  const auto parsed_a = cache.get(a);
  cache.get(b);
  EXPECT_EQ(cache.get(a).get(), parsed_a.get());  // a is now the most recent
  cache.get(c);                                   // so b goes
  EXPECT_EQ(cache.get(a).get(), parsed_a.get());
  EXPECT_EQ(cache.size(), 2u);
}

TEST(SpfRecordCache, BoundedInDirectives) {
  RecordCache cache(100, 5);
  const auto three = txt_answer({"v=spf1 a mx -all"});
  const auto two = txt_answer({"v=spf1 a -all"});
  const auto big = txt_answer({"v=spf1 a mx ptr ip4:192.0.2.1 ip6:2001:db8::1 -all"});
  const auto parsed_three = cache.get(three);
  cache.get(two);
  EXPECT_EQ(cache.directives(), 5u);
  const auto other = txt_answer({"v=spf1 -all"});
  cache.get(other);  // one more directive: the oldest (three) goes
  EXPECT_EQ(cache.directives(), 3u);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_NE(cache.get(three).get(), parsed_three.get());

  // More than the whole budget: parsed, served, never kept.
  const auto parsed_big = cache.get(big);
  EXPECT_EQ(parsed_big->record.directives.size(), 6u);
  EXPECT_LE(cache.directives(), 5u);
  EXPECT_NE(cache.get(big).get(), parsed_big.get());
}

TEST(SpfRecordCache, HeldRecordSurvivesEviction) {
  RecordCache cache(1, 100);
  const auto a = txt_answer({"v=spf1 ip4:192.0.2.1 -all"});
  const auto held = cache.get(a);
  cache.get(txt_answer({"v=spf1 -all"}));  // evicts a's entry
  ASSERT_EQ(held->status, RecordStatus::kOk);
  EXPECT_EQ(held->record.directives.size(), 2u);
}

TEST(SpfRecordCache, ZeroCapacityKeepsNothing) {
  RecordCache cache(0, 0);
  const auto a = txt_answer({"v=spf1 -all"});
  EXPECT_EQ(cache.get(a)->status, RecordStatus::kOk);
  EXPECT_EQ(cache.size(), 0u);
}

}  // namespace
}  // namespace moat::spf
