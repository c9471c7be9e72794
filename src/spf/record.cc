#include "spf/record.h"

#include <arpa/inet.h>

#include <string>

#include "spf/macro.h"

namespace moat::spf {
namespace {

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// ip4-cidr-length = "/" ("0" / %x31-39 0*1DIGIT); ip6 allows 0*2DIGIT.
// digits is the text after the '/'; no leading zeros, at most max.
std::optional<int> parse_cidr(std::string_view digits, int max) {
  if (digits.empty() || digits.size() > 3) return std::nullopt;
  if (digits.size() > 1 && digits[0] == '0') return std::nullopt;
  int value = 0;
  for (const char c : digits) {
    if (!is_digit(c)) return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value > max) return std::nullopt;
  return value;
}

// ip4-network = qnum "." qnum "." qnum "." qnum, qnum without leading zeros.
bool parse_ip4(std::string_view text, std::array<uint8_t, 16>& out) {
  for (int i = 0; i < 4; ++i) {
    if (i > 0) {
      if (text.empty() || text[0] != '.') return false;
      text.remove_prefix(1);
    }
    size_t n = 0;
    while (n < text.size() && n < 4 && is_digit(text[n])) ++n;
    if (n == 0 || n > 3 || (n > 1 && text[0] == '0')) return false;
    int value = 0;
    for (size_t k = 0; k < n; ++k) value = value * 10 + (text[k] - '0');
    if (value > 255) return false;
    out[i] = static_cast<uint8_t>(value);
    text.remove_prefix(n);
  }
  return text.empty();
}

bool parse_ip6(std::string_view text, std::array<uint8_t, 16>& out) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return false;
  const std::string copy(text);
  return inet_pton(AF_INET6, copy.c_str(), out.data()) == 1;
}

// dual-cidr-length = [ ip4-cidr-length ] [ "/" ip6-cidr-length ], the whole of text.
bool parse_dual_cidr(std::string_view text, Directive& directive) {
  const size_t dual = text.find("//");
  std::string_view ip4 = text.substr(0, dual);
  if (dual != std::string_view::npos) {
    const auto cidr6 = parse_cidr(text.substr(dual + 2), 128);
    if (!cidr6) return false;
    directive.cidr6 = *cidr6;
  }
  if (!ip4.empty()) {
    if (ip4[0] != '/') return false;
    const auto cidr4 = parse_cidr(ip4.substr(1), 32);
    if (!cidr4) return false;
    directive.cidr4 = *cidr4;
  }
  return true;
}

// Where a dual-cidr-length suffix of arg starts (arg.size() if none): the
// domain-spec of a and mx may itself hold '/' ("a:foo:bar/baz.example.com"),
// so only a trailing "/digits", "//digits" or "/digits//digits" is one.
size_t dual_cidr_start(std::string_view arg) {
  const auto slash_digits = [&](size_t end) -> size_t {  // start of "/DIGITS" ending at end
    size_t i = end;
    while (i > 0 && is_digit(arg[i - 1])) --i;
    if (i == end || i == 0 || arg[i - 1] != '/') return std::string_view::npos;
    return i - 1;
  };
  size_t start = slash_digits(arg.size());
  if (start == std::string_view::npos) return arg.size();
  if (start > 0 && arg[start - 1] == '/') {  // "//N": the ip6 part
    --start;
    const size_t ip4 = slash_digits(start);
    return ip4 == std::string_view::npos ? start : ip4;
  }
  return start;
}

std::string check_domain_spec(std::string_view spec) {
  std::string why;
  if (valid_domain_spec(spec, &why)) return {};
  return why;
}

// Parses one directive term (after any qualifier); "" or an error.
std::string parse_directive(std::string_view term, Directive& directive) {
  size_t n = 0;
  while (n < term.size() && (is_alpha(term[n]) || is_digit(term[n]))) ++n;
  const std::string_view name = term.substr(0, n);
  std::string_view rest = term.substr(n);
  const std::string quoted = "'" + std::string(term.substr(0, 64)) + "'";
  if (iequals(name, "all")) {
    directive.mechanism = Mechanism::kAll;
    if (!rest.empty()) return "all takes no argument: " + quoted;
    return {};
  }
  if (iequals(name, "include") || iequals(name, "exists")) {
    directive.mechanism = iequals(name, "include") ? Mechanism::kInclude : Mechanism::kExists;
    if (rest.empty() || rest[0] != ':') return "missing domain-spec: " + quoted;
    directive.domain_spec = std::string(rest.substr(1));
    const std::string why = check_domain_spec(directive.domain_spec);
    return why.empty() ? why : why + ": " + quoted;
  }
  if (iequals(name, "a") || iequals(name, "mx") || iequals(name, "ptr")) {
    directive.mechanism = iequals(name, "a")    ? Mechanism::kA
                          : iequals(name, "mx") ? Mechanism::kMx
                                                : Mechanism::kPtr;
    if (directive.mechanism != Mechanism::kPtr) {
      const size_t cidr = rest.empty() || rest[0] == '/' ? 0 : dual_cidr_start(rest);
      if (!parse_dual_cidr(rest.substr(cidr), directive)) return "bad cidr length: " + quoted;
      rest = rest.substr(0, cidr);
    }
    if (rest.empty()) return {};
    if (rest[0] != ':') return "unknown mechanism: " + quoted;
    directive.domain_spec = std::string(rest.substr(1));
    const std::string why = check_domain_spec(directive.domain_spec);
    return why.empty() ? why : why + ": " + quoted;
  }
  if (iequals(name, "ip4") || iequals(name, "ip6")) {
    const bool v6 = iequals(name, "ip6");
    directive.mechanism = v6 ? Mechanism::kIp6 : Mechanism::kIp4;
    if (rest.empty() || rest[0] != ':') return "missing network: " + quoted;
    rest.remove_prefix(1);
    const size_t slash = rest.find('/');
    const std::string_view network = rest.substr(0, slash);
    if (!(v6 ? parse_ip6(network, directive.network) : parse_ip4(network, directive.network))) {
      return "bad network: " + quoted;
    }
    if (slash != std::string_view::npos) {
      const auto cidr = parse_cidr(rest.substr(slash + 1), v6 ? 128 : 32);
      if (!cidr) return "bad cidr length: " + quoted;
      (v6 ? directive.cidr6 : directive.cidr4) = *cidr;
    }
    return {};
  }
  return "unknown mechanism: " + quoted;
}

// name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ); length of a name
// followed by '=' at the start of term, or 0.
size_t modifier_name_length(std::string_view term) {
  if (term.empty() || !is_alpha(term[0])) return 0;
  size_t n = 1;
  while (n < term.size() && (is_alpha(term[n]) || is_digit(term[n]) || term[n] == '-' ||
                             term[n] == '_' || term[n] == '.')) {
    ++n;
  }
  return n < term.size() && term[n] == '=' ? n : 0;
}

RecordResult permerror(std::string why) {
  RecordResult result;
  result.status = RecordStatus::kPermError;
  result.error = std::move(why);
  return result;
}

}  // namespace

