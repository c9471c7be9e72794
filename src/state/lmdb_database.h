// The process-wide half of the LMDB state store: one LMDB environment and
// the one thread that writes to it. The per-loop Store fronts that use it
// are in lmdb_store.h.
//
// The database is a single file: PATH holds the data and PATH-lock, beside
// it, LMDB's reader table (MDB_NOSUBDIR). A missing parent directory is
// created. Several moat processes may open the same file; within one
// process, opening a file that is already open returns the database that
// has it (whose options stay in effect): LMDB forbids two opens per process.
//
// Writes: every write is a job on the writer thread's queue. The writer
// takes everything queued (up to max_batch jobs) and applies it in one write
// transaction: one commit, one fsync for the whole batch (group commit).
// Jobs nobody waits for (written behind, lmdb_store.h) wait for company:
// while only such jobs are queued, the writer commits at most once per
// behind_delay, so a stream of them costs one commit, one sync and one
// wake-up of the writer per interval, not per job. A job someone waits
// for is committed at once.
// The read-modify-write operations are atomic because only that thread
// writes (and LMDB's write lock keeps other processes out meanwhile). A job
// that LMDB fails (map full, I/O) gets its error; the batch's other jobs are
// written without it, so one failure never takes the others along.
//
// Reads need no writer: any thread reads through a read-only transaction
// (MDB_NOTLS: transactions are not tied to threads), which is what an
// LmdbReader does.
//
// Expiry: each value carries its expiry time (lmdb_record.h). Readers treat
// expired entries as absent; every sweep_interval the writer deletes them,
// sweep_chunk entries per transaction, between batches of jobs, so the
// write lock is never held long.
//
// Durability: MDB_NOMETASYNC. A commit's data pages are synced, its meta
// page with the next commit: after an OS crash the file is consistent and
// may lack the last commit; a crash of moat alone loses nothing.
//
// Thread safety: open(), submit(), wait_idle() and stats() may be called
// from any thread. Destroying the database finishes every queued job first.
// Open it after any fork(): an LMDB environment does not survive one.
#pragma once

#include <lmdb.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>

#include "state/lmdb_unwritten.h"
#include "state/store.h"

namespace moat::state {

struct LmdbOptions {
  size_t map_size = size_t{1} << 30;  // the most the file may grow to
  std::chrono::milliseconds sweep_interval = std::chrono::seconds(60);  // 0: never
  size_t sweep_chunk = 1000;  // entries examined per sweep transaction
  size_t max_batch = 1024;    // jobs per write transaction
  // How long jobs nobody waits for may wait for a commit (after the last).
  std::chrono::milliseconds behind_delay = std::chrono::milliseconds(5);
  // The wall clock that expiry is measured by; tests set their own.
  std::function<std::chrono::system_clock::time_point()> clock;
};

// For tests and log lines. `entries` counts expired entries not yet swept.
struct LmdbStats {
  size_t entries = 0;
  size_t map_size = 0;    // bytes
  size_t used_bytes = 0;  // pages in use, as bytes
  uint64_t commits = 0;   // write transactions committed by this process
  uint64_t jobs = 0;      // jobs finished
  uint64_t swept = 0;     // expired entries deleted
};

// The writer's transaction, as jobs see it. A view from get() lasts until
// the next put() or remove().
class LmdbWrite {
 public:
  LmdbWrite(MDB_txn* txn, MDB_dbi dbi, size_t max_key_size, int64_t now_ms)
      : txn_(txn), dbi_(dbi), max_key_size_(max_key_size), now_ms_(now_ms) {}

  // The live value at key; nullopt when absent or expired.
  Result<std::optional<std::string_view>> get(std::string_view key);
  Result<void> put(std::string_view key, std::string_view value, std::chrono::seconds ttl);
  Result<void> remove(std::string_view key);

  // LMDB failed inside this transaction: it must be abandoned.
  bool failed() const { return failed_; }

 private:
  Result<MDB_val> key_of(std::string_view key);
  std::string lmdb_error(std::string_view what, int rc);

