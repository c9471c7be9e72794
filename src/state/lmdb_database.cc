#include "state/lmdb_database.h"

#include <filesystem>
#include <limits>
#include <map>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "log/log.h"
#include "state/lmdb_record.h"

namespace moat::state {
namespace {

std::string describe(std::string_view what, int rc) {
  return fmt::format("lmdb {}: {}", what, mdb_strerror(rc));
}

std::string_view view_of(const MDB_val& value) {
  return {static_cast<const char*>(value.mv_data), value.mv_size};
}

MDB_val val_of(std::string_view text) {
  return {text.size(), const_cast<char*>(text.data())};
}

// A record that still counts at `now_ms`; nullopt when expired or damaged.
std::optional<std::string_view> live_value(std::string_view stored, int64_t now_ms) {
  const auto record = decode_lmdb_record(stored);
  if (!record || record->expires_ms <= now_ms) return std::nullopt;
  return record->value;
}

// LMDB must not have a file open twice in one process: closing either copy
// would drop the other's locks (they are fcntl locks, held per process). So
// open() hands out the database already open at a file, and waits for one
// being closed to finish closing.
struct OpenDatabases {
  std::mutex mutex;
  std::condition_variable closed;
  std::map<std::string, std::weak_ptr<LmdbDatabase>> by_file;  // by canonical path
};

OpenDatabases& open_databases() {
  static OpenDatabases registry;
  return registry;
}

}  // namespace

// --- LmdbWrite ---

std::string LmdbWrite::lmdb_error(std::string_view what, int rc) {
  failed_ = true;
  return describe(what, rc);
}

Result<MDB_val> LmdbWrite::key_of(std::string_view key) {
  if (key.empty()) return std::unexpected("lmdb: empty key");
  return val_of(lmdb_storage_key(key, max_key_size_, scratch_));
}

Result<std::optional<std::string_view>> LmdbWrite::get(std::string_view key) {
  auto k = key_of(key);
  if (!k) return std::unexpected(k.error());
  MDB_val value;
  const int rc = mdb_get(txn_, dbi_, &*k, &value);
  if (rc == MDB_NOTFOUND) return std::nullopt;
  if (rc != 0) return std::unexpected(lmdb_error("get", rc));
  return live_value(view_of(value), now_ms_);
}

Result<void> LmdbWrite::put(std::string_view key, std::string_view value,
                            std::chrono::seconds ttl) {
  auto k = key_of(key);
  if (!k) return std::unexpected(k.error());
  // A time to live too long to count in milliseconds never ends.
  constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
  int64_t expires_ms = kNever;
  if (ttl.count() < (kNever - now_ms_) / 1000) expires_ms = now_ms_ + ttl.count() * 1000;
  const std::string stored = encode_lmdb_record(expires_ms, value);
  MDB_val v = val_of(stored);
  const int rc = mdb_put(txn_, dbi_, &*k, &v, 0);
  if (rc != 0) return std::unexpected(lmdb_error("put", rc));
  return {};
}

Result<void> LmdbWrite::remove(std::string_view key) {
  auto k = key_of(key);
  if (!k) return std::unexpected(k.error());
  const int rc = mdb_del(txn_, dbi_, &*k, nullptr);
  if (rc != 0 && rc != MDB_NOTFOUND) return std::unexpected(lmdb_error("del", rc));
  return {};
}

// --- LmdbDatabase ---

LmdbDatabase::LmdbDatabase(std::string path, LmdbOptions options)
    : path_(std::move(path)), options_(std::move(options)) {
  if (!options_.clock) options_.clock = [] { return std::chrono::system_clock::now(); };
  if (options_.max_batch == 0) options_.max_batch = 1;
  if (options_.sweep_chunk == 0) options_.sweep_chunk = 1;
}

Result<std::shared_ptr<LmdbDatabase>> LmdbDatabase::open(const std::string& path,
                                                         LmdbOptions options) {
  if (path.empty()) return std::unexpected("lmdb: empty database path");
  std::error_code ec;
  std::string file = std::filesystem::weakly_canonical(path, ec).string();
  if (ec) file = path;

  auto& registry = open_databases();
  std::unique_lock lock(registry.mutex);
  for (auto found = registry.by_file.find(file); found != registry.by_file.end();
       found = registry.by_file.find(file)) {
    if (auto open = found->second.lock()) return open;
    registry.closed.wait(lock);  // its destructor is closing the file
  }
  std::shared_ptr<LmdbDatabase> database(new LmdbDatabase(path, std::move(options)));
  if (auto opened = database->open_environment(); !opened) return std::unexpected(opened.error());
  database->writer_ = std::thread([raw = database.get()] { raw->run_writer(); });
  registry.by_file[file] = database;
  database->registered_as_ = file;
  return database;
}

Result<void> LmdbDatabase::open_environment() {
  const auto parent = std::filesystem::path(path_).parent_path();
  std::error_code ec;
  if (!parent.empty() && !std::filesystem::is_directory(parent, ec)) {
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      return std::unexpected(fmt::format("lmdb {}: cannot create directory {}: {}", path_,
                                         parent.string(), ec.message()));
    }
  }
  if (std::filesystem::is_directory(path_, ec)) {
    return std::unexpected(
        fmt::format("lmdb {}: is a directory (the path names the database file)", path_));
  }
  int rc = mdb_env_create(&env_);
  if (rc != 0) return std::unexpected(describe("env_create", rc));
  rc = mdb_env_set_mapsize(env_, options_.map_size);
  if (rc == 0) {
    rc = mdb_env_open(env_, path_.c_str(), MDB_NOSUBDIR | MDB_NOTLS | MDB_NOMETASYNC, 0600);
  }
  if (rc != 0) {
    mdb_env_close(env_);
    env_ = nullptr;
    return std::unexpected(describe(path_, rc));
  }
  int dead = 0;
  mdb_reader_check(env_, &dead);  // slots left by processes that died
  max_key_size_ = static_cast<size_t>(mdb_env_get_maxkeysize(env_));

