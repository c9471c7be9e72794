// Access tables (access(5)): the lookup keys of check_client_access,
// check_helo_access, check_sender_access, check_recipient_access and their
// order, and what a table's result means.
#include <cctype>
#include <charconv>

#include "log/log.h"
#include "restrict/evaluation.h"

namespace moat::restriction {
namespace {

// A lookup: the full key goes to every table; partial keys (parent domains,
// "user@", address prefixes) not to pattern tables, as in Postfix.
std::optional<std::string> find(const Step& step, std::string_view key, bool partial) {
  if (partial && step.table->matches_patterns()) return std::nullopt;
  return step.table->find(key);
}

// Host name or HELO: the name, then its parent domains ("example.org" or
// ".example.org" per parent_domain_matches_subdomains).
std::optional<std::string> find_domain(const Step& step, const Request& r, std::string_view domain,
                                       bool first_partial) {
  if (auto value = find(step, domain, first_partial)) return value;
  const bool subdomains = r.engine.parent_matches_subdomains();
  for (size_t dot = domain.find('.', 1); dot != std::string_view::npos;
       dot = domain.find('.', dot + 1)) {
    if (dot + 1 >= domain.size()) break;
    if (auto value = find(step, subdomains ? domain.substr(dot + 1) : domain.substr(dot), true)) {
      return value;
    }
  }
  return std::nullopt;
}

// IP address, then shorter prefixes: 1.2.3.4, 1.2.3, 1.2, 1; for IPv6 the
// address with ':'-separated parts dropped from the end.
std::optional<std::string> find_address(const Step& step, std::string_view address) {
  if (auto value = find(step, address, false)) return value;
  const char separator = address.find(':') != std::string_view::npos ? ':' : '.';
  std::string_view prefix = address;
  for (;;) {
    const auto cut = prefix.rfind(separator);
    if (cut == std::string_view::npos || cut == 0) break;
    prefix = prefix.substr(0, cut);
    while (separator == ':' && prefix.ends_with(':')) prefix.remove_suffix(1);
    if (prefix.empty()) break;
    if (auto value = find(step, prefix, true)) return value;
  }
  return std::nullopt;
}

Verdict check_host(const Step& step, Request& r, std::string_view name) {
  if (auto value = find_domain(step, r, name, false))
    return evaluate_table_result(r, *value, step.argument);
  if (auto value = find_address(step, r.context.client_ip)) {
    return evaluate_table_result(r, *value, step.argument);
  }
  return Verdict::dunno();
}

// user+ext@domain, user@domain, domain and its parents, user+ext@, user@;
// the null sender as smtpd_null_access_lookup_key.
Verdict check_address(const Step& step, Request& r, std::string_view address) {
  if (address.empty()) {
    if (auto value = find(step, r.engine.null_access_lookup_key(), false)) {
      return evaluate_table_result(r, *value, step.argument);
    }
    return Verdict::dunno();
  }
  std::string lowered(address);
  for (auto& c : lowered) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  const auto at = lowered.rfind('@');
  const std::string_view local =
      at == std::string::npos ? std::string_view(lowered) : std::string_view(lowered).substr(0, at);
  const std::string_view domain =
      at == std::string::npos ? std::string_view() : std::string_view(lowered).substr(at + 1);
  // The local part without its extension, when recipient_delimiter splits it.
  std::string_view base = local;
  const auto& delimiters = r.engine.recipient_delimiter();
  if (!delimiters.empty() && local != "postmaster" && local != "mailer-daemon") {
    const auto cut = local.find_first_of(delimiters);
    if (cut != std::string_view::npos && cut > 0) base = local.substr(0, cut);
  }
  auto result = [&](const std::string& value) {
    return evaluate_table_result(r, value, step.argument);
  };
  if (auto value = find(step, lowered, false)) return result(*value);
  // The partial keys are built in one buffer (pattern tables skip them all).
  if (step.table->matches_patterns()) return Verdict::dunno();
  std::string key;
  key.reserve(lowered.size() + 1);
  if (base.size() != local.size() && at != std::string::npos) {
    key.append(base).append("@").append(domain);
    if (auto value = find(step, key, true)) return result(*value);
  }
  if (!domain.empty()) {
    if (auto value = find_domain(step, r, domain, true)) return result(*value);
  }
  key.assign(local).append("@");
  if (auto value = find(step, key, true)) return result(*value);
  if (base.size() != local.size()) {
    key.assign(base).append("@");
    if (auto value = find(step, key, true)) return result(*value);
  }
  return Verdict::dunno();
}

bool equals_word(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const char c = a[i] >= 'a' && a[i] <= 'z' ? static_cast<char>(a[i] - 'a' + 'A') : a[i];
    if (c != b[i]) return false;
  }
  return true;
}

bool all_digits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// "4.7.1 text" -> ("4.7.1", "text"); no leading enhanced code -> ("", text).
std::pair<std::string_view, std::string_view> split_dsn(std::string_view text) {
  size_t i = 0;
  auto digits = [&](size_t max) {
    const size_t start = i;
    while (i < text.size() && i - start < max && std::isdigit(static_cast<unsigned char>(text[i])))
      ++i;
    return i > start;
  };
  if (text.size() >= 5 && (text[0] == '2' || text[0] == '4' || text[0] == '5') && text[1] == '.') {
    i = 2;
    if (digits(3) && i < text.size() && text[i] == '.' && (++i, digits(3)) &&
        (i == text.size() || text[i] == ' ' || text[i] == '\t')) {
      const auto dsn = text.substr(0, i);
      auto rest = text.substr(i);
      while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
      return {dsn, rest};
    }
  }
  return {{}, text};
}

}  // namespace

