#include "restrict/restrictions.h"

#include <atomic>
#include <cctype>
#include <charconv>

#include <ifaddrs.h>
#include <netinet/in.h>

#include "config/values.h"
#include "dns/answer_set.h"
#include "log/log.h"
#include "restrict/evaluation.h"
#include "text/ascii.h"

namespace moat::restriction {
namespace {

// Generic restrictions: no context needed beyond the list they run in.
Verdict permit(const Step&, Request&) {
  return Verdict::permit();
}

Verdict reject(const Step&, Request& r) {
  return r.reject(r.engine.codes().reject_code, "5.7.1", "Access denied");
}

Verdict defer(const Step&, Request& r) {
  return r.reject(r.engine.codes().defer_code, "4.3.2", "Try again later");
}

Verdict defer_if_permit(const Step&, Request& r) {
  if (!r.effects.defer_if_permit) {
    r.effects.defer_if_permit =
        r.rejected(r.engine.codes().defer_code, "4.7.0", "defer_if_permit requested");
  }
  return Verdict::dunno();
}

Verdict defer_if_reject(const Step&, Request& r) {
  r.defer_if_reject = r.rejected(r.engine.codes().defer_code, "4.7.0", "defer_if_reject requested");
  return Verdict::dunno();
}

Verdict sleep(const Step& step, Request& r) {
  r.effects.sleep += std::chrono::seconds(step.number);
  return Verdict::dunno();
}

Verdict restriction_class(const Step& step, Request& r) {
  if (r.depth > 100) return r.server_error("restriction class recursion: " + step.name);
  ++r.depth;
  auto verdict = step.list->evaluate(r);
  --r.depth;
  return verdict;
}

// Recognised, valid in a config, but not evaluated: DUNNO, so they never
// accept anything by accident; the first use of each logs a warning.
struct Rule;
Verdict not_active(const Step& step, Request& r);

// never-matching restrictions: what they test cannot be true yet (no TLS
// client certificates, no SASL login).
Verdict never_matches(const Step&, Request&) {
  return Verdict::dunno();
}

enum class Family { kPlain, kDns, kSaslLogin };

struct Rule {
  std::string_view name;
  int arguments;  // list elements consumed after the name
  Evaluator evaluate;
  Family family = Family::kPlain;
  mutable std::atomic<bool> warned{false};
};

// The one table of restriction names. Adding a restriction is adding a row.
Rule kRules[] = {
    {"permit", 0, permit},
    {"reject", 0, reject},
    {"defer", 0, defer},
    {"defer_if_permit", 0, defer_if_permit},
    {"defer_if_reject", 0, defer_if_reject},
    {"warn_if_reject", 0, nullptr},  // compiled into a flag on the next step
    {"sleep", 1, sleep},
    {"reject_unauth_pipelining", 0, reject_unauth_pipelining},
    {"reject_plaintext_session", 0, reject_plaintext_session},
    // access tables
    {"check_client_access", 1, check_client_access},
    {"check_reverse_client_hostname_access", 1, check_reverse_client_hostname_access},
    {"check_helo_access", 1, check_helo_access},
    {"check_sender_access", 1, check_sender_access},
    {"check_recipient_access", 1, check_recipient_access},
    {"check_ccert_access", 1, never_matches},
    {"check_sasl_access", 1, never_matches},
    // client, HELO, addresses, destinations
    {"permit_mynetworks", 0, permit_mynetworks},
    {"permit_sasl_authenticated", 0, permit_sasl_authenticated},
    {"permit_inet_interfaces", 0, permit_inet_interfaces},
    {"permit_tls_clientcerts", 0, never_matches},
    {"permit_tls_all_clientcerts", 0, never_matches},
    {"reject_invalid_helo_hostname", 0, reject_invalid_helo_hostname},
    {"reject_invalid_hostname", 0, reject_invalid_helo_hostname},  // Postfix < 2.3 name
    {"reject_non_fqdn_helo_hostname", 0, reject_non_fqdn_helo_hostname},
    {"reject_non_fqdn_hostname", 0, reject_non_fqdn_helo_hostname},  // Postfix < 2.3 name
    {"reject_non_fqdn_sender", 0, reject_non_fqdn_sender},
    {"reject_non_fqdn_recipient", 0, reject_non_fqdn_recipient},
    {"reject_unauth_destination", 0, reject_unauth_destination},
    {"defer_unauth_destination", 0, defer_unauth_destination},
    {"permit_auth_destination", 0, permit_auth_destination},
    {"reject_unlisted_sender", 0, reject_unlisted_sender},
    {"reject_unlisted_recipient", 0, reject_unlisted_recipient},
    {"check_recipient_maps", 0, reject_unlisted_recipient},  // Postfix < 2.1 name
    {"reject_multi_recipient_bounce", 0, reject_multi_recipient_bounce},
    // DNS-based: recognised, not active yet
    {"reject_unknown_sender_domain", 0, reject_unknown_sender_domain},
    {"reject_unknown_recipient_domain", 0, reject_unknown_recipient_domain},
    {"reject_unknown_client_hostname", 0, reject_unknown_client_hostname},
    {"reject_unknown_client", 0, reject_unknown_client_hostname},  // Postfix < 2.3 name
    {"reject_unknown_reverse_client_hostname", 0, reject_unknown_reverse_client_hostname},
    {"reject_unknown_helo_hostname", 0, reject_unknown_helo_hostname},
    {"reject_unknown_hostname", 0, reject_unknown_helo_hostname},  // Postfix < 2.3 name
    {"reject_unknown_address", 0, reject_unknown_sender_domain},   // Postfix < 2.3 name
    {"reject_unverified_sender", 0, not_active, Family::kDns},
    {"reject_unverified_recipient", 0, not_active, Family::kDns},
    {"permit_mx_backup", 0, not_active, Family::kDns},
    {"reject_maps_rbl", 0, not_active, Family::kDns},
    {"reject_rbl_client", 1, reject_rbl_client, Family::kDns},
    {"reject_rbl", 1, reject_rbl_client, Family::kDns},  // Postfix < 2.3 name
    {"reject_rhsbl_client", 1, reject_rhsbl_client, Family::kDns},
    {"reject_rhsbl_reverse_client", 1, reject_rhsbl_reverse_client, Family::kDns},
    {"reject_rhsbl_helo", 1, reject_rhsbl_helo, Family::kDns},
    {"reject_rhsbl_sender", 1, reject_rhsbl_sender, Family::kDns},
    {"reject_rhsbl_recipient", 1, reject_rhsbl_recipient, Family::kDns},
    {"permit_dnswl_client", 1, permit_dnswl_client, Family::kDns},
    {"permit_rhswl_client", 1, permit_rhswl_client, Family::kDns},
    {"check_client_a_access", 1, check_client_a_access, Family::kDns},
    {"check_client_mx_access", 1, check_client_mx_access, Family::kDns},
    {"check_client_ns_access", 1, check_client_ns_access, Family::kDns},
    {"check_reverse_client_hostname_a_access", 1, check_reverse_client_hostname_a_access,
     Family::kDns},
    {"check_reverse_client_hostname_mx_access", 1, check_reverse_client_hostname_mx_access,
     Family::kDns},
    {"check_reverse_client_hostname_ns_access", 1, check_reverse_client_hostname_ns_access,
     Family::kDns},
    {"check_helo_a_access", 1, check_helo_a_access, Family::kDns},
    {"check_helo_mx_access", 1, check_helo_mx_access, Family::kDns},
    {"check_helo_ns_access", 1, check_helo_ns_access, Family::kDns},
    {"check_sender_a_access", 1, check_sender_a_access, Family::kDns},
    {"check_sender_mx_access", 1, check_sender_mx_access, Family::kDns},
    {"check_sender_ns_access", 1, check_sender_ns_access, Family::kDns},
    {"check_recipient_a_access", 1, check_recipient_a_access, Family::kDns},
    {"check_recipient_mx_access", 1, check_recipient_mx_access, Family::kDns},
    {"check_recipient_ns_access", 1, check_recipient_ns_access, Family::kDns},
    {"check_spf", 0, check_spf, Family::kDns},
    {"check_greylist", 0, check_greylist},
    {"check_policy_service", 1, check_policy_service},
    {"reject_sender_login_mismatch", 0, not_active, Family::kSaslLogin},
    {"reject_known_sender_login_mismatch", 0, not_active, Family::kSaslLogin},
    {"reject_unauthenticated_sender_login_mismatch", 0, not_active, Family::kSaslLogin},
    {"reject_authenticated_sender_login_mismatch", 0, never_matches},
};

const Rule* find_rule(std::string_view name) {
  for (const Rule& rule : kRules) {
    if (rule.name.size() != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < name.size() && same; ++i) {
      same = std::tolower(static_cast<unsigned char>(name[i])) == rule.name[i];
    }
    if (same) return &rule;
  }
  return nullptr;
}

Verdict not_active(const Step& step, Request&) {
  const Rule* rule = find_rule(step.name);
  if (rule && !rule->warned.exchange(true)) {
    const char* what =
        rule->family == Family::kDns ? "DNS-based restrictions are" : "SASL login checks are";
    log::warning("smtpd", "{} not active yet: \"{}\" is skipped (DUNNO)", what, step.name);
  }
  return Verdict::dunno();
}

// The names that make a relay or recipient list able to refuse relaying
// (Postfix refuses to start without one).
bool can_block_relay(std::string_view name) {
  return name == "reject_unauth_destination" || name == "defer_unauth_destination" ||
         name == "reject" || name == "defer" || name == "defer_if_permit" ||
         name == "check_relay_domains";
}

// Restrictions that may permit a request whatever its destination.
bool may_permit_any_destination(std::string_view name) {
  return name == "permit" ||
         (name.starts_with("check_") && name != "check_spf" && name != "check_greylist") ||
         name == "permit_dnswl_client" || name == "permit_rhswl_client" ||
         name == "permit_mx_backup";
}

}  // namespace

// Builds steps from list elements; shared by main.cf lists, classes and
// access-table right-hand sides.
struct Compiler {
  const Engine& engine;
  const config::Config* config;  // null at run time: then no tables may be opened
  std::map<std::string, std::shared_ptr<const tables::Table>, std::less<>>* tables;
  bool pipelining = false;             // some compiled list uses reject_unauth_pipelining
  bool state_store = false;            // some compiled list uses check_greylist
  std::vector<DnsListZone> dns_zones;  // of reject_rbl_client & co

