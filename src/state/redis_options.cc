#include "state/redis_options.h"

#include <sys/un.h>

#include <charconv>

#include <asio/ip/address_v6.hpp>

namespace moat::state {
namespace {

bool is_digits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Decimal digits only, no sign, within [0, max].
bool parse_number(std::string_view text, int64_t max, int64_t& value) {
  if (!is_digits(text) || text.size() > 10) return false;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value <= max;
}

bool host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

// Splits a trailing "/DB" off `text` into options.db; an error text or "".
std::string take_db(std::string_view& text, RedisOptions& options) {
  const size_t slash = text.rfind('/');
  if (slash == std::string_view::npos) return "";
  const std::string_view db = text.substr(slash + 1);
  int64_t value = 0;
  if (!parse_number(db, 1'000'000, value)) return "bad database number \"" + std::string(db) + "\"";
  options.db = static_cast<int>(value);
  text = text.substr(0, slash);
  return "";
}

std::expected<RedisOptions, std::string> fail(std::string_view text, const std::string& why) {
  return std::unexpected("redis address \"" + std::string(text) + "\": " + why);
}

}  // namespace

std::string RedisOptions::address_text() const {
  if (!unix_path.empty()) return "unix:" + unix_path;
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::expected<RedisOptions, std::string> parse_redis_address(std::string_view text) {
  RedisOptions options;
  std::string_view rest = text;
  if (rest.starts_with("unix:")) {
    rest.remove_prefix(5);
    // A database needs a path before it: "unix:/2" is the socket "/2".
    const size_t slash = rest.rfind('/');
    if (slash != std::string_view::npos && slash > 0 && is_digits(rest.substr(slash + 1))) {
      if (auto why = take_db(rest, options); !why.empty()) return fail(text, why);
    }
    if (!rest.starts_with('/')) return fail(text, "a unix socket path must be absolute");
    if (rest.size() >= sizeof(sockaddr_un::sun_path))
      return fail(text, "unix socket path too long");
    options.unix_path = std::string(rest);
    return options;
  }
  if (auto why = take_db(rest, options); !why.empty()) return fail(text, why);
  const size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos) return fail(text, "expected HOST:PORT or unix:/PATH");
  std::string_view host = rest.substr(0, colon);
  int64_t port = 0;
  if (!parse_number(rest.substr(colon + 1), 65535, port) || port == 0) {
    return fail(text, "bad port \"" + std::string(rest.substr(colon + 1)) + "\"");
  }
  if (host.starts_with('[')) {
    if (!host.ends_with(']')) return fail(text, "missing ']' after an IPv6 address");
    host = host.substr(1, host.size() - 2);
    asio::error_code error;
    asio::ip::make_address_v6(std::string(host), error);
    if (error) return fail(text, "bad IPv6 address \"" + std::string(host) + "\"");
  } else {
    if (host.empty()) return fail(text, "missing host");
    if (host.find(':') != std::string_view::npos) {
      return fail(text, "write an IPv6 address in brackets: [ADDRESS]:PORT");
    }
    for (char c : host) {
      if (!host_char(c)) return fail(text, "bad host name \"" + std::string(host) + "\"");
    }
  }
  options.host = std::string(host);
  options.port = static_cast<uint16_t>(port);
  return options;
}

}  // namespace moat::state
