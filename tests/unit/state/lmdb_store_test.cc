// The LMDB store: the Store contract on a fresh database file per test, then
// what only LMDB has: a file that outlives the process, the background sweep,
// group commit, paths that cannot be used, a full map, and shutdown with
// writes still queued. Each test works in its own temporary directory.
#include "state/lmdb_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>

#include <asio/detached.hpp>

#include "store_contract.h"

namespace moat::state {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::run_on;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "moat-lmdb-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// A wall clock the test can move forward.
struct TestClock {
  std::shared_ptr<std::atomic<int64_t>> ahead_ms = std::make_shared<std::atomic<int64_t>>(0);
  void advance(std::chrono::milliseconds by) { *ahead_ms += by.count(); }
  std::function<std::chrono::system_clock::time_point()> function() const {
    return [ahead = ahead_ms] {
      return std::chrono::system_clock::now() + std::chrono::milliseconds(ahead->load());
    };
  }
};

std::shared_ptr<LmdbDatabase> open_or_fail(const fs::path& path, LmdbOptions options = {}) {
  auto database = LmdbDatabase::open(path.string(), std::move(options));
  if (!database) ADD_FAILURE() << database.error();
  return database.value_or(nullptr);
}

// Each contract test gets a database file of its own.
struct LmdbBackend {
  TempDir dir;
  std::shared_ptr<LmdbDatabase> database = open_or_fail(dir.path() / "state.lmdb");
  std::unique_ptr<Store> make(asio::io_context& loop) {
    return database ? make_lmdb_store(database, loop) : nullptr;
  }
};

}  // namespace

namespace testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Lmdb, StoreContract, LmdbBackend);
}  // namespace testing

namespace {

class LmdbStoreTest : public ::testing::Test {
 protected:
  std::shared_ptr<LmdbDatabase> open(LmdbOptions options = {}) {
    return open_or_fail(dir_.path() / "state.lmdb", std::move(options));
  }
  template <typename T>
  T run(asio::awaitable<T> operation) {
    return run_on(loop_, std::move(operation));
  }
  size_t entries(LmdbDatabase& database) {
    const auto stats = database.stats();
    EXPECT_TRUE(stats) << stats.error();
    return stats ? stats->entries : 0;
  }