  RestrictionList compile(const std::vector<std::string>& elements, ListKind kind,
                          std::vector<std::string>& errors) {
    RestrictionList list;
    bool warn_next = false;
    for (size_t i = 0; i < elements.size(); ++i) {
      const std::string& element = elements[i];
      Step step;
      step.name = element;
      const std::string name = text::lower_ascii(element);
      if (auto cls = engine.classes_.find(element); cls != engine.classes_.end()) {
        step.evaluate = restriction_class;
        step.list = cls->second;
      } else if (const Rule* rule = find_rule(name)) {
        if (rule->evaluate == reject_unauth_pipelining) pipelining = true;
        if (rule->evaluate == check_greylist) state_store = true;
        if (!rule->evaluate) {
          warn_next = true;
          continue;
        }
        step.evaluate = rule->evaluate;
        if (rule->arguments > 0) {
          if (i + 1 >= elements.size()) {
            errors.push_back("restriction \"" + element + "\" needs an argument");
            continue;
          }
          step.argument = elements[++i];
          if (name == "sleep") {
            const auto& text = step.argument;
            auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), step.number);
            if (ec != std::errc() || end != text.data() + text.size() || step.number < 0) {
              errors.push_back("sleep: bad number of seconds \"" + text + "\"");
              continue;
            }
          } else if (name.starts_with("check_") && name.ends_with("_access") &&
                     rule->evaluate != never_matches) {
            if (!open(step, errors)) continue;
          } else if (is_dns_list_restriction(rule->evaluate)) {
            if (!compile_dns_list(step, dns_zones, errors)) continue;
          } else if (rule->evaluate == check_policy_service) {
            if (!compile_policy_service(step, *engine.policy_defaults_, engine.queue_directory_,
                                        errors)) {
              continue;
            }
          }
        }
      } else if (element.find(':') != std::string::npos) {
        // A bare table means the access check of the list it is in.
        if (kind == ListKind::kData || kind == ListKind::kEndOfData) {
          errors.push_back("table \"" + element +
                           "\" needs a check_*_access restriction in this list");
          continue;
        }
        step.argument = element;
        step.evaluate = check_list_table;
        if (!open(step, errors)) continue;
      } else {
        errors.push_back("unknown restriction \"" + element + "\"");
        continue;
      }
      step.warn_if_reject = warn_next;
      warn_next = false;
      list.steps_.push_back(std::move(step));
    }
    return list;
  }

  bool open(Step& step, std::vector<std::string>& errors) {
    if (!tables) {
      errors.push_back("lookup table \"" + step.argument + "\" inside an access table result");
      return false;
    }
    if (auto it = tables->find(step.argument); it != tables->end()) {
      step.table = it->second;
      return true;
    }
    auto opened = tables::open_table(step.argument, tables::SourceFormat::kPostmap);
    if (!opened.table) {
      errors.push_back(std::move(opened.error));
      return false;
    }
    step.table = std::shared_ptr<const tables::Table>(std::move(opened.table));
    tables->emplace(step.argument, step.table);
    return true;
  }
};