  MDB_txn* txn_;
  MDB_dbi dbi_;
  size_t max_key_size_;
  int64_t now_ms_;
  std::string scratch_;  // a folded key
  bool failed_ = false;
};

// One queued write. apply() may run more than once (when another job of the
// batch failed, the batch is applied again); each run replaces the result.
class LmdbJob {
 public:
  virtual ~LmdbJob() = default;
  virtual void apply(LmdbWrite& write) = 0;
  // Delivers the result of the last apply(), or `commit_error` when the
  // transaction holding it did not commit.
  virtual void finish(const std::string* commit_error) = 0;
  // Someone waits for finish(): commit without delay.
  virtual bool waited_for() const { return true; }
};

class LmdbDatabase {
 public:
  static Result<std::shared_ptr<LmdbDatabase>> open(const std::string& path,
                                                    LmdbOptions options = {});
  ~LmdbDatabase();
  LmdbDatabase(const LmdbDatabase&) = delete;
  LmdbDatabase& operator=(const LmdbDatabase&) = delete;

  const std::string& path() const { return path_; }
  // Queues a job; its ticket, the count of jobs submitted with it. Jobs
  // finish in the order they were submitted, so the job is done once
  // finished_jobs() has reached its ticket.
  uint64_t submit(std::unique_ptr<LmdbJob> job);
  uint64_t finished_jobs() const { return finished_.load(std::memory_order_acquire); }
  // The fronts' written-behind values, shared by all of them.
  LmdbUnwritten& unwritten() { return unwritten_; }
  // Jobs submitted and not yet finished.
  uint64_t backlog() const { return submitted_.load(std::memory_order_relaxed) - finished_jobs(); }
  // Blocks until every job submitted so far has finished.
  void wait_idle();
  Result<LmdbStats> stats();

  // Milliseconds since the epoch by the options' clock.
  int64_t now_ms() const;

 private:
  friend class LmdbReader;
  LmdbDatabase(std::string path, LmdbOptions options);

  Result<void> open_environment();
  void run_writer();
  void write_jobs(std::span<LmdbJob* const> jobs);
  void finish(LmdbJob& job, const std::string* commit_error);
  bool sweep_step();  // true when the sweep has reached the end

  std::string path_;
  LmdbOptions options_;
  MDB_env* env_ = nullptr;
  MDB_dbi dbi_ = 0;
  size_t max_key_size_ = 0;

  std::mutex mutex_;
  std::condition_variable wake_writer_;
  std::condition_variable job_released_;
  std::deque<std::unique_ptr<LmdbJob>> queue_;
  // Written under mutex_; atomic so that backlog() needs no lock.
  std::atomic<uint64_t> submitted_ = 0;
  // Jobs whose batch is over and whose objects are gone (wait_idle()).
  uint64_t released_ = 0;
  size_t waited_for_queued_ = 0;  // queued jobs that someone waits for
  bool writer_idle_ = false;      // asleep with nothing queued: any job wakes it
  // Letting jobs nobody waits for gather: a waited-for job wakes it.
  bool writer_gathering_ = false;
  bool stopping_ = false;

  std::string registered_as_;  // the key among open databases; empty until open
  LmdbUnwritten unwritten_;

  // The writer's own: where the sweep goes on from (empty: the start).
  std::string sweep_from_;
  std::atomic<uint64_t> commits_ = 0;
  // Jobs finished, in submission order, each counted before its result
  // leaves (finished_jobs(), stats().jobs).
  std::atomic<uint64_t> finished_ = 0;
  std::atomic<uint64_t> swept_ = 0;
  std::thread writer_;
};

// Reads for one thread at a time (a Store front on its loop): one read-only
// transaction, renewed for each read and reset after, so it never pins an
// old snapshot and needs no new reader slot per read.
class LmdbReader {
 public:
  explicit LmdbReader(LmdbDatabase& database) : database_(database) {}
  ~LmdbReader();
  LmdbReader(const LmdbReader&) = delete;
  LmdbReader& operator=(const LmdbReader&) = delete;

  // The live value at key; nullopt when absent or expired.
  Result<std::optional<std::string>> get(std::string_view key);

 private:
  LmdbDatabase& database_;
  MDB_txn* txn_ = nullptr;
  std::string scratch_;
};

}  // namespace moat::state
