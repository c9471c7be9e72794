#include "state/lmdb_unwritten.h"

namespace moat::state {

const std::string* LmdbUnwritten::find(const std::string& key, uint64_t finished) {
  while (!by_ticket_.empty() && by_ticket_.front().first <= finished) {
    const auto& [ticket, written] = by_ticket_.front();
    // A later write of the same key keeps its entry.
    if (const auto it = by_key_.find(written); it != by_key_.end() && it->second.ticket == ticket) {
      by_key_.erase(it);
    }
    by_ticket_.pop_front();
  }
  const auto it = by_key_.find(key);
  return it == by_key_.end() ? nullptr : &it->second.value;
}

void LmdbUnwritten::remember(std::string key, std::string value, uint64_t ticket) {
  by_ticket_.emplace_back(ticket, key);
  by_key_[std::move(key)] = Entry{std::move(value), ticket};
}

}  // namespace moat::state
