// Postfix's $name syntax in parameter values, and its two uses:
//  - ParameterExpander: main.cf values that refer to other parameters,
//    recursively (mydestination = $myhostname, ...), with reference loops
//    reported instead of followed;
//  - expand_template(): per-message texts such as default_rbl_reply, expanded
//    once with values that are never expanded again (they may come from the
//    network).
// Syntax: $name, ${name}, $(name); ${name?text} gives text when the value of
// name is not empty, ${name:text} when it is empty, ${name?{text}:{text}} one
// or the other; the chosen text is expanded in turn. $$ is a literal $, and a
// $ followed by anything else stays as it is. Names are [A-Za-z0-9_]+; an
// undefined name expands to "" (Postfix keeps the text for its own lookups;
// moat has none). Work is bounded: nesting depth and output size are limited.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace moat::config {

// Calls `on_name` for each name `text` refers to, also inside conditional
// texts whether or not they would be chosen. Returns a description of the
// first $ syntax error, or "" when the syntax is good.
std::string scan_references(std::string_view text,
                            const std::function<void(std::string_view name)>& on_name);

// Expands `text` once; `lookup` gives a name's value (nullopt: undefined),
// used as it is. nullopt when the $ syntax is broken or the result is huge.
std::optional<std::string> expand_template(
    std::string_view text,
    const std::function<std::optional<std::string_view>(std::string_view name)>& lookup);

class ParameterExpander {
 public:
  // A parameter's unexpanded text; nullopt when it is not defined. May call
  // expand() itself (a default computed from another parameter).
  using RawLookup = std::function<std::optional<std::string>(std::string_view name)>;

  struct Error {
    std::string parameter;  // the parameter whose value is at fault
    std::string message;
  };

  // Total size of all expanded values of one config. Real configs stay far
  // below it; it stops a = $b$b, b = $c$c, ... from growing exponentially.
  static constexpr std::size_t kMaxTotalBytes = std::size_t{16} << 20;

  explicit ParameterExpander(RawLookup raw) : raw_(std::move(raw)) {}

  // The expanded value of `name`, "" when undefined; nullptr when it cannot
  // be expanded (bad syntax, a loop, limits): the reason is in errors(),
  // reported once where it starts. Values are computed once and kept.
  const std::string* expand(std::string_view name);

  const std::vector<Error>& errors() const { return errors_; }

 private:
  struct Entry {
    enum class State { kBusy, kDone, kFailed } state = State::kBusy;
    std::string value;
  };

  const std::string* resolve(std::string_view name, int depth);
  void report_loop(std::string_view name);

  RawLookup raw_;
  std::map<std::string, Entry, std::less<>> values_;
  std::vector<std::string> stack_;  // parameters being expanded, outermost first
  std::size_t bytes_left_ = kMaxTotalBytes;
  bool budget_reported_ = false;
  std::vector<Error> errors_;
};

}  // namespace moat::config
