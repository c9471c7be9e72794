// Where the Redis store connects and how patiently: the address from
// `moat_state_store = redis:ADDRESS` and the connection's timing.
//
// ADDRESS is "HOST:PORT", "[IPv6]:PORT" or "unix:/absolute/path", each
// optionally followed by "/DB" (the database number, default 0). In a unix
// path the last "/DIGITS" is always the database.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace moat::state {

struct RedisOptions {
  std::string host;  // a name or an IP address (IPv6 without brackets)
  uint16_t port = 6379;
  std::string unix_path;  // when set: a unix-domain socket instead of host and port
  int db = 0;
  std::string password;  // AUTH on every (re)connect when set
  // Every call's limit, from the moment it is made; also a connect's.
  std::chrono::milliseconds timeout{1000};
  // After a failed connect, wait this long before the next one, doubling
  // up to backoff_max. Calls made while waiting fail at once.
  std::chrono::milliseconds backoff_initial{100};
  std::chrono::milliseconds backoff_max{5000};

  // "127.0.0.1:6379", "[::1]:6379", "unix:/run/redis.sock" (for messages).
  std::string address_text() const;
};

// The address part of RedisOptions; the rest keeps its defaults.
std::expected<RedisOptions, std::string> parse_redis_address(std::string_view text);

}  // namespace moat::state