RestrictionList::RestrictionList() = default;
RestrictionList::~RestrictionList() = default;
RestrictionList::RestrictionList(RestrictionList&&) noexcept = default;
RestrictionList& RestrictionList::operator=(RestrictionList&&) noexcept = default;

bool RestrictionList::empty() const {
  return steps_.empty();
}
size_t RestrictionList::size() const {
  return steps_.size();
}

Verdict RestrictionList::evaluate(Request& request) const {
  for (const auto& step : steps_) {
    const bool saved = request.warn_if_reject;
    request.warn_if_reject = step.warn_if_reject;
    auto verdict = step.evaluate(step, request);
    request.warn_if_reject = saved;
    if (!verdict.is_dunno()) return verdict;
  }
  return Verdict::dunno();
}

std::string fix_dsn(int code, std::string_view dsn, ListKind list) {
  std::string out(dsn);
  if (out.empty()) out = code < 500 ? "4.7.1" : "5.7.1";
  out[0] = code < 500 ? '4' : '5';
  // A sender is not a destination mailbox: Postfix's smtpd_dsn_fix().
  if (list == ListKind::kSender && out.size() == 5 && out[2] == '1' && out[3] == '.') {
    if (out[4] == '1' || out[4] == '3') out[4] = '7';
    if (out[4] == '2') out[4] = '8';
  }
  return out;
}

