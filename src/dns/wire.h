// Internal to src/dns: names between presentation form and wire form, for
// the reader's question check and the resolver's query packets. Not for
// callers outside src/dns (message.h is the public face).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace moat::dns::wire {

constexpr size_t kMaxNameOctets = 255;  // wire form, length octets included
constexpr size_t kMaxLabelOctets = 63;

// Appends the uncompressed wire form of a name in presentation form
// ("a.example", "a.example.", "" or "." for the root; "\DDD" and "\X"
// escapes) to `out`, terminating zero included. False, with `out`
// unchanged, when the name cannot be a DNS name (empty label, label over 63
// octets, name over 255 octets, bad escape).
bool append_name(std::string_view name, std::string& out);

// A query message (RD set, one question of class IN) for `name` and `type`,
// empty when the name cannot be encoded.
std::string query(uint16_t id, std::string_view name, uint16_t type);

// True when two wire-form names are the same name (ASCII case-insensitive).
bool same_name(std::string_view a, std::string_view b);

}  // namespace moat::dns::wire
