#include "tables/pattern_table.h"

#include <algorithm>
#include <cctype>

#include "tables/if_blocks.h"
#include "tables/source_lines.h"

namespace moat::tables {
namespace {

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

struct ParsedPattern {
  bool negated = false;
  std::string_view pattern;
  std::string_view flags;
  std::string_view rest;  // the text after the flags, trimmed
};

// Reads "[!]/pattern/flags rest" where '/' may be any punctuation character;
// a backslash protects the character after it (it stays in the pattern).
bool read_pattern(std::string_view line, ParsedPattern& out, std::string& error) {
  if (!line.empty() && line.front() == '!') {
    out.negated = true;
    line = trim(line.substr(1));
  }
  if (line.empty()) {
    error = "missing pattern";
    return false;
  }
  const char delimiter = line.front();
  if (std::isalnum(static_cast<unsigned char>(delimiter)) || delimiter == '\\' ||
      is_blank(delimiter)) {
    error = "pattern must start with a delimiter such as '/': \"" + std::string(line) + "\"";
    return false;
  }
  std::size_t i = 1;
  for (; i < line.size() && line[i] != delimiter; ++i) {
    if (line[i] == '\\' && i + 1 < line.size()) ++i;
  }
  if (i >= line.size()) {
    error = std::string("unmatched delimiter '") + delimiter + "' in \"" + std::string(line) + "\"";
    return false;
  }
  out.pattern = line.substr(1, i - 1);
  std::size_t flags_end = i + 1;
  while (flags_end < line.size() && !is_blank(line[flags_end])) ++flags_end;
  out.flags = line.substr(i + 1, flags_end - i - 1);
  out.rest = trim(line.substr(flags_end));
  return true;
}

// Splits a result into literal text and $N references (mac_parse(3) syntax:
// $N, ${N}, $(N), $$ for a literal '$').
bool parse_result(std::string_view text, const Matcher& matcher, bool negated,
                  std::vector<PatternTable::Piece>& pieces, std::string& error) {
  std::string literal;
  auto flush = [&] {
    if (!literal.empty()) pieces.push_back({std::move(literal), -1});
    literal.clear();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$' || i + 1 >= text.size()) {
      literal += text[i];
      continue;
    }
    const char next = text[i + 1];
    std::string_view name;
    std::size_t end;
    if (next == '$') {
      literal += '$';
      ++i;
      continue;
    } else if (next == '{' || next == '(') {
      const char close = next == '{' ? '}' : ')';
      const auto found = text.find(close, i + 2);
      if (found == std::string_view::npos) {
        error = std::string("unbalanced '") + next + "' in result \"" + std::string(text) + "\"";
        return false;
      }
      name = text.substr(i + 2, found - i - 2);
      end = found + 1;
    } else if (is_word_char(next)) {
      end = i + 1;
      while (end < text.size() && is_word_char(text[end])) ++end;
      name = text.substr(i + 1, end - i - 1);
    } else {
      literal += '$';
      continue;
    }
    int index = 0;
    bool numeric = !name.empty();
    for (char c : name) {
      if (!std::isdigit(static_cast<unsigned char>(c))) numeric = false;
      if (numeric) index = std::min(index * 10 + (c - '0'), 100'000);  // beyond any group count
    }
    if (!numeric) {
      error = "non-numeric replacement index \"" + std::string(name) + "\"";
      return false;
    }
    if (index < 1 || index > matcher.group_count()) {
      error = "out-of-range replacement index \"" + std::string(name) + "\"";
      return false;
    }
    if (negated) {
      error = "$" + std::string(name) + " in a rule that applies when its pattern does not match";
      return false;
    }
    flush();
    pieces.push_back({{}, index});
    i = end - 1;
  }
  flush();
  return true;
}

// "if" or "endif" at the start of a line (any case), followed by the end of
// the line or a non-word character.
bool starts_with_word(std::string_view line, std::string_view word) {
  if (line.size() < word.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(line[i])) != word[i]) return false;
  }
  return line.size() == word.size() || !is_word_char(line[word.size()]);
}

}  // namespace

std::unique_ptr<PatternTable> PatternTable::parse(std::string_view text, std::string_view name,
                                                  MatcherCompiler compiler, std::string* error) {
  auto table = std::make_unique<PatternTable>();
  auto read_rule = [&compiler](std::string_view line, Rule& rule) -> std::string {
    ParsedPattern parsed;
    std::string message;
    if (!read_pattern(line, parsed, message)) return message;
    rule.negated = parsed.negated;
    rule.matcher = compiler(parsed.pattern, parsed.flags, &message);
    if (!rule.matcher) return message;
    if (rule.is_if) return parsed.rest.empty() ? "" : extra_text_after_if(parsed.rest);
    if (parsed.rest.empty()) return "no replacement text";
    if (!parse_result(parsed.rest, *rule.matcher, rule.negated, rule.result, message))
      return message;
    for (const auto& piece : rule.result) rule.uses_groups |= piece.group >= 0;
    return "";
  };
  if (auto failed = parse_if_blocks(text, name, table->rules_, starts_with_word, read_rule);
      !failed.empty()) {
    if (error) *error = std::move(failed);
    return nullptr;
  }
  return table;
}

std::optional<std::string> PatternTable::find(std::string_view key) const {
  std::vector<std::string_view> groups;
  std::size_t i = 0;
  while (i < rules_.size()) {
    const Rule& rule = rules_[i];
    const bool applies =
        rule.matcher->match(key, rule.uses_groups ? &groups : nullptr) != rule.negated;
    if (rule.is_if) {
      i = applies ? i + 1 : rule.after_endif;
      continue;
    }
    if (applies) {
      std::string value;
      for (const Piece& piece : rule.result) {
        if (piece.group < 0) {
          value += piece.literal;
        } else if (static_cast<std::size_t>(piece.group) < groups.size()) {
          value += groups[piece.group];
        }
      }
      // Postfix: "empty string result is not allowed"; the key is not found.
      if (value.empty()) return std::nullopt;
      return value;
    }
    ++i;
  }
  return std::nullopt;
}

}  // namespace moat::tables
