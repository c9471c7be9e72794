// What the LMDB store has answered and not yet committed: for each key
// written behind (lmdb_store.h), the value it will hold once the queued
// jobs are done, until the job that writes it has finished. One per
// database, shared by every loop's front, so that a decision made on one
// loop is seen at once on the others (other processes see it at the
// commit).
//
// Not thread-safe by itself: callers hold lock() around find() and
// remember(), and around the read-decide-queue step they belong to, which
// makes that step atomic within the process.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

namespace moat::state {

class LmdbUnwritten {
 public:
  std::unique_lock<std::mutex> lock() { return std::unique_lock(mutex_); }

  // The value at key, or null when nothing for it is unwritten. `finished`
  // is the database's finished_jobs(): entries whose job is done are
  // forgotten first (the commit has them).
  const std::string* find(const std::string& key, uint64_t finished);

  // `value` is what key holds once the job with `ticket` is done.
  void remember(std::string key, std::string value, uint64_t ticket);

 private:
  struct Entry {
    std::string value;
    uint64_t ticket = 0;
  };

  std::mutex mutex_;
  std::unordered_map<std::string, Entry> by_key_;
  std::deque<std::pair<uint64_t, std::string>> by_ticket_;  // in submission order
};

}  // namespace moat::state
