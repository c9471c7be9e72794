#include "config/values.h"

#include <charconv>
#include <limits>

namespace moat::config {
namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Postfix separates list elements with commas and blanks (CHARS_COMMA_SP).
bool is_list_separator(char c) {
  return c == ',' || is_blank(c);
}

bool equals_ignoring_case(std::string_view text, std::string_view lower) {
  if (text.size() != lower.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

std::optional<long long> seconds_per_unit(char unit) {
  switch (unit) {
    case 's':
      return 1;
    case 'm':
      return 60;
    case 'h':
      return 60 * 60;
    case 'd':
      return 24 * 60 * 60;
    case 'w':
      return 7 * 24 * 60 * 60;
    default:
      return std::nullopt;
  }
}

// "{ a b }" -> "a b" when the first brace closes at the very end; anything
// else (no braces, "{a}{b}", an unclosed brace) is returned unchanged.
std::string_view strip_outer_braces(std::string_view element) {
  if (element.size() < 2 || element.front() != '{' || element.back() != '}') return element;
  int depth = 0;
  for (std::size_t i = 0; i < element.size(); ++i) {
    if (element[i] == '{') ++depth;
    if (element[i] == '}' && --depth == 0 && i + 1 != element.size()) return element;
  }
  std::string_view inner = element.substr(1, element.size() - 2);
  while (!inner.empty() && is_blank(inner.front())) inner.remove_prefix(1);
  while (!inner.empty() && is_blank(inner.back())) inner.remove_suffix(1);
  return inner;
}

}  // namespace

std::optional<bool> parse_boolean(std::string_view text) {
  if (equals_ignoring_case(text, "yes")) return true;
  if (equals_ignoring_case(text, "no")) return false;
  return std::nullopt;
}

std::optional<long long> parse_integer(std::string_view text) {
  long long value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

std::optional<std::chrono::seconds> parse_time(std::string_view text, char default_unit) {
  char unit = default_unit;
  if (!text.empty() && (text.back() < '0' || text.back() > '9')) {
    unit = text.back();
    text.remove_suffix(1);
  }
  auto multiplier = seconds_per_unit(unit);
  // No sign: a time is never negative, and Postfix accepts no '+' either.
  if (!multiplier || text.empty() || text.front() == '-') return std::nullopt;
  auto count = parse_integer(text);
  if (!count || *count > std::numeric_limits<long long>::max() / *multiplier) return std::nullopt;
  return std::chrono::seconds(*count * *multiplier);
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> elements;
  std::size_t i = 0;
  while (i < text.size()) {
    if (is_list_separator(text[i])) {
      ++i;
      continue;
    }
    // An element runs to the next separator outside braces.
    std::size_t start = i;
    int depth = 0;
    for (; i < text.size() && (depth > 0 || !is_list_separator(text[i])); ++i) {
      if (text[i] == '{') ++depth;
      if (text[i] == '}' && depth > 0) --depth;
    }
    std::string_view element = strip_outer_braces(text.substr(start, i - start));
    if (!element.empty()) elements.emplace_back(element);
  }
  return elements;
}

}  // namespace moat::config
