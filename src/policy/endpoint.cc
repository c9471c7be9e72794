#include "policy/endpoint.h"

#include <charconv>

namespace moat::policy {
namespace {

std::unexpected<std::string> bad(std::string_view text, std::string_view why) {
  return std::unexpected("policy service \"" + std::string(text) + "\": " + std::string(why));
}

// A port number (1-65535) or a service name such as "smtp" (resolved at
// connect time, as Postfix does).
bool valid_port(std::string_view port) {
  if (port.empty()) return false;
  unsigned number = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (ec == std::errc() && end == port.data() + port.size()) return number >= 1 && number <= 65535;
  for (char c : port) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string Endpoint::address() const {
  if (kind == Kind::kUnix) return path;
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + port;
  return host + ":" + port;
}

std::expected<Endpoint, std::string> parse_endpoint(std::string_view text,
                                                    std::string_view queue_directory) {
  Endpoint endpoint;
  endpoint.text = std::string(text);
  if (text.starts_with("unix:")) {
    const std::string_view path = text.substr(5);
    if (path.empty()) return bad(text, "missing socket path");
    endpoint.kind = Endpoint::Kind::kUnix;
    if (path.front() == '/') {
      endpoint.path = std::string(path);
    } else {
      if (queue_directory.empty()) return bad(text, "relative path and no queue_directory");
      endpoint.path = std::string(queue_directory);
      if (!endpoint.path.ends_with('/')) endpoint.path += '/';
      endpoint.path += path;
    }
    return endpoint;
  }
  if (!text.starts_with("inet:")) return bad(text, "expected inet:host:port or unix:pathname");
  std::string_view rest = text.substr(5);
  std::string_view host;
  if (rest.starts_with('[')) {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return bad(text, "missing \"]\"");
    host = rest.substr(1, close - 1);
    rest = rest.substr(close + 1);
    if (!rest.starts_with(':')) return bad(text, "missing port");
    rest.remove_prefix(1);
  } else {
    const auto colon = rest.rfind(':');
    if (colon == std::string_view::npos) return bad(text, "missing port");
    host = rest.substr(0, colon);
    rest = rest.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return bad(text, "an IPv6 address must be in brackets: inet:[addr]:port");
    }
  }
  if (host.empty()) return bad(text, "missing host");
  if (!valid_port(rest)) return bad(text, "bad port \"" + std::string(rest) + "\"");
  endpoint.kind = Endpoint::Kind::kInet;
  endpoint.host = std::string(host);
  endpoint.port = std::string(rest);
  return endpoint;
}

}  // namespace moat::policy
