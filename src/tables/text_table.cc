#include "tables/text_table.h"

#include "config/values.h"
#include "tables/source_lines.h"

namespace moat::tables {
namespace {

// A postmap(1) key runs to the first whitespace outside double quotes; the
// quotes stay part of the key, as in Postfix 3.7 ("a b"@example.com is one key).
std::size_t postmap_key_end(std::string_view line) {
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '\\' && quoted && i + 1 < line.size()) {
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (!quoted && is_blank(c)) {
      return i;
    }
  }
  return line.size();
}

}  // namespace

std::unique_ptr<TextTable> TextTable::parse(std::string_view text, SourceFormat format,
                                            std::string* error) {
  auto table = std::make_unique<TextTable>();
  for_each_logical_line(text, [&](std::string_view line, int number) {
    std::string_view key, value;
    if (format == SourceFormat::kAliases) {
      const auto colon = line.find(':');
      if (colon == std::string_view::npos) {
        if (error && error->empty()) *error = "line " + std::to_string(number) + ": missing ':'";
        return;
      }
      key = trim(line.substr(0, colon));
      value = trim(line.substr(colon + 1));
      if (key.size() >= 2 && key.front() == '"' && key.back() == '"')
        key = key.substr(1, key.size() - 2);
    } else {
      const auto blank = postmap_key_end(line);
      key = line.substr(0, blank);
      value = trim(line.substr(blank));
    }
    if (key.empty()) return;
    // postmap keeps the first of duplicate keys (and warns about the others).
    table->entries_.try_emplace(lower(key), value);
  });
  return table;
}

std::optional<std::string> TextTable::find(std::string_view key) const {
  if (auto it = entries_.find(lower(key)); it != entries_.end()) return it->second;
  return std::nullopt;
}

std::unique_ptr<TextTable> parse_inline_table(std::string_view body, std::string* error) {
  std::string text;
  for (const auto& element : config::split_list(body)) {
    const auto equals = element.find('=');
    if (equals == std::string::npos) {
      if (error && error->empty()) *error = "missing '=' in \"" + element + "\"";
      continue;
    }
    text += element.substr(0, equals) + ' ' + element.substr(equals + 1) + '\n';
  }
  return TextTable::parse(text, SourceFormat::kPostmap, error);
}

}  // namespace moat::tables
