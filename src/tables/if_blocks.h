// The block structure that cidr_table(5), regexp_table(5) and pcre_table(5)
// share: rules in file order, "IF pattern" ... "ENDIF" blocks that nest,
// and Postfix's errors for a stray ENDIF, text after it, an IF left open
// and a first line that starts with whitespace, each as "NAME, line N: ...".
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tables/source_lines.h"

namespace moat::tables {

// Parses `text` into `rules`, where Rule has `bool is_if` and `size_t
// after_endif` (set here: the index just past the IF's ENDIF, where a
// lookup goes on when the IF does not apply).
//
// is_keyword(line, "endif") / (line, "if"): whether the line starts with
// that keyword (the tables differ in what may follow one). read_rule(line,
// rule) reads a rule, rule.is_if set and the IF keyword taken off; it
// returns an error message, or "" when `rule` is made.
//
// Returns the first error, or "" when the whole text is rules.
template <typename Rule, typename IsKeyword, typename ReadRule>
std::string parse_if_blocks(std::string_view text, std::string_view name, std::vector<Rule>& rules,
                            IsKeyword is_keyword, ReadRule read_rule) {
  std::string first_error;
  auto fail = [&](int number, std::string_view message) {
    if (first_error.empty()) {
      first_error = std::string(name) + ", line " + std::to_string(number) + ": ";
      first_error += message;
    }
  };
  std::vector<std::pair<std::size_t, int>> open_ifs;  // rule index, line
  for_each_logical_line(
      text,
      [&](std::string_view line, int number) {
        if (!first_error.empty()) return;
        if (is_keyword(line, "endif")) {
          if (open_ifs.empty()) return fail(number, "ENDIF without matching IF");
          if (!trim(line.substr(5)).empty()) return fail(number, "extra text after ENDIF");
          rules[open_ifs.back().first].after_endif = rules.size();
          open_ifs.pop_back();
          return;
        }
        Rule rule;
        rule.is_if = is_keyword(line, "if");
        if (rule.is_if) line = trim(line.substr(2));
        if (const std::string error = read_rule(line, rule); !error.empty()) {
          return fail(number, error);
        }
        if (rule.is_if) open_ifs.emplace_back(rules.size(), number);
        rules.push_back(std::move(rule));
      },
      [&](int number) { fail(number, "logical line must not start with whitespace"); });
  if (!open_ifs.empty()) fail(open_ifs.back().second, "IF has no matching ENDIF");
  return first_error;
}

}  // namespace moat::tables
