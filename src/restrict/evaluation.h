// Inside the restriction engine: a compiled restriction (Step) and the state
// of one check while it runs (Request). The evaluators of each family of
// restrictions (access.cc, builtins.cc) are declared here and registered by
// name in restrictions.cc. Not for use outside src/restrict/.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "dns/message.h"
#include "dns/public_suffix.h"
#include "greylist/allowlist.h"
#include "greylist/decision.h"
#include "net/cidr.h"
#include "policy/queries.h"
#include "restrict/restrictions.h"
#include "spf/check_host.h"

namespace moat::restriction {

using Evaluator = Verdict (*)(const Step&, Request&);

struct DnsList;  // dnsbl.cc: a DNS list's "zone[=filter]", parsed once

struct Step {
  Evaluator evaluate = nullptr;
  std::string name;      // as written in the list, for log lines
  std::string argument;  // the consumed argument (table spec, sleep count, DNS domain)
  std::shared_ptr<const tables::Table> table;     // check_*_access and bare tables
  std::shared_ptr<const RestrictionList> list;    // restriction class
  long long number = 0;                           // sleep N
  std::shared_ptr<const DnsList> dns_list;        // reject_rbl_client & co
  std::shared_ptr<const policy::Service> policy;  // check_policy_service
  bool warn_if_reject = false;                    // the marker itself: applies to the next step
};

struct Request {
  const Context& context;
  const Engine& engine;
  ListKind list;
  Effects& effects;
  int depth = 0;
  bool warn_if_reject = false;                 // set while the step after warn_if_reject runs
  std::optional<smtp::Reply> defer_if_reject;  // set by defer_if_reject / DEFER_IF_REJECT

  // What replies name: "NAME[IP]", the HELO name, the address, "DATA", ...
  std::string reply_name() const;
  // "Client host", "Helo command", "Sender address", "Recipient address", ...
  std::string_view reply_class() const;
  // The reply "<name>: Class rejected: text" with code and enhanced code.
  smtp::Reply rejected(int code, std::string_view dsn, std::string_view text) const;
  // Refuses through warn_if_reject (a logged reject_warning, then dunno) and
  // defer_if_reject (a 5XX becomes the pending deferral).
  Verdict reject(smtp::Reply reply);
  Verdict reject(int code, std::string_view dsn, std::string_view text) {
    return reject(rejected(code, dsn, text));
  }
  // "451 4.3.5 Server configuration error", logged with a warning.
  Verdict server_error(std::string_view why);
  // Postfix's DEFER_IF_PERMIT2: a refusal for a temporary failure, made
  // pending (defer_if_permit) or given now (defer), as `action` says.
  Verdict tempfail(TempfailAction action, smtp::Reply reply);
  // The DNS answer to (name, type), or null when it is not known yet: the
  // question is then noted, and the evaluator returns Verdict::pending()
  // (after noting every other question it can already tell it needs).
  const dns::Answer* dns(std::string_view name, dns::Type type) const;
  // The SPF result for (sender, HELO name) ("" = the null sender), or null
  // when it is not known yet: noted like a DNS question (spf_policy.cc).
  const spf::SpfResult* spf(std::string_view sender, std::string_view helo) const;
  // The greylisting decision for the question's triplet, or null when the
  // store has not answered yet: noted like a DNS question (greylist_check.cc).
  const greylist::Outcome* greylist(const greylist::Question& question) const;
  // The policy server's answer to `request`, or null while it is not
  // known: noted like a DNS question (policy_check.cc).
  const policy::Answer* policy(const policy::Service& service,
                               const policy::Attributes& request) const;
  void log(std::string_view action, std::string text) {
    effects.events.push_back({std::string(action), std::move(text)});
  }
};

// A table check names what it looked up in its replies ("Sender address
// rejected" even in smtpd_data_restrictions), and so do the restrictions of
// its result: the request speaks as `kind` while this lives.
class NamedAs {
 public:
  NamedAs(Request& r, ListKind kind) : request_(r), saved_(r.list) { r.list = kind; }
  ~NamedAs() { request_.list = saved_; }
  NamedAs(const NamedAs&) = delete;
  NamedAs& operator=(const NamedAs&) = delete;

