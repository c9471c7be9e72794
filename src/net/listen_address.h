// moat_smtp_listen elements: "127.0.0.1:2525", "[::1]:2525", "0.0.0.0:25".
#pragma once

#include <optional>
#include <string_view>

#include <asio/ip/tcp.hpp>

namespace moat::net {

std::optional<asio::ip::tcp::endpoint> parse_listen_address(std::string_view text);

}  // namespace moat::net
