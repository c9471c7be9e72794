// regexp: and pcre: tables (regexp_table(5), pcre_table(5)): an ordered list
// of "/pattern/flags result" rules, "!/pattern/ result" for a rule that
// applies when the pattern does not match, and "if /pattern/" ... "endif"
// blocks. The first rule that applies gives the result, with $1..$9 (also
// ${1}, $(1)) replaced by the matched groups and $$ by '$'.
//
// The two types share this syntax and differ only in the regular-expression
// engine: regexp: uses POSIX regcomp() with REG_EXTENDED as Postfix does,
// pcre: uses PCRE2 with JIT. Each engine is a Matcher behind one interface.
//
// Where Postfix warns about a rule and skips it (bad pattern, unknown flag,
// bad $N, missing result, unbalanced if/endif), moat refuses the table with
// "NAME, line N: ..." so the mistake is found by `moat check`, not in traffic.
// Lookups are const and thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tables/table.h"

namespace moat::tables {

// One compiled pattern. match() fills `groups` (when given) with group 0..N,
// an unmatched group as an empty view.
class Matcher {
 public:
  virtual ~Matcher() = default;
  virtual bool match(std::string_view key, std::vector<std::string_view>* groups) const = 0;
  // The number of parenthesized groups, the highest valid $N.
  virtual int group_count() const = 0;
};

// Compiles `pattern` with the rule's `flags` ("i", "x", ...); on failure
// returns null and sets `error`.
using MatcherCompiler = std::unique_ptr<Matcher> (*)(std::string_view pattern,
                                                     std::string_view flags, std::string* error);

class PatternTable final : public Table {
 public:
  // Parses rules from `text`. `name` (usually the file name) prefixes errors:
  // "NAME, line N: message". Returns null with `error` set on the first error.
  static std::unique_ptr<PatternTable> parse(std::string_view text, std::string_view name,
                                             MatcherCompiler compiler, std::string* error);

  std::optional<std::string> find(std::string_view key) const override;
  bool matches_patterns() const override { return true; }

  struct Piece {
    std::string literal;  // used when group < 0
    int group = -1;
  };
  struct Rule {
    std::unique_ptr<Matcher> matcher;
    bool negated = false;
    bool is_if = false;
    std::size_t after_endif = 0;  // is_if: the rule to go to when it does not apply
    std::vector<Piece> result;
    bool uses_groups = false;
  };

 private:
  std::vector<Rule> rules_;
};

// regexp_table(5): POSIX extended regular expressions (regcomp), flags i
// (case-insensitive, on by default), x (extended syntax, on by default), m
// (newline-sensitive); each flag letter toggles the default.
std::unique_ptr<Matcher> compile_posix_regexp(std::string_view pattern, std::string_view flags,
                                              std::string* error);

// pcre_table(5): PCRE2 with JIT; flags i and s (on by default), m, x, A, E,
// U, X (accepted and ignored, as Postfix does with PCRE2).
std::unique_ptr<Matcher> compile_pcre(std::string_view pattern, std::string_view flags,
                                      std::string* error);

inline std::unique_ptr<PatternTable> parse_regexp_table(std::string_view text,
                                                        std::string_view name, std::string* error) {
  return PatternTable::parse(text, name, compile_posix_regexp, error);
}
inline std::unique_ptr<PatternTable> parse_pcre_table(std::string_view text, std::string_view name,
                                                      std::string* error) {
  return PatternTable::parse(text, name, compile_pcre, error);
}

}  // namespace moat::tables
