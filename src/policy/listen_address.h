// Where moat's own policy server listens (moat_policy_listen elements), in
// the words Postfix's check_policy_service uses for the other end:
// "inet:127.0.0.1:10040", "inet:[::1]:10040", "unix:/run/moat/policy".
// Addresses are numeric: a listener binds one address, and a host name may
// resolve to several or change. Unix socket paths are absolute (there is no
// queue_directory to be relative to).
#pragma once

#include <expected>
#include <string>
#include <string_view>

#include <asio/ip/tcp.hpp>

namespace moat::policy {

struct ListenAddress {
  enum class Kind { kInet, kUnix };
  Kind kind = Kind::kInet;
  asio::ip::tcp::endpoint inet;  // kInet
  std::string path;              // kUnix

  // "inet:HOST:PORT" or "unix:PATH", as written in main.cf.
  std::string text() const;
  bool operator==(const ListenAddress&) const = default;
};

// The address, or why the text is not one, naming it:
// "\"inet:localhost:10040\": HOST must be an IP address" (the caller names the parameter).
std::expected<ListenAddress, std::string> parse_policy_listen_address(std::string_view text);

}  // namespace moat::policy
