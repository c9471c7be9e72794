// SPF records (RFC 7208 4.5, 4.6, 5, 6, 12): picking the one "v=spf1"
// record out of a name's TXT strings and parsing it into directives and
// modifiers, with every syntax rule of the RFC's ABNF checked up front, so a
// malformed record is a permerror before any DNS work is done.
//
// Pure functions: no I/O, no exceptions for bad input, work linear in the
// record's length. Domain-specs stay unexpanded macro strings (syntax
// checked, see macro.h); the evaluator expands them per check.
//
// Not here: evaluation (check_host(), DNS lookups and their limits, 4.6.4),
// macro expansion (macro.h).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace moat::spf {

// Bounds that make an absurd record a permerror rather than work: far above
// any published record (RFC 7208 3.4 asks for records that fit in 512-byte
// answers; TXT concatenation allows more, a DNS message never 64 KiB).
inline constexpr size_t kMaxRecordLength = 65535;
inline constexpr size_t kMaxTerms = 2048;

enum class Qualifier : char { kPass = '+', kFail = '-', kSoftFail = '~', kNeutral = '?' };

enum class Mechanism { kAll, kInclude, kA, kMx, kPtr, kIp4, kIp6, kExists };

std::string_view mechanism_name(Mechanism mechanism);  // "all", "include", ...

struct Directive {
  Qualifier qualifier = Qualifier::kPass;
  Mechanism mechanism = Mechanism::kAll;
  // include, exists: always set; a, mx, ptr: "" means <domain> (the current
  // domain). An unexpanded macro-string that passed domain-spec syntax.
  std::string domain_spec;
  // a, mx: both; ip4: cidr4; ip6: cidr6. Defaults are the full lengths.
  int cidr4 = 32;
  int cidr6 = 128;
  // ip4: the network in the first 4 bytes; ip6: all 16 (network order).
  // Host bits past the prefix are kept as written; match by masking.
  std::array<uint8_t, 16> network{};
};

struct Record {
  std::vector<Directive> directives;       // in record order
  std::optional<std::string> redirect;     // redirect= domain-spec, unexpanded
  std::optional<std::string> explanation;  // exp= domain-spec, unexpanded
  size_t unknown_modifiers = 0;            // syntax-checked and ignored (6)
};

enum class RecordStatus {
  kOk,         // record is set
  kNone,       // no SPF record among the TXT strings (4.5: "none")
  kPermError,  // more than one SPF record, or a syntax error (error says which)
};

struct RecordResult {
  RecordStatus status = RecordStatus::kNone;
  Record record;
  std::string error;  // for kPermError: a short reason fit for a log line
};

// True when text is an SPF version 1 record: "v=spf1" (any case) followed
// by the end or a space (4.5).
bool is_spf_record(std::string_view text);

// 4.5: of a name's TXT records (each one's character-strings already
// concatenated), keeps the SPF ones: none -> kNone, two or more ->
// kPermError, exactly one -> parsed.
RecordResult select_record(std::span<const std::string> txt_records);

// Parses one record; text must pass is_spf_record() (else kNone).
RecordResult parse_record(std::string_view text);

}  // namespace moat::spf
