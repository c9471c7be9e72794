#include "state/store.h"

#include <charconv>

namespace moat::state {
namespace {

// "A,B" as two integers; nullopt for anything else (a damaged value reads
// as absent: the entry starts over).
std::optional<std::pair<int64_t, int64_t>> parse_pair(std::string_view text) {
  const auto comma = text.find(',');
  if (comma == std::string_view::npos) return std::nullopt;
  int64_t a = 0, b = 0;
  const char* begin = text.data();
  const char* middle = begin + comma;
  const char* end = begin + text.size();
  auto [pa, ea] = std::from_chars(begin, middle, a);
  auto [pb, eb] = std::from_chars(middle + 1, end, b);
  if (ea != std::errc() || pa != middle || eb != std::errc() || pb != end) return std::nullopt;
  // Seconds and counts are far smaller; beyond 2^53 a value is damage (and
  // arithmetic on it could overflow; the Redis scripts, in doubles, agree).
  constexpr int64_t kLimit = int64_t{1} << 53;
  if (a < -kLimit || a > kLimit || b < -kLimit || b > kLimit) return std::nullopt;
  return std::pair{a, b};
}

std::string pair_text(int64_t a, int64_t b) {
  return std::to_string(a) + "," + std::to_string(b);
}

}  // namespace

GreylistStep greylist_step(std::optional<std::string_view> stored, const GreylistRule& rule) {
  GreylistStep step;
  int64_t first = rule.now;
  if (stored) {
    if (const auto pair = parse_pair(*stored)) {
      const auto [stored_first, last] = *pair;
      first = stored_first;
      step.seen.was_passed = last - first >= rule.delay;
      if (!step.seen.was_passed && rule.now - first > rule.retry_window) first = rule.now;
      if (first > rule.now) first = rule.now;
    }
  }
  step.seen.first_seen = first;
  step.value = pair_text(first, rule.now);
  return step;
}

CountStep count_event_step(std::optional<std::string_view> stored, int64_t now,
                           std::chrono::seconds interval) {
  CountStep step;
  int64_t count = 0;
  std::optional<int64_t> last;
  if (stored) {
    if (const auto pair = parse_pair(*stored)) {
      count = pair->first;
      last = pair->second;
    }
  }
  // A LAST in the future (clock stepped back) counts as long ago.
  if (!last || now >= *last + interval.count() || *last > now) {
    ++count;
    step.value = pair_text(count, now);
  }
  step.count = count;
  return step;
}

int64_t count_of(std::optional<std::string_view> stored) {
  const auto pair = stored ? parse_pair(*stored) : std::nullopt;
  return pair ? pair->first : 0;
}

asio::awaitable<Result<GreylistAnswer>> Store::greylist_decision(GreylistQuestion question) {
  GreylistAnswer answer;
  const bool counts = !question.client.empty() && question.allowlist_after > 0;
  if (counts) {
    auto stored = co_await get(question.client);
    if (!stored) co_return std::unexpected(stored.error());
    if (count_of(*stored) >= question.allowlist_after) {
      answer.allowlisted = true;
      co_return answer;
    }
  }
  auto seen = co_await greylist(question.triplet, question.rule);
  if (!seen) co_return std::unexpected(seen.error());
  answer.seen = *seen;
  if (counts && answer.seen.first_pass(question.rule)) {
    auto counted = co_await count_event(question.client, question.rule.now, question.count_interval,
                                        std::chrono::seconds(question.rule.max_age));
    if (counted) answer.count = *counted;
  }
  co_return answer;
}

}  // namespace moat::state
