#include "smtp/smtpd_config.h"

#include <algorithm>

namespace moat::smtp {
namespace {

net::NetworkList networks(const config::Config& config, std::string_view parameter,
                          std::vector<config::Problem>& problems) {
  std::vector<std::string> bad;
  auto list = net::NetworkList::parse(config.get_list(parameter), &bad);
  for (const auto& element : bad) {
    // Table lookups inside network lists come with the restriction engine.
    problems.push_back(
        config.problem_at(parameter, "bad network address or CIDR: \"" + element + "\""));
  }
  return list;
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

BareNewline bare_newline(const config::Config& config, std::vector<config::Problem>& problems) {
  const auto& value = config.get("smtpd_forbid_bare_newline");
  if (value == "yes") return BareNewline::kDisconnect;
  if (value == "no") return BareNewline::kAllow;
  if (value == "normalize") return BareNewline::kNormalize;
  if (value == "reject") return BareNewline::kReject;
  problems.push_back(
      config.problem_at("smtpd_forbid_bare_newline",
                        "bad value \"" + value + "\": use yes, no, normalize or reject"));
  return BareNewline::kDisconnect;
}

}  // namespace

SmtpdConfigResult build_smtpd_config(std::shared_ptr<const config::Config> config_ptr) {
  SmtpdConfigResult result;
  auto& problems = result.problems;
  const auto& config = *config_ptr;
  auto smtpd = std::make_shared<SmtpdConfig>();
  smtpd->config = config_ptr;
  smtpd->myhostname = config.get("myhostname");
  smtpd->mail_name = config.get("mail_name");
  smtpd->banner = config.get("smtpd_banner");
  smtpd->helo_required = config.get_boolean("smtpd_helo_required");
  smtpd->strict_rfc821_envelopes = config.get_boolean("strict_rfc821_envelopes");
  smtpd->disable_vrfy = config.get_boolean("disable_vrfy_command");
  smtpd->smtputf8_enable = config.get_boolean("smtputf8_enable");
  smtpd->long_queue_ids = config.get_boolean("enable_long_queue_ids");
  smtpd->bare_newline = bare_newline(config, problems);
  smtpd->bare_newline_reject_code =
      reply_code(config, "smtpd_forbid_bare_newline_reject_code", problems);
  smtpd->reject_unlisted_recipient = config.get_boolean("smtpd_reject_unlisted_recipient");
  smtpd->show_user_unknown_table_name = config.get_boolean("show_user_unknown_table_name");
  smtpd->message_size_limit = config.get_integer("message_size_limit");
  smtpd->recipient_limit = config.get_integer("smtpd_recipient_limit");
  smtpd->soft_error_limit = config.get_integer("smtpd_soft_error_limit");
  smtpd->hard_error_limit = config.get_integer("smtpd_hard_error_limit");
  smtpd->junk_command_limit = config.get_integer("smtpd_junk_command_limit");
  smtpd->line_length_limit =
      static_cast<size_t>(std::max<long long>(config.get_integer("line_length_limit"), 512));
  smtpd->timeout = config.get_time("smtpd_timeout");
  smtpd->error_sleep = config.get_time("smtpd_error_sleep_time");
  smtpd->reject_footer = config.get("smtpd_reject_footer");
  if (const auto& sync = config.get("moat_delivery_sync"); sync == "fsync") {
    smtpd->delivery_sync = deliver::SyncMethod::kFsync;
  } else if (sync != "syncfs") {
    problems.push_back(
        config.problem_at("moat_delivery_sync", "bad value \"" + sync + "\": use syncfs or fsync"));
  }
  smtpd->peername_lookup = config.get_boolean("smtpd_peername_lookup");
  smtpd->dns.servers = config.get_list("moat_dns_servers");
  if (auto why = dns::Resolver::check_servers(smtpd->dns.servers); !why.empty()) {
    problems.push_back(config.problem_at("moat_dns_servers", why));
  }
  smtpd->dns.timeout = std::max<std::chrono::milliseconds>(config.get_time("moat_dns_timeout"),
                                                           std::chrono::milliseconds(100));
  smtpd->dns.tries =
      static_cast<int>(std::clamp<long long>(config.get_integer("moat_dns_tries"), 1, 10));
  smtpd->dns.cache_entries =
      static_cast<size_t>(std::max<long long>(config.get_integer("moat_dns_cache_size"), 0));
  if (const auto& path = config.get("moat_dns_hosts_file"); !path.empty()) {
    smtpd->hosts = dns::HostsFile::load(path);
  }
  if (smtpd->myhostname.empty())
    problems.push_back(config.problem_at("myhostname", "empty host name"));

  smtpd->mynetworks = networks(config, "mynetworks", problems);
  smtpd->bare_newline_exclusions =
      networks(config, "smtpd_forbid_bare_newline_exclusions", problems);
  smtpd->destinations = deliver::Destinations::build(config, problems);
  // The restriction lists, reply codes and the start-up checks on them
  // (unknown names, a relay nothing refuses, relay-opening orders).
  smtpd->restrictions = restriction::Engine::build(config, &smtpd->destinations, problems);
  smtpd->store = {.spec = config.get("moat_state_store"),
                  .password = config.get("moat_state_store_password"),
                  .timeout = std::max<std::chrono::milliseconds>(
                      config.get_time("moat_state_store_timeout"), std::chrono::milliseconds(100))};
  if (auto why = state::check_backend_settings(smtpd->store); !why.empty()) {
    problems.push_back(config.problem_at("moat_state_store", why));
  }
  for (const auto& text : config.get_list("moat_policy_listen")) {
    auto address = policy::parse_policy_listen_address(text);
    if (address) {
      smtpd->policy_listen.push_back(std::move(*address));
    } else {
      problems.push_back(config.problem_at("moat_policy_listen", address.error()));
    }
  }
  smtpd->policy_timeout = std::max<std::chrono::milliseconds>(
      config.get_time("moat_policy_timeout"), std::chrono::seconds(1));
  smtpd->unknown_local_recipient_reject_code =
      smtpd->restrictions.codes().unknown_local_recipient_reject_code;
  smtpd->unknown_virtual_mailbox_reject_code =
      smtpd->restrictions.codes().unknown_virtual_mailbox_reject_code;
  const bool failed = std::ranges::any_of(problems, [](const auto& p) { return p.is_error(); });
  if (!failed) result.smtpd = std::move(smtpd);
  return result;
}

}  // namespace moat::smtp