std::string Request::reply_name() const {
  switch (list) {
    case ListKind::kClient:
      return std::string(context.client_name) + "[" + std::string(context.client_ip) + "]";
    case ListKind::kHelo:
      return std::string(context.helo);
    case ListKind::kSender:
      return std::string(context.sender);
    case ListKind::kRecipient:
      return std::string(context.recipient);
    case ListKind::kData:
      return "DATA";
    case ListKind::kEndOfData:
      return "END-OF-MESSAGE";
    case ListKind::kReverseClient:
      return std::string(context.reverse_client_name);
  }
  return {};
}

std::string_view Request::reply_class() const {
  switch (list) {
    case ListKind::kClient:
      return "Client host";
    case ListKind::kHelo:
      return "Helo command";
    case ListKind::kSender:
      return "Sender address";
    case ListKind::kRecipient:
      return "Recipient address";
    case ListKind::kData:
      return "Data command";
    case ListKind::kEndOfData:
      return "End-of-data";
    case ListKind::kReverseClient:
      return "Unverified Client host";
  }
  return {};
}

smtp::Reply Request::rejected(int code, std::string_view dsn, std::string_view text) const {
  std::string body = "<" + reply_name() + ">: ";
  body += reply_class();
  body += " rejected: ";
  body += text;
  return {code, fix_dsn(code, dsn, list), std::move(body)};
}

