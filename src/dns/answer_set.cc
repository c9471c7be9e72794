#include "dns/answer_set.h"

#include <algorithm>

namespace moat::dns {
namespace {

// A session that asks about more names than this is misbehaving (or being
// abused): old answers are dropped, and asked for again if still needed.
constexpr size_t kMaxAnswers = 4096;

AnswerPtr no_resolver() {
  static const AnswerPtr answer = [] {
    Answer a;
    a.status = Status::kTempFail;
    a.error = "no resolver";
    return std::make_shared<const Answer>(std::move(a));
  }();
  return answer;
}

}  // namespace

AnswerSet::AnswerSet(std::shared_ptr<Resolver> resolver) : resolver_(std::move(resolver)) {}

std::string AnswerSet::key(std::string_view name, Type type) {
  std::string out = canonical(name);
  out += '/';
  out += std::to_string(static_cast<unsigned>(type));
  return out;
}

const Answer* AnswerSet::find(std::string_view name, Type type) {
  auto k = key(name, type);
  if (auto it = answers_.find(k); it != answers_.end()) return it->second.get();
  if (AnswerPtr cached = resolver_ ? resolver_->cached(name, type) : nullptr) {
    if (answers_.size() >= kMaxAnswers) answers_.clear();
    return answers_.emplace(std::move(k), std::move(cached)).first->second.get();
  }
  const bool noted = std::ranges::any_of(needed_, [&](const auto& question) {
    return question.second == type && canonical(question.first) == canonical(name);
  });
  if (!noted) needed_.emplace_back(std::string(name), type);
  return nullptr;
}

void AnswerSet::prefetch(std::string_view name, Type type) {
  if (resolver_) resolver_->prefetch(name, type);
}

asio::awaitable<void> AnswerSet::fetch_needed() {
  auto questions = std::move(needed_);
  needed_.clear();
  // Start them all first: the lookups run in parallel and are awaited in turn.
  for (const auto& [name, type] : questions) prefetch(name, type);
  for (const auto& [name, type] : questions) {
    // No co_await inside ?: here: GCC 12 destroys its result twice.
    AnswerPtr answer = no_resolver();
    if (resolver_) answer = co_await resolver_->lookup(name, type);
    if (answers_.size() >= kMaxAnswers) answers_.clear();
    answers_.insert_or_assign(key(name, type), std::move(answer));
  }
}

void AnswerSet::put(std::string_view name, Type type, Answer answer) {
  answers_.insert_or_assign(key(name, type), std::make_shared<const Answer>(std::move(answer)));
}

}  // namespace moat::dns
