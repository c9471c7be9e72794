// check_greylist: postgrey's greylisting, inside moat, on the state store.
//
// Clients and recipients on the allowlists pass at once (DUNNO); so, with
// moat_greylist_skip_spf_pass, do senders whose SPF passes. Otherwise the
// decision comes from the session's greylist::DecisionSet (pending until
// the store answered): a triplet not yet old enough is refused as postgrey
// answers through Postfix, "450 4.2.0 <rcpt>: Recipient address rejected:
// Greylisted, see ...", with DEFER_IF_PERMIT's meaning (a later reject
// still wins); the first accepted retry gets an X-Greylist header.
#include <fmt/format.h>

#include "greylist/decision.h"
#include "greylist/triplet.h"
#include "restrict/evaluation.h"
#include "smtp/address.h"
#include "smtp/date.h"
#include "spf/result_set.h"

namespace moat::restriction {
namespace {

// postgrey's greylist text: %s the seconds left, %r the recipient's domain.
std::string greylist_text(std::string_view text, int64_t left, std::string_view recipient) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 1 < text.size() && (text[i + 1] == 's' || text[i + 1] == 'r')) {
      out += text[i + 1] == 's' ? std::to_string(left)
                                : std::string(smtp::split_address(recipient).domain);
      ++i;
      continue;
    }
    out += text[i];
  }
  return out;
}

}  // namespace

Verdict check_greylist(const Step&, Request& r) {
  const GreylistSettings* settings = r.engine.greylist();
  const Context& c = r.context;
  // A triplet needs a recipient: RCPT, or DATA with exactly one.
  if (!settings || !c.has_sender || c.recipient.empty()) return Verdict::dunno();
  const GreylistSettings& s = *settings;
  if (!s.clients.match(c.client_address, c.client_name).empty()) return Verdict::dunno();
  if (!s.recipients.match(c.recipient).empty()) return Verdict::dunno();
  if (s.skip_spf_pass) {
    // The MAIL FROM identity; for the null sender that is the HELO's.
    const spf::SpfResult* spf = r.spf(c.sender, c.helo);
    if (!spf) return Verdict::pending();
    if (spf->result == spf::Result::kPass) return Verdict::dunno();
  }
  std::string client;
  if (s.by_domain && c.client_name_status == NameStatus::kOk) {
    client = s.by_domain->organizational_domain(c.client_name);
  } else if (s.by_host) {
    client = greylist::client_network(c.client_address, 32, 128);
  } else {
    client = greylist::client_network(c.client_address, s.ipv4_prefix, s.ipv6_prefix);
  }
  greylist::Question question;
  state::GreylistQuestion& ask = question.ask;
  ask.triplet = greylist::triplet_key(client, c.sender, c.recipient);
  if (s.auto_allowlist_clients > 0) {
    ask.client = "awl:" + greylist::client_network(c.client_address, 32, 128);
    ask.allowlist_after = s.auto_allowlist_clients;
  }
  ask.rule.delay = s.delay.count();
  ask.rule.retry_window = s.retry_window.count();
  ask.rule.max_age = s.max_age.count();
  question.sender = c.sender;
  question.recipient = c.recipient;
  const greylist::Outcome* outcome = r.greylist(question);
  if (!outcome) return Verdict::pending();
  using Kind = greylist::Outcome::Kind;
  switch (outcome->kind) {
    case Kind::kAutoAllowlisted:
      return Verdict::dunno();
    case Kind::kPass:
      if (outcome->first_pass) {
        r.effects.prepend.push_back(fmt::format("X-Greylist: delayed {} seconds by {} at {}; {}",
                                                outcome->waited, s.mail_name, s.hostname,
                                                smtp::rfc2822_date()));
      }
      return Verdict::dunno();
    case Kind::kGreylisted:
      return r.tempfail(TempfailAction::kDeferIfPermit,
                        r.rejected(r.engine.codes().access_map_defer_code, "4.2.0",
                                   greylist_text(s.text, outcome->left, c.recipient)));
    case Kind::kFailed:
      if (!s.defer_on_failure) return Verdict::dunno();
      // Postfix's words for a table that cannot be read.
      return r.reject(smtp::Reply{451, "4.3.0",
                                  "<" + std::string(c.recipient) + ">: Temporary lookup failure"});
  }
  return Verdict::dunno();
}

const greylist::Outcome* Request::greylist(const greylist::Question& question) const {
  if (context.greylist) return context.greylist->find(question);
  static const greylist::Outcome no_store{.kind = greylist::Outcome::Kind::kFailed,
                                          .error = "no state store"};
  return &no_store;
}

std::shared_ptr<const GreylistSettings> build_greylist_settings(
    const config::Config& config, std::vector<config::Problem>& problems) {
  auto s = std::make_shared<GreylistSettings>();
  s->delay = config.get_time("moat_greylist_delay");
  s->max_age = config.get_time("moat_greylist_max_age");
  s->retry_window = config.get_time("moat_greylist_retry_window");
  s->auto_allowlist_clients = config.get_integer("moat_greylist_auto_allowlist_clients");
  if (s->auto_allowlist_clients < 0) {
    problems.push_back(
        config.problem_at("moat_greylist_auto_allowlist_clients", "must be 0 or more"));
  }
  auto prefix = [&](std::string_view parameter, long long bits) {
    const auto value = config.get_integer(parameter);
    if (value < 1 || value > bits) {
      problems.push_back(config.problem_at(
          parameter, fmt::format("a prefix length from 1 to {}, not {}", bits, value)));
      return static_cast<int>(bits);
    }
    return static_cast<int>(value);
  };
  s->ipv4_prefix = prefix("moat_greylist_ipv4_prefix", 32);
  s->ipv6_prefix = prefix("moat_greylist_ipv6_prefix", 128);
  const auto client = config.get("moat_greylist_client");
  if (client == "host") {
    s->by_host = true;
  } else if (client == "domain") {
    std::string error;
    s->by_domain = dns::PublicSuffixList::load(config.get("moat_public_suffix_list"), error);
    if (!s->by_domain) problems.push_back(config.problem_at("moat_public_suffix_list", error));
  } else if (client != "network") {
    problems.push_back(config.problem_at(
        "moat_greylist_client", "expected network, host or domain, not \"" + client + "\""));
  }
  auto allowlist = [&](auto& list, std::string_view parameter) {
    std::vector<std::string> errors, warnings;
    greylist::load_allowlist(list, config.get_list(parameter), errors, warnings);
    for (auto& error : errors) problems.push_back(config.problem_at(parameter, std::move(error)));
    for (auto& warning : warnings) {
      problems.push_back(
          config.problem_at(parameter, std::move(warning), config::Problem::Severity::kWarning));
    }
  };
  allowlist(s->clients, "moat_greylist_client_allowlist");
  allowlist(s->recipients, "moat_greylist_recipient_allowlist");
  s->text = config.get("moat_greylist_text");
  s->skip_spf_pass = config.get_boolean("moat_greylist_skip_spf_pass");
  const auto failure = config.get("moat_state_store_failure_action");
  if (failure == "defer") {
    s->defer_on_failure = true;
  } else if (failure != "dunno") {
    problems.push_back(config.problem_at("moat_state_store_failure_action",
                                         "expected dunno or defer, not \"" + failure + "\""));
  }
  s->hostname = config.get("myhostname");
  s->mail_name = config.get("mail_name");
  return s;
}

}  // namespace moat::restriction