  MDB_txn* txn = nullptr;
  rc = mdb_txn_begin(env_, nullptr, 0, &txn);
  if (rc == 0) {
    rc = mdb_dbi_open(txn, nullptr, 0, &dbi_);
    if (rc == 0) {
      rc = mdb_txn_commit(txn);
    } else {
      mdb_txn_abort(txn);
    }
  }
  if (rc != 0) {
    mdb_env_close(env_);
    env_ = nullptr;
    return std::unexpected(describe(path_, rc));
  }
  return {};
}

LmdbDatabase::~LmdbDatabase() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_writer_.notify_one();
  if (writer_.joinable()) writer_.join();
  if (env_) mdb_env_close(env_);
  if (!registered_as_.empty()) {
    auto& registry = open_databases();
    {
      std::lock_guard lock(registry.mutex);
      registry.by_file.erase(registered_as_);
    }
    registry.closed.notify_all();
  }
}

int64_t LmdbDatabase::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(options_.clock().time_since_epoch())
      .count();
}

uint64_t LmdbDatabase::submit(std::unique_ptr<LmdbJob> job) {
  uint64_t ticket = 0;
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    const bool waited_for = job->waited_for();
    queue_.push_back(std::move(job));
    ticket = submitted_.load(std::memory_order_relaxed) + 1;
    submitted_.store(ticket, std::memory_order_relaxed);
    waited_for_queued_ += waited_for;
    wake = writer_idle_ || (writer_gathering_ && waited_for);
  }
  // A busy writer takes the queue when its batch is done: no signal needed.
  if (wake) wake_writer_.notify_one();
  return ticket;
}

void LmdbDatabase::wait_idle() {
  std::unique_lock lock(mutex_);
  const uint64_t target = submitted_;
  job_released_.wait(lock, [&] { return released_ >= target; });
}

