// The pure rules behind Store::greylist and Store::count_event (postgrey's).
#include <gtest/gtest.h>

#include "state/store.h"

namespace moat::state {
namespace {

GreylistRule at(int64_t now) {
  return {.now = now, .delay = 300, .retry_window = 2 * 86400, .max_age = 35 * 86400};
}

TEST(GreylistStep, NewTripletStartsNow) {
  const auto step = greylist_step(std::nullopt, at(1000));
  EXPECT_EQ(step.seen.first_seen, 1000);
  EXPECT_FALSE(step.seen.was_passed);
  EXPECT_EQ(step.value, "1000,1000");
}

TEST(GreylistStep, RetryKeepsFirstAndRecordsLast) {
  const auto early = greylist_step("1000,1000", at(1100));
  EXPECT_EQ(early.seen.first_seen, 1000);
  EXPECT_FALSE(early.seen.was_passed);
  EXPECT_EQ(early.value, "1000,1100");
  const auto late = greylist_step("1000,1100", at(1400));
  EXPECT_EQ(late.seen.first_seen, 1000);  // 400 s waited: the caller lets it pass
  EXPECT_FALSE(late.seen.was_passed);     // ... for the first time
  const auto again = greylist_step(late.value, at(5000));
  EXPECT_TRUE(again.seen.was_passed);
  EXPECT_EQ(again.value, "1000,5000");
}

TEST(GreylistStep, FirstRetryAfterTheWindowStartsOver) {
  const auto step = greylist_step("1000,1000", at(1000 + 2 * 86400 + 1));
  EXPECT_EQ(step.seen.first_seen, 1000 + 2 * 86400 + 1);
  // A triplet that passed once is never restarted by the window.
  const auto passed = greylist_step("1000,2000", at(1000 + 30 * 86400));
  EXPECT_EQ(passed.seen.first_seen, 1000);
  EXPECT_TRUE(passed.seen.was_passed);
}

TEST(GreylistStep, FutureOrDamagedValuesAreRepaired) {
  EXPECT_EQ(greylist_step("9000,9000", at(1000)).seen.first_seen, 1000);
  for (const char* bad : {"", "x", "1000", "1000,", ",1000", "10 00,1", "1,2,3",
                          "-9223372036854775808,1", "1,9007199254740993"}) {
    const auto step = greylist_step(std::string_view(bad), at(1000));
    EXPECT_EQ(step.seen.first_seen, 1000) << bad;
    EXPECT_FALSE(step.seen.was_passed) << bad;
  }
}

TEST(CountEventStep, CountsAtMostOncePerInterval) {
  using std::chrono::seconds;
  auto step = count_event_step(std::nullopt, 1000, seconds(3600));
  EXPECT_EQ(step.count, 1);
  ASSERT_TRUE(step.value);
  EXPECT_EQ(*step.value, "1,1000");
  step = count_event_step("1,1000", 2000, seconds(3600));
  EXPECT_EQ(step.count, 1);
  EXPECT_FALSE(step.value);
  step = count_event_step("1,1000", 4600, seconds(3600));
  EXPECT_EQ(step.count, 2);
  EXPECT_EQ(*step.value, "2,4600");
  step = count_event_step("7,9000", 1000, seconds(3600));  // clock stepped back
  EXPECT_EQ(step.count, 8);
  step = count_event_step("garbage", 1000, seconds(3600));
  EXPECT_EQ(step.count, 1);
}

}  // namespace
}  // namespace moat::state