Verdict Request::reject(smtp::Reply reply) {
  if (warn_if_reject) {
    log("reject_warning", reply.log_text());
    return Verdict::dunno();
  }
  if (defer_if_reject && reply.code >= 500) return Verdict::reject(*defer_if_reject);
  return Verdict::reject(std::move(reply));
}

Verdict Request::server_error(std::string_view why) {
  log::warning("smtpd", "{}", why);
  return Verdict::reject({451, "4.3.5", "Server configuration error"});
}

Verdict Request::tempfail(TempfailAction action, smtp::Reply reply) {
  if (action == TempfailAction::kDefer) return reject(std::move(reply));
  if (!effects.defer_if_permit) effects.defer_if_permit = std::move(reply);
  return Verdict::dunno();
}

const dns::Answer* Request::dns(std::string_view name, dns::Type type) const {
  if (context.dns) return context.dns->find(name, type);
  static const dns::Answer no_resolver{.status = dns::Status::kTempFail, .error = "no resolver"};
  return &no_resolver;
}

Engine::Engine() = default;
Engine::~Engine() = default;
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;

namespace {

constexpr std::string_view kListParameters[] = {
    "smtpd_client_restrictions",    "smtpd_helo_restrictions", "smtpd_sender_restrictions",
    "smtpd_recipient_restrictions", "smtpd_data_restrictions", "smtpd_end_of_data_restrictions",
    "moat_policy_restrictions"};
constexpr ListKind kListKinds[] = {ListKind::kClient,    ListKind::kHelo, ListKind::kSender,
                                   ListKind::kRecipient, ListKind::kData, ListKind::kEndOfData,
                                   ListKind::kRecipient};

TempfailAction tempfail_action(const config::Config& config, std::string_view parameter,
                               std::vector<config::Problem>& problems) {
  const auto value = config.get(parameter);
  if (value == "defer") return TempfailAction::kDefer;
  if (value != "defer_if_permit") {
    problems.push_back(config.problem_at(
        parameter, "expected defer or defer_if_permit, not \"" + std::string(value) + "\""));
  }
  return TempfailAction::kDeferIfPermit;
}

int reply_code(const config::Config& config, std::string_view parameter,
               std::vector<config::Problem>& problems) {
  const auto code = config.get_integer(parameter);
  if (code < 400 || code > 599) {
    problems.push_back(config.problem_at(parameter, "reply code must be 4XX or 5XX"));
    return 450;
  }
  return static_cast<int>(code);
}

void read_codes(const config::Config& config, ReplyCodes& codes,
                std::vector<config::Problem>& problems) {
  codes = {
      .reject_code = reply_code(config, "reject_code", problems),
      .defer_code = reply_code(config, "defer_code", problems),
      .access_map_reject_code = reply_code(config, "access_map_reject_code", problems),
      .access_map_defer_code = reply_code(config, "access_map_defer_code", problems),
      .invalid_hostname_reject_code = reply_code(config, "invalid_hostname_reject_code", problems),
      .non_fqdn_reject_code = reply_code(config, "non_fqdn_reject_code", problems),
      .relay_domains_reject_code = reply_code(config, "relay_domains_reject_code", problems),
      .unknown_address_reject_code = reply_code(config, "unknown_address_reject_code", problems),
      .unknown_client_reject_code = reply_code(config, "unknown_client_reject_code", problems),
      .unknown_hostname_reject_code = reply_code(config, "unknown_hostname_reject_code", problems),
      .unknown_local_recipient_reject_code =
          reply_code(config, "unknown_local_recipient_reject_code", problems),
      .unknown_virtual_mailbox_reject_code =
          reply_code(config, "unknown_virtual_mailbox_reject_code", problems),
      .multi_recipient_bounce_reject_code =
          reply_code(config, "multi_recipient_bounce_reject_code", problems),
      .plaintext_reject_code = reply_code(config, "plaintext_reject_code", problems),
  };
}

// The addresses of this host's interfaces (permit_inet_interfaces with
// inet_interfaces = all), or the configured ones.
std::vector<asio::ip::address> local_addresses(const config::Config& config) {
  std::vector<asio::ip::address> out;
  bool all = false;
  for (const auto& name : config.get_list("inet_interfaces")) {
    if (name == "all") {
      all = true;
      continue;
    }
    if (name == "loopback-only" || name == "localhost") {
      out.push_back(asio::ip::make_address("127.0.0.1"));
      out.push_back(asio::ip::make_address("::1"));
      continue;
    }
    std::error_code ec;
    auto address = asio::ip::make_address(name, ec);
    if (!ec) out.push_back(address);
  }
  if (!all) return out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr) continue;
    if (i->ifa_addr->sa_family == AF_INET) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
      out.push_back(asio::ip::address_v4(ntohl(in->sin_addr.s_addr)));
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
      asio::ip::address_v6::bytes_type bytes;
      std::copy(std::begin(in6->sin6_addr.s6_addr), std::end(in6->sin6_addr.s6_addr),
                bytes.begin());
      out.push_back(asio::ip::address_v6(bytes));
    }
  }
  freeifaddrs(list);
  return out;
}