  TempDir dir_;
  asio::io_context loop_{1};
};

TEST_F(LmdbStoreTest, DataSurvivesClosingAndReopening) {
  const int64_t t = 1'700'000'000;
  const GreylistRule rule{.now = t, .delay = 300, .retry_window = 86400, .max_age = 86400};
  {
    auto database = open();
    ASSERT_TRUE(database);
    auto store = make_lmdb_store(database, loop_);
    EXPECT_EQ(store->kind(), "lmdb");
    ASSERT_TRUE(run(store->set("awl:client", "kept", 3600s)));
    ASSERT_TRUE(run(store->greylist("grey:triplet", rule)));
    ASSERT_TRUE(run(store->increment("rate:client", 7, 3600s)));
  }
  auto database = open();
  ASSERT_TRUE(database);
  auto store = make_lmdb_store(database, loop_);
  EXPECT_EQ(run(store->get("awl:client")).value_or(std::nullopt).value_or("<absent>"), "kept");
  auto later = rule;
  later.now = t + 400;
  const auto seen = run(store->greylist("grey:triplet", later));
  ASSERT_TRUE(seen) << seen.error();
  EXPECT_EQ(seen->first_seen, t);
  EXPECT_EQ(run(store->increment("rate:client", 1, 3600s)).value_or(-1), 8);
}

// LMDB forbids opening a file twice in one process (say, on a reload that
// keeps the same store): the second open shares the first's database.
TEST_F(LmdbStoreTest, OpeningAnOpenFileAgainSharesItsDatabase) {
  auto first = open();
  ASSERT_TRUE(first);
  auto again = LmdbDatabase::open((dir_.path() / "." / "state.lmdb").string());
  ASSERT_TRUE(again) << again.error();
  EXPECT_EQ(again->get(), first.get());
  auto store = make_lmdb_store(*again, loop_);
  ASSERT_TRUE(run(store->set("test:k", "v", 3600s)));
  store.reset();
  first.reset();
  again->reset();  // closed now: the next open opens the file anew
  auto reopened = open();
  ASSERT_TRUE(reopened);
  store = make_lmdb_store(reopened, loop_);
  EXPECT_EQ(run(store->get("test:k")).value_or(std::nullopt).value_or("<absent>"), "v");
}

TEST_F(LmdbStoreTest, ExpiredEntriesReadAsAbsentBeforeTheSweep) {
  TestClock clock;
  auto database = open({.sweep_interval = 1h, .clock = clock.function()});
  ASSERT_TRUE(database);
  auto store = make_lmdb_store(database, loop_);
  ASSERT_TRUE(run(store->set("test:short", "x", 10s)));
  ASSERT_TRUE(run(store->set("test:counter", "41", 10s)));
  clock.advance(9s);
  EXPECT_TRUE(run(store->get("test:short")).value_or(std::nullopt));
  clock.advance(2s);
  auto got = run(store->get("test:short"));
  ASSERT_TRUE(got) << got.error();
  EXPECT_FALSE(*got);
  EXPECT_EQ(run(store->increment("test:counter", 1, 10s)).value_or(-1), 1);
  EXPECT_EQ(entries(*database), 2u);  // still there, waiting for the sweep
}

TEST_F(LmdbStoreTest, AnEndlessTimeToLiveNeverExpires) {
  TestClock clock;
  auto database = open({.clock = clock.function()});
  ASSERT_TRUE(database);
  auto store = make_lmdb_store(database, loop_);
  ASSERT_TRUE(run(store->set("test:forever", "x", std::chrono::seconds::max())));
  clock.advance(std::chrono::hours(24 * 365 * 100));
  EXPECT_TRUE(run(store->get("test:forever")).value_or(std::nullopt));
}

TEST_F(LmdbStoreTest, TheSweepDeletesExpiredEntriesChunkByChunk) {
  TestClock clock;
  auto database = open({.sweep_interval = 20ms, .sweep_chunk = 7, .clock = clock.function()});
  ASSERT_TRUE(database);
  auto store = make_lmdb_store(database, loop_);
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(run(store->set("test:short:" + std::to_string(i), "x", 10s)));
  }
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(run(store->set("test:long:" + std::to_string(i), "y", 3600s)));
  }
  EXPECT_EQ(entries(*database), 55u);
  const auto before = database->stats().value();
  clock.advance(11s);
  // Polls the writer's progress; the sweep runs every 20 ms.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (database->stats().value().swept < 50 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  const auto after = database->stats().value();
  EXPECT_EQ(after.swept, 50u);
  EXPECT_EQ(after.entries, 5u);
  // 55 entries, at most 7 looked at per transaction.
  EXPECT_GE(after.commits - before.commits, 8u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(run(store->get("test:long:" + std::to_string(i))).value_or(std::nullopt));
  }
}

TEST_F(LmdbStoreTest, ConcurrentWritesShareCommits) {
  auto database = open();
  ASSERT_TRUE(database);
  auto store = make_lmdb_store(database, loop_);
  const auto before = database->stats().value();
  constexpr int kWrites = 64;
  int done = 0;
  for (int i = 0; i < kWrites; ++i) {
    asio::co_spawn(loop_, store->increment("test:counter", 1, 3600s),
                   [&](std::exception_ptr, Result<int64_t> result) {
                     EXPECT_TRUE(result);
                     ++done;
                   });
  }
  loop_.run();
  EXPECT_EQ(done, kWrites);
  const auto after = database->stats().value();
  EXPECT_EQ(after.jobs - before.jobs, uint64_t{kWrites});
  // All 64 were queued at once: the writer needs only a few transactions.
  EXPECT_LE(after.commits - before.commits, uint64_t{kWrites / 4});
  EXPECT_EQ(run(store->increment("test:counter", 0, 3600s)).value_or(-1), kWrites);
}

TEST_F(LmdbStoreTest, LongKeysKeepPlacesOfTheirOwn) {
  auto database = open();
  ASSERT_TRUE(database);
  auto store = make_lmdb_store(database, loop_);
  const std::string prefix = "grey:192.0.2.1/" + std::string(600, 's') + "/";
  ASSERT_TRUE(run(store->set(prefix + "alice@example.org", "a", 3600s)));
  ASSERT_TRUE(run(store->set(prefix + "bob@example.org", "b", 3600s)));
  EXPECT_EQ(run(store->get(prefix + "alice@example.org")).value_or(std::nullopt).value_or("?"),
            "a");
  EXPECT_EQ(run(store->get(prefix + "bob@example.org")).value_or(std::nullopt).value_or("?"), "b");
  EXPECT_FALSE(run(store->set("", "empty key", 3600s)));
  EXPECT_FALSE(run(store->get("")));
}

