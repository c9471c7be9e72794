#include "dns/cache.h"

#include <time.h>

namespace moat::dns {

namespace {

// The type first, in two raw bytes: no name can be mistaken for another
// name with another type.
void build_key(std::string& k, std::string_view name, Type type) {
  const auto number = static_cast<uint16_t>(type);
  k.clear();
  k.push_back(static_cast<char>(number >> 8));
  k.push_back(static_cast<char>(number & 0xFF));
  k += name;
}

}  // namespace

AnswerCache::Clock::time_point AnswerCache::coarse_now() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
  return Clock::time_point(std::chrono::seconds(now.tv_sec) +
                           std::chrono::nanoseconds(now.tv_nsec));
}

std::string AnswerCache::key(std::string_view name, Type type) {
  std::string k;
  k.reserve(name.size() + 2);
  build_key(k, name, type);
  return k;
}

AnswerCache::AnswerPtr AnswerCache::find(std::string_view name, Type type, Clock::time_point now) {
  build_key(key_, name, type);
  const auto found = index_.find(std::string_view(key_));
  if (found == index_.end()) return nullptr;
  const auto entry = found->second;
  if (entry->expires <= now) {
    index_.erase(found);
    entries_.erase(entry);
    return nullptr;
  }
  entry->used = true;
  return entry->answer;
}

void AnswerCache::put(const std::string& name, Type type, AnswerPtr answer, uint32_t ttl,
                      Clock::time_point now) {
  if (capacity_ == 0 || ttl == 0) return;
  build_key(key_, name, type);
  const auto expires = now + std::chrono::seconds(ttl);
  if (const auto found = index_.find(std::string_view(key_)); found != index_.end()) {
    found->second->answer = std::move(answer);
    found->second->expires = expires;
    found->second->used = true;
    return;
  }
  // Each pass either evicts or clears one mark, so this ends.
  while (entries_.size() >= capacity_) {
    auto oldest = std::prev(entries_.end());
    if (oldest->used && oldest->expires > now) {
      oldest->used = false;
      entries_.splice(entries_.begin(), entries_, oldest);
      continue;
    }
    index_.erase(std::string_view(oldest->key));
    entries_.pop_back();
  }
  entries_.push_front(Entry{key_, std::move(answer), expires});
  index_.emplace(std::string_view(entries_.front().key), entries_.begin());
}

}  // namespace moat::dns