// Warns about a list that can permit relaying before anything refuses it.
void warn_relay_order(const config::Config& config, std::string_view parameter,
                      std::vector<config::Problem>& problems) {
  for (const auto& element : config.get_list(parameter)) {
    const std::string name = text::lower_ascii(element);
    if (name == "reject_unauth_destination" || name == "defer_unauth_destination") return;
    const bool table = element.find(':') != std::string::npos && !find_rule(name);
    if (table || may_permit_any_destination(name)) {
      problems.push_back(config.problem_at(
          parameter,
          "\"" + element +
              "\" before reject_unauth_destination can permit mail for any destination "
              "(open relay)",
          config::Problem::Severity::kWarning));
      return;
    }
  }
}

// Postfix's start-up check: one of the relay or recipient lists must be able
// to refuse mail (a working reject_unauth_destination or the like).
bool can_refuse(const std::vector<std::string>& elements) {
  bool warn_next = false;
  for (const auto& element : elements) {
    const std::string name = text::lower_ascii(element);
    if (name == "warn_if_reject") {
      warn_next = true;
      continue;
    }
    if (!warn_next && can_block_relay(name)) return true;
    warn_next = false;
  }
  return false;
}

}  // namespace

Engine Engine::build(const config::Config& config, const deliver::Destinations* destinations,
                     std::vector<config::Problem>& problems) {
  Engine engine;
  engine.destinations_ = destinations;
  read_codes(config, engine.codes_, problems);
  engine.unknown_helo_tempfail_action_ =
      tempfail_action(config, "unknown_helo_hostname_tempfail_action", problems);
  engine.unknown_address_tempfail_action_ =
      tempfail_action(config, "unknown_address_tempfail_action", problems);
  engine.delay_reject_ = config.get_boolean("smtpd_delay_reject");
  engine.reject_unlisted_sender_ = config.get_boolean("smtpd_reject_unlisted_sender");
  engine.show_user_unknown_table_name_ = config.get_boolean("show_user_unknown_table_name");
  engine.null_access_lookup_key_ = config.get("smtpd_null_access_lookup_key");
  engine.recipient_delimiter_ = config.get("recipient_delimiter");
  engine.parent_matches_subdomains_ = false;
  for (const auto& name : config.get_list("parent_domain_matches_subdomains")) {
    if (name == "smtpd_access_maps") engine.parent_matches_subdomains_ = true;
  }
  engine.interface_addresses_ = local_addresses(config);
  engine.policy_defaults_ =
      std::make_shared<policy::Service>(policy::Service{{}, policy_defaults(config, problems)});
  engine.queue_directory_ = config.get("queue_directory");
  engine.compatibility_level_ = config.get("compatibility_level");
  engine.mail_version_ = config.get("mail_version");

  std::map<std::string, std::shared_ptr<const tables::Table>, std::less<>> tables;
  Compiler compiler{engine, &config, &tables};
  // Classes first (empty), so that lists and classes may name any class.
  const auto class_names = config.get_list("smtpd_restriction_classes");
  for (const auto& name : class_names) {
    engine.classes_.emplace(name, std::make_shared<RestrictionList>());
  }
  for (const auto& name : class_names) {
    std::vector<std::string> errors;
    // A class runs in the list that names it; a bare table in a class is
    // compiled as a recipient check and resolved by that list at run time.
    *engine.classes_[name] = compiler.compile(config.get_list(name), ListKind::kRecipient, errors);
    for (auto& error : errors) {
      problems.push_back(config.problem_at(
          config.line_of(name) ? name : "smtpd_restriction_classes", name + ": " + error));
    }
  }
  auto compile = [&](std::string_view parameter, ListKind kind) {
    std::vector<std::string> errors;
    auto list = compiler.compile(config.get_list(parameter), kind, errors);
    for (auto& error : errors) problems.push_back(config.problem_at(parameter, std::move(error)));
    return list;
  };
  for (size_t i = 0; i < std::size(kListParameters); ++i) {
    engine.lists_[i] = compile(kListParameters[i], kListKinds[i]);
  }
  engine.relay_list_ = compile("smtpd_relay_restrictions", ListKind::kRecipient);
  engine.checks_pipelining_ = compiler.pipelining;
  engine.uses_state_store_ = compiler.state_store;
  engine.dns_lists_ = build_dns_list_settings(config, std::move(compiler.dns_zones), problems);
  engine.spf_ = build_spf_settings(config, problems);
  engine.greylist_ = build_greylist_settings(config, problems);

  const auto relay = config.get_list("smtpd_relay_restrictions");
  if (!can_refuse(relay) && !can_refuse(config.get_list("smtpd_recipient_restrictions"))) {
    problems.push_back(config.problem_at(
        relay.empty() ? "smtpd_recipient_restrictions" : "smtpd_relay_restrictions",
        "in smtpd_relay_restrictions or smtpd_recipient_restrictions, specify at least one "
        "working instance of: reject_unauth_destination, defer_unauth_destination, reject, "
        "defer, defer_if_permit or check_relay_domains (open relay)"));
  }
  warn_relay_order(config, "smtpd_relay_restrictions", problems);
  if (relay.empty()) warn_relay_order(config, "smtpd_recipient_restrictions", problems);
  return engine;
}