 private:
  Request& request_;
  ListKind saved_;
};

// Enhanced status code with its class digit made to agree with the reply
// code, and address codes fixed for the sender (X.1.1 -> X.1.7 ...).
std::string fix_dsn(int code, std::string_view dsn, ListKind list);

// access.cc: table checks with access(5) lookup keys, and table results.
Verdict check_client_access(const Step&, Request&);
Verdict check_reverse_client_hostname_access(const Step&, Request&);
Verdict check_helo_access(const Step&, Request&);
Verdict check_sender_access(const Step&, Request&);
Verdict check_recipient_access(const Step&, Request&);
Verdict check_list_table(const Step&, Request&);  // a bare type:name in a list
Verdict evaluate_table_result(Request&, std::string_view value, std::string_view table);
// The lookups of check_client_access for a host found elsewhere (dns_access.cc):
// the name then its parent domains; the address then its network prefixes.
std::optional<std::string> find_host_name(const Step&, const Request&, std::string_view name);
std::optional<std::string> find_host_address(const Step&, std::string_view address);

// builtins.cc: restrictions that look at the context and the destinations.
Verdict permit_mynetworks(const Step&, Request&);
Verdict permit_sasl_authenticated(const Step&, Request&);
Verdict permit_inet_interfaces(const Step&, Request&);
Verdict reject_invalid_helo_hostname(const Step&, Request&);
Verdict reject_non_fqdn_helo_hostname(const Step&, Request&);
Verdict reject_non_fqdn_sender(const Step&, Request&);
Verdict reject_non_fqdn_recipient(const Step&, Request&);
Verdict reject_unauth_destination(const Step&, Request&);
Verdict defer_unauth_destination(const Step&, Request&);
Verdict permit_auth_destination(const Step&, Request&);
Verdict reject_unlisted_sender(const Step&, Request&);
Verdict reject_unlisted_recipient(const Step&, Request&);
Verdict reject_multi_recipient_bounce(const Step&, Request&);
Verdict reject_unauth_pipelining(const Step&, Request&);
Verdict reject_plaintext_session(const Step&, Request&);

// unknown_names.cc: reverse DNS of the client, HELO and address domains.
Verdict reject_unknown_client_hostname(const Step&, Request&);
Verdict reject_unknown_reverse_client_hostname(const Step&, Request&);
Verdict reject_unknown_helo_hostname(const Step&, Request&);
Verdict reject_unknown_sender_domain(const Step&, Request&);
Verdict reject_unknown_recipient_domain(const Step&, Request&);

// dnsbl.cc: DNS block and allow lists.
Verdict reject_rbl_client(const Step&, Request&);
Verdict reject_rhsbl_client(const Step&, Request&);
Verdict reject_rhsbl_reverse_client(const Step&, Request&);
Verdict reject_rhsbl_helo(const Step&, Request&);
Verdict reject_rhsbl_sender(const Step&, Request&);
Verdict reject_rhsbl_recipient(const Step&, Request&);
Verdict permit_dnswl_client(const Step&, Request&);
Verdict permit_rhswl_client(const Step&, Request&);
// What the DNS list restrictions share: reply settings and the zones.
struct DnsListSettings {
  std::string default_reply;     // default_rbl_reply, unexpanded
  tables::TableList reply_maps;  // rbl_reply_maps
  int reply_code = 554;          // maps_rbl_reject_code
  std::string server_name;       // myhostname, for $server_name
  std::vector<DnsListZone> zones;
};
bool is_dns_list_restriction(Evaluator evaluate);
// Parses step.argument into step.dns_list and notes its zone; false with
// an error for a bad "=filter".
bool compile_dns_list(Step& step, std::vector<DnsListZone>& zones,
                      std::vector<std::string>& errors);
std::shared_ptr<const DnsListSettings> build_dns_list_settings(
    const config::Config& config, std::vector<DnsListZone> zones,
    std::vector<config::Problem>& problems);

// dns_access.cc: access tables looked up with the A, MX or NS hosts of a name.
Verdict check_client_a_access(const Step&, Request&);
Verdict check_client_mx_access(const Step&, Request&);
Verdict check_client_ns_access(const Step&, Request&);
Verdict check_reverse_client_hostname_a_access(const Step&, Request&);
Verdict check_reverse_client_hostname_mx_access(const Step&, Request&);
Verdict check_reverse_client_hostname_ns_access(const Step&, Request&);
Verdict check_helo_a_access(const Step&, Request&);
Verdict check_helo_mx_access(const Step&, Request&);
Verdict check_helo_ns_access(const Step&, Request&);
Verdict check_sender_a_access(const Step&, Request&);
Verdict check_sender_mx_access(const Step&, Request&);
Verdict check_sender_ns_access(const Step&, Request&);
Verdict check_recipient_a_access(const Step&, Request&);
Verdict check_recipient_mx_access(const Step&, Request&);
Verdict check_recipient_ns_access(const Step&, Request&);

// spf_policy.cc: check_spf, with policyd-spf's settings (moat_spf_*).
Verdict check_spf(const Step&, Request&);
struct SpfSettings {
  // HELO_reject / Mail_From_reject: which results refuse the mail.
  enum class Policy { kFail, kSoftfail, kNotPass, kNull, kFalse, kNoCheck };
  enum class Header { kReceivedSpf, kAuthenticationResults, kNone };
  Policy helo = Policy::kFail;
  Policy mail_from = Policy::kFail;
  bool permerror_reject = false;
  bool temperror_defer = false;
  std::vector<std::string> reject_not_pass_domains;  // lower case
  std::vector<std::string> domain_whitelist;         // lower case
  net::NetworkList skip_addresses;
  net::NetworkList whitelist;
  Header header = Header::kReceivedSpf;
  std::string authserv_id;  // Authentication-Results
  std::string receiver;     // myhostname: Received-SPF's receiver, the URL's r=
};
std::shared_ptr<const SpfSettings> build_spf_settings(const config::Config& config,
                                                      std::vector<config::Problem>& problems);

// greylist_check.cc: check_greylist, with postgrey's settings (moat_greylist_*).
Verdict check_greylist(const Step&, Request&);
struct GreylistSettings {
  std::chrono::seconds delay{300};
  std::chrono::seconds max_age{35 * 86400};
  std::chrono::seconds retry_window{2 * 86400};
  long long auto_allowlist_clients = 5;  // 0: no auto-allowlist
  int ipv4_prefix = 24;
  int ipv6_prefix = 64;
  bool by_host = false;  // the client's address, not its network
  // The client's forward-confirmed organisational domain, when it has one
  // (moat_greylist_client = domain): big senders retry from other hosts.
  std::shared_ptr<const dns::PublicSuffixList> by_domain;
  greylist::ClientAllowlist clients;
  greylist::RecipientAllowlist recipients;
  std::string text;  // %s seconds left, %r recipient domain
  bool skip_spf_pass = false;
  bool defer_on_failure = false;  // moat_state_store_failure_action = defer
  std::string hostname;           // X-Greylist: ... at HOST
  std::string mail_name;          // X-Greylist: ... by NAME
};
std::shared_ptr<const GreylistSettings> build_greylist_settings(
    const config::Config& config, std::vector<config::Problem>& problems);

// policy_check.cc: check_policy_service, Postfix's policy delegation.
Verdict check_policy_service(const Step&, Request&);
// Parses "ENDPOINT" or "{ ENDPOINT, name=value, ... }" (per-endpoint
// smtpd_policy_service_* overrides) into step.policy; false with an error.
bool compile_policy_service(Step& step, const policy::Service& defaults,
                            std::string_view queue_directory, std::vector<std::string>& errors);
// The smtpd_policy_service_* settings of `config`.
policy::ClientSettings policy_defaults(const config::Config& config,
                                       std::vector<config::Problem>& problems);

// Host name syntax as Postfix's valid_hostname() and address literals.
bool valid_hostname(std::string_view name);
bool valid_address_literal(std::string_view text);  // "[1.2.3.4]", "[IPv6:...]"

}  // namespace moat::restriction
