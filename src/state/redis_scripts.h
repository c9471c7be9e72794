// The Redis store's atomic steps as Lua scripts (Redis runs a script as one
// step: no other command interleaves). greylist and count_event are
// store.cc's greylist_step and count_event_step line for line; change them
// together (tests/unit/state/redis_store_test.cc compares them).
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

// KEYS[1]: the triplet. ARGV: now, delay, retry_window, max_age.
// Returns {first_seen (text), was_passed (0 or 1)}.
inline constexpr std::string_view kGreylistBody = R"lua(
local now, now_text = tonumber(ARGV[1]), ARGV[1]
local first, first_text, passed = now, now_text, 0
local stored, stored_text, last = pair(redis.call('GET', KEYS[1]))
if stored then
  first, first_text = stored, stored_text
  if last - first >= tonumber(ARGV[2]) then passed = 1 end
  if passed == 0 and now - first > tonumber(ARGV[3]) then first, first_text = now, now_text end
  if first > now then first, first_text = now, now_text end
end
put(KEYS[1], first_text .. ',' .. now_text, ARGV[4])
return {first_text, passed}
)lua";

// KEYS[1]: the counter. ARGV: now, interval, ttl. Returns the count (text).
// A LAST in the future (clock stepped back) counts as long ago.
inline constexpr std::string_view kCountEventBody = R"lua(
local now, now_text = tonumber(ARGV[1]), ARGV[1]
local count, count_text, last = pair(redis.call('GET', KEYS[1]))
if not count then count, count_text = 0, '0' end
if not last or now >= last + tonumber(ARGV[2]) or last > now then
  count_text = string.format('%.0f', count + 1)
  put(KEYS[1], count_text .. ',' .. now_text, ARGV[3])
end
return count_text
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
  return std::string(kPair) + std::string(kGreylistBody);
}
inline std::string count_event() {
  return std::string(kPair) + std::string(kCountEventBody);
}
inline std::string increment() {
  return std::string(kIncrement);
}

}  // namespace moat::state::redis_scripts