std::string_view mechanism_name(Mechanism mechanism) {
  switch (mechanism) {
    case Mechanism::kAll:
      return "all";
    case Mechanism::kInclude:
      return "include";
    case Mechanism::kA:
      return "a";
    case Mechanism::kMx:
      return "mx";
    case Mechanism::kPtr:
      return "ptr";
    case Mechanism::kIp4:
      return "ip4";
    case Mechanism::kIp6:
      return "ip6";
    case Mechanism::kExists:
      return "exists";
  }
  return "?";
}

bool is_spf_record(std::string_view text) {
  return text.size() >= 6 && iequals(text.substr(0, 6), "v=spf1") &&
         (text.size() == 6 || text[6] == ' ');
}

RecordResult select_record(std::span<const std::string> txt_records) {
  const std::string* found = nullptr;
  for (const std::string& txt : txt_records) {
    if (!is_spf_record(txt)) continue;
    if (found) return permerror("more than one SPF record");
    found = &txt;
  }
  if (!found) return {};
  return parse_record(*found);
}

RecordResult parse_record(std::string_view text) {
  if (!is_spf_record(text)) return {};
  if (text.size() > kMaxRecordLength) return permerror("SPF record too long");
  RecordResult result;
  Record& record = result.record;
  size_t terms = 0;
  size_t pos = 6;
  while (pos < text.size()) {
    // terms = *( 1*SP ( directive / modifier ) ), record ends in *SP.
    while (pos < text.size() && text[pos] == ' ') ++pos;
    if (pos == text.size()) break;
    size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view term = text.substr(pos, end - pos);
    pos = end;
    if (++terms > kMaxTerms) return permerror("too many terms in SPF record");

    if (const size_t n = modifier_name_length(term)) {
      const std::string_view name = term.substr(0, n);
      const std::string_view value = term.substr(n + 1);
      const bool redirect = iequals(name, "redirect");
      if (redirect || iequals(name, "exp")) {
        auto& slot = redirect ? record.redirect : record.explanation;
        if (slot) return permerror(std::string(name) + "= given twice");
        std::string why;
        if (!valid_domain_spec(value, &why)) {
          return permerror(why + ": '" + std::string(term.substr(0, 64)) + "'");
        }
        slot = std::string(value);
      } else {
        // unknown-modifier = name "=" macro-string: syntax only, every letter
        // allowed (the value is never expanded).
        std::string why;
        if (!valid_macro_string(value, MacroUse::kExplanation, &why)) {
          return permerror(why + ": '" + std::string(term.substr(0, 64)) + "'");
        }
        ++record.unknown_modifiers;
      }
      continue;
    }

    Directive directive;
    std::string_view body = term;
    switch (body[0]) {
      case '+':
      case '-':
      case '~':
      case '?':
        directive.qualifier = static_cast<Qualifier>(body[0]);
        body.remove_prefix(1);
        break;
      default:
        break;
    }
    std::string why = parse_directive(body, directive);
    if (!why.empty()) return permerror(std::move(why));
    record.directives.push_back(std::move(directive));
  }
  result.status = RecordStatus::kOk;
  return result;
}

}  // namespace moat::spf
