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

  // This attempt is the first to have waited long enough.
  bool first_pass(const GreylistRule& rule) const {
    return !was_passed && rule.now - first_seen >= rule.delay;
  }
};

// One greylisting decision, postgrey's: the client's auto-allowlist
// counter, then the triplet, then on a first pass the counter again.
struct GreylistQuestion {
  std::string triplet;
  std::string client;                         // the client's counter ("COUNT,LAST"); empty: none
  int64_t allowlist_after = 0;                // a count that allowlists the client; 0: none
  std::chrono::seconds count_interval{3600};  // one first pass an interval counts
  GreylistRule rule;
};

struct GreylistAnswer {
  bool allowlisted = false;      // the client's count had reached allowlist_after: no more asked
  GreylistSeen seen;             // else: the triplet's step
  std::optional<int64_t> count;  // the client's count after this first pass counted
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

  // The whole decision: when the client's counter (count_of) has reached
  // allowlist_after, allowlisted and nothing else; otherwise greylist() on
  // the triplet and, on a first pass, count_event() on the counter (its
  // time to live the triplet's max_age). A failed count costs the count,
  // not the decision. Here as the three calls, each atomic (LMDB's are
  // local); Redis overrides it with one script: one round trip, and the
  // whole decision atomic.
  virtual asio::awaitable<Result<GreylistAnswer>> greylist_decision(GreylistQuestion question);
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

// The COUNT of a counter's "COUNT,LAST"; 0 when absent or damaged.
int64_t count_of(std::optional<std::string_view> stored);

}  // namespace moat::state
