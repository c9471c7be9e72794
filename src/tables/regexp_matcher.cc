// regexp: rules on POSIX regcomp()/regexec(), the engine Postfix's
// dict_regexp uses, so patterns mean exactly what they mean there.
#include <regex.h>

#include <algorithm>

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
  auto matcher = std::make_unique<PosixMatcher>();
  if (!matcher->compile(pattern, options, error)) return nullptr;
  return matcher;
}

}  // namespace moat::tables
