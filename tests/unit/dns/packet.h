// Test helper: builds DNS response messages by hand, for the reader's tests
// and the fake name server in the resolver's tests. Names are written
// uncompressed unless a test writes pointers itself.
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace moat::dns::testing {

using Bytes = std::vector<uint8_t>;

inline void put16(Bytes& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

inline void put32(Bytes& out, uint32_t v) {
  put16(out, static_cast<uint16_t>(v >> 16));
  put16(out, static_cast<uint16_t>(v));
}

// Wire form of raw labels.
inline Bytes labels(std::initializer_list<std::string_view> parts) {
  Bytes out;
  for (std::string_view part : parts) {
    out.push_back(static_cast<uint8_t>(part.size()));
    out.insert(out.end(), part.begin(), part.end());
  }
  out.push_back(0);
  return out;
}

// Wire form of a dotted name without escapes; "" is the root.
inline Bytes wire(std::string_view dotted) {
  Bytes out;
  while (!dotted.empty()) {
    const size_t dot = dotted.find('.');
    const std::string_view part = dotted.substr(0, dot);
    out.push_back(static_cast<uint8_t>(part.size()));
    out.insert(out.end(), part.begin(), part.end());
    if (dot == std::string_view::npos) break;
    dotted.remove_prefix(dot + 1);
  }
  out.push_back(0);
  return out;
}

inline Bytes a_rdata(const char* text) {
  Bytes out(4);
  inet_pton(AF_INET, text, out.data());
  return out;
}

inline Bytes aaaa_rdata(const char* text) {
  Bytes out(16);
  inet_pton(AF_INET6, text, out.data());
  return out;
}

inline Bytes mx_rdata(uint16_t preference, std::string_view exchange) {
  Bytes out;
  put16(out, preference);
  const Bytes name = wire(exchange);
  out.insert(out.end(), name.begin(), name.end());
  return out;
}

inline Bytes txt_rdata(std::initializer_list<std::string_view> strings) {
  Bytes out;
  // Byte by byte: GCC 12 at -O3 warns falsely (-Warray-bounds) about a
  // range insert right after a push_back into a one-byte vector.
  for (std::string_view s : strings) {
    out.push_back(static_cast<uint8_t>(s.size()));
    for (char c : s) out.push_back(static_cast<uint8_t>(c));
  }
  return out;
}

inline Bytes soa_rdata(uint32_t minimum) {
  Bytes out = wire("ns.example");
  const Bytes rname = wire("hostmaster.example");
  out.insert(out.end(), rname.begin(), rname.end());
  for (uint32_t v : {2026u, 3600u, 600u, 86400u}) put32(out, v);
  put32(out, minimum);
  return out;
}

struct Rr {
  Bytes owner;
  uint16_t type = 1;
  uint32_t ttl = 300;
  Bytes rdata;
  uint16_t klass = 1;
};

struct Message {
  uint16_t id = 0x1234;
  uint16_t flags = 0x8180;  // QR, RD, RA
  unsigned rcode = 0;
  Bytes question;  // wire-form name; empty: no question section
  uint16_t qtype = 1;
  std::vector<Rr> answers;
  std::vector<Rr> authority;

  Bytes bytes() const {
    Bytes out;
    put16(out, id);
    put16(out, static_cast<uint16_t>((flags & ~0xF) | (rcode & 0xF)));
    put16(out, question.empty() ? 0 : 1);
    put16(out, static_cast<uint16_t>(answers.size()));
    put16(out, static_cast<uint16_t>(authority.size()));
    put16(out, 0);
    if (!question.empty()) {
      out.insert(out.end(), question.begin(), question.end());
      put16(out, qtype);
      put16(out, 1);
    }
    for (const auto* section : {&answers, &authority}) {
      for (const Rr& rr : *section) {
        out.insert(out.end(), rr.owner.begin(), rr.owner.end());
        put16(out, rr.type);
        put16(out, rr.klass);
        put32(out, rr.ttl);
        put16(out, static_cast<uint16_t>(rr.rdata.size()));
        out.insert(out.end(), rr.rdata.begin(), rr.rdata.end());
      }
    }
    return out;
  }
};

}  // namespace moat::dns::testing
