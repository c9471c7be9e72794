// The greylisting triplet, as postgrey forms it: the client's network, the
// sender with its per-message parts taken out, and the recipient; keys in
// the state store are "grey:" + "NETWORK/SENDER/RECIPIENT" in lower case.
#pragma once

#include <string>
#include <string_view>

#include <asio/ip/address.hpp>

namespace moat::greylist {

// postgrey's sender substitutions, so that a bounce address that changes
// with every message is one sender: lower case; BATV "prvs=TAG=user" (or
// "prvs=user=TAG") becomes "user"; an extension "+..." is dropped; numbers
// standing alone in the local part (VERP) become "#". The null sender
// stays "".
std::string normalised_sender(std::string_view sender);

// The client's network for the triplet: the address with its host bits
// cleared to /ipv4_prefix or /ipv6_prefix ("192.0.2.0", "2001:db8:1:2::");
// the address itself when a prefix is the full length. IPv4-mapped IPv6
// clients count as IPv4.
std::string client_network(const asio::ip::address& client, int ipv4_prefix, int ipv6_prefix);

std::string triplet_key(std::string_view client, std::string_view sender,
                        std::string_view recipient);

}  // namespace moat::greylist
