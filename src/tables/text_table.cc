#include "tables/text_table.h"

#include <cctype>

#include "config/values.h"

namespace moat::tables {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  return text;
}

// Splits the text into logical lines: comment lines and blank lines dropped,
// lines starting with whitespace continue the previous one (both formats).
template <typename Visit>
void for_each_logical_line(std::string_view text, Visit visit) {
  std::string current;
  int current_line = 0;
  int line_number = 0;
  auto flush = [&] {
    if (!current.empty()) visit(std::string_view(current), current_line);
    current.clear();
  };
  while (!text.empty()) {
    const auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const auto content = trim(line);
    if (content.empty() || content.front() == '#') continue;
    if (std::isspace(static_cast<unsigned char>(line.front())) && !current.empty()) {
      current += ' ';
      current += content;
      continue;
    }
    flush();
    current = content;
    current_line = line_number;
  }
  flush();
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
      const auto blank = line.find_first_of(" \t");
      key = line.substr(0, blank);
      value = blank == std::string_view::npos ? std::string_view() : trim(line.substr(blank));
    }
    if (key.empty()) return;
    table->entries_.insert_or_assign(lower(key), std::string(value));
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
