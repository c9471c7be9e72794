#include "policy/listen_address.h"

#include <sys/un.h>

#include <charconv>

namespace moat::policy {
namespace {

std::unexpected<std::string> bad(std::string_view text, std::string_view why) {
  return std::unexpected("\"" + std::string(text) + "\": " + std::string(why));
}

}  // namespace

std::string ListenAddress::text() const {
  if (kind == Kind::kUnix) return "unix:" + path;
  const auto host = inet.address().to_string();
  const auto port = std::to_string(inet.port());
  return inet.address().is_v6() ? "inet:[" + host + "]:" + port : "inet:" + host + ":" + port;
}

std::expected<ListenAddress, std::string> parse_policy_listen_address(std::string_view text) {
  ListenAddress address;
  if (text.starts_with("unix:")) {
    const std::string_view path = text.substr(5);
    if (path.empty()) return bad(text, "missing socket path");
    if (path.front() != '/') return bad(text, "the socket path must be absolute");
    // sun_path holds the path and its terminating NUL.
    if (path.size() >= sizeof(sockaddr_un::sun_path)) {
      return bad(text, "socket path longer than " +
                           std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes");
    }
    if (path.find('\0') != std::string_view::npos) return bad(text, "NUL byte in the path");
    address.kind = ListenAddress::Kind::kUnix;
    address.path = std::string(path);
    return address;
  }
  if (!text.starts_with("inet:")) return bad(text, "expected inet:HOST:PORT or unix:/PATH");
  const std::string_view rest = text.substr(5);
  const auto colon = rest.rfind(':');
  if (colon == std::string_view::npos) return bad(text, "missing :PORT");
  std::string_view host = rest.substr(0, colon);
  const std::string_view port_text = rest.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return bad(text, "an IPv6 address must be in brackets: inet:[::1]:PORT");
  }
  if (host.empty()) return bad(text, "missing HOST");
  unsigned port = 0;
  const auto [end, err] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || err != std::errc() || end != port_text.data() + port_text.size() ||
      port == 0 || port > 65535) {
    return bad(text, "PORT must be a number from 1 to 65535");
  }
  asio::error_code ec;
  const auto ip = asio::ip::make_address(std::string(host), ec);
  if (ec) return bad(text, "HOST must be an IP address");
  address.inet = asio::ip::tcp::endpoint(ip, static_cast<unsigned short>(port));
  return address;
}

}  // namespace moat::policy