TEST_F(LmdbStoreTest, MissingParentDirectoriesAreCreated) {
  const auto path = dir_.path() / "var" / "lib" / "moat" / "state.lmdb";
  auto database = LmdbDatabase::open(path.string());
  ASSERT_TRUE(database) << database.error();
  EXPECT_TRUE(fs::is_regular_file(path));
  EXPECT_EQ((*database)->path(), path.string());
}

TEST_F(LmdbStoreTest, UnusablePathsGiveClearErrors) {
  { std::ofstream(dir_.path() / "plain-file") << "not a directory"; }
  const auto under_file = (dir_.path() / "plain-file" / "sub" / "state.lmdb").string();
  auto database = LmdbDatabase::open(under_file);
  ASSERT_FALSE(database);
  EXPECT_NE(database.error().find("cannot create directory"), std::string::npos)
      << database.error();
  EXPECT_NE(database.error().find(under_file), std::string::npos) << database.error();

  database = LmdbDatabase::open(dir_.path().string());
  ASSERT_FALSE(database);
  EXPECT_NE(database.error().find("is a directory"), std::string::npos) << database.error();

  database = LmdbDatabase::open("");
  EXPECT_FALSE(database);

  if (::geteuid() != 0) {  // root writes anywhere
    fs::create_directory(dir_.path() / "locked");
    fs::permissions(dir_.path() / "locked", fs::perms::owner_read | fs::perms::owner_exec);
    const auto locked = (dir_.path() / "locked" / "state.lmdb").string();
    database = LmdbDatabase::open(locked);
    ASSERT_FALSE(database);
    EXPECT_NE(database.error().find(locked), std::string::npos) << database.error();
    EXPECT_NE(database.error().find("Permission denied"), std::string::npos) << database.error();
  }
}

TEST_F(LmdbStoreTest, AFullMapIsAnErrorAndTheDatabaseStaysUsable) {
  auto database = open({.map_size = 256 * 1024});
  ASSERT_TRUE(database);
  auto store = make_lmdb_store(database, loop_);
  const std::string big(2000, 'v');
  ASSERT_TRUE(run(store->set("test:first", "small", 3600s)));
  std::string error;
  int stored = 0;
  for (; stored < 1000; ++stored) {
    auto set = run(store->set("test:fill:" + std::to_string(stored), big, 3600s));
    if (!set) {
      error = set.error();
      break;
    }
  }
  ASSERT_LT(stored, 1000) << "the map never filled";
  EXPECT_NE(error.find("MDB_MAP_FULL"), std::string::npos) << error;
  // Reads go on, and so do writes once there is room again.
  EXPECT_EQ(run(store->get("test:first")).value_or(std::nullopt).value_or("?"), "small");
  for (int i = 0; i < stored / 2; ++i) {
    const auto removed = run(store->remove("test:fill:" + std::to_string(i)));
    ASSERT_TRUE(removed) << removed.error();
  }
  const auto set = run(store->set("test:after", "room again", 3600s));
  EXPECT_TRUE(set) << set.error();
  EXPECT_EQ(run(store->increment("test:count", 1, 3600s)).value_or(-1), 1);
}

// Writes queued together on a full map: those that fit are stored, the
// others fail; no failure takes a neighbour along.
TEST_F(LmdbStoreTest, AFailedWriteInABatchLeavesTheOthersAlone) {
  auto database = open({.map_size = 256 * 1024});
  ASSERT_TRUE(database);
  auto store = make_lmdb_store(database, loop_);
  const std::string big(3000, 'v');
  constexpr int kWrites = 200;
  std::vector<std::optional<bool>> succeeded(kWrites);
  for (int i = 0; i < kWrites; ++i) {
    asio::co_spawn(loop_, store->set("test:fill:" + std::to_string(i), big, 3600s),
                   [&succeeded, i](std::exception_ptr, Result<void> result) {
                     succeeded[i] = result.has_value();
                   });
  }
  loop_.run();
  int stored = 0;
  for (int i = 0; i < kWrites; ++i) {
    ASSERT_TRUE(succeeded[i]) << "write " << i << " never completed";
    const auto got = run(store->get("test:fill:" + std::to_string(i)));
    ASSERT_TRUE(got) << got.error();
    EXPECT_EQ(got->has_value(), *succeeded[i]) << "write " << i;
    stored += *succeeded[i];
  }
  EXPECT_GT(stored, 0);
  EXPECT_LT(stored, kWrites);
}

