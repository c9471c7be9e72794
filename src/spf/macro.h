// The SPF macro language (RFC 7208 7): syntax checking of macro strings and
// domain-specs (used by the record parser), and expansion of them against
// one check's context (used by the evaluator).
//
// Pure: the caller supplies every value that would need I/O or a clock (the
// validated name of the client for %{p}, the receiving host for %{r}, the
// time for %{t}). Bounded: an explanation that would expand past
// kMaxExpansion is refused (kTooLong: 6.2 then gives no explanation); a
// domain-spec keeps only what 7.3 keeps (the rightmost labels within 253
// characters), so its memory stays small however large the expansion.
//
// Not here: looking anything up, choosing the sender identity (4.3: the
// caller passes the local-part and domain, "postmaster" is substituted for
// an empty local-part here).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace moat::spf {

inline constexpr size_t kMaxExpansion = 65536;   // explanation strings
inline constexpr size_t kMaxDomainLength = 253;  // 7.3

// Where a macro string is used: a domain-spec (mechanism and modifier
// targets: c, r, t are errors, spaces too, the result is truncated to 253)
// or an explanation (the TXT of exp=: every letter, spaces allowed).
enum class MacroUse { kDomain, kExplanation };

// An IP address as the macros see it.
struct ClientIp {
  std::array<uint8_t, 16> bytes{};  // IPv4 in the first 4 bytes
  bool v6 = false;
};

// "192.0.2.3" or "2001:db8::cb01" (inet_pton forms); nullopt otherwise.
std::optional<ClientIp> parse_client_ip(std::string_view text);

// Views: what they point at must outlive the expand() call. An IPv4-mapped
// client (::ffff:a.b.c.d) is the evaluator's to turn into IPv4 first (4.1).
struct MacroContext {
  std::string_view local_part;                  // l; "" means "postmaster" (4.3)
  std::string_view sender_domain;               // o
  std::string_view domain;                      // d: the domain being evaluated
  ClientIp ip;                                  // i, c, v
  std::string_view helo;                        // h
  std::string_view validated_name = "unknown";  // p: the evaluator's 5.5 lookup
  std::string_view receiver = "unknown";        // r
  uint64_t timestamp = 0;                       // t: seconds since the epoch
};

enum class MacroError {
  kNone,
  kSyntax,      // a '%' not starting a macro, an unknown letter, "%{d0}" ...
  kNotAllowed,  // c, r, t in a domain-spec (7.2)
  kTooLong,     // explanation past kMaxExpansion; domain with no label fit
};

// Checks a macro-string (7.1). On failure, *why (if given) says what.
bool valid_macro_string(std::string_view text, MacroUse use, std::string* why = nullptr);

// Checks a domain-spec: a valid macro-string (kDomain) that ends in
// "." toplabel ["."] or in a macro-expand (7.1).
bool valid_domain_spec(std::string_view text, std::string* why = nullptr);

struct Expansion {
  std::string text;
  MacroError error = MacroError::kNone;
  bool ok() const { return error == MacroError::kNone; }
};

// Expands text. For kDomain the result is truncated from the left by whole
// labels to at most 253 characters (7.3); the caller checks it is a usable
// name. For kExplanation it is the text to show.
Expansion expand(std::string_view text, const MacroContext& context, MacroUse use);

}  // namespace moat::spf
