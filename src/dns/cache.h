// The resolver's answer cache: (canonical name, type) → answer, each kept
// until its TTL runs out, at most `capacity` entries, evicted in
// approximately least-recently-used order (CLOCK, "second chance": a hit
// only marks its entry, so a hit touches one entry and moves nothing; the
// entry at the old end that was used since it last got there goes back to
// the new end once instead of out). What gets in is the resolver's choice (it keeps out
// temporary failures and TTL 0); the cache only counts time and space.
//
// Single-threaded, like the resolver that owns it. The clock is passed in
// so tests can move time.
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "dns/message.h"

namespace moat::dns {

class AnswerCache {
 public:
  using Clock = std::chrono::steady_clock;
  using AnswerPtr = std::shared_ptr<const Answer>;

  explicit AnswerCache(size_t capacity) : capacity_(capacity) {}

  // The answer while it is fresh, else null (an expired entry is dropped).
  // Allocates nothing.
  AnswerPtr find(std::string_view name, Type type, Clock::time_point now);
  // Keeps `answer` for `ttl` seconds from `now`, replacing what was there.
  void put(const std::string& name, Type type, AnswerPtr answer, uint32_t ttl,
           Clock::time_point now);

  size_t size() const { return entries_.size(); }

  // Now, to a few milliseconds (CLOCK_MONOTONIC_COARSE, the same epoch as
  // Clock): plenty for TTLs in seconds, and a fraction of the cost.
  static Clock::time_point coarse_now();

  // The map key of (name, type); the resolver keys its in-flight table
  // the same way.
  static std::string key(std::string_view name, Type type);

 private:
  struct Entry {
    std::string key;
    AnswerPtr answer;
    Clock::time_point expires;
    bool used = false;  // hit since it was put at the new end
  };
  size_t capacity_;
  std::list<Entry> entries_;  // newest first
  // Keyed by views of the entries' own keys (list nodes never move).
  std::unordered_map<std::string_view, std::list<Entry>::iterator> index_;
  std::string key_;  // find()'s key, built in place
};

}  // namespace moat::dns
