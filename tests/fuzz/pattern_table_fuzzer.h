// The body shared by the regexp: and pcre: table fuzz targets: arbitrary bytes
// as table source, then a few lookups. Besides not crashing or hanging: a
// refused table says "NAME, line N: ...", and a found value is never empty.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tables/pattern_table.h"

template <typename Parse>
int fuzz_pattern_table(const uint8_t* data, size_t size, Parse parse, std::string_view name) {
  auto check = [](bool condition) {
    if (!condition) std::abort();
  };
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string error;
  const auto table = parse(text, name, &error);
  if (!table) {
    check(error.starts_with(std::string(name) + ", line "));
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
