// The state store: the one asynchronous key-value interface every stateful
// feature uses (greylisting now; allowlists, rate counters and bans later).
//
// Two backends: LMDB on one host (lmdb_store.h; the embedded default) and
// Redis shared by many MX hosts (redis_store.h). A Store object belongs to
// one event-loop thread (like dns::Resolver): its operations are awaited
// from coroutines on that loop and complete there. Backends share what
// must be shared (one LMDB environment and writer thread per process).
//
// Keys are namespaced per feature: "FEATURE:rest" ("grey:...", "awl:...").
// Values are short strings. Every write carries a time to live; expired
// entries read as absent and are swept in the background.
//
// Failure is a value, never an exception: an operation that cannot reach
// the store or times out returns an error text, and the caller decides
// (moat_state_store_failure_action).
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <asio/awaitable.hpp>

namespace moat::state {

template <typename T>
using Result = std::expected<T, std::string>;

// Greylisting's rule for one triplet, postgrey's: times in seconds since
// the epoch and seconds.
struct GreylistRule {
  int64_t now = 0;
  int64_t delay = 300;               // how long a new triplet must wait
  int64_t retry_window = 2 * 86400;  // a first retry later than this starts over
  int64_t max_age = 35 * 86400;      // the entry's time to live after its last use
};

// What the store knew of a triplet, after recording this attempt.
struct GreylistSeen {
  int64_t first_seen = 0;   // the attempt the delay counts from
  bool was_passed = false;  // an earlier attempt had already waited long enough
};

class Store {
 public:
  virtual ~Store() = default;

  // "lmdb" or "redis", for log lines.
  virtual std::string_view kind() const = 0;

  virtual asio::awaitable<Result<std::optional<std::string>>> get(std::string key) = 0;
  virtual asio::awaitable<Result<void>> set(std::string key, std::string value,
                                            std::chrono::seconds ttl) = 0;
  // Adds `by` to the integer at key (absent: 0) and sets its time to live;
  // the new value.
  virtual asio::awaitable<Result<int64_t>> increment(std::string key, int64_t by,
                                                     std::chrono::seconds ttl) = 0;
  virtual asio::awaitable<Result<void>> remove(std::string key) = 0;

  // Greylisting's check-and-update, atomic however many moat processes share
  // the store. The value at key is "FIRST,LAST" (seconds). In one step:
  //   absent (or unreadable)      -> first = now, was_passed = false
  //   present                     -> was_passed = LAST - FIRST >= delay;
  //                                  if not was_passed and now - FIRST >
  //                                  retry_window: first = now (start over);
  //                                  a FIRST in the future becomes now
  //   then store "first,now" with time to live max_age.
  // The caller greylists while now - first < delay. (LMDB answers before
  // the step's write commits, from what its front knows: lmdb_store.h.)
  virtual asio::awaitable<Result<GreylistSeen>> greylist(std::string key, GreylistRule rule) = 0;

  // Counts an event at most once per `interval`, atomically: the value is
  // "COUNT,LAST"; when absent or now >= LAST + interval it becomes
  // "COUNT+1,now" (time to live `ttl`). Returns the count after the step.
  // (Greylisting's client auto-allowlist: one success an hour counts.)
  virtual asio::awaitable<Result<int64_t>> count_event(std::string key, int64_t now,
                                                       std::chrono::seconds interval,
                                                       std::chrono::seconds ttl) = 0;
};

// The pure rules of the two atomic operations, shared by the backends that
// run them in C++ (LMDB) and by tests of those that run them elsewhere
// (Redis runs the same rules as Lua scripts).
struct GreylistStep {
  std::string value;  // to store: "first,now"
  GreylistSeen seen;
};
GreylistStep greylist_step(std::optional<std::string_view> stored, const GreylistRule& rule);

struct CountStep {
  std::optional<std::string> value;  // to store, or nullopt: unchanged
  int64_t count = 0;
};
CountStep count_event_step(std::optional<std::string_view> stored, int64_t now,
                           std::chrono::seconds interval);

}  // namespace moat::state
