// cidr: tables (cidr_table(5)): "network/prefix result" or "address result"
// rules, IPv4 and IPv6 ("[2001:db8::]/32" or "2001:db8::/32"), "!pattern"
// for a rule that applies when the address is outside the network, and
// "if pattern" ... "endif" blocks. The first rule that applies wins.
//
// An IPv4 rule matches IPv4 keys only and an IPv6 rule IPv6 keys only
// (::ffff:1.2.3.4 is an IPv6 key), as in Postfix. A key that is not an
// address never matches. A network with host bits set ("1.2.3.4/24"), which
// Postfix skips with a warning, refuses the table: "NAME, line N: ...".
//
// Lookups are const and thread-safe. A run of plain rules is indexed by
// prefix length, so a lookup costs one hash probe per distinct prefix length
// in the run rather than a scan of every rule.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tables/table.h"

namespace moat::tables {

struct IpAddress {
  std::array<unsigned char, 16> bytes{};  // IPv4 in the first 4 bytes
  bool v6 = false;
};

// Strict parse of a dotted-quad IPv4 or an IPv6 address (no brackets).
std::optional<IpAddress> parse_ip_address(std::string_view text);

class CidrTable final : public Table {
 public:
  static std::unique_ptr<CidrTable> parse(std::string_view text, std::string_view name,
                                          std::string* error);

  std::optional<std::string> find(std::string_view key) const override;
  bool matches_patterns() const override { return true; }

  struct Rule {
    IpAddress network;
    int prefix = 0;
    bool negated = false;
    bool is_if = false;
    std::size_t after_endif = 0;  // is_if: the rule to go to when it does not apply
    std::string result;
  };

 private:
  // Rules [first, last) are plain (not negated, not if): one index serves them.
  struct Run {
    std::size_t first = 0;
    std::size_t last = 0;
    // Per family and prefix length: masked network bytes → first rule index.
    struct BytesHash {
      std::size_t operator()(const std::array<unsigned char, 16>& bytes) const {
        std::size_t hash = 1469598103934665603ull;  // FNV-1a
        for (unsigned char b : bytes) hash = (hash ^ b) * 1099511628211ull;
        return hash;
      }
    };
    struct Level {
      bool v6 = false;
      int prefix = 0;
      std::unordered_map<std::array<unsigned char, 16>, std::size_t, BytesHash> networks;
    };
    std::vector<Level> levels;
  };
  void build_index();
  bool applies(const Rule& rule, const IpAddress& address) const;

  std::vector<Rule> rules_;
  std::vector<Run> runs_;
  std::vector<std::size_t> run_at_;  // rule index → run index (or npos)
};

}  // namespace moat::tables
