// DNS block and allow lists: reject_rbl_client, reject_rhsbl_{client,
// reverse_client,helo,sender,recipient}, permit_dnswl_client and
// permit_rhswl_client, as Postfix 3.7's smtpd_check.c applies them.
//
// Postfix's rules kept here: the argument is "zone" or "zone=filter" (an
// ip_match pattern such as 127.0.0.[2..11]); the query is the reversed
// client address (IPv4 octets, IPv6 nibbles) or the domain, then the zone;
// a listing is an A record (matching the filter, if any); the reason is the
// TXT records of the same name (the first string of each) joined with
// " / " (at most 500 bytes); a temporary DNS failure is "not listed" for a
// block list, with Postfix's "RBL lookup error" warning, and
// DEFER_IF_REJECT for an allow list; an allow list never permits a
// recipient that permit_auth_destination would not; the reply is
// default_rbl_reply or the rbl_reply_maps template for the zone as written
// ("zone=filter" included), expanded with $rbl_* and the session's names,
// then split into code, enhanced code and text.
//
// A bad "=filter" is a configuration error when the list is compiled
// (Postfix stops with a fatal error at the first lookup); from an access
// table's result at run time it is a server error (451 4.3.5).
//
// Deliberately unlike Postfix: an answer outside 127.0.0.0/8, or inside
// 127.255.255.0/24 (the codes Spamhaus and others send for a refused query,
// an open resolver or a typo in the zone), is never a listing, whatever the
// filter: Postfix would reject every client while a list refuses it. moat
// logs a warning and goes on as "not listed".
#include <algorithm>
#include <array>
#include <ctime>
#include <deque>
#include <optional>

#include <fmt/format.h>

#include "config/expand.h"
#include "dns/answer_set.h"
#include "restrict/evaluation.h"

namespace moat::restriction {

// An ip_match pattern: per octet, the inclusive ranges it may take.
struct AddressFilter {
  std::array<std::vector<std::pair<uint8_t, uint8_t>>, 4> octets;

  bool matches(const std::array<uint8_t, 16>& address) const {
    for (size_t i = 0; i < 4; ++i) {
      const bool in = std::ranges::any_of(octets[i], [&](const auto& range) {
        return address[i] >= range.first && address[i] <= range.second;
      });
      if (!in) return false;
    }
    return true;
  }
};

struct DnsList {
  std::string zone;        // what is appended to the query name
  std::string as_written;  // "zone=filter": the rbl_reply_maps key
  std::optional<AddressFilter> filter;
  bool zone_valid = false;  // a valid host name without a trailing dot (checked once)
};

namespace {

// Postfix's ip_match syntax: four '.'-separated fields, each a number
// 0..255 or "[" members "]" with ';'-separated numbers and N..M ranges; the
// whole pattern may be inside one more pair of brackets. Returns why not.
std::string parse_filter(std::string_view text, AddressFilter& filter) {
  if (text.starts_with('[')) {
    // Strip the outer brackets when the one that closes the first '['
    // ends the pattern.
    int level = 0;
    size_t close = std::string_view::npos;
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '[') ++level;
      if (text[i] == ']' && --level == 0) {
        close = i;
        break;
      }
    }
    if (close == std::string_view::npos) return "missing \"]\" character";
    if (close + 1 == text.size()) text = text.substr(1, text.size() - 2);
  }
  if (text.empty()) return "empty address pattern";
  size_t pos = 0;
  auto number = [&](uint8_t& out) {
    size_t start = pos;
    unsigned value = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      value = value * 10 + static_cast<unsigned>(text[pos] - '0');
      if (value > 255) return false;
      ++pos;
    }
    out = static_cast<uint8_t>(value);
    return pos > start;
  };
  auto at = [&](size_t where) {
    return fmt::format(" at \"{}>{}<\"", text.substr(0, where), text.substr(where));
  };
  for (size_t field = 0; field < 4; ++field) {
    if (field > 0) {
      if (pos >= text.size() || text[pos] != '.') return "need \".\"" + at(pos);
      ++pos;
    }
    auto& ranges = filter.octets[field];
    uint8_t low = 0;
    if (pos < text.size() && text[pos] == '[') {
      ++pos;
      for (;;) {
        if (!number(low)) return "need decimal number 0..255" + at(pos);
        uint8_t high = low;
        if (text.substr(pos).starts_with("..")) {
          pos += 2;
          if (!number(high) || high < low) return "numeric range error" + at(pos);
        }
        ranges.emplace_back(low, high);
        if (pos < text.size() && text[pos] == ';') {
          ++pos;
          continue;
        }
        if (pos < text.size() && text[pos] == ']') {
          ++pos;
          break;
        }
        return "need \";\" or \"]\"" + at(pos);
      }
    } else if (number(low)) {
      ranges.emplace_back(low, low);
    } else {
      return "need decimal number 0..255 or \"[\"" + at(pos);
    }
  }
  if (pos != text.size()) return "garbage after pattern" + at(pos);
  return {};
}

