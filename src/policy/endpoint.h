// Where a policy server listens, as check_policy_service names it in
// Postfix: "inet:HOST:PORT", "inet:[IPv6]:PORT", "unix:/abs/path", or
// "unix:private/NAME" (any relative path is taken under queue_directory,
// as Postfix does). Only parsing: connecting is the PolicyClient's work.
#pragma once

#include <expected>
#include <string>
#include <string_view>

namespace moat::policy {

struct Endpoint {
  enum class Kind { kInet, kUnix };
  Kind kind = Kind::kInet;
  std::string host;  // kInet: name or address, without brackets
  std::string port;  // kInet: number or service name
  std::string path;  // kUnix: absolute
  std::string text;  // as configured: names the endpoint in errors and pools

  // "HOST:PORT" or the path, as Postfix names a peer in "connect to ...".
  std::string address() const;
  bool operator==(const Endpoint&) const = default;
};

// The endpoint, or why the text is not one ("inet:host: missing port").
std::expected<Endpoint, std::string> parse_endpoint(std::string_view text,
                                                    std::string_view queue_directory);

}  // namespace moat::policy