// A job that holds the writer until the test lets it go: what the fronts do
// while a commit is slow (a disk sync).
class WriterHold final : public LmdbJob {
 public:
  explicit WriterHold(std::shared_future<void> release) : release_(std::move(release)) {}
  void apply(LmdbWrite&) override { release_.wait(); }
  void finish(const std::string*) override {}

 private:
  std::shared_future<void> release_;
};

// greylist and count_event answer before their writes commit: with the
// writer held, they still complete; their front and another loop's front
// read what they wrote, the file does not have it yet (a reader of the
// last commit), and once the writer goes on the file has what the answers
// said.
TEST_F(LmdbStoreTest, GreylistingAnswersDoNotWaitForTheCommit) {
  auto database = open();
  ASSERT_TRUE(database);
  auto store = make_lmdb_store(database, loop_);
  asio::io_context other_loop{1};
  auto other = make_lmdb_store(database, other_loop);
  const int64_t t = 1'700'000'000;
  const GreylistRule rule{.now = t, .delay = 300, .retry_window = 86400, .max_age = 86400};
  ASSERT_TRUE(run(store->greylist("grey:committed", rule)));  // a write of its own, then hold
  database->wait_idle();

  std::promise<void> release;
  database->submit(std::make_unique<WriterHold>(release.get_future().share()));
  const auto first = run(store->greylist("grey:held", rule));
  ASSERT_TRUE(first) << first.error();
  EXPECT_EQ(first->first_seen, t);
  auto retry = rule;
  retry.now = t + 60;
  const auto second = run(store->greylist("grey:held", retry));  // sees its own first attempt
  ASSERT_TRUE(second) << second.error();
  EXPECT_EQ(second->first_seen, t);
  EXPECT_EQ(run(store->count_event("awl:held", t, 3600s, 86400s)).value_or(-1), 1);
  EXPECT_EQ(run(store->count_event("awl:held", t + 10, 3600s, 86400s)).value_or(-1), 1);
  EXPECT_EQ(run(store->get("grey:held")).value_or(std::nullopt).value_or("<absent>"),
            std::to_string(t) + "," + std::to_string(t + 60));
  EXPECT_EQ(run_on(other_loop, other->get("grey:held")).value_or(std::nullopt).value_or("<absent>"),
            std::to_string(t) + "," + std::to_string(t + 60));
  LmdbReader committed(*database);
  EXPECT_EQ(committed.get("grey:held").value_or("?"), std::nullopt);
  EXPECT_TRUE(committed.get("grey:committed").value_or(std::nullopt));
  EXPECT_GE(database->backlog(), 3u);

  release.set_value();
  database->wait_idle();
  EXPECT_EQ(committed.get("grey:held").value_or(std::nullopt).value_or("<absent>"),
            std::to_string(t) + "," + std::to_string(t + 60));
  EXPECT_EQ(run_on(other_loop, other->get("grey:held")).value_or(std::nullopt).value_or("<absent>"),
            std::to_string(t) + "," + std::to_string(t + 60));
  EXPECT_EQ(run_on(other_loop, other->get("awl:held")).value_or(std::nullopt).value_or("<absent>"),
            "1," + std::to_string(t));
  other.reset();
}

