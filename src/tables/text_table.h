// A table held in memory, parsed from postmap(1)- or aliases(5)-format text.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>

#include "tables/table.h"

namespace moat::tables {

class TextTable final : public Table {
 public:
  // Parses `text`; malformed lines are reported through `error` (first one).
  static std::unique_ptr<TextTable> parse(std::string_view text, SourceFormat format,
                                          std::string* error);
  std::optional<std::string> find(std::string_view key) const override;

 private:
  std::unordered_map<std::string, std::string> entries_;  // lower-cased keys
};

// "name=value" pairs of an inline:{...} table.
std::unique_ptr<TextTable> parse_inline_table(std::string_view body, std::string* error);

}  // namespace moat::tables