const DnsListSettings* settings(const Request& r) {
  return r.engine.dns_lists();
}

enum class Listing { kListed, kNotListed, kTempFail, kPending };

// The A lookup of `query` and what it says about the list.
Listing find_listing(Request& r, const DnsList& list, const std::string& query) {
  const dns::Answer* answer = r.dns(query, dns::Type::kA);
  if (!answer) return Listing::kPending;
  switch (answer->status) {
    case dns::Status::kNxDomain:
    case dns::Status::kNoData:
      return Listing::kNotListed;
    case dns::Status::kTempFail:
      // Postfix's own words (its resolver's text for a failure to retry),
      // so that log watchers keep matching.
      r.effects.warnings.push_back(fmt::format(
          "{0}: RBL lookup error: Host or domain name not found. Name service error for "
          "name={0} type=A: Host not found, try again",
          query));
      return Listing::kTempFail;
    case dns::Status::kOk:
      break;
  }
  bool listed = false;
  const dns::Record* unexpected = nullptr;
  for (const auto& record : answer->records) {
    if (record.type != dns::Type::kA) continue;
    const auto& a = record.address;
    if (a[0] != 127 || (a[1] == 255 && a[2] == 255)) {
      if (!unexpected) unexpected = &record;
      continue;
    }
    if (!list.filter || list.filter->matches(a)) listed = true;
  }
  if (unexpected) {
    r.effects.warnings.push_back(fmt::format(
        "dnsbl {}: unexpected answer {} for {} (list refused the query?); not treated as a "
        "listing",
        list.zone, dns::address_text(*unexpected), query));
  }
  return listed ? Listing::kListed : Listing::kNotListed;
}

// Postfix's dns_lookup answers "not found", without asking and without a
// warning, for a name that is not a valid host name (a zone written with a
// trailing dot, a label over 63 bytes, over 255 in all): "" then.
std::string checked_query(std::string name) {
  if (name.ends_with('.') || !valid_hostname(name)) return {};
  return name;
}

// The query name for the client address, "" when it is not an address.
std::string address_query(const Request& r, const DnsList& list) {
  // A reversed address is a valid name: with a valid zone only the length
  // is left to check.
  if (!list.zone_valid) return {};
  std::string query;
  if (!r.context.reversed_client_ip.empty()) {
    query = r.context.reversed_client_ip;
  } else {
    query = dns::reversed_address(r.context.client_ip);
    if (query.empty()) return {};
  }
  query += '.';
  query += list.zone;
  if (query.size() > 255) return {};
  return query;
}

// The query name for a name or an address's domain, as Postfix's
// find_dnsxl_domain: "" for address literals, invalid names, and names
// whose last label is numeric (Spamhaus refuses those "IP queries").
std::string domain_query(std::string_view what, const DnsList& list) {
  std::string_view domain = what;
  if (const auto at = what.rfind('@'); at != std::string_view::npos) {
    domain = what.substr(at + 1);
    if (domain.starts_with('[')) return {};
  }
  if (domain.empty() || domain.ends_with('.') || !valid_hostname(domain)) return {};
  const auto dot = domain.rfind('.');
  const auto last = dot == std::string_view::npos ? domain : domain.substr(dot + 1);
  if (std::ranges::all_of(last, [](char c) { return c >= '0' && c <= '9'; })) return {};
  return checked_query(std::string(domain) + "." + list.zone);
}

