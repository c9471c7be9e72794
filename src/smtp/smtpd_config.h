// Everything an SMTP session needs from a configuration, resolved once per
// config snapshot: typed parameter values, network lists, restriction lists
// and the delivery destinations with their tables. Immutable and shared
// (std::shared_ptr<const SmtpdConfig>) by all sessions started with it; a
// reload builds a new one and running sessions keep theirs.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "deliver/destinations.h"
#include "deliver/maildir.h"
#include "dns/hosts_file.h"
#include "dns/resolver.h"
#include "net/cidr.h"
#include "policy/listen_address.h"
#include "restrict/restrictions.h"
#include "state/backend.h"

namespace moat::smtp {

// smtpd_forbid_bare_newline: what a line ending in a bare <LF> gets.
enum class BareNewline {
  kAllow,       // "no": kept as a line (yet never part of the end of DATA)
  kNormalize,   // "normalize": the same, as Postfix 3.7.11 names it
  kReject,      // "reject": 550 at the end of DATA; 550 and disconnect for a command
  kDisconnect,  // "yes": 521 and disconnect at once (Postfix 3.7.9's "yes")
};

struct SmtpdConfig {
  std::shared_ptr<const config::Config> config;

  std::string myhostname;
  std::string mail_name;
  std::string banner;
  bool helo_required = false;
  bool strict_rfc821_envelopes = false;
  bool disable_vrfy = false;
  bool smtputf8_enable = true;
  bool long_queue_ids = false;
  BareNewline bare_newline = BareNewline::kDisconnect;
  int bare_newline_reject_code = 550;
  bool reject_unlisted_recipient = true;
  bool show_user_unknown_table_name = true;
  long long message_size_limit = 10240000;
  long long recipient_limit = 1000;
  long long soft_error_limit = 10;
  long long hard_error_limit = 20;
  long long junk_command_limit = 100;
  size_t line_length_limit = 2048;
  std::chrono::seconds timeout{300};
  std::chrono::seconds error_sleep{1};
  int unknown_local_recipient_reject_code = 550;
  int unknown_virtual_mailbox_reject_code = 550;
  std::string reject_footer;
  deliver::SyncMethod delivery_sync = deliver::SyncMethod::kSyncfs;
  bool peername_lookup = true;                       // smtpd_peername_lookup
  dns::Options dns;                                  // moat_dns_*: each worker's resolver
  std::shared_ptr<const dns::HostsFile> hosts;       // moat_dns_hosts_file; null: DNS only
  state::BackendSettings store;                      // moat_state_store*
  std::vector<policy::ListenAddress> policy_listen;  // moat_policy_listen (bound at start)
  std::chrono::milliseconds policy_timeout{100000};  // moat_policy_timeout

  net::NetworkList mynetworks;
  net::NetworkList bare_newline_exclusions;
  deliver::Destinations destinations;
  restriction::Engine restrictions;  // points into `destinations`
};

struct SmtpdConfigResult {
  std::shared_ptr<const SmtpdConfig> smtpd;  // null when problems hold an error
  std::vector<config::Problem> problems;
};

// Builds the snapshot; problems name the parameter and its line.
SmtpdConfigResult build_smtpd_config(std::shared_ptr<const config::Config> config);

}  // namespace moat::smtp