std::optional<std::string> find_host_name(const Step& step, const Request& r,
                                          std::string_view name) {
  return find_domain(step, r, name, false);
}

std::optional<std::string> find_host_address(const Step& step, std::string_view address) {
  return find_address(step, address);
}

Verdict check_client_access(const Step& step, Request& r) {
  NamedAs named(r, ListKind::kClient);
  return check_host(step, r, r.context.client_name);
}

Verdict check_reverse_client_hostname_access(const Step& step, Request& r) {
  NamedAs named(r, ListKind::kReverseClient);
  return check_host(step, r, r.context.reverse_client_name);
}

Verdict check_helo_access(const Step& step, Request& r) {
  if (!r.context.has_helo) return Verdict::dunno();
  NamedAs named(r, ListKind::kHelo);
  if (auto value = find_domain(step, r, r.context.helo, false)) {
    return evaluate_table_result(r, *value, step.argument);
  }
  return Verdict::dunno();
}

Verdict check_sender_access(const Step& step, Request& r) {
  if (!r.context.has_sender) return Verdict::dunno();
  NamedAs named(r, ListKind::kSender);
  return check_address(step, r, r.context.sender);
}

Verdict check_recipient_access(const Step& step, Request& r) {
  // After RCPT there is a recipient to check only when there is exactly one
  // (the session then names it in the context).
  if (r.context.stage < Stage::kRcpt || r.context.recipient.empty()) return Verdict::dunno();
  NamedAs named(r, ListKind::kRecipient);
  return check_address(step, r, r.context.recipient);
}

Verdict check_list_table(const Step& step, Request& r) {
  switch (r.list) {
    case ListKind::kClient:
      return check_client_access(step, r);
    case ListKind::kHelo:
      return check_helo_access(step, r);
    case ListKind::kSender:
      return check_sender_access(step, r);
    case ListKind::kRecipient:
      return check_recipient_access(step, r);
    case ListKind::kData:
    case ListKind::kEndOfData:
    case ListKind::kReverseClient:
      break;
  }
  return r.server_error("unknown smtpd restriction: \"" + step.argument + "\"");
}

