// The restriction engine: Postfix's smtpd_*_restrictions, compiled once per
// config snapshot, evaluated per request.
//
// A restriction is a small evaluator registered by name in one table
// (restrictions.cc); restrictions that take arguments (check_sender_access
// TYPE:NAME, sleep N) consume the next list elements when compiled. An
// unknown name is a configuration error at load time; one that reaches run
// time (from an access table result) answers "451 4.3.5 Server configuration
// error" and never accepts.
//
// A check is what Postfix evaluates for one request at one stage: the client,
// HELO, sender, recipient (relay then recipient restrictions), DATA and
// end-of-data lists. Each check has its own defer_if_reject and
// warn_if_reject state; a defer_if_permit stays pending in Effects until the
// session decides a RCPT or DATA. With smtpd_delay_reject = yes the session
// runs the client, HELO and sender checks again at each RCPT.
//
// DNS: evaluation never waits. A restriction whose DNS answer is not in the
// session's dns::AnswerSet yet notes the question and the check ends with
// Verdict::pending(); the session rolls back the check's effects
// (Effects::mark/roll_back), awaits the answers and runs the check again.
// Each round answers at least one more question, so it ends.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "deliver/destinations.h"
#include "restrict/context.h"
#include "restrict/verdict.h"
#include "tables/table.h"

namespace moat::restriction {

// Which list a restriction runs in: decides the name and the words of a
// reply ("<x@y>: Recipient address rejected: ...") and what a bare
// "type:name" table in the list checks.
enum class ListKind { kClient, kHelo, kSender, kRecipient, kData, kEndOfData, kReverseClient };

// reject_tempfail_action and its per-restriction variants.
enum class TempfailAction { kDefer, kDeferIfPermit };

// The checks, one per list parameter (kRecipient runs relay then recipient;
// kPolicy is moat_policy_restrictions, what moat's policy server answers
// with; it speaks as the recipient list does).
enum class Check { kClient, kHelo, kSender, kRecipient, kData, kEndOfData, kPolicy };

// The reply-code parameters restrictions answer with.
struct ReplyCodes {
  int reject_code = 554;
  int defer_code = 450;
  int access_map_reject_code = 554;
  int access_map_defer_code = 450;
  int invalid_hostname_reject_code = 501;
  int non_fqdn_reject_code = 504;
  int relay_domains_reject_code = 554;
  int unknown_address_reject_code = 450;
  int unknown_client_reject_code = 450;
  int unknown_hostname_reject_code = 450;
  int unknown_local_recipient_reject_code = 550;
  int unknown_virtual_mailbox_reject_code = 550;
  int multi_recipient_bounce_reject_code = 550;
  int plaintext_reject_code = 450;
};

struct Step;
struct Request;
class Engine;
struct DnsListSettings;
struct SpfSettings;
}  // namespace moat::restriction
namespace moat::policy {
struct Service;
}  // namespace moat::policy
namespace moat::restriction {
struct GreylistSettings;

// A DNS list a compiled restriction queries: the zone without "=filter";
// `domains` for RHSBL/RHSWL zones (names, not addresses, are looked up).
struct DnsListZone {
  std::string zone;
  bool domains = false;
  bool client_address = false;  // reject_rbl_client / permit_dnswl_client
};

// One compiled list of restrictions.
class RestrictionList {
 public:
  RestrictionList();
  ~RestrictionList();
  RestrictionList(RestrictionList&&) noexcept;
  RestrictionList& operator=(RestrictionList&&) noexcept;

  bool empty() const;
  size_t size() const;
  // The first restriction that permits or rejects decides; dunno otherwise.
  Verdict evaluate(Request& request) const;

 private:
  friend struct Compiler;
  std::vector<Step> steps_;
};

class Engine {
 public:
  Engine();
  ~Engine();
  Engine(Engine&&) noexcept;
  Engine& operator=(Engine&&) noexcept;

  // Compiles every smtpd_*_restrictions list and smtpd_restriction_classes
  // of `config`; problems name the parameter and its line (unknown names,
  // missing arguments, tables that do not open; warnings for orders that
  // can open a relay). `destinations` must outlive the engine.
  static Engine build(const config::Config& config, const deliver::Destinations* destinations,
                      std::vector<config::Problem>& problems);

