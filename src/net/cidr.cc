#include "net/cidr.h"

#include <charconv>

namespace moat::net {
namespace {

std::array<unsigned char, 16> to_v6_bytes(const asio::ip::address& address) {
  if (address.is_v4())
    return asio::ip::make_address_v6(asio::ip::v4_mapped, address.to_v4()).to_bytes();
  return address.to_v6().to_bytes();
}

}  // namespace

bool Network::contains(const asio::ip::address& address) const {
  const auto candidate = to_v6_bytes(address);
  int bits = prefix;
  for (size_t i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    const unsigned mask = bits >= 8 ? 0xffu : (0xffu << (8 - bits)) & 0xffu;
    if ((candidate[i] & mask) != (bytes[i] & mask)) return false;
  }
  return true;
}

std::optional<Network> parse_network(std::string_view text) {
  std::string_view host = text;
  std::string_view length;
  if (const auto slash = text.rfind('/'); slash != std::string_view::npos) {
    host = text.substr(0, slash);
    length = text.substr(slash + 1);
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  asio::error_code ec;
  const auto address = asio::ip::make_address(std::string(host), ec);
  if (ec) return std::nullopt;
  const int max_bits = address.is_v4() ? 32 : 128;
  int bits = max_bits;
  if (!length.empty() || text.find('/') != std::string_view::npos) {
    auto [end, err] = std::from_chars(length.data(), length.data() + length.size(), bits);
    if (err != std::errc() || end != length.data() + length.size() || bits < 0 || bits > max_bits) {
      return std::nullopt;
    }
  }
  Network network;
  network.bytes = to_v6_bytes(address);
  network.prefix = address.is_v4() ? bits + 96 : bits;
  return network;
}

NetworkList NetworkList::parse(const std::vector<std::string>& elements,
                               std::vector<std::string>* bad) {
  std::vector<Network> networks;
  for (const auto& element : elements) {
    if (auto network = parse_network(element)) {
      networks.push_back(*network);
    } else if (bad) {
      bad->push_back(element);
    }
  }
  return NetworkList(std::move(networks));
}

bool NetworkList::contains(const asio::ip::address& address) const {
  for (const auto& network : networks_) {
    if (network.contains(address)) return true;
  }
  return false;
}

}  // namespace moat::net