Verdict evaluate_table_result(Request& r, std::string_view value, std::string_view table) {
  const auto blank = value.find_first_of(" \t");
  const std::string_view word = value.substr(0, blank);
  std::string_view text =
      blank == std::string_view::npos ? std::string_view() : value.substr(blank);
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  const auto& codes = r.engine.codes();
  auto reply = [&](int code, char dsn_class, std::string_view fallback) {
    auto [dsn, rest] = split_dsn(text);
    const std::string default_dsn = std::string(1, dsn_class) + ".7.1";
    return r.rejected(code, dsn.empty() ? std::string_view(default_dsn) : dsn,
                      rest.empty() ? fallback : rest);
  };
  auto action = [&](std::string_view fallback) {
    return "<" + r.reply_name() + ">: " + std::string(r.reply_class()) + " " +
           std::string(text.empty() ? fallback : text);
  };
  if (equals_word(word, "DUNNO")) return Verdict::dunno();
  if (equals_word(word, "OK") || equals_word(word, "RELAY") || all_digits(value)) {
    return Verdict::permit();
  }
  if (equals_word(word, "REJECT")) {
    return r.reject(reply(codes.access_map_reject_code, '5', "Access denied"));
  }
  if (equals_word(word, "DEFER")) {
    return r.reject(reply(codes.access_map_defer_code, '4', "Access denied"));
  }
  if (equals_word(word, "DEFER_IF_REJECT")) {
    r.defer_if_reject = reply(codes.access_map_defer_code, '4', "Service unavailable");
    return Verdict::dunno();
  }
  if (equals_word(word, "DEFER_IF_PERMIT")) {
    if (!r.effects.defer_if_permit) {
      r.effects.defer_if_permit = reply(codes.access_map_defer_code, '4', "Service unavailable");
    }
    return Verdict::dunno();
  }
  if (word.size() == 3 && (word[0] == '4' || word[0] == '5') && all_digits(word) && !text.empty()) {
    int code = 0;
    std::from_chars(word.data(), word.data() + 3, code);
    return r.reject(reply(code, word[0], "Access denied"));
  }
  if (equals_word(word, "WARN")) {
    r.log("warn", std::string(text));
    return Verdict::dunno();
  }
  if (equals_word(word, "INFO")) {
    r.log("info", std::string(text));
    return Verdict::dunno();
  }
  // Actions on the message: only in a mail transaction (with
  // smtpd_delay_reject = no, client and HELO checks have none yet).
  auto in_transaction = [&](std::string_view name) {
    if (r.context.has_sender) return true;
    log::warning("smtpd",
                 "access table {}: with smtpd_delay_reject=no, action {} is always skipped in "
                 "Client host or Helo command restrictions",
                 table, name);
    return false;
  };
  if (equals_word(word, "HOLD")) {
    if (in_transaction("HOLD")) r.log("hold", action("triggers HOLD action"));
    return Verdict::dunno();
  }
  if (equals_word(word, "DISCARD")) {
    if (!in_transaction("DISCARD")) return Verdict::dunno();
    r.log("discard", action("triggers DISCARD action"));
    r.effects.discard = true;
    return Verdict::permit();
  }
  if (equals_word(word, "FILTER")) {
    if (!in_transaction("FILTER")) return Verdict::dunno();
    if (text.find(':') == std::string_view::npos) {
      log::warning("smtpd", "access table {} entry has FILTER without transport:destination",
                   table);
      return Verdict::dunno();
    }
    r.log("filter", "<" + r.reply_name() + ">: " + std::string(r.reply_class()) +
                        " triggers FILTER " + std::string(text));
    return Verdict::dunno();
  }
  if (equals_word(word, "REDIRECT")) {
    if (!in_transaction("REDIRECT")) return Verdict::dunno();
    if (text.find('@') == std::string_view::npos) {
      log::warning("smtpd", "access table {} entry requires user@domain target", table);
      return Verdict::dunno();
    }
    r.log("redirect", "<" + r.reply_name() + ">: " + std::string(r.reply_class()) +
                          " triggers REDIRECT " + std::string(text));
    return Verdict::dunno();
  }
  if (equals_word(word, "PREPEND")) {
    if (!in_transaction("PREPEND")) return Verdict::dunno();
    const auto colon = text.find(':');
    if (text.empty() || colon == std::string_view::npos || colon == 0 ||
        r.context.stage == Stage::kEndOfData) {
      log::warning("smtpd", "access table {} entry requires header: text", table);
      return Verdict::dunno();
    }
    r.effects.prepend.emplace_back(text);
    return Verdict::dunno();
  }
  // A restriction class name, or a list of restrictions.
  if (value.find(':') != std::string_view::npos) {
    return r.server_error("access table " + std::string(table) +
                          " has entry with lookup table: " + std::string(value));
  }
  if (r.depth > 100) {
    return r.server_error("access table " + std::string(table) + " entry " + std::string(value) +
                          " causes unreasonable recursion");
  }
  std::string error;
  auto list = r.engine.runtime_list(value, error);
  if (!list) {
    constexpr std::string_view kUnknown = "unknown restriction ";
    if (error.starts_with(kUnknown)) {
      error = "unknown smtpd restriction: " + error.substr(kUnknown.size());
    }
    return r.server_error(error);
  }
  if (list->empty()) return Verdict::permit();
  ++r.depth;
  auto verdict = list->evaluate(r);
  --r.depth;
  return verdict;
}

}  // namespace moat::restriction
