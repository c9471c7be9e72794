// Arbitrary bytes as a regexp: table (regexp_table(5)) source, then a few
// lookups. Besides not crashing or hanging: a refused table says
// "NAME, line N: ...", and a found value is never empty.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tables/pattern_table.h"

using namespace moat::tables;

namespace {
void check(bool condition) {
  if (!condition) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string error;
  const auto table = parse_regexp_table(text, "fuzz.regexp", &error);
  if (!table) {
    check(error.starts_with("fuzz.regexp, line "));
    return 0;
  }
  check(table->matches_patterns());
  const std::string keys[] = {"", "a", "user@example.com", "ABC", std::string(text.substr(0, 64))};
  for (const auto& key : keys) {
    const auto value = table->find(key);
    check(!value || !value->empty());
  }
  return 0;
}
