#include "config/expand.h"

#include <utility>

namespace moat::config {
namespace {

// Postfix's limit on nested references ("unreasonable macro call nesting");
// it also bounds the recursion of this code on hostile input.
constexpr int kMaxDepth = 100;
constexpr std::size_t kMaxTemplateBytes = std::size_t{1} << 20;

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

// One piece of a value: literal text, a reference, or a syntax error.
struct Token {
  enum class Kind { kLiteral, kReference, kError };
  Kind kind = Kind::kLiteral;
  std::string_view text;       // the literal text, the referenced name, or the error
  char op = 0;                 // '?' or ':' of a conditional reference, else 0
  std::string_view then_text;  // chosen when the condition holds
  std::string_view else_text;  // chosen otherwise (only ${name?{a}:{b}})
};

Token make_token(Token::Kind kind, std::string_view text) {
  Token token;
  token.kind = kind;
  token.text = text;
  return token;
}

Token error(std::string_view message) {
  return make_token(Token::Kind::kError, message);
}

// Index of the bracket closing text[open], counting nested pairs of the same
// kind as Postfix does; npos when it is never closed.
std::size_t find_close(std::string_view text, std::size_t open) {
  const char opening = text[open];
  const char closing = opening == '{' ? '}' : ')';
  int depth = 0;
  for (std::size_t i = open; i < text.size(); ++i) {
    if (text[i] == opening) ++depth;
    if (text[i] == closing && --depth == 0) return i;
  }
  return std::string_view::npos;
}

// "{text}" at the start of `rest`: sets `inner` to the trimmed text and
// removes it and the blanks after it from `rest`.
bool take_braced(std::string_view& rest, std::string_view& inner) {
  if (rest.empty() || rest.front() != '{') return false;
  std::size_t close = find_close(rest, 0);
  if (close == std::string_view::npos) return false;
  inner = trim(rest.substr(1, close - 1));
  rest = trim(rest.substr(close + 1));
  return true;
}

// The inside of ${...} or $(...).
Token parse_braced_reference(std::string_view body) {
  std::size_t name_end = 0;
  while (name_end < body.size() && is_name_char(body[name_end])) ++name_end;
  Token token = make_token(Token::Kind::kReference, body.substr(0, name_end));
  if (token.text.empty()) return error("missing parameter name after ${ or $(");
  if (name_end == body.size()) return token;
  token.op = body[name_end];
  if (token.op != '?' && token.op != ':') return error("unexpected character after parameter name");
  std::string_view rest = body.substr(name_end + 1);
  if (rest.empty() || rest.front() != '{') {
    token.then_text = rest;  // the classic form: the text runs to the end
    return token;
  }
  // The Postfix 3 form: {text}, and after '?' optionally :{text}.
  if (!take_braced(rest, token.then_text)) return error("unclosed '{' in conditional text");
  if (token.op == '?' && !rest.empty() && rest.front() == ':') {
    rest = trim(rest.substr(1));
    if (!take_braced(rest, token.else_text)) return error("expected {text} after ':'");
  }
  if (!rest.empty()) return error("unexpected text after {text}");
  return token;
}

// Takes the next token off the front of `rest`.
Token next_token(std::string_view& rest) {
  std::size_t dollar = rest.find('$');
  if (dollar != 0) {
    std::size_t length = dollar == std::string_view::npos ? rest.size() : dollar;
    Token token = make_token(Token::Kind::kLiteral, rest.substr(0, length));
    rest.remove_prefix(length);
    return token;
  }
  const char next = rest.size() > 1 ? rest[1] : '\0';
  if (next == '{' || next == '(') {
    std::size_t close = find_close(rest, 1);
    if (close == std::string_view::npos) {
      rest = {};
      return error("missing '}' or ')' after ${ or $(");
    }
    Token token = parse_braced_reference(rest.substr(2, close - 2));
    rest.remove_prefix(close + 1);
    return token;
  }
  if (is_name_char(next)) {
    std::size_t end = 1;
    while (end < rest.size() && is_name_char(rest[end])) ++end;
    Token token = make_token(Token::Kind::kReference, rest.substr(1, end - 1));
    rest.remove_prefix(end);
    return token;
  }
  // "$$" is one literal '$'; a lone '$' before anything else stays as it is.
  Token token = make_token(Token::Kind::kLiteral, rest.substr(0, 1));
  rest.remove_prefix(next == '$' ? 2 : 1);
  return token;
}

enum class Failure { kSyntax, kTooDeep, kTooLarge };

// The expansion loop shared by parameters and templates. `resolve(name,
// depth)` gives a name's value as std::optional<std::string_view> (nullopt:
// it failed and was reported); `fail(Failure, message)` records a failure
// found here.
template <typename Resolve, typename Fail>
bool expand_text(std::string_view text, int depth, std::size_t& bytes_left, std::string& out,
                 Resolve& resolve, Fail& fail) {
  if (depth > kMaxDepth) {
    fail(Failure::kTooDeep, "references nested more than 100 levels deep");
    return false;
  }
  auto append = [&](std::string_view piece) {
    if (piece.size() > bytes_left) {
      fail(Failure::kTooLarge, "expanded values too large");
      return false;
    }
    bytes_left -= piece.size();
    out += piece;
    return true;
  };
  while (!text.empty()) {
    Token token = next_token(text);
    if (token.kind == Token::Kind::kError) {
      fail(Failure::kSyntax, token.text);
      return false;
    }
    if (token.kind == Token::Kind::kLiteral) {
      if (!append(token.text)) return false;
      continue;
    }
    std::optional<std::string_view> value = resolve(token.text, depth + 1);
    if (!value) return false;
    if (token.op == 0) {
      if (!append(*value)) return false;
      continue;
    }
    bool holds = token.op == '?' ? !value->empty() : value->empty();
    std::string_view chosen = holds ? token.then_text : token.else_text;
    if (!expand_text(chosen, depth + 1, bytes_left, out, resolve, fail)) return false;
  }
  return true;
}

std::string scan(std::string_view text, int depth,
                 const std::function<void(std::string_view)>& on_name) {
  if (depth > kMaxDepth) return "references nested more than 100 levels deep";
  while (!text.empty()) {
    Token token = next_token(text);
    if (token.kind == Token::Kind::kError) return std::string(token.text);
    if (token.kind == Token::Kind::kLiteral) continue;
    on_name(token.text);
    for (std::string_view inner : {token.then_text, token.else_text}) {
      std::string problem = scan(inner, depth + 1, on_name);
      if (!problem.empty()) return problem;
    }
  }
  return "";
}

}  // namespace

std::string scan_references(std::string_view text,
                            const std::function<void(std::string_view)>& on_name) {
  return scan(text, 0, on_name);
}

std::optional<std::string> expand_template(
    std::string_view text,
    const std::function<std::optional<std::string_view>(std::string_view)>& lookup) {
  auto resolve = [&](std::string_view name, int) -> std::optional<std::string_view> {
    return lookup(name).value_or(std::string_view());
  };
  bool failed = false;
  auto fail = [&](Failure, std::string_view) { failed = true; };
  std::size_t bytes_left = kMaxTemplateBytes;
  std::string out;
  if (!expand_text(text, 0, bytes_left, out, resolve, fail) || failed) return std::nullopt;
  return out;
}

const std::string* ParameterExpander::expand(std::string_view name) {
  return resolve(name, 0);
}

const std::string* ParameterExpander::resolve(std::string_view name, int depth) {
  auto it = values_.lower_bound(name);
  if (it != values_.end() && it->first == name) {
    if (it->second.state == Entry::State::kBusy) report_loop(name);
    return it->second.state == Entry::State::kDone ? &it->second.value : nullptr;
  }
  // std::map: the entry stays where it is while the expansion adds others.
  Entry& entry = values_.emplace_hint(it, std::string(name), Entry{})->second;
  stack_.emplace_back(name);
  std::optional<std::string> raw = raw_(name);
  bool ok = true;
  if (raw) {
    auto value_of = [this](std::string_view other, int at) -> std::optional<std::string_view> {
      const std::string* value = resolve(other, at);
      if (!value) return std::nullopt;
      return std::string_view(*value);
    };
    auto fail = [this](Failure failure, std::string_view message) {
      // A syntax error belongs to the value that has it; limits to the
      // parameter whose expansion ran into them.
      if (failure == Failure::kTooLarge) {
        if (budget_reported_) return;
        budget_reported_ = true;
      }
      const std::string& culprit = failure == Failure::kSyntax ? stack_.back() : stack_.front();
      errors_.push_back(Error{culprit, std::string(message)});
    };
    std::string value;
    ok = expand_text(*raw, depth, bytes_left_, value, value_of, fail);
    entry.value = std::move(value);
  }
  stack_.pop_back();
  entry.state = ok ? Entry::State::kDone : Entry::State::kFailed;
  if (!ok) entry.value.clear();
  return ok ? &entry.value : nullptr;
}

void ParameterExpander::report_loop(std::string_view name) {
  std::size_t start = 0;
  while (start < stack_.size() && stack_[start] != name) ++start;
  // Long cycles are shortened: the message names where it starts.
  constexpr std::size_t kMaxShown = 8;
  std::string message = "reference loop: $" + std::string(name);
  for (std::size_t i = start + 1; i < stack_.size() && i <= start + kMaxShown; ++i)
    message += " -> $" + stack_[i];
  if (stack_.size() - start > kMaxShown + 1) message += " -> ...";
  message += " -> $" + std::string(name);
  errors_.push_back(Error{std::string(name), std::move(message)});
}

}  // namespace moat::config
