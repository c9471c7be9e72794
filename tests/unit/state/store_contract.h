// The contract every state::Store backend keeps, as one typed test suite.
//
// A backend's test file instantiates it with a Backend type, inside this
// namespace:
//
//   struct MyBackend {
//     MyBackend();                                            // a fresh store per test
//     std::unique_ptr<Store> make(asio::io_context& loop);   // a Store on that loop
//     std::string skip_reason();  // optional: non-empty skips the test
//   };                            // (say, no redis-server on this machine)
//   namespace moat::state::testing {
//   INSTANTIATE_TYPED_TEST_SUITE_P(My, StoreContract, MyBackend);
//   }
//
// Every operation runs through a real io_context on the test's thread; the
// concurrency test runs two loops on two threads against the same keys.
// Keys carry a per-test suffix (key()), so backends that share a server
// between tests need no flushing. Times to live are real: the expiry test
// sleeps once, a little over a second.
#pragma once

#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <atomic>
#include <chrono>
#include <ctime>
#include <exception>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "state/store.h"

namespace moat::state::testing {

using namespace std::chrono_literals;

// Runs one operation on `loop` (from the calling thread) and returns its
// result; fails the test if it has not completed within `limit`.
template <typename T>
T run_on(asio::io_context& loop, asio::awaitable<T> operation,
         std::chrono::seconds limit = std::chrono::seconds(10)) {
  // Shared with the handlers, which may run after this returns (on a later run).
  struct Outcome {
    std::optional<T> value;
    std::exception_ptr error;
  };
  auto outcome = std::make_shared<Outcome>();
  auto guard = std::make_shared<asio::steady_timer>(loop, limit);
  guard->async_wait([&loop, outcome](asio::error_code ec) {
    if (!ec && !outcome->value && !outcome->error) loop.stop();
  });
  asio::co_spawn(loop, std::move(operation),
                 [&loop, outcome, guard](std::exception_ptr error, T value) {
                   if (error) {
                     outcome->error = error;
                   } else {
                     outcome->value = std::move(value);
                   }
                   guard->cancel();
                   loop.stop();  // a backend may keep work of its own (a connection)
                 });
  loop.restart();
  loop.run();
  if (outcome->error) std::rethrow_exception(outcome->error);
  if (!outcome->value) {
    ADD_FAILURE() << "the store operation did not complete within " << limit.count() << " s";
    return T();
  }
  return std::move(*outcome->value);
}

template <typename Backend>
class StoreContract : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_ = std::make_unique<Backend>();
    if constexpr (requires(Backend & b) { b.skip_reason(); }) {
      if (const std::string reason = backend_->skip_reason(); !reason.empty())
        GTEST_SKIP() << reason;
    }
    store_ = backend_->make(loop_);
    ASSERT_TRUE(store_);
  }

  void TearDown() override {
    store_.reset();
    backend_.reset();
  }

  // "FEATURE:name" made unique to this test.
  std::string key(const std::string& name) const { return "test:" + name + ":" + nonce_; }

  template <typename T>
  T run(asio::awaitable<T> operation) {
    return run_on(loop_, std::move(operation));
  }

  // Seconds since the epoch, for greylisting rules.
  static int64_t epoch_now() { return static_cast<int64_t>(std::time(nullptr)); }

  static GreylistRule rule_at(int64_t now) {
    return {.now = now, .delay = 300, .retry_window = 2 * 86400, .max_age = 35 * 86400};
  }

  std::unique_ptr<Backend> backend_;
  asio::io_context loop_{1};
  std::unique_ptr<Store> store_;
  const std::string nonce_ = std::to_string(std::random_device{}());
};

TYPED_TEST_SUITE_P(StoreContract);

TYPED_TEST_P(StoreContract, GetOfAnAbsentKeyIsEmpty) {
  const auto got = this->run(this->store_->get(this->key("absent")));
  ASSERT_TRUE(got) << got.error();
  EXPECT_FALSE(*got);
}

TYPED_TEST_P(StoreContract, SetThenGetAndOverwrite) {
  auto& store = *this->store_;
  const auto k = this->key("a");
  ASSERT_TRUE(this->run(store.set(k, "one", 3600s)));
  auto got = this->run(store.get(k));
  ASSERT_TRUE(got) << got.error();
  EXPECT_EQ(got->value_or("<absent>"), "one");
  ASSERT_TRUE(this->run(store.set(k, "two", 3600s)));
  got = this->run(store.get(k));
  ASSERT_TRUE(got) << got.error();
  EXPECT_EQ(got->value_or("<absent>"), "two");
  // Values are bytes, not text.
  const std::string binary("a\0b\xff", 4);
  ASSERT_TRUE(this->run(store.set(k, binary, 3600s)));
  got = this->run(store.get(k));
  ASSERT_TRUE(got) << got.error();
  EXPECT_EQ(got->value_or("<absent>"), binary);
}

