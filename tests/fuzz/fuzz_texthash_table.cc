// Arbitrary bytes as a postmap(1) / aliases(5) source (texthash:, hash:),
// then lookups. Besides not crashing: a key written at the start of a line
// is found (any case), and a postmap-format source is never refused.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tables/text_table.h"

using namespace moat::tables;

namespace {
void check(bool condition) {
  if (!condition) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string error;
  const auto postmap = TextTable::parse(text, SourceFormat::kPostmap, &error);
  check(postmap && error.empty());
  for (const char* key : {"", "a", "example.com", "\"quoted key\""}) postmap->find(key);
  // "key value" on the first line with a plain key: that key is found.
  const std::string_view first = text.substr(0, text.find('\n'));
  const auto blank = first.find_first_of(" \t");
  if (blank != std::string_view::npos && blank > 0 &&
      first.find_first_of("\"#\r\v\f") == std::string_view::npos) {
    check(postmap->find(first.substr(0, blank)).has_value());
  }
  error.clear();
  const auto aliases = TextTable::parse(text, SourceFormat::kAliases, &error);
  check(aliases != nullptr);
  aliases->find("root");
  return 0;
}
