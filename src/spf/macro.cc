#include "spf/macro.h"

#include <arpa/inet.h>

#include <algorithm>
#include <string>
#include <vector>

namespace moat::spf {
namespace {

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alnum(char c) {
  return is_alpha(c) || is_digit(c);
}
char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
bool is_delimiter(char c) {
  return std::string_view(".-+,/_=").find(c) != std::string_view::npos;
}
// macro-literal = %x21-24 / %x26-7E
bool is_literal(char c) {
  return c >= 0x21 && c <= 0x7e && c != '%';
}

// One piece of a macro string: a run of literal text or a macro-expand.
struct Token {
  enum Kind { kLiteral, kMacro, kEnd, kError } kind = kEnd;
  std::string_view literal;  // kLiteral; also "%", " ", "%20" for the escapes
  char letter = 0;           // kMacro: lower-case letter
  bool escape = false;       // kMacro: upper-case letter, URL-escape the value
  size_t keep = 0;           // kMacro: rightmost parts to keep, 0 = all
  bool reverse = false;
  std::string_view delimiters;  // kMacro: "" = "."
  MacroError error = MacroError::kNone;
  std::string why;  // kError
};

// Reads the token at text[pos], advancing pos.
Token next_token(std::string_view text, size_t& pos, MacroUse use) {
  Token token;
  if (pos >= text.size()) return token;
  const auto fail = [&](MacroError error, std::string why) {
    token.kind = Token::kError;
    token.error = error;
    token.why = std::move(why);
    return token;
  };
  const char c = text[pos];
  if (c != '%') {
    const size_t start = pos;
    while (pos < text.size() &&
           (is_literal(text[pos]) || (use == MacroUse::kExplanation && text[pos] == ' '))) {
      ++pos;
    }
    if (pos == start) return fail(MacroError::kSyntax, "invalid character in macro string");
    token.kind = Token::kLiteral;
    token.literal = text.substr(start, pos - start);
    return token;
  }
  if (pos + 1 >= text.size()) return fail(MacroError::kSyntax, "'%' at the end");
  const char next = text[pos + 1];
  if (next == '%' || next == '_' || next == '-') {
    pos += 2;
    token.kind = Token::kLiteral;
    token.literal = next == '%' ? "%" : next == '_' ? " " : "%20";
    return token;
  }
  if (next != '{') return fail(MacroError::kSyntax, "'%' not followed by '{', '%', '_' or '-'");
  size_t i = pos + 2;
  if (i >= text.size()) return fail(MacroError::kSyntax, "unterminated macro");
  const char letter = lower(text[i]);
  if (!is_alpha(text[i]) ||
      std::string_view("slodiphcrtv").find(letter) == std::string_view::npos) {
    return fail(MacroError::kSyntax, "unknown macro letter");
  }
  if (use == MacroUse::kDomain && (letter == 'c' || letter == 'r' || letter == 't')) {
    return fail(MacroError::kNotAllowed, "macro letter c, r or t outside an explanation");
  }
  token.letter = letter;
  token.escape = text[i] != letter;
  ++i;
  bool digits = false;
  size_t keep = 0;
  while (i < text.size() && is_digit(text[i])) {
    digits = true;
    // Saturates: no value has more than 1000 parts worth keeping apart.
    keep = std::min<size_t>(keep * 10 + static_cast<size_t>(text[i] - '0'), 100000);
    ++i;
  }
  if (digits && keep == 0) return fail(MacroError::kSyntax, "macro transformer of zero parts");
  token.keep = keep;
  if (i < text.size() && lower(text[i]) == 'r') {
    token.reverse = true;
    ++i;
  }
  const size_t delimiters = i;
  while (i < text.size() && is_delimiter(text[i])) ++i;
  token.delimiters = text.substr(delimiters, i - delimiters);
  if (i >= text.size() || text[i] != '}') return fail(MacroError::kSyntax, "malformed macro");
  pos = i + 1;
  token.kind = Token::kMacro;
  return token;
}

// toplabel = ( *alphanum ALPHA *alphanum ) /
//            ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
bool is_toplabel(std::string_view label) {
  if (label.empty() || !is_alnum(label.front()) || !is_alnum(label.back())) return false;
  bool alpha = false, dash = false;
  for (const char c : label) {
    if (c == '-') {
      dash = true;
    } else if (is_alpha(c)) {
      alpha = true;
    } else if (!is_digit(c)) {
      return false;
    }
  }
  return alpha || dash;
}

std::string ip_dotted(const ClientIp& ip) {
  std::string out;
  if (!ip.v6) {
    for (int i = 0; i < 4; ++i) {
      if (i) out += '.';
      out += std::to_string(ip.bytes[i]);
    }
    return out;
  }
  // Upper-case nibbles, as the OpenSPF suite expects in explanations (its
  // v-macro-ip6 test); RFC 7208 7.4's example is lower-case, but in a
  // domain name the case makes no difference.
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (int i = 0; i < 16; ++i) {
    if (i) out += '.';
    out += kHex[ip.bytes[i] >> 4];
    out += '.';
    out += kHex[ip.bytes[i] & 15];
  }
  return out;
}

std::string ip_readable(const ClientIp& ip) {
  if (!ip.v6) return ip_dotted(ip);
  char buffer[INET6_ADDRSTRLEN] = {};
  if (!inet_ntop(AF_INET6, ip.bytes.data(), buffer, sizeof buffer)) return "::";
  return buffer;
}

std::string macro_value(char letter, const MacroContext& context) {
  const std::string_view local = context.local_part.empty() ? "postmaster" : context.local_part;
  switch (letter) {
    case 's': {
      std::string out(local);
      out += '@';
      out += context.sender_domain;
      return out;
    }
    case 'l':
      return std::string(local);
    case 'o':
      return std::string(context.sender_domain);
    case 'd':
      return std::string(context.domain);
    case 'i':
      return ip_dotted(context.ip);
    case 'p':
      return std::string(context.validated_name);
    case 'v':
      return context.ip.v6 ? "ip6" : "in-addr";
    case 'h':
      return std::string(context.helo);
    case 'c':
      return ip_readable(context.ip);
    case 'r':
      return std::string(context.receiver);
    case 't':
      return std::to_string(context.timestamp);
  }
  return {};
}

// 7.3: split on the delimiters, reverse, keep the rightmost parts, join with '.'.
std::string transform(const std::string& value, const Token& token) {
  if (token.keep == 0 && !token.reverse && token.delimiters.empty()) return value;
  const std::string_view delimiters = token.delimiters.empty() ? "." : token.delimiters;
  std::vector<std::string_view> parts;
  const std::string_view view(value);
  size_t start = 0;
  for (size_t i = 0; i <= view.size(); ++i) {
    if (i == view.size() || delimiters.find(view[i]) != std::string_view::npos) {
      parts.push_back(view.substr(start, i - start));
      start = i + 1;
    }
  }
  if (token.reverse) std::reverse(parts.begin(), parts.end());
  size_t first = 0;
  if (token.keep != 0 && token.keep < parts.size()) first = parts.size() - token.keep;
  std::string out;
  for (size_t i = first; i < parts.size(); ++i) {
    if (i != first) out += '.';
    out += parts[i];
  }
  return out;
}

// RFC 3986 unreserved characters stay, everything else becomes %XX.
void append_escaped(std::string& out, std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (const char c : value) {
    if (is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    }
  }
}

// 7.3: drop whole labels from the left until at most 253 characters are
// left. 'cut' says the front of out was already dropped, so the result must
// start after a dot.
bool truncate_domain(std::string& out, bool cut) {
  if (!cut && out.size() <= kMaxDomainLength) return true;
  for (size_t p = out.size() > kMaxDomainLength ? out.size() - kMaxDomainLength : 0; p < out.size();
       ++p) {
    if (p > 0 && out[p - 1] == '.') {
      out.erase(0, p);
      return true;
    }
  }
  return false;
}

}  // namespace

std::optional<ClientIp> parse_client_ip(std::string_view text) {
  if (text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  const std::string copy(text);
  ClientIp ip;
  if (inet_pton(AF_INET, copy.c_str(), ip.bytes.data()) == 1) return ip;
  if (inet_pton(AF_INET6, copy.c_str(), ip.bytes.data()) == 1) {
    ip.v6 = true;
    return ip;
  }
  return std::nullopt;
}

bool valid_macro_string(std::string_view text, MacroUse use, std::string* why) {
  size_t pos = 0;
  for (;;) {
    const Token token = next_token(text, pos, use);
    if (token.kind == Token::kEnd) return true;
    if (token.kind == Token::kError) {
      if (why) *why = token.why;
      return false;
    }
  }
}

bool valid_domain_spec(std::string_view text, std::string* why) {
  size_t pos = 0;
  bool ends_in_macro = false;
  size_t tail = 0;  // where the literal text after the last macro-expand starts
  for (;;) {
    const size_t start = pos;
    const Token token = next_token(text, pos, MacroUse::kDomain);
    if (token.kind == Token::kEnd) break;
    if (token.kind == Token::kError) {
      if (why) *why = token.why;
      return false;
    }
    // "%%", "%_", "%-" are macro-expands too (7.1), though they read as literals.
    ends_in_macro = token.kind == Token::kMacro || text[start] == '%';
    if (ends_in_macro) tail = pos;
  }
  if (text.empty()) {
    if (why) *why = "empty domain-spec";
    return false;
  }
  if (ends_in_macro) return true;
  // domain-end = "." toplabel [ "." ], inside the trailing literal run.
  std::string_view end = text.substr(tail);
  if (end.ends_with('.')) end.remove_suffix(1);
  const size_t dot = end.rfind('.');
  if (dot == std::string_view::npos || !is_toplabel(end.substr(dot + 1))) {
    if (why) *why = "domain-spec does not end in a valid top label";
    return false;
  }
  return true;
}

Expansion expand(std::string_view text, const MacroContext& context, MacroUse use) {
  Expansion result;
  std::string& out = result.text;
  bool cut = false;
  // Past the bound the rest is still read: a syntax error anywhere wins.
  bool too_long = false;
  size_t pos = 0;
  for (;;) {
    Token token = next_token(text, pos, use);
    if (token.kind == Token::kEnd) break;
    if (token.kind == Token::kError) {
      result.error = token.error;
      out.clear();
      return result;
    }
    if (too_long) continue;
    if (token.kind == Token::kLiteral) {
      out += token.literal;
    } else {
      const std::string value = transform(macro_value(token.letter, context), token);
      if (token.escape) {
        append_escaped(out, value);
      } else {
        out += value;
      }
    }
    if (use == MacroUse::kExplanation && out.size() > kMaxExpansion) {
      too_long = true;
      out.clear();
    }
    // A domain keeps at most its last 253 characters and the dot before
    // them: trimming the front early bounds memory without changing the result.
    if (use == MacroUse::kDomain && out.size() > kMaxExpansion / 4) {
      out.erase(0, out.size() - 2 * (kMaxDomainLength + 1));
      cut = true;
    }
  }
  if (too_long || (use == MacroUse::kDomain && !truncate_domain(out, cut))) {
    result.error = MacroError::kTooLong;
    out.clear();
  }
  return result;
}

}  // namespace moat::spf