// The TXT records as Postfix's rbl_pagein and dns_get_rr make them a
// reason: the first character-string of each record (Postfix 3.7 ignores
// the others), bytes that are not printable ASCII as spaces, " / " between
// records, at most 500 bytes in all.
std::string reason_text(const dns::Answer& answer) {
  constexpr size_t kLimit = 500;
  std::string out;
  if (answer.status != dns::Status::kOk) return out;
  for (size_t i = 0; i < answer.records.size() && out.size() < kLimit; ++i) {
    const auto& record = answer.records[i];
    std::string_view text = record.strings.empty() ? record.text : record.strings.front();
    text = text.substr(0, kLimit - out.size());
    for (char c : text) out += c >= ' ' && c <= '~' ? c : ' ';
    if (i + 1 < answer.records.size() && kLimit - out.size() > 3) out += " / ";
  }
  return out;
}

// smtpd_expansion_filter's default: printable ASCII, space and tab; other
// bytes of a value (from DNS or the client) become '_'.
std::string filtered(std::string_view value) {
  std::string out(value);
  for (auto& c : out) {
    if (c != '\t' && (c < ' ' || c > '~')) c = '_';
  }
  return out;
}

std::string localtime_text() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char buffer[64];
  const size_t n = std::strftime(buffer, sizeof buffer, "%b %d %H:%M:%S", &tm);
  return std::string(buffer, n);
}

// "user@domain" parts as Postfix's $sender_name / $sender_domain give them.
std::string address_part(std::string_view address, bool present, std::string_view part) {
  if (!present) return {};
  const auto at = address.rfind('@');
  if (part.empty()) return address.empty() ? "<>" : std::string(address);
  if (part == "_name") {
    if (address.empty()) return "<>";
    return std::string(at == std::string_view::npos ? address : address.substr(0, at));
  }
  return at == std::string_view::npos ? std::string() : std::string(address.substr(at + 1));
}

struct ReplyFacts {
  const DnsList& list;
  std::string_view what;   // $rbl_what
  std::string_view klass;  // $rbl_class
  ListKind kind;           // for the enhanced code's fix-up
  const std::string& reason;
};

// The names an RBL reply template may use (Postfix's rbl_expand_lookup and
// smtpd_expand_lookup); a template with any other name is not used.
bool is_reply_name(std::string_view name) {
  static constexpr std::string_view kNames[] = {
      "rbl_code",       "rbl_domain",     "rbl_reason",          "rbl_txt",
      "rbl_what",       "rbl_class",      "server_name",         "client",
      "client_address", "client_name",    "reverse_client_name", "helo_name",
      "localtime",      "sender",         "sender_name",         "sender_domain",
      "recipient",      "recipient_name", "recipient_domain"};
  return std::ranges::find(kNames, name) != std::end(kNames);
}

// The value of $name (one of is_reply_name()) in an RBL reply template.
std::optional<std::string> reply_value(const Request& r, const ReplyFacts& facts,
                                       std::string_view name) {
  const Context& c = r.context;
  if (name == "rbl_code") return std::to_string(settings(r)->reply_code);
  if (name == "rbl_domain") return facts.list.zone;
  if (name == "rbl_reason" || name == "rbl_txt") return facts.reason;
  if (name == "rbl_what") return std::string(facts.what);
  if (name == "rbl_class") return std::string(facts.klass);
  if (name == "server_name") return settings(r)->server_name;
  if (name == "client") return fmt::format("{}[{}]", c.client_name, c.client_ip);
  if (name == "client_address") return std::string(c.client_ip);
  if (name == "client_name") return std::string(c.client_name);
  if (name == "reverse_client_name") return std::string(c.reverse_client_name);
  if (name == "helo_name") return c.has_helo ? std::string(c.helo) : std::string();
  if (name == "localtime") return localtime_text();
  for (std::string_view prefix : {"sender", "recipient"}) {
    if (!name.starts_with(prefix)) continue;
    const auto part = name.substr(prefix.size());
    if (!part.empty() && part != "_name" && part != "_domain") return std::nullopt;
    if (prefix == "sender") return address_part(c.sender, c.has_sender, part);
    const bool has_recipient = c.stage >= Stage::kRcpt && !c.recipient.empty();
    return address_part(c.recipient, has_recipient, part);
  }
  return std::nullopt;
}

