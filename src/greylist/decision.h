// One greylisting decision against the state store, and the decisions one
// SMTP session's restrictions asked for.
//
// A decision is postgrey's: a client the auto-allowlist knows (enough
// earlier successful retries) passes; otherwise the triplet's entry is
// checked and updated in one atomic store operation, and the client
// greylisted until `delay` has passed since the triplet was first seen.
// The first time a triplet passes, the client's auto-allowlist count goes
// up (at most once an hour). The store answers all of it in one call
// (Store::greylist_decision: one round trip to Redis).
//
// check_greylist (src/restrict/) asks the DecisionSet; an unknown decision
// is noted and the check is pending, as DNS answers are (dns/answer_set.h):
// the session awaits decide_needed() and evaluates again. Decisions stay
// for the mail transaction (clear()).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <asio/awaitable.hpp>

#include "state/store.h"

namespace moat::greylist {

struct Question {
  // For the store: the triplet (greylist::triplet_key()), the client's
  // counter "awl:ADDRESS" (empty: no auto-allowlist), the rule (rule.now
  // is set when the question is decided).
  state::GreylistQuestion ask;
  std::string sender, recipient;  // for the log line
};

struct Outcome {
  enum class Kind { kPass, kGreylisted, kAutoAllowlisted, kFailed };
  Kind kind = Kind::kFailed;
  int64_t waited = 0;       // seconds since the triplet was first seen
  int64_t left = 0;         // kGreylisted: seconds still to wait
  bool first_pass = false;  // kPass: the first attempt that waited long enough
  std::string error;        // kFailed: what the store said
};

// Decides `question` at time `now` (seconds since the epoch).
asio::awaitable<Outcome> decide(state::Store& store, Question question, int64_t now);

class DecisionSet {
 public:
  // The outcome for the question's triplet, or null: the question is noted.
  const Outcome* find(const Question& question);
  bool has_needed() const;
  // Decides every noted question through `store` (null: each fails) and
  // logs one postgrey-style line per decision, prefixed with `who`.
  asio::awaitable<void> decide_needed(state::Store* store, std::string_view who);
  void put(const Question& question, Outcome outcome);  // tests
  void clear() { entries_.clear(); }

 private:
  struct Entry {
    Question question;
    std::optional<Outcome> outcome;
  };
  std::vector<Entry> entries_;  // a few per transaction: a flat list
};

}  // namespace moat::greylist