TYPED_TEST_P(StoreContract, EntriesExpireAfterTheirTimeToLive) {
  auto& store = *this->store_;
  const auto set_short = this->key("set-short"), set_long = this->key("set-long"),
             refreshed = this->key("refreshed"), counter = this->key("counter"),
             grey = this->key("grey"), event = this->key("event");
  const int64_t start = this->epoch_now();
  ASSERT_TRUE(this->run(store.set(set_short, "x", 1s)));
  ASSERT_TRUE(this->run(store.set(set_long, "y", 3600s)));
  ASSERT_TRUE(this->run(store.set(refreshed, "old", 1s)));
  ASSERT_TRUE(this->run(store.set(refreshed, "new", 3600s)));  // a write sets a new TTL
  ASSERT_TRUE(this->run(store.increment(counter, 5, 1s)));
  auto rule = this->rule_at(start);
  rule.max_age = 1;
  ASSERT_TRUE(this->run(store.greylist(grey, rule)));
  ASSERT_TRUE(this->run(store.count_event(event, start, 3600s, 1s)));
  ASSERT_EQ(this->run(store.count_event(event, start + 3600, 3600s, 1s)).value_or(-1), 2);
  EXPECT_EQ(this->run(store.get(set_short)).value_or(std::nullopt).value_or("<absent>"), "x");

  std::this_thread::sleep_for(1200ms);

  auto got = this->run(store.get(set_short));
  ASSERT_TRUE(got) << got.error();
  EXPECT_FALSE(*got) << "expired entry read as " << **got;
  EXPECT_EQ(this->run(store.get(set_long)).value_or(std::nullopt).value_or("<absent>"), "y");
  EXPECT_EQ(this->run(store.get(refreshed)).value_or(std::nullopt).value_or("<absent>"), "new");
  EXPECT_EQ(this->run(store.increment(counter, 2, 60s)).value_or(-1), 2);  // counts from 0 again
  const int64_t later = start + 10;  // within the delay: only expiry can make it new
  const auto seen = this->run(store.greylist(grey, this->rule_at(later)));
  ASSERT_TRUE(seen) << seen.error();
  EXPECT_EQ(seen->first_seen, later);
  EXPECT_EQ(this->run(store.count_event(event, start + 7200, 3600s, 60s)).value_or(-1), 1);
}

TYPED_TEST_P(StoreContract, IncrementStartsFromZeroAndAdds) {
  auto& store = *this->store_;
  const auto k = this->key("counter");
  EXPECT_EQ(this->run(store.increment(k, 1, 3600s)).value_or(-1), 1);
  EXPECT_EQ(this->run(store.increment(k, 41, 3600s)).value_or(-1), 42);
  EXPECT_EQ(this->run(store.increment(k, -50, 3600s)).value_or(-1), -8);
  // The counter reads back as its decimal text.
  EXPECT_EQ(this->run(store.get(k)).value_or(std::nullopt).value_or("<absent>"), "-8");
  const auto preset = this->key("preset");
  ASSERT_TRUE(this->run(store.set(preset, "100", 3600s)));
  EXPECT_EQ(this->run(store.increment(preset, 1, 3600s)).value_or(-1), 101);
}

TYPED_TEST_P(StoreContract, RemoveDeletesAndToleratesAbsence) {
  auto& store = *this->store_;
  const auto k = this->key("gone");
  ASSERT_TRUE(this->run(store.set(k, "v", 3600s)));
  auto removed = this->run(store.remove(k));
  ASSERT_TRUE(removed) << removed.error();
  auto got = this->run(store.get(k));
  ASSERT_TRUE(got) << got.error();
  EXPECT_FALSE(*got);
  removed = this->run(store.remove(k));
  EXPECT_TRUE(removed) << removed.error();
  EXPECT_EQ(this->run(store.increment(k, 3, 3600s)).value_or(-1), 3);
}

