#include "policy/queries.h"

namespace moat::policy {

const Answer* Queries::find(const Service& service, const Attributes& request) {
  std::string key = encode(request);
  for (auto& e : entries_) {
    if (e.key == key && e.service == service) return e.answer ? &*e.answer : nullptr;
  }
  entries_.push_back({service, request, std::move(key), std::nullopt});
  return nullptr;
}

bool Queries::has_needed() const {
  for (const auto& e : entries_) {
    if (!e.answer) return true;
  }
  return false;
}

asio::awaitable<void> Queries::query_needed(PolicyClient* client) {
  // By index: the entries stay put while this runs (nothing adds to them).
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].answer) continue;
    Answer answer = std::unexpected(std::string("no policy client"));
    if (client) {
      const Service& s = entries_[i].service;
      answer = co_await client->query(s.endpoint, s.settings, entries_[i].request);
    }
    entries_[i].answer = std::move(answer);
  }
}

}  // namespace moat::policy