// Written-behind jobs wait for company, up to behind_delay after the last
// commit; a write someone waits for is committed at once and takes them
// along. Nothing is lost either way.
TEST_F(LmdbStoreTest, WrittenBehindJobsShareACommit) {
  auto database = open({.behind_delay = 10s});
  ASSERT_TRUE(database);
  auto store = make_lmdb_store(database, loop_);
  ASSERT_TRUE(run(store->set("test:first", "v", 3600s)));
  const auto commits_before = database->stats().value_or(LmdbStats{}).commits;
  const GreylistRule rule{
      .now = 1'700'000'000, .delay = 300, .retry_window = 86400, .max_age = 86400};
  constexpr int kDecisions = 20;
  for (int i = 0; i < kDecisions; ++i) {
    ASSERT_TRUE(run(store->greylist("grey:" + std::to_string(i), rule)));
  }
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(database->stats().value_or(LmdbStats{}).commits, commits_before);
  EXPECT_EQ(database->backlog(), uint64_t{kDecisions});

  const auto set = run_on(loop_, store->set("test:waited", "v", 3600s), 5s);
  EXPECT_TRUE(set) << set.error();
  EXPECT_EQ(database->backlog(), 0u);
  EXPECT_EQ(database->stats().value_or(LmdbStats{}).commits, commits_before + 1);

  // With no write waited for, they are committed after the delay.
  auto quick = LmdbDatabase::open((dir_.path() / "quick.lmdb").string(), {.behind_delay = 50ms});
  ASSERT_TRUE(quick) << quick.error();
  auto quick_store = make_lmdb_store(*quick, loop_);
  ASSERT_TRUE(run(quick_store->set("test:first", "v", 3600s)));
  const auto quick_before = (*quick)->stats().value_or(LmdbStats{}).commits;
  for (int i = 0; i < kDecisions; ++i) {
    ASSERT_TRUE(run(quick_store->greylist("grey:" + std::to_string(i), rule)));
  }
  (*quick)->wait_idle();
  EXPECT_EQ((*quick)->stats().value_or(LmdbStats{}).commits, quick_before + 1);
  EXPECT_EQ(run(quick_store->get("grey:7")).value_or(std::nullopt).value_or("<absent>"),
            "1700000000,1700000000");
  quick_store.reset();
}

// A front forgets its written-behind value once the job is done, and a
// later write someone waited for is done after it: reads see the later one.
TEST_F(LmdbStoreTest, AWaitedForWriteAfterAWrittenBehindOneIsWhatReadsSee) {
  auto database = open();
  ASSERT_TRUE(database);
  auto store = make_lmdb_store(database, loop_);
  const GreylistRule rule{
      .now = 1'700'000'000, .delay = 300, .retry_window = 86400, .max_age = 86400};
  for (int i = 0; i < 50; ++i) {
    const std::string key = "grey:" + std::to_string(i);
    ASSERT_TRUE(run(store->greylist(key, rule)));
    ASSERT_TRUE(run(store->set(key, "replaced", 3600s)));
    EXPECT_EQ(run(store->get(key)).value_or(std::nullopt).value_or("<absent>"), "replaced");
  }
}

// When the writer has fallen far behind, answers wait for their commits
// again: a held writer with a long queue keeps greylist() from completing.
TEST_F(LmdbStoreTest, AFarBehindWriterMakesAnswersWaitAgain) {
  auto database = open();
  ASSERT_TRUE(database);
  auto store = make_lmdb_store(database, loop_);
  const GreylistRule rule{
      .now = 1'700'000'000, .delay = 300, .retry_window = 86400, .max_age = 86400};
  std::promise<void> release;
  const auto released = release.get_future().share();
  // Held, a queue of cheap writes builds up behind the hold.
  database->submit(std::make_unique<WriterHold>(released));
  for (int i = 0; database->backlog() <= 10'000; ++i) {
    asio::co_spawn(loop_, store->greylist("grey:queued:" + std::to_string(i), rule),
                   asio::detached);
    loop_.restart();  // a loop that ran out of work has stopped
    loop_.poll();
  }
  std::optional<Result<GreylistSeen>> answer;
  asio::co_spawn(loop_, store->greylist("grey:late", rule),
                 [&answer](std::exception_ptr, Result<GreylistSeen> result) { answer = result; });
  loop_.restart();
  loop_.run_for(200ms);
  EXPECT_FALSE(answer) << "answered while the writer was far behind";
  release.set_value();
  loop_.restart();
  loop_.run_for(10s);
  ASSERT_TRUE(answer) << "no answer after the writer went on";
  EXPECT_TRUE(*answer) << answer->error();
}

// A front destroyed with writes still queued waits for them: every caller
// gets its result, and the writes are in the file.
TEST_F(LmdbStoreTest, ShutdownFinishesQueuedWrites) {
  constexpr int kWrites = 100;
  int succeeded = 0;
  {
    auto database = open();
    ASSERT_TRUE(database);
    auto store = make_lmdb_store(database, loop_);
    for (int i = 0; i < kWrites; ++i) {
      asio::co_spawn(loop_, store->increment("test:counter", 1, 3600s),
                     [&succeeded](std::exception_ptr, Result<int64_t> result) {
                       succeeded += result.has_value();
                     });
    }
    loop_.poll();  // the coroutines start and queue their writes
    store.reset();
    database.reset();  // the last reference: the writer thread ends
  }
  loop_.restart();
  loop_.run();  // the results, posted before the writer ended
  EXPECT_EQ(succeeded, kWrites);
  auto database = open();
  ASSERT_TRUE(database);
  auto store = make_lmdb_store(database, loop_);
  EXPECT_EQ(run(store->increment("test:counter", 0, 3600s)).value_or(-1), kWrites);
}

}  // namespace
}  // namespace moat::state
