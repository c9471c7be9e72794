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
#include "net/cidr.h"
#include "restrict/restrictions.h"

namespace moat::smtp {

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
  bool forbid_bare_newline = true;
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

  net::NetworkList mynetworks;
  net::NetworkList bare_newline_exclusions;
  restrict ::RestrictionList relay_restrictions;
  restrict ::RestrictionList recipient_restrictions;
  restrict ::Environment restriction_environment;  // points into `destinations`
  deliver::Destinations destinations;
};

struct SmtpdConfigResult {
  std::shared_ptr<const SmtpdConfig> smtpd;  // null when problems hold an error
  std::vector<config::Problem> problems;
};

// Builds the snapshot; problems name the parameter and its line.
SmtpdConfigResult build_smtpd_config(std::shared_ptr<const config::Config> config);

}  // namespace moat::smtp
