// The line structure shared by every file-backed table source (postmap(1),
// aliases(5), regexp_table(5), pcre_table(5), cidr_table(5)): blank lines and
// lines whose first non-blank character is '#' are skipped, and a line that
// starts with whitespace continues the previous logical line. As in Postfix's
// readlline(3), the continuation is appended as it is, leading whitespace
// included: "key first\n  second" has the value "first  second". Each logical
// line is reported with the number of its first physical line, so errors can
// say "FILE, line N" as Postfix does.
#pragma once

#include <cctype>
#include <string>
#include <string_view>

namespace moat::tables {

inline bool is_blank(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

inline std::string_view trim(std::string_view text) {
  while (!text.empty() && is_blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_blank(text.back())) text.remove_suffix(1);
  return text;
}

// ASCII case folding, as Postfix's lowercase(): on the lookup hot path, so
// no locale-aware std::tolower.
inline std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Calls visit(std::string_view logical_line, int first_line_number) for each
// logical line, trimmed of surrounding whitespace. An indented line with no
// logical line to continue (at the start of the text) is not visited:
// orphan(line_number) is called instead (Postfix: "logical line must not
// start with whitespace").
template <typename Visit, typename Orphan>
void for_each_logical_line(std::string_view text, Visit visit, Orphan orphan) {
  std::string current;
  int current_line = 0;
  int line_number = 0;
  auto flush = [&] {
    if (!current.empty()) visit(trim(current), current_line);
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
    if (is_blank(line.front())) {
      if (current.empty()) {
        orphan(line_number);
      } else {
        current += line;
      }
      continue;
    }
    flush();
    current = content;
    current_line = line_number;
  }
  flush();
}

template <typename Visit>
void for_each_logical_line(std::string_view text, Visit visit) {
  for_each_logical_line(text, visit, [](int) {});
}

// Postfix's words for "if /a/ /b/ x", usually an indented rule inside a block.
inline std::string extra_text_after_if(std::string_view text) {
  return "extra text after IF statement: \"" + std::string(text) +
         "\" (do not prepend whitespace to statements between IF and ENDIF)";
}

}  // namespace moat::tables
