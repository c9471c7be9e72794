// regexp: rules on POSIX regcomp()/regexec(), the engine Postfix's
// dict_regexp uses, so patterns mean exactly what they mean there.
#include <regex.h>

#include <algorithm>
#include <cctype>

#include "tables/pattern_table.h"

namespace moat::tables {
namespace {

class PosixMatcher final : public Matcher {
 public:
  PosixMatcher() = default;
  PosixMatcher(const PosixMatcher&) = delete;
  PosixMatcher& operator=(const PosixMatcher&) = delete;
  ~PosixMatcher() override {
    if (compiled_) regfree(&regex_);
  }

  bool compile(std::string_view pattern, int flags, std::string* error) {
    const std::string text(pattern);
    const int status = regcomp(&regex_, text.c_str(), flags);
    if (status != 0) {
      char message[256];
      regerror(status, &regex_, message, sizeof message);
      if (error) *error = message;
      return false;
    }
    compiled_ = true;
    return true;
  }

  // regexec() on a const regex_t is thread-safe (POSIX).
  bool match(std::string_view key, std::vector<std::string_view>* groups) const override {
    const std::string subject(key);
    if (!groups) return regexec(&regex_, subject.c_str(), 0, nullptr, 0) == 0;
    constexpr std::size_t kMaxGroups = 100;
    regmatch_t matches[kMaxGroups];
    const std::size_t count = std::min<std::size_t>(regex_.re_nsub + 1, kMaxGroups);
    if (regexec(&regex_, subject.c_str(), count, matches, 0) != 0) return false;
    groups->assign(count, std::string_view());
    for (std::size_t i = 0; i < count; ++i) {
      if (matches[i].rm_so < 0) continue;
      // Views into `key`: regexec stops at a NUL, so offsets stay inside it.
      (*groups)[i] = key.substr(matches[i].rm_so, matches[i].rm_eo - matches[i].rm_so);
    }
    return true;
  }

  int group_count() const override { return static_cast<int>(regex_.re_nsub); }

 private:
  regex_t regex_{};
  bool compiled_ = false;
};

// glibc's regcomp() expands bounded repetitions into automaton states, so
// "(a{255}){255}" costs gigabytes. Estimate the expanded size (an atom is
// 1, a group the sum of its parts, a repetition multiplies its atom by the
// upper bound, '+' doubles it as glibc copies the atom for it: "a+++..."
// grows exponentially; '*' and '?' are counted the same way) and refuse patterns far beyond
// anything a table needs.
constexpr std::size_t kMaxExpandedSize = 100'000;

const char* complexity_problem(std::string_view pattern, bool extended) {
  constexpr const char* kTooComplex =
      "regular expression too complex (repetition counts multiply too far)";
  std::vector<std::size_t> group_sums{0};  // a stack: one running sum per open group
  std::size_t last_atom = 0;
  int adjacent_quantifiers = 0;
  auto add = [&](std::size_t size) {
    adjacent_quantifiers = 0;
    group_sums.back() = std::min(group_sums.back() + size, kMaxExpandedSize + 1);
    last_atom = size;
  };
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    const bool open =
        extended ? c == '(' : c == '\\' && i + 1 < pattern.size() && pattern[i + 1] == '(';
    const bool close =
        extended ? c == ')' : c == '\\' && i + 1 < pattern.size() && pattern[i + 1] == ')';
    const bool brace =
        extended ? c == '{' : c == '\\' && i + 1 < pattern.size() && pattern[i + 1] == '{';
    // '*' and '?' (and '+' in basic syntax, a GNU extension) count as '+':
    // stacked quantifiers ("()****") make regexec() crawl even when regcomp()
    // does not copy the atom.
    const bool plus = c == '*' || (extended && (c == '+' || c == '?')) ||
                      (!extended && c == '\\' && i + 1 < pattern.size() &&
                       (pattern[i + 1] == '+' || pattern[i + 1] == '?'));
    if (open) {
      if (!extended) ++i;
      group_sums.push_back(0);
      adjacent_quantifiers = 0;
    } else if (close && group_sums.size() > 1) {
      if (!extended) ++i;
      const std::size_t size = std::max<std::size_t>(group_sums.back(), 1);
      group_sums.pop_back();
      add(size);
    } else if (brace || plus) {
      // POSIX leaves adjacent repetition operators undefined, and glibc's
      // regcomp() needs exponential time for a run of them ("(.)*++++++").
      // Two are allowed: ".*?" from Perl habits means "(.*)?" to glibc.
      if (++adjacent_quantifiers > 2) return "more than two adjacent repetition operators";
      if (c == '\\') ++i;  // the backslash of a basic-syntax operator
      // '+' doubles the atom; {n,m} copies it max(n, m) times.
      std::size_t bound = plus ? 2 : 1;
      if (brace) {
        std::size_t number = 0, j = i + 1;
        for (; j < pattern.size() &&
               (std::isdigit(static_cast<unsigned char>(pattern[j])) || pattern[j] == ',');
             ++j) {
          if (pattern[j] == ',') {
            number = 0;
          } else {
            number = std::min<std::size_t>(number * 10 + (pattern[j] - '0'), kMaxExpandedSize + 1);
            bound = std::max(bound, number);
          }
        }
        i = j;  // at the closing brace (or its backslash in basic syntax)
        if (!extended && i + 1 < pattern.size()) ++i;
      }
      const std::size_t grown = std::min(last_atom * bound, kMaxExpandedSize + 1);
      group_sums.back() = std::min(
          group_sums.back() - std::min(group_sums.back(), last_atom) + grown, kMaxExpandedSize + 1);
      last_atom = grown;
    } else if (c == '[') {
      // A bracket expression is one atom; ']' right after '[' or '[^' is literal.
      std::size_t j = i + 1;
      if (j < pattern.size() && pattern[j] == '^') ++j;
      if (j < pattern.size() && pattern[j] == ']') ++j;
      while (j < pattern.size() && pattern[j] != ']') ++j;
      i = j;
      add(1);
    } else if (c == '\\') {
      ++i;
      add(1);
    } else {
      add(1);
    }
    for (std::size_t sum : group_sums) {
      if (sum > kMaxExpandedSize) return kTooComplex;
    }
  }
  return nullptr;
}

}  // namespace

std::unique_ptr<Matcher> compile_posix_regexp(std::string_view pattern, std::string_view flags,
                                              std::string* error) {
  int options = REG_EXTENDED | REG_ICASE;
  for (char flag : flags) {
    switch (flag) {
      case 'i':
        options ^= REG_ICASE;
        break;
      case 'x':
        options ^= REG_EXTENDED;
        break;
      case 'm':
        options ^= REG_NEWLINE;
        break;
      default:
        if (error) *error = std::string("unknown regexp option \"") + flag + "\"";
        return nullptr;
    }
  }
  if (const char* problem = complexity_problem(pattern, options & REG_EXTENDED)) {
    if (error) *error = problem;
    return nullptr;
  }
  auto matcher = std::make_unique<PosixMatcher>();
  if (!matcher->compile(pattern, options, error)) return nullptr;
  return matcher;
}

}  // namespace moat::tables
