#include "dns/answer_set.h"

#include <algorithm>

namespace moat::dns {
namespace {

// A session that asks about more names than this is misbehaving (or being
// abused): trim() drops its answers, asked for again if still needed.
// (It also bounds the linear search.)
constexpr size_t kMaxAnswers = 1024;

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

// The key is the canonical name and two bytes of type, built in a reused
// buffer: a lookup of a known answer allocates nothing.
std::string_view AnswerSet::key(std::string_view name, Type type) {
  if (name.ends_with('.')) name.remove_suffix(1);
  key_.assign(name);
  for (auto& c : key_) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  const auto t = static_cast<uint16_t>(type);
  key_ += '\0';
  key_ += static_cast<char>(t >> 8);
  key_ += static_cast<char>(t & 0xff);
  return key_;
}

const Answer* AnswerSet::lookup(std::string_view k) const {
  const size_t hash = std::hash<std::string_view>{}(k);
  for (const auto& kept : answers_) {
    if (kept.hash == hash && std::string_view(keys_).substr(kept.offset, kept.size) == k) {
      return kept.answer.get();
    }
  }
  return nullptr;
}

const Answer* AnswerSet::keep(std::string_view k, AnswerPtr answer) {
  const size_t hash = std::hash<std::string_view>{}(k);
  for (auto& kept : answers_) {
    if (kept.hash == hash && std::string_view(keys_).substr(kept.offset, kept.size) == k) {
      kept.answer = std::move(answer);
      return kept.answer.get();
    }
  }
  answers_.push_back({hash, keys_.size(), k.size(), std::move(answer)});
  keys_ += k;
  return answers_.back().answer.get();
}

const Answer* AnswerSet::find(std::string_view name, Type type) {
  const auto k = key(name, type);
  if (const Answer* known = lookup(k)) return known;
  if (AnswerPtr cached = resolver_ ? resolver_->cached(name, type) : nullptr) {
    return keep(k, std::move(cached));
  }
  const bool noted = std::ranges::any_of(needed_, [&](const auto& question) {
    return question.second == type && question.first == name;
  });
  if (!noted) needed_.emplace_back(std::string(name), type);
  return nullptr;
}

void AnswerSet::trim() {
  if (answers_.size() < kMaxAnswers) return;
  answers_.clear();
  keys_.clear();
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
    keep(key(name, type), std::move(answer));
  }
}

void AnswerSet::put(std::string_view name, Type type, Answer answer) {
  keep(key(name, type), std::make_shared<const Answer>(std::move(answer)));
}

}  // namespace moat::dns