// The names `text` uses as plain $name, ${name} or $(name): where Postfix's
// mac_expand fails on an unknown name. In ${name?text} and ${name:text} an
// unknown name only tests as empty. (Plain references inside a conditional
// text count whichever text is chosen: a template that is bad one way is
// treated as bad.)
std::vector<std::string_view> plain_references(std::string_view text) {
  std::vector<std::string_view> out;
  auto name_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  };
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] != '$') continue;
    const char next = text[i + 1];
    if (next == '$') {
      ++i;
      continue;
    }
    const bool braced = next == '{' || next == '(';
    const size_t start = braced ? i + 2 : i + 1;
    size_t end = start;
    while (end < text.size() && name_char(text[end])) ++end;
    if (end == start) continue;
    if (braced && (end >= text.size() || text[end] != (next == '{' ? '}' : ')'))) continue;
    out.push_back(text.substr(start, end - start));
  }
  return out;
}

// Expands a template; nullopt for bad syntax or a plain unknown name.
std::optional<std::string> expand_reply(Request& r, const ReplyFacts& facts,
                                        std::string_view text) {
  std::deque<std::string> values;  // the views handed out must stay valid
  auto out =
      config::expand_template(text, [&](std::string_view name) -> std::optional<std::string_view> {
        if (!is_reply_name(name)) {
          r.effects.warnings.push_back(
              fmt::format("unknown macro name \"{}\" in expansion request", name));
          return std::nullopt;
        }
        return values.emplace_back(filtered(reply_value(r, facts, name).value_or("")));
      });
  for (auto name : plain_references(text)) {
    if (!is_reply_name(name)) return std::nullopt;
  }
  return out;
}

// Postfix's rbl_reject_reply: the template for the zone, expanded, as a
// reply ("554 5.7.1 text"; the enhanced code is optional).
Verdict rbl_reply(Request& r, const ReplyFacts& facts) {
  const DnsListSettings* s = settings(r);
  if (!s) return r.server_error("DNS list settings missing");
  std::optional<std::string> text;
  if (auto custom = s->reply_maps.find(facts.list.as_written)) {
    text = expand_reply(r, facts, *custom);
    if (!text) {
      r.effects.warnings.push_back(
          fmt::format("rbl_reject_reply: bad rbl reply template for domain {}: {}",
                      facts.list.as_written, *custom));
    }
  }
  if (!text) text = expand_reply(r, facts, s->default_reply);
  if (!text) return r.server_error("bad default rbl reply template: " + s->default_reply);
  const std::string& why = *text;
  auto digit = [&](size_t i) { return i < why.size() && why[i] >= '0' && why[i] <= '9'; };
  if (why.size() < 4 || (why[0] != '4' && why[0] != '5') || !digit(1) || !digit(2) ||
      why[3] != ' ') {
    r.effects.warnings.push_back("rbl response code configuration error: " + why);
    return r.reject(smtp::Reply{450, "4.7.1", "Service unavailable"});
  }
  const int code = (why[0] - '0') * 100 + (why[1] - '0') * 10 + (why[2] - '0');
  // What follows the code: an optional enhanced code, then the text
  // (Postfix's dsn_split with default 4.7.1).
  std::string_view rest = std::string_view(why).substr(4);
  auto skip_space = [&] {
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
  };
  skip_space();
  std::string_view dsn = "4.7.1";
  {
    size_t i = 0;
    auto digits = [&](size_t max) {
      const size_t start = i;
      while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') ++i;
      return i > start && i - start <= max;
    };
    if (rest.size() >= 5 && (rest[0] == '2' || rest[0] == '4' || rest[0] == '5') &&
        rest[1] == '.' && (i = 2, digits(3)) && i < rest.size() && rest[i] == '.' &&
        (++i, digits(3)) && (i == rest.size() || rest[i] == ' ' || rest[i] == '\t')) {
      dsn = rest.substr(0, i);
      rest.remove_prefix(i);
      skip_space();
    }
  }
  const std::string_view body = rest.empty() ? std::string_view("Service unavailable") : rest;
  return r.reject(smtp::Reply{code, fix_dsn(code, dsn, facts.kind), std::string(body)});
}

const DnsList* list_of(const Step& step) {
  return step.dns_list.get();
}

