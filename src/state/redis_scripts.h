// The Redis store's atomic steps as Lua scripts (Redis runs a script as one
// step: no other command interleaves). greylist and count_event are
// store.cc's greylist_step and count_event_step line for line, and
// greylist_decision is Store::greylist_decision's three calls in one
// script; change them together (tests/unit/state/redis_store_test.cc
// compares them).
//
// Numbers arrive as decimal text. Stored integers are read as from_chars
// reads int64 (optional '-', digits, leading zeros allowed, in range) and
// written back from their digits, never through a double; arithmetic is in
// Lua's doubles, exact up to 2^53.
#pragma once

#include <string>
#include <string_view>

namespace moat::state::redis_scripts {

// int(s): an integer in text (at most 2^53 either way) as its number and digits, or nil.
// pair(v): "A,B" as a, a_text, b, b_text; nil when absent or damaged.
// put(key, value, ttl): SET EX; a time to live of 0 or less leaves nothing
// (as in LMDB: written and expired at once; SET refuses such an EX).
inline constexpr std::string_view kPair = R"lua(
local function int(s)
  local sign, digits = string.match(s, '^(%-?)(%d+)$')
  if not digits then return nil end
  digits = string.gsub(digits, '^0+', '')
  if digits == '' then digits, sign = '0', '' end
  local limit = sign == '-' and '9223372036854775808' or '9223372036854775807'
  if #digits > 19 or (#digits == 19 and digits > limit) then return nil end
  local n = tonumber(sign .. digits)
  if math.abs(n) > 9007199254740992 then return nil end
  return n, sign .. digits
end
local function pair(v)
  if not v then return nil end
  local comma = string.find(v, ',', 1, true)
  if not comma then return nil end
  local a, a_text = int(string.sub(v, 1, comma - 1))
  local b, b_text = int(string.sub(v, comma + 1))
  if not a or not b then return nil end
  return a, a_text, b, b_text
end
local function put(key, value, ttl)
  if tonumber(ttl) > 0 then
    redis.call('SET', key, value, 'EX', ttl)
  else
    redis.call('DEL', key)
  end
end
)lua";

// greylist(key, now, delay, retry_window, max_age), all but key as text:
// first_seen (text), was_passed (0 or 1), first_seen (number).
inline constexpr std::string_view kGreylist = R"lua(
local function greylist(key, now_text, delay, retry_window, max_age)
  local now = tonumber(now_text)
  local first, first_text, passed = now, now_text, 0
  local stored, stored_text, last = pair(redis.call('GET', key))
  if stored then
    first, first_text = stored, stored_text
    if last - first >= tonumber(delay) then passed = 1 end
    if passed == 0 and now - first > tonumber(retry_window) then first, first_text = now, now_text end
    if first > now then first, first_text = now, now_text end
  end
  put(key, first_text .. ',' .. now_text, max_age)
  return first_text, passed, first
end
)lua";

// count_event(key, now, interval, ttl), all but key as text: the count
// (text). A LAST in the future (clock stepped back) counts as long ago.
inline constexpr std::string_view kCountEvent = R"lua(
local function count_event(key, now_text, interval, ttl)
  local now = tonumber(now_text)
  local count, count_text, last = pair(redis.call('GET', key))
  if not count then count, count_text = 0, '0' end
  if not last or now >= last + tonumber(interval) or last > now then
    count_text = string.format('%.0f', count + 1)
    put(key, count_text .. ',' .. now_text, ttl)
  end
  return count_text
end
)lua";

// KEYS[1]: the triplet. ARGV: now, delay, retry_window, max_age.
// Returns {first_seen (text), was_passed (0 or 1)}.
inline constexpr std::string_view kGreylistCall = R"lua(
local first_text, passed = greylist(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
return {first_text, passed}
)lua";

// KEYS[1]: the counter. ARGV: now, interval, ttl. Returns the count (text).
inline constexpr std::string_view kCountEventCall = R"lua(
return count_event(KEYS[1], ARGV[1], ARGV[2], ARGV[3])
)lua";

// KEYS[1]: the triplet, KEYS[2]: the client's counter. ARGV: now, delay,
// retry_window, max_age, allowlist_after (0: no counter), count_interval.
// Returns {allowlisted (0 or 1), first_seen (text), was_passed (0 or 1),
// the count after this first pass counted (text; '' when not counted)}.
inline constexpr std::string_view kGreylistDecisionCall = R"lua(
local allowlist_after = tonumber(ARGV[5])
if allowlist_after > 0 then
  local count = pair(redis.call('GET', KEYS[2]))
  if count and count >= allowlist_after then return {1, '', 0, ''} end
end
local first_text, passed, first = greylist(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
local count_text = ''
if allowlist_after > 0 and passed == 0 and tonumber(ARGV[1]) - first >= tonumber(ARGV[2]) then
  count_text = count_event(KEYS[2], ARGV[1], ARGV[6], ARGV[4])
end
return {0, first_text, passed, count_text}
)lua";

// KEYS[1]: the counter. ARGV: by, ttl. Returns the new value. A value that
// is not an integer, or an overflow, is an error reply (as in LMDB). EXPIRE
// with 0 or less deletes.
inline constexpr std::string_view kIncrement = R"lua(
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return value
)lua";

inline std::string greylist() {
  return std::string(kPair) + std::string(kGreylist) + std::string(kGreylistCall);
}
inline std::string count_event() {
  return std::string(kPair) + std::string(kCountEvent) + std::string(kCountEventCall);
}
inline std::string greylist_decision() {
  return std::string(kPair) + std::string(kGreylist) + std::string(kCountEvent) +
         std::string(kGreylistDecisionCall);
}
inline std::string increment() {
  return std::string(kIncrement);
}

}  // namespace moat::state::redis_scripts
