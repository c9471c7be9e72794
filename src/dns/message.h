// DNS answers as moat uses them: the wire-format reader for what a name
// server sends back, and the names moat asks about (reverse names, DNSBL
// query names).
//
// The reader is the one place untrusted DNS bytes are parsed: bounded,
// never throws, never reads outside the buffer, survives compression loops,
// truncated and oversized messages (it is fuzzed). It keeps only what the
// restrictions and SPF need: the records of the asked type at the end of
// the CNAME chain inside the message, their TTLs, and the negative-caching
// TTL from the authority section's SOA (RFC 2308).
//
// Names are in presentation form, lower-cased, without the trailing dot;
// bytes that are not printable, '.', '\\' and the space inside a label are
// written as "\DDD" (RFC 1035 5.1), so names compare as their raw labels.
//
// Not here: sending queries (resolver.h) and caching (cache.h).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace moat::dns {

enum class Type : uint16_t {
  kA = 1,
  kNS = 2,
  kCNAME = 5,
  kSOA = 6,
  kPTR = 12,
  kMX = 15,
  kTXT = 16,
  kAAAA = 28,
};

std::string_view type_name(Type type);  // "A", "MX", ...

struct Record {
  Type type = Type::kA;
  uint32_t ttl = 0;
  std::string name;  // the owner name
  // A: 4 bytes, AAAA: 16 bytes of the address, network order.
  std::array<uint8_t, 16> address{};
  // NS, CNAME, PTR: the target name; MX: the exchange ("" for a null MX ".").
  std::string target;
  uint16_t preference = 0;  // MX
  // TXT: the character-strings of the record, concatenated (RFC 7208 3.3).
  std::string text;
  // TXT: each character-string apart, for callers that care.
  std::vector<std::string> strings;
};

// What one question got, after following CNAMEs.
enum class Status {
  kOk,        // at least one record of the asked type
  kNoData,    // the name exists, no record of that type (NOERROR, empty)
  kNxDomain,  // the name does not exist
  kTempFail,  // SERVFAIL, REFUSED, timeout, unreachable server, malformed answer
};

struct Answer {
  Status status = Status::kTempFail;
  std::vector<Record> records;  // of the asked type, owned by the last name of the chain
  // How long the answer may be cached: the least TTL of the records used
  // (CNAMEs included); for kNoData/kNxDomain min(SOA TTL, SOA minimum),
  // or 0 without an SOA; 0 for kTempFail.
  uint32_t ttl = 0;
  // The name the records belong to (the question name or its CNAME target).
  std::string canonical_name;
  // Set when the message ends the chain at a CNAME whose target has no
  // records in this message: the resolver asks again for this name.
  // Such an answer has status kNoData and the least CNAME TTL; a NOERROR
  // message that ends the chain with the target zone's SOA in the
  // authority section is a final kNoData instead (no follow_cname).
  std::string follow_cname;
  // For kTempFail: why, for log lines ("SERVFAIL", "timeout", "malformed
  // answer: ...").
  std::string error;
};

// Interprets a response message to the question (name, type): rcode,
// question check, CNAME chain (at most 16 links), the records of `type`.
// A message that does not parse or does not answer the question is
// kTempFail with `error` saying why.
Answer read_answer(std::span<const uint8_t> message, std::string_view name, Type type);

// Name helpers.
// "d.c.b.a" for IPv4 a.b.c.d, 32 reversed nibbles for IPv6 (no zone suffix),
// from an address in text form; empty when `address` is not an address.
std::string reversed_address(std::string_view address);
// reversed_address(address) + ".in-addr.arpa" or ".ip6.arpa".
std::string reverse_name(std::string_view address);
// Lower-case, drop one trailing dot: the form names are compared and cached in.
std::string canonical(std::string_view name);

// Text form of an A/AAAA record's address ("192.0.2.1", "2001:db8::1").
std::string address_text(const Record& record);

}  // namespace moat::dns