  bool delay_reject() const { return delay_reject_; }
  // Some list uses reject_unauth_pipelining: the session then looks for
  // clients that talk before the banner.
  bool checks_pipelining() const { return checks_pipelining_; }
  // Some list uses check_greylist: the server then opens the state store.
  bool uses_state_store() const { return uses_state_store_; }
  bool has_list(Check check) const;
  const ReplyCodes& codes() const { return codes_; }
  TempfailAction unknown_helo_tempfail_action() const { return unknown_helo_tempfail_action_; }
  TempfailAction unknown_address_tempfail_action() const {
    return unknown_address_tempfail_action_;
  }

  // Evaluates one check. Events, headers and pending defer_if_permit are
  // added to `effects`. A check with no list is dunno; the HELO check
  // without a HELO name and the sender check without MAIL FROM are dunno.
  Verdict check(Check check, const Context& context, Effects& effects) const;

  // Starts the DNS lookups every check of this client will need whatever
  // it sends (reject_rbl_client and permit_dnswl_client zones), so they run
  // while the session does other things.
  void prefetch_client(std::string_view client_ip, dns::AnswerSet& answers) const;
  // Every DNS list zone of the compiled lists and classes, once each.
  const std::vector<DnsListZone>& dns_list_zones() const;
  // default_rbl_reply, rbl_reply_maps ...; null for an engine not built.
  const DnsListSettings* dns_lists() const { return dns_lists_.get(); }
  // check_spf's moat_spf_* settings; null for an engine not built.
  const SpfSettings* spf() const { return spf_.get(); }
  // check_greylist's moat_greylist_* settings; null for an engine not built.
  const GreylistSettings* greylist() const { return greylist_.get(); }

  // reject_unlisted_recipient / smtpd_reject_unlisted_recipient: the reply
  // for an unknown local or virtual recipient, or dunno.
  Verdict unlisted_recipient(const Context& context) const;
  // The session's end-of-request rule: a permit or dunno becomes the
  // pending defer_if_permit reply, if any.
  static Verdict apply_defer_if_permit(Verdict verdict, const Effects& effects);

  // A list from an access table's right-hand side; null with `error` set
  // for unknown names or tables inside.
  std::shared_ptr<const RestrictionList> runtime_list(std::string_view value,
                                                      std::string& error) const;

  // Settings the evaluators read.
  const deliver::Destinations& destinations() const { return *destinations_; }
  bool parent_matches_subdomains() const { return parent_matches_subdomains_; }
  const std::string& null_access_lookup_key() const { return null_access_lookup_key_; }
  const std::string& recipient_delimiter() const { return recipient_delimiter_; }
  bool show_user_unknown_table_name() const { return show_user_unknown_table_name_; }
  const std::vector<asio::ip::address>& interface_addresses() const { return interface_addresses_; }
  // What check_policy_service tells policy servers about this system.
  const std::string& compatibility_level() const { return compatibility_level_; }
  const std::string& mail_version() const { return mail_version_; }

 private:
  friend struct Compiler;

  ReplyCodes codes_;
  TempfailAction unknown_helo_tempfail_action_ = TempfailAction::kDeferIfPermit;
  TempfailAction unknown_address_tempfail_action_ = TempfailAction::kDeferIfPermit;
  bool delay_reject_ = true;
  bool checks_pipelining_ = false;
  bool uses_state_store_ = false;
  bool reject_unlisted_sender_ = false;  // smtpd_reject_unlisted_sender
  bool show_user_unknown_table_name_ = true;
  bool parent_matches_subdomains_ =
      true;  // "smtpd_access_maps" in parent_domain_matches_subdomains
  std::string null_access_lookup_key_ = "<>";
  std::string recipient_delimiter_;
  const deliver::Destinations* destinations_ = nullptr;
  std::vector<asio::ip::address> interface_addresses_;  // for permit_inet_interfaces
  RestrictionList lists_[7];                            // by Check
  RestrictionList relay_list_;  // smtpd_relay_restrictions, before lists_[kRecipient]
  std::map<std::string, std::shared_ptr<RestrictionList>, std::less<>> classes_;
  std::shared_ptr<const DnsListSettings> dns_lists_;  // dnsbl.cc
  std::shared_ptr<const SpfSettings> spf_;            // spf_policy.cc
  std::shared_ptr<const GreylistSettings> greylist_;  // greylist_check.cc
  // check_policy_service: smtpd_policy_service_* and where unix:private/ is.
  std::shared_ptr<const policy::Service> policy_defaults_;
  std::string queue_directory_;
  std::string compatibility_level_;
  std::string mail_version_;
};

}  // namespace moat::restriction