bool Engine::has_list(Check check) const {
  return !lists_[static_cast<size_t>(check)].empty() ||
         (check == Check::kSender && reject_unlisted_sender_) ||
         (check == Check::kRecipient && !relay_list_.empty());
}

std::shared_ptr<const RestrictionList> Engine::runtime_list(std::string_view value,
                                                            std::string& error) const {
  std::vector<std::string> errors;
  Compiler compiler{*this, nullptr, nullptr};
  auto list = std::make_shared<RestrictionList>(
      compiler.compile(config::split_list(value), ListKind::kRecipient, errors));
  if (!errors.empty()) {
    error = errors.front();
    return nullptr;
  }
  return list;
}

Verdict Engine::check(Check check, const Context& context, Effects& effects) const {
  if (check == Check::kHelo && !context.has_helo) return Verdict::dunno();
  if (check == Check::kSender && !context.has_sender) return Verdict::dunno();
  Request request{context, *this, kListKinds[static_cast<size_t>(check)], effects};
  if (check == Check::kRecipient && !relay_list_.empty()) {
    auto verdict = relay_list_.evaluate(request);
    if (verdict.is_reject() || verdict.is_pending()) return verdict;
  }
  auto verdict = lists_[static_cast<size_t>(check)].evaluate(request);
  // smtpd_reject_unlisted_sender applies after the sender list, even after
  // a permit, as in Postfix.
  if (check == Check::kSender && reject_unlisted_sender_ && !verdict.is_reject() &&
      !verdict.is_pending()) {
    if (auto unlisted = reject_unlisted_sender(Step{}, request); unlisted.is_reject()) {
      return unlisted;
    }
  }
  return verdict;
}

Verdict Engine::apply_defer_if_permit(Verdict verdict, const Effects& effects) {
  if (!verdict.is_reject() && effects.defer_if_permit) {
    return Verdict::reject(*effects.defer_if_permit);
  }
  return verdict;
}

}  // namespace moat::restriction