Result<LmdbStats> LmdbDatabase::stats() {
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
  if (rc != 0) return std::unexpected(describe("stats", rc));
  MDB_stat stat;
  rc = mdb_stat(txn, dbi_, &stat);
  mdb_txn_abort(txn);
  if (rc != 0) return std::unexpected(describe("stats", rc));
  MDB_envinfo info;
  mdb_env_info(env_, &info);
  return LmdbStats{.entries = stat.ms_entries,
                   .map_size = info.me_mapsize,
                   .used_bytes = (info.me_last_pgno + 1) * size_t{stat.ms_psize},
                   .commits = commits_,
                   .jobs = finished_,
                   .swept = swept_};
}

// Each turn: one batch of jobs if any are queued, then one sweep chunk if a
// sweep is due or under way; otherwise sleep until either.
void LmdbDatabase::run_writer() {
  using Clock = std::chrono::steady_clock;
  const bool sweeps = options_.sweep_interval.count() > 0;
  auto next_sweep = Clock::now() + options_.sweep_interval;
  auto last_commit = Clock::now() - options_.behind_delay;
  bool sweeping = false;
  std::unique_lock lock(mutex_);
  while (true) {
    if (queue_.empty() && !stopping_ && !sweeping) {
      const auto woken = [&] { return !queue_.empty() || stopping_; };
      writer_idle_ = true;
      if (sweeps) {
        wake_writer_.wait_until(lock, next_sweep, woken);
      } else {
        wake_writer_.wait(lock, woken);
      }
      writer_idle_ = false;
    }
    if (!queue_.empty() && waited_for_queued_ == 0 && queue_.size() < options_.max_batch &&
        !stopping_) {
      writer_gathering_ = true;
      wake_writer_.wait_until(lock, last_commit + options_.behind_delay, [&] {
        return waited_for_queued_ > 0 || queue_.size() >= options_.max_batch || stopping_;
      });
      writer_gathering_ = false;
    }
    if (!queue_.empty()) {
      std::vector<std::unique_ptr<LmdbJob>> batch;
      while (!queue_.empty() && batch.size() < options_.max_batch) {
        waited_for_queued_ -= queue_.front()->waited_for();
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      lock.unlock();
      std::vector<LmdbJob*> jobs;
      for (auto& job : batch) jobs.push_back(job.get());
      write_jobs(jobs);
      last_commit = Clock::now();
      const size_t count = batch.size();
      batch.clear();  // gone (their hold on the callers' loops too) before wait_idle() returns
      lock.lock();
      released_ += count;
      job_released_.notify_all();
    }
    if (stopping_) {
      if (queue_.empty()) return;
      continue;
    }
    if (sweeps && (sweeping || Clock::now() >= next_sweep)) {
      lock.unlock();
      sweeping = !sweep_step();
      if (!sweeping) next_sweep = Clock::now() + options_.sweep_interval;
      lock.lock();
    }
  }
}

// One transaction for all of `jobs`. When LMDB fails one of them (a full
// map, an I/O error), the transaction is lost: that job gets its error, the
// jobs before it are written again on their own, and the jobs after it go
// on in a fresh transaction. One failure never takes the others along, and
// a job is seldom applied more than twice.
void LmdbDatabase::write_jobs(std::span<LmdbJob* const> jobs) {
  while (!jobs.empty()) {
    MDB_txn* txn = nullptr;
    const int begun = mdb_txn_begin(env_, nullptr, 0, &txn);
    if (begun != 0) {
      const auto error = describe("write", begun);
      for (auto* job : jobs) finish(*job, &error);
      return;
    }
    LmdbWrite write(txn, dbi_, max_key_size_, now_ms());
    size_t applied = 0;
    for (; applied < jobs.size(); ++applied) {
      jobs[applied]->apply(write);
      if (write.failed()) break;
    }
    if (applied == jobs.size()) {
      const int committed = mdb_txn_commit(txn);
      const auto error = committed != 0 ? describe("commit", committed) : std::string();
      if (committed == 0) ++commits_;
      for (auto* job : jobs) finish(*job, committed != 0 ? &error : nullptr);
      return;
    }
    mdb_txn_abort(txn);
    write_jobs(jobs.first(applied));
    finish(*jobs[applied], nullptr);  // its result holds the error; after those before it
    jobs = jobs.subspan(applied + 1);
  }
}

// Counted before the result is posted: a caller holding its result sees it
// in stats() and in finished_jobs(). Jobs finish in submission order (the
// queue is taken in order, and a failed job's neighbours before it finish
// first), so finished_jobs() reaching a ticket means that job is done.
void LmdbDatabase::finish(LmdbJob& job, const std::string* commit_error) {
  finished_.fetch_add(1, std::memory_order_release);
  job.finish(commit_error);
}

bool LmdbDatabase::sweep_step() {
  MDB_txn* txn = nullptr;
  MDB_cursor* cursor = nullptr;
  int rc = mdb_txn_begin(env_, nullptr, 0, &txn);
  if (rc == 0) {
    rc = mdb_cursor_open(txn, dbi_, &cursor);
    if (rc != 0) mdb_txn_abort(txn);
  }
  if (rc != 0) {
    log::warning("master", "state store {}: sweep: {}", path_, mdb_strerror(rc));
    return true;  // try again next interval
  }
  const int64_t now = now_ms();
  MDB_val key = val_of(sweep_from_), value;
  rc = mdb_cursor_get(cursor, &key, &value, sweep_from_.empty() ? MDB_FIRST : MDB_SET_RANGE);
  uint64_t deleted = 0;
  for (size_t examined = 0; rc == 0 && examined < options_.sweep_chunk; ++examined) {
    if (!live_value(view_of(value), now)) {
      rc = mdb_cursor_del(cursor, 0);
      if (rc != 0) break;
      ++deleted;
    }
    // After a delete the cursor already stands on the next entry; MDB_NEXT
    // knows and does not skip it.
    rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT);
  }
  const bool done = rc == MDB_NOTFOUND;
  if (rc != 0 && rc != MDB_NOTFOUND) {
    mdb_cursor_close(cursor);
    mdb_txn_abort(txn);
    log::warning("master", "state store {}: sweep: {}", path_, mdb_strerror(rc));
    sweep_from_.clear();
    return true;
  }
  sweep_from_ = done ? std::string() : std::string(view_of(key));
  mdb_cursor_close(cursor);
  rc = mdb_txn_commit(txn);
  if (rc != 0) {
    log::warning("master", "state store {}: sweep: {}", path_, mdb_strerror(rc));
    sweep_from_.clear();
    return true;
  }
  ++commits_;
  swept_ += deleted;
  return done;
}

// --- LmdbReader ---

LmdbReader::~LmdbReader() {
  if (txn_) mdb_txn_abort(txn_);
}

Result<std::optional<std::string>> LmdbReader::get(std::string_view key) {
  if (key.empty()) return std::unexpected("lmdb: empty key");
  const int begun =
      txn_ ? mdb_txn_renew(txn_) : mdb_txn_begin(database_.env_, nullptr, MDB_RDONLY, &txn_);
  if (begun != 0) {
    if (txn_) mdb_txn_abort(txn_);
    txn_ = nullptr;
    return std::unexpected(describe("read", begun));
  }
  MDB_val k = val_of(lmdb_storage_key(key, database_.max_key_size_, scratch_)), value;
  const int rc = mdb_get(txn_, database_.dbi_, &k, &value);
  Result<std::optional<std::string>> result;
  if (rc == 0) {
    if (const auto live = live_value(view_of(value), database_.now_ms()))
      result = std::string(*live);
  } else if (rc != MDB_NOTFOUND) {
    result = std::unexpected(describe("get", rc));
  }
  mdb_txn_reset(txn_);  // copied out: let the writer reuse the pages
  return result;
}

}  // namespace moat::state