TYPED_TEST_P(StoreContract, GreylistFollowsATripletThroughItsLife) {
  auto& store = *this->store_;
  const auto k = this->key("grey");
  const int64_t t = this->epoch_now();
  auto step = [&](int64_t now) {
    const auto seen = this->run(store.greylist(k, this->rule_at(now)));
    EXPECT_TRUE(seen) << seen.error();
    return seen.value_or(GreylistSeen{.first_seen = -1});
  };
  auto seen = step(t);  // new: greylisted from now
  EXPECT_EQ(seen.first_seen, t);
  EXPECT_FALSE(seen.was_passed);
  seen = step(t + 60);  // an early retry: still waiting on the first attempt
  EXPECT_EQ(seen.first_seen, t);
  EXPECT_FALSE(seen.was_passed);
  seen = step(t + 400);  // after the delay: the caller lets it pass
  EXPECT_EQ(seen.first_seen, t);
  EXPECT_FALSE(seen.was_passed);
  seen = step(t + 5000);  // later mail of the same triplet
  EXPECT_EQ(seen.first_seen, t);
  EXPECT_TRUE(seen.was_passed);
  EXPECT_EQ(this->run(store.get(k)).value_or(std::nullopt).value_or("<absent>"),
            std::to_string(t) + "," + std::to_string(t + 5000));

  // A first retry after the retry window starts over.
  const auto slow = this->key("grey-slow");
  auto first = this->run(store.greylist(slow, this->rule_at(t)));
  ASSERT_TRUE(first) << first.error();
  const int64_t late = t + 2 * 86400 + 1;
  const auto restarted = this->run(store.greylist(slow, this->rule_at(late)));
  ASSERT_TRUE(restarted) << restarted.error();
  EXPECT_EQ(restarted->first_seen, late);
  EXPECT_FALSE(restarted->was_passed);
}

TYPED_TEST_P(StoreContract, CountEventCountsOncePerInterval) {
  auto& store = *this->store_;
  const auto k = this->key("event");
  const int64_t t = this->epoch_now();
  auto count = [&](int64_t now) {
    const auto result = this->run(store.count_event(k, now, 3600s, 86400s));
    EXPECT_TRUE(result) << result.error();
    return result.value_or(-1);
  };
  EXPECT_EQ(count(t), 1);
  EXPECT_EQ(count(t + 10), 1);
  EXPECT_EQ(count(t + 3599), 1);
  EXPECT_EQ(count(t + 3600), 2);
  EXPECT_EQ(count(t + 3700), 2);
  EXPECT_EQ(count(t + 7200), 3);
}

// A client's triplets through greylist_decision, allowlisting after two
// first passes (at most one an hour counts).
TYPED_TEST_P(StoreContract, GreylistDecisionAllowlistsAClientAfterItsFirstPasses) {
  auto& store = *this->store_;
  const auto client = this->key("awl");
  const int64_t t = this->epoch_now();
  auto decide = [&](const std::string& triplet, int64_t now) {
    GreylistQuestion question{.triplet = this->key(triplet),
                              .client = client,
                              .allowlist_after = 2,
                              .rule = this->rule_at(now)};
    const auto answer = this->run(store.greylist_decision(question));
    EXPECT_TRUE(answer) << answer.error();
    return answer.value_or(GreylistAnswer{.seen = {.first_seen = -1}});
  };
  auto answer = decide("a", t);  // new
  EXPECT_FALSE(answer.allowlisted);
  EXPECT_EQ(answer.seen.first_seen, t);
  EXPECT_FALSE(answer.count);
  answer = decide("a", t + 400);  // the first pass counts
  EXPECT_FALSE(answer.allowlisted);
  EXPECT_TRUE(answer.seen.first_pass(this->rule_at(t + 400)));
  EXPECT_EQ(answer.count, 1);
  answer = decide("a", t + 500);  // not a first pass: not counted
  EXPECT_TRUE(answer.seen.was_passed);
  EXPECT_FALSE(answer.count);
  decide("b", t + 100);
  answer = decide("b", t + 3000);  // a first pass within the hour: counted once only
  EXPECT_EQ(answer.count, 1);
  decide("c", t + 3700);
  answer = decide("c", t + 4400);  // an hour on: the second count
  EXPECT_EQ(answer.count, 2);
  answer = decide("d", t + 4500);  // allowlisted: its triplet is not even written
  EXPECT_TRUE(answer.allowlisted);
  EXPECT_EQ(this->run(store.get(this->key("d"))).value_or("error").value_or("<absent>"),
            "<absent>");
  EXPECT_EQ(this->run(store.get(client)).value_or("error").value_or("<absent>"),
            "2," + std::to_string(t + 4400));

  // No counter: the triplet alone.
  GreylistQuestion alone{.triplet = this->key("e"), .allowlist_after = 2, .rule = this->rule_at(t)};
  ASSERT_TRUE(this->run(store.greylist_decision(alone)));
  alone.rule = this->rule_at(t + 400);
  const auto passed = this->run(store.greylist_decision(alone));
  ASSERT_TRUE(passed) << passed.error();
  EXPECT_FALSE(passed->allowlisted);
  EXPECT_TRUE(passed->seen.first_pass(alone.rule));
  EXPECT_FALSE(passed->count);
}

