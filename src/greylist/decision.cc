#include "greylist/decision.h"

#include <atomic>
#include <ctime>

#include "log/log.h"

namespace moat::greylist {
namespace {

Outcome failed(std::string error) {
  Outcome out;
  out.kind = Outcome::Kind::kFailed;
  out.error = std::move(error);
  return out;
}

// A store that is down fails every decision: one warning a minute is enough.
void warn_store_failure(std::string_view error) {
  static std::atomic<int64_t> last_warning{0};
  const int64_t now = std::time(nullptr);
  int64_t last = last_warning.load();
  if (now - last < 60 || !last_warning.compare_exchange_strong(last, now)) return;
  log::warning("smtpd", "greylisting: state store unavailable: {}", error);
}

std::string reason(const Outcome& o) {
  switch (o.kind) {
    case Outcome::Kind::kPass:
      return o.first_pass ? "triplet found, delay=" + std::to_string(o.waited) : "triplet found";
    case Outcome::Kind::kGreylisted:
      return o.waited == 0 ? "new" : "early-retry (" + std::to_string(o.left) + "s missing)";
    case Outcome::Kind::kAutoAllowlisted:
      return "client AWL";
    case Outcome::Kind::kFailed:
      return "state store unavailable";
  }
  return {};
}

}  // namespace

asio::awaitable<Outcome> decide(state::Store& store, Question q, int64_t now) {
  state::GreylistQuestion& ask = q.ask;
  ask.rule.now = now;
  const auto answer = co_await store.greylist_decision(ask);
  if (!answer) co_return failed(answer.error());
  Outcome out;
  if (answer->allowlisted) {
    out.kind = Outcome::Kind::kAutoAllowlisted;
    co_return out;
  }
  out.waited = now - answer->seen.first_seen;
  out.left = ask.rule.delay - out.waited;
  if (out.left > 0) {
    out.kind = Outcome::Kind::kGreylisted;
    co_return out;
  }
  out.kind = Outcome::Kind::kPass;
  out.first_pass = answer->seen.first_pass(ask.rule);
  if (answer->count == ask.allowlist_after) {
    log::info("smtpd", "greylisting: auto-allowlisted client {}", ask.client.substr(4));
  }
  co_return out;
}

const Outcome* DecisionSet::find(const Question& question) {
  for (auto& e : entries_) {
    if (e.question.ask.triplet == question.ask.triplet) return e.outcome ? &*e.outcome : nullptr;
  }
  entries_.push_back({question, std::nullopt});
  return nullptr;
}

bool DecisionSet::has_needed() const {
  for (const auto& e : entries_) {
    if (!e.outcome) return true;
  }
  return false;
}

void DecisionSet::put(const Question& question, Outcome outcome) {
  for (auto& e : entries_) {
    if (e.question.ask.triplet == question.ask.triplet) {
      e.outcome = std::move(outcome);
      return;
    }
  }
  entries_.push_back({question, std::move(outcome)});
}

asio::awaitable<void> DecisionSet::decide_needed(state::Store* store, std::string_view who) {
  // By index: an entry's strings must outlive the co_await.
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].outcome) continue;
    Outcome outcome = failed("no state store");
    if (store) outcome = co_await decide(*store, entries_[i].question, std::time(nullptr));
    if (outcome.kind == Outcome::Kind::kFailed) warn_store_failure(outcome.error);
    const auto& q = entries_[i].question;
    log::info("smtpd", "{}: greylist: action={}, reason={}, sender=<{}>, recipient=<{}>", who,
              outcome.kind == Outcome::Kind::kGreylisted ? "greylist"
              : outcome.kind == Outcome::Kind::kFailed   ? "error"
                                                         : "pass",
              reason(outcome), q.sender, q.recipient);
    entries_[i].outcome = std::move(outcome);
  }
}

}  // namespace moat::greylist
