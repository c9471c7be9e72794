// pcre: rules on PCRE2, JIT-compiled when the platform supports it.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "tables/pattern_table.h"

namespace moat::tables {
namespace {

// Match data is per thread: a compiled pattern is shared by every worker,
// and pcre2_match() with its own match data is thread-safe.
pcre2_match_data* thread_match_data() {
  struct Holder {
    pcre2_match_data* data = pcre2_match_data_create(100, nullptr);
    ~Holder() { pcre2_match_data_free(data); }
  };
  thread_local Holder holder;
  return holder.data;
}

class PcreMatcher final : public Matcher {
 public:
  PcreMatcher() = default;
  PcreMatcher(const PcreMatcher&) = delete;
  PcreMatcher& operator=(const PcreMatcher&) = delete;
  ~PcreMatcher() override { pcre2_code_free(code_); }

  bool compile(std::string_view pattern, uint32_t options, std::string* error) {
    int status = 0;
    PCRE2_SIZE offset = 0;
    code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), options,
                          &status, &offset, nullptr);
    if (!code_) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(status, message, sizeof message);
      if (error) {
        *error = "error in pattern \"" + std::string(pattern) + "\" at offset " +
                 std::to_string(offset) + ": " + reinterpret_cast<const char*>(message);
      }
      return false;
    }
    pcre2_jit_compile(code_, PCRE2_JIT_COMPLETE);  // falls back to the interpreter
    uint32_t count = 0;
    pcre2_pattern_info(code_, PCRE2_INFO_CAPTURECOUNT, &count);
    group_count_ = static_cast<int>(count);
    return true;
  }

  bool match(std::string_view key, std::vector<std::string_view>* groups) const override {
    pcre2_match_data* data = thread_match_data();
    const int rc = pcre2_match(code_, reinterpret_cast<PCRE2_SPTR>(key.data()), key.size(), 0, 0,
                               data, nullptr);
    // rc == 0: more groups than the match data holds; the match still stands.
    if (rc < 0) return false;
    if (groups) {
      const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(data);
      const uint32_t pairs = pcre2_get_ovector_count(data);
      const std::size_t count = rc == 0 ? pairs : static_cast<std::size_t>(rc);
      groups->assign(count, std::string_view());
      for (std::size_t i = 0; i < count; ++i) {
        if (ovector[2 * i] == PCRE2_UNSET) continue;
        (*groups)[i] = key.substr(ovector[2 * i], ovector[2 * i + 1] - ovector[2 * i]);
      }
    }
    return true;
  }

  int group_count() const override { return group_count_; }

 private:
  pcre2_code* code_ = nullptr;
  int group_count_ = 0;
};

}  // namespace

std::unique_ptr<Matcher> compile_pcre(std::string_view pattern, std::string_view flags,
                                      std::string* error) {
  // pcre_table(5): i and s are on by default, the others off.
  uint32_t options = PCRE2_CASELESS | PCRE2_DOTALL;
  for (char flag : flags) {
    switch (flag) {
      case 'i':
        options ^= PCRE2_CASELESS;
        break;
      case 'm':
        options ^= PCRE2_MULTILINE;
        break;
      case 's':
        options ^= PCRE2_DOTALL;
        break;
      case 'x':
        options ^= PCRE2_EXTENDED;
        break;
      case 'A':
        options ^= PCRE2_ANCHORED;
        break;
      case 'E':
        options ^= PCRE2_DOLLAR_ENDONLY;
        break;
      case 'U':
        options ^= PCRE2_UNGREEDY;
        break;
      case 'X':
        break;  // PCRE_EXTRA: always on in PCRE2
      default:
        if (error) *error = std::string("unknown pcre option \"") + flag + "\"";
        return nullptr;
    }
  }
  auto matcher = std::make_unique<PcreMatcher>();
  if (!matcher->compile(pattern, options, error)) return nullptr;
  return matcher;
}

}  // namespace moat::tables