// Many coroutines on two loops (two threads) update the same keys; the
// totals show that no update was lost between a read and its write.
TYPED_TEST_P(StoreContract, ConcurrentUpdatesFromTwoLoopsAreNotLost) {
  constexpr int kCoroutinesPerLoop = 16, kRoundsPerCoroutine = 25;
  const auto counter = this->key("shared-counter"), events = this->key("shared-events"),
             grey = this->key("shared-grey");
  const int64_t t = this->epoch_now();

  struct Loop {
    asio::io_context io{1};
    std::unique_ptr<Store> store;
    int finished = 0;  // coroutines done, counted on the loop's own thread
    std::atomic<int> failures = 0;
  };
  std::vector<std::unique_ptr<Loop>> loops;
  for (int i = 0; i < 2; ++i) {
    loops.push_back(std::make_unique<Loop>());
    loops.back()->store = this->backend_->make(loops.back()->io);
    ASSERT_TRUE(loops.back()->store);
  }

  auto worker = [&](Loop& loop) -> asio::awaitable<void> {
    for (int round = 0; round < kRoundsPerCoroutine; ++round) {
      if (!co_await loop.store->increment(counter, 1, 3600s)) ++loop.failures;
      // An interval of 0 counts every event: a read-modify-write like increment.
      if (!co_await loop.store->count_event(events, t, 0s, 3600s)) ++loop.failures;
      const auto seen = co_await loop.store->greylist(grey, this->rule_at(t));
      if (!seen || seen->first_seen != t || seen->was_passed) ++loop.failures;
    }
  };
  for (auto& loop : loops) {
    for (int i = 0; i < kCoroutinesPerLoop; ++i) {
      asio::co_spawn(loop->io, worker(*loop), [&loop = *loop](std::exception_ptr error) {
        if (error) ++loop.failures;
        if (++loop.finished == kCoroutinesPerLoop) loop.io.stop();
      });
    }
  }
  std::vector<std::thread> threads;
  for (auto& loop : loops) {
    threads.emplace_back([&loop = *loop] {
      asio::steady_timer guard(loop.io, 60s);  // a lost completion fails, not hangs
      guard.async_wait([&loop](asio::error_code ec) {
        if (!ec) loop.io.stop();
      });
      loop.io.run();
    });
  }
  for (auto& thread : threads) thread.join();

  constexpr int kTotal = 2 * kCoroutinesPerLoop * kRoundsPerCoroutine;
  for (auto& loop : loops) {
    EXPECT_EQ(loop->finished, kCoroutinesPerLoop);
    EXPECT_EQ(loop->failures.load(), 0);
  }
  auto& store = *this->store_;
  EXPECT_EQ(this->run(store.increment(counter, 0, 3600s)).value_or(-1), kTotal);
  EXPECT_EQ(this->run(store.get(events)).value_or(std::nullopt).value_or("<absent>"),
            std::to_string(kTotal) + "," + std::to_string(t));
  const auto seen = this->run(store.greylist(grey, this->rule_at(t + 300)));
  ASSERT_TRUE(seen) << seen.error();
  EXPECT_EQ(seen->first_seen, t);
  EXPECT_FALSE(seen->was_passed);
  for (auto& loop : loops) loop->store.reset();  // before its loop goes
}

REGISTER_TYPED_TEST_SUITE_P(StoreContract, GetOfAnAbsentKeyIsEmpty, SetThenGetAndOverwrite,
                            EntriesExpireAfterTheirTimeToLive, IncrementStartsFromZeroAndAdds,
                            RemoveDeletesAndToleratesAbsence, GreylistFollowsATripletThroughItsLife,
                            CountEventCountsOncePerInterval,
                            GreylistDecisionAllowlistsAClientAfterItsFirstPasses,
                            ConcurrentUpdatesFromTwoLoopsAreNotLost);

}  // namespace moat::state::testing