// reject_rbl_client and the reject_rhsbl_* restrictions once the query name
// is known.
Verdict reject_if_listed(Request& r, const DnsList& list, const std::string& query,
                         std::string_view what, std::string_view klass, ListKind kind) {
  if (query.empty()) return Verdict::dunno();
  switch (find_listing(r, list, query)) {
    case Listing::kPending:
      return Verdict::pending();
    case Listing::kNotListed:
    case Listing::kTempFail:
      return Verdict::dunno();
    case Listing::kListed:
      break;
  }
  const dns::Answer* txt = r.dns(query, dns::Type::kTXT);
  if (!txt) return Verdict::pending();
  const std::string reason = reason_text(*txt);
  return rbl_reply(r, ReplyFacts{list, what, klass, kind, reason});
}

Verdict reject_domain(const Step& step, Request& r, std::string_view what, std::string_view klass,
                      ListKind kind) {
  const DnsList* list = list_of(step);
  if (!list) return r.server_error("restriction " + step.name + " without a DNS list");
  return reject_if_listed(r, *list, domain_query(what, *list), what, klass, kind);
}

// permit_dnswl_client / permit_rhswl_client: OK when listed; a lookup
// failure turns a later reject into "450 4.7.1 <what>: Client host
// rejected: Service unavailable" (Postfix's DEFER_IF_REJECT).
Verdict permit_if_listed(const Step& step, Request& r, const std::string& query,
                         std::string_view what) {
  // Postfix never lets an allow list permit relaying: at RCPT, only for a
  // recipient that permit_auth_destination would accept.
  if (r.context.stage == Stage::kRcpt && r.context.resolved_recipient &&
      !permit_auth_destination(step, r).is_permit()) {
    return Verdict::dunno();
  }
  if (query.empty()) return Verdict::dunno();
  switch (find_listing(r, *list_of(step), query)) {
    case Listing::kPending:
      return Verdict::pending();
    case Listing::kNotListed:
      return Verdict::dunno();
    case Listing::kTempFail:
      r.defer_if_reject = smtp::Reply{
          450, "4.7.1", fmt::format("<{}>: Client host rejected: Service unavailable", what)};
      return Verdict::dunno();
    case Listing::kListed:
      return Verdict::permit();
  }
  return Verdict::dunno();
}

bool is_unknown(std::string_view name) {
  constexpr std::string_view kUnknown = "unknown";
  return name.size() == kUnknown.size() && std::ranges::equal(name, kUnknown, [](char a, char b) {
           return (a >= 'A' && a <= 'Z' ? static_cast<char>(a - 'A' + 'a') : a) == b;
         });
}

}  // namespace

bool is_dns_list_restriction(Evaluator evaluate) {
  return evaluate == reject_rbl_client || evaluate == reject_rhsbl_client ||
         evaluate == reject_rhsbl_reverse_client || evaluate == reject_rhsbl_helo ||
         evaluate == reject_rhsbl_sender || evaluate == reject_rhsbl_recipient ||
         evaluate == permit_dnswl_client || evaluate == permit_rhswl_client;
}

bool compile_dns_list(Step& step, std::vector<DnsListZone>& zones,
                      std::vector<std::string>& errors) {
  auto list = std::make_shared<DnsList>();
  list->as_written = step.argument;
  const auto equals = step.argument.find('=');
  list->zone = step.argument.substr(0, equals);
  list->zone_valid = !list->zone.ends_with('.') && valid_hostname(list->zone);
  if (list->zone.empty()) {
    errors.push_back(step.name + ": no DNS list domain in \"" + step.argument + "\"");
    return false;
  }
  if (equals != std::string::npos) {
    AddressFilter filter;
    const std::string why =
        parse_filter(std::string_view(step.argument).substr(equals + 1), filter);
    if (!why.empty()) {
      errors.push_back(step.name + " " + step.argument + ": bad reply filter: " + why);
      return false;
    }
    list->filter = std::move(filter);
  }
  const bool address = step.evaluate == reject_rbl_client || step.evaluate == permit_dnswl_client;
  const bool known = std::ranges::any_of(
      zones, [&](const DnsListZone& z) { return z.zone == list->zone && z.domains == !address; });
  if (!known) zones.push_back({list->zone, !address, address});
  step.dns_list = std::move(list);
  return true;
}

