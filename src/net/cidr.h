// CIDR network lists such as mynetworks: "127.0.0.0/8 [::1]/128 192.0.2.1".
// IPv4 networks also match IPv4-mapped IPv6 client addresses.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <asio/ip/address.hpp>

namespace moat::net {

struct Network {
  std::array<unsigned char, 16> bytes{};  // IPv4 stored as IPv4-mapped IPv6
  int prefix = 128;                       // in IPv6 bits (IPv4 /8 → 104)

  bool contains(const asio::ip::address& address) const;
};

// "1.2.3.0/24", "1.2.3.4", "[::1]/128", "::1/128", "[2001:db8::]/32".
std::optional<Network> parse_network(std::string_view text);

class NetworkList {
 public:
  NetworkList() = default;
  explicit NetworkList(std::vector<Network> networks) : networks_(std::move(networks)) {}
  // Elements that do not parse are returned through `bad` (for config checks).
  static NetworkList parse(const std::vector<std::string>& elements, std::vector<std::string>* bad);

  bool contains(const asio::ip::address& address) const;
  bool empty() const { return networks_.empty(); }

 private:
  std::vector<Network> networks_;
};

}  // namespace moat::net