std::shared_ptr<const DnsListSettings> build_dns_list_settings(
    const config::Config& config, std::vector<DnsListZone> zones,
    std::vector<config::Problem>& problems) {
  auto s = std::make_shared<DnsListSettings>();
  s->zones = std::move(zones);
  s->default_reply = config.get("default_rbl_reply");
  s->reply_code = static_cast<int>(config.get_integer("maps_rbl_reject_code"));
  s->server_name = config.get("myhostname");
  // Postfix stops (fatal) on a default template it cannot expand; moat says
  // so when it loads the config.
  std::string unknown;
  const std::string syntax = config::scan_references(s->default_reply, [](std::string_view) {});
  for (auto name : plain_references(s->default_reply)) {
    if (unknown.empty() && !is_reply_name(name)) unknown = name;
  }
  if (!syntax.empty()) {
    problems.push_back(config.problem_at("default_rbl_reply", syntax));
  } else if (!unknown.empty()) {
    problems.push_back(
        config.problem_at("default_rbl_reply", "unknown name \"" + unknown + "\" in template"));
  }
  std::vector<std::string> errors;
  s->reply_maps = tables::TableList::open(config.get_list("rbl_reply_maps"),
                                          tables::SourceFormat::kPostmap, errors);
  for (auto& error : errors) problems.push_back(config.problem_at("rbl_reply_maps", error));
  return s;
}

const std::vector<DnsListZone>& Engine::dns_list_zones() const {
  static const std::vector<DnsListZone> none;
  return dns_lists_ ? dns_lists_->zones : none;
}

void Engine::prefetch_client(std::string_view client_ip, dns::AnswerSet& answers) const {
  if (!dns_lists_) return;
  const std::string reversed = dns::reversed_address(client_ip);
  if (reversed.empty()) return;
  for (const auto& zone : dns_lists_->zones) {
    if (zone.client_address) answers.prefetch(reversed + "." + zone.zone, dns::Type::kA);
  }
}

Verdict reject_rbl_client(const Step& step, Request& r) {
  const DnsList* list = list_of(step);
  if (!list) return r.server_error("restriction " + step.name + " without a DNS list");
  return reject_if_listed(r, *list, address_query(r, *list), r.context.client_ip, "Client host",
                          ListKind::kClient);
}

Verdict reject_rhsbl_client(const Step& step, Request& r) {
  if (is_unknown(r.context.client_name)) return Verdict::dunno();
  return reject_domain(step, r, r.context.client_name, "Client host", ListKind::kClient);
}

Verdict reject_rhsbl_reverse_client(const Step& step, Request& r) {
  if (is_unknown(r.context.reverse_client_name)) return Verdict::dunno();
  return reject_domain(step, r, r.context.reverse_client_name, "Unverified Client host",
                       ListKind::kReverseClient);
}

Verdict reject_rhsbl_helo(const Step& step, Request& r) {
  if (!r.context.has_helo) return Verdict::dunno();
  return reject_domain(step, r, r.context.helo, "Helo command", ListKind::kHelo);
}

Verdict reject_rhsbl_sender(const Step& step, Request& r) {
  if (!r.context.has_sender || r.context.sender.empty()) return Verdict::dunno();
  return reject_domain(step, r, r.context.sender, "Sender address", ListKind::kSender);
}

Verdict reject_rhsbl_recipient(const Step& step, Request& r) {
  if (r.context.stage < Stage::kRcpt || r.context.recipient.empty()) return Verdict::dunno();
  return reject_domain(step, r, r.context.recipient, "Recipient address", ListKind::kRecipient);
}

Verdict permit_dnswl_client(const Step& step, Request& r) {
  const DnsList* list = list_of(step);
  if (!list) return r.server_error("restriction " + step.name + " without a DNS list");
  return permit_if_listed(step, r, address_query(r, *list), r.context.client_ip);
}

Verdict permit_rhswl_client(const Step& step, Request& r) {
  const DnsList* list = list_of(step);
  if (!list) return r.server_error("restriction " + step.name + " without a DNS list");
  if (is_unknown(r.context.client_name)) return Verdict::dunno();
  return permit_if_listed(step, r, domain_query(r.context.client_name, *list),
                          r.context.client_name);
}

}  // namespace moat::restriction
