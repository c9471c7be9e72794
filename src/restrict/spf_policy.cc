// check_spf: acting on SPF results the way policyd-spf (spf-engine) does
// with the same settings, so that a site replacing it keeps its behaviour.
//
// The HELO identity is checked first (as check_host(ip, "postmaster@HELO")),
// then MAIL FROM; a result the policy refuses ends the check with
// "550 5.7.23 ... Message rejected due to: ..." (5.7.24 for a permerror),
// a temperror with a deferral when moat_spf_temperror_defer is on; anything
// else lets the list go on (DUNNO) with a Received-SPF or
// Authentication-Results header for the message. Results come from the
// session's spf::ResultSet: while one is unknown the check is pending.
#include <algorithm>

#include <fmt/format.h>

#include "restrict/evaluation.h"
#include "smtp/address.h"
#include "spf/result_set.h"
#include "text/ascii.h"

namespace moat::restriction {
namespace {

using spf::Result;
using Policy = SpfSettings::Policy;

enum class Action { kPrepend, kDunno, kReject, kDefer };

bool refused(Policy policy, Result result) {
  switch (policy) {
    case Policy::kNotPass:
      return result == Result::kFail || result == Result::kSoftFail || result == Result::kNeutral;
    case Policy::kSoftfail:
      return result == Result::kFail || result == Result::kSoftFail;
    case Policy::kFail:
    case Policy::kNull:
      return result == Result::kFail;
    case Policy::kFalse:
    case Policy::kNoCheck:
      return false;
  }
  return false;
}

// policyd-spf's _get_resultcodes(): "False" never refuses, not even for
// errors; otherwise the error settings add to what the policy refuses.
Action action_for(const SpfSettings& s, Policy policy, Result result) {
  if (refused(policy, result)) return Action::kReject;
  if (policy == Policy::kFalse) return Action::kPrepend;
  if (result == Result::kTempError && s.temperror_defer) return Action::kDefer;
  if (result == Result::kPermError && s.permerror_reject) return Action::kReject;
  return Action::kPrepend;
}

// Reject_Not_Pass_Domains: the identity's domain is listed (exactly).
bool receiver_policy_domain(const SpfSettings& s, std::string_view domain) {
  const auto name = text::lower_ascii(domain);
  return std::ranges::find(s.reject_not_pass_domains, name) != s.reject_not_pass_domains.end();
}

// "Pass", "Softfail", ...: how policyd-spf names results in its texts.
std::string capitalized(Result result) {
  std::string name(spf::result_name(result));
  if (!name.empty()) name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
  return name;
}

// The reason in a refusal: pyspf's words for each result.
std::string reason(const spf::SpfResult& r, bool receiver_policy) {
  if (receiver_policy) return "Receiver policy for SPF " + capitalized(r.result);
  switch (r.result) {
    case Result::kFail:
      return r.explanation.empty() ? std::string(spf::kDefaultExplanation) : r.explanation;
    case Result::kSoftFail:
      return "domain owner discourages use of this host";
    case Result::kNeutral:
      return "access neither permitted nor denied";
    case Result::kPermError:
      return "SPF Permanent Error: " + r.comment;
    case Result::kTempError:
      return "SPF Temporary Error: " + r.comment;
    case Result::kPass:
    case Result::kNone:
      break;
  }
  return std::string(spf::result_name(r.result));
}

// A value in a Received-SPF key=value list or an Authentication-Results
// property: a dot-atom as it is, anything else quoted.
std::string header_value(std::string_view text) {
  const bool atom = !text.empty() && std::ranges::all_of(text, [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return std::isalnum(u) || u >= 0x80 ||
           std::string_view("!#$%&'*+-/=?^_`{|}~.").find(c) != std::string_view::npos;
  });
  if (atom && !text.starts_with('.') && !text.ends_with('.')) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Text inside a header comment: parentheses and backslashes escaped.
std::string comment_text(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '(' || c == ')' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// The HELO identity: without a HELO name the sender's domain stands in
// for it (policyd-spf), and "unknown" without either.
std::string_view checked_helo(const Context& ctx) {
  if (!ctx.helo.empty()) return ctx.helo;
  if (auto domain = smtp::split_address(ctx.sender).domain; !domain.empty()) return domain;
  return "unknown";
}

// What one identity's check found, with the names it speaks of.
struct Checked {
  const spf::SpfResult* result = nullptr;
  bool mail_from = false;  // the MAIL FROM identity, else HELO
  std::string_view id;     // the sender address or the HELO name
  bool receiver_policy = false;
};

// RFC 7208 9.1's comment: what the result says about the client.
std::string result_comment(const Checked& c, std::string_view ip) {
  const auto id = c.id;
  switch (c.result->result) {
    case Result::kPass:
      return fmt::format("domain of {} designates {} as permitted sender", id, ip);
    case Result::kFail:
      return fmt::format("domain of {} does not designate {} as permitted sender", id, ip);
    case Result::kSoftFail:
      return fmt::format("domain of transitioning {} does not designate {} as permitted sender", id,
                         ip);
    case Result::kNeutral:
      return fmt::format("{} is neither permitted nor denied by domain of {}", ip, id);
    case Result::kNone:
      return fmt::format("domain of {} does not designate permitted sender hosts", id);
    case Result::kPermError:
      return fmt::format("permanent error in processing domain of {}: {}", id, c.result->comment);
    case Result::kTempError:
      return fmt::format("error in processing during lookup of {}: {}", id, c.result->comment);
  }
  return {};
}

std::string result_header(const Request& r, const SpfSettings& s, const Checked& c) {
  const Context& ctx = r.context;
  const std::string comment = comment_text(result_comment(c, ctx.client_ip));
  const auto result = spf::result_name(c.result->result);
  if (s.header == SpfSettings::Header::kAuthenticationResults) {
    // RFC 8601 2.7.2: the identity checked, as smtp.mailfrom or smtp.helo.
    return fmt::format("Authentication-Results: {};\n\tspf={} ({}) {}={}", s.authserv_id, result,
                       comment, c.mail_from ? "smtp.mailfrom" : "smtp.helo",
                       header_value(c.mail_from ? smtp::split_address(c.id).domain : c.id));
  }
  const std::string_view sender = ctx.sender.empty() ? std::string_view("<>") : ctx.sender;
  return fmt::format(
      "Received-SPF: {} ({}: {})\n\tclient-ip={}; envelope-from={}; helo={}; receiver={}; "
      "identity={}",
      result, s.receiver, comment, ctx.client_ip, header_value(sender),
      header_value(checked_helo(ctx)), s.receiver, c.mail_from ? "mailfrom" : "helo");
}

// A client SPF is not checked for (skip_addresses, whitelists): the header
// says so, as policyd-spf's does.
Verdict skipped(Request& r, const SpfSettings& s, std::string_view why) {
  const Context& ctx = r.context;
  switch (s.header) {
    case SpfSettings::Header::kReceivedSpf:
      r.effects.prepend.push_back(
          fmt::format("X-Comment: {} - client-ip={}; helo={}; envelope-from={}; receiver={}", why,
                      ctx.client_ip, checked_helo(ctx),
                      ctx.sender.empty() ? std::string_view("<>") : ctx.sender, s.receiver));
      break;
    case SpfSettings::Header::kAuthenticationResults:
      r.effects.prepend.push_back(
          fmt::format("Authentication-Results: {}; none ({})", s.authserv_id, why));
      break;
    case SpfSettings::Header::kNone:
      break;
  }
  return Verdict::dunno();
}

Verdict prepend(Request& r, const SpfSettings& s, const Checked& c) {
  if (s.header != SpfSettings::Header::kNone) r.effects.prepend.push_back(result_header(r, s, c));
  return Verdict::dunno();
}

Verdict refuse(Request& r, const SpfSettings& s, const Checked& c, Action action) {
  const bool error =
      c.result->result == Result::kPermError || c.result->result == Result::kTempError;
  const std::string text =
      fmt::format("Message {} due to: {}. Please see https://www.open-spf.org/Why;id={};ip={};r={}",
                  action == Action::kDefer ? "deferred" : "rejected",
                  reason(*c.result, c.receiver_policy), c.id, r.context.client_ip, s.receiver);
  if (action == Action::kDefer) {
    return r.tempfail(TempfailAction::kDeferIfPermit, r.rejected(451, "4.4.3", text));
  }
  return r.reject(550, error ? "5.7.24" : "5.7.23", text);
}

}  // namespace

Verdict check_spf(const Step&, Request& r) {
  const SpfSettings* settings = r.engine.spf();
  if (!settings || !r.context.has_sender) return Verdict::dunno();
  const SpfSettings& s = *settings;
  const Context& ctx = r.context;
  if (s.skip_addresses.contains(ctx.client_address)) {
    return skipped(r, s, "SPF check N/A for local connections");
  }
  if (s.whitelist.contains(ctx.client_address)) {
    return skipped(r, s, "SPF skipped for whitelisted relay");
  }
  // Every result this check may need is asked for at once, so that one
  // round of evaluations answers them all.
  bool pending = false;
  auto result = [&](std::string_view sender, std::string_view helo) {
    const spf::SpfResult* found = r.spf(sender, helo);
    pending = pending || !found;
    return found;
  };
  std::vector<const spf::SpfResult*> allowed;
  for (const auto& domain : s.domain_whitelist) {
    allowed.push_back(result("postmaster@" + domain, domain));
  }
  const std::string_view helo = checked_helo(ctx);
  Checked by_helo{nullptr, false, helo, receiver_policy_domain(s, helo)};
  Checked by_mail{nullptr, true, ctx.sender,
                  receiver_policy_domain(s, smtp::split_address(ctx.sender).domain)};
  if (s.helo != Policy::kNoCheck) by_helo.result = result("", helo);
  if (s.mail_from != Policy::kNoCheck && !ctx.sender.empty()) {
    by_mail.result = result(ctx.sender, helo);
  }
  if (pending) return Verdict::pending();

  for (const auto* found : allowed) {
    if (found->result == Result::kPass) {
      return skipped(r, s, "SPF skipped for whitelisted relay domain");
    }
  }
  if (by_helo.result) {
    const Policy policy = by_helo.receiver_policy ? Policy::kNotPass : s.helo;
    // "Null": the HELO result counts only for the null sender.
    const Action action = policy == Policy::kNull && !ctx.sender.empty()
                              ? Action::kDunno
                              : action_for(s, policy, by_helo.result->result);
    if (action == Action::kReject || action == Action::kDefer) {
      return refuse(r, s, by_helo, action);
    }
  }
  if (!by_mail.result) {
    // The null sender (its check is the HELO check), or MAIL FROM not checked.
    return by_helo.result ? prepend(r, s, by_helo) : Verdict::dunno();
  }
  const Policy policy = by_mail.receiver_policy ? Policy::kNotPass : s.mail_from;
  const Action action = action_for(s, policy, by_mail.result->result);
  if (action == Action::kReject || action == Action::kDefer) {
    return refuse(r, s, by_mail, action);
  }
  // A MAIL FROM "none" says less than a HELO result: that one is reported.
  const bool helo_says_more = by_helo.result && by_helo.result->result != Result::kNone &&
                              by_mail.result->result == Result::kNone;
  return prepend(r, s, helo_says_more ? by_helo : by_mail);
}

const spf::SpfResult* Request::spf(std::string_view sender, std::string_view helo) const {
  if (context.spf) return context.spf->find(sender, helo);
  static const spf::SpfResult no_evaluator{
      .result = spf::Result::kTempError, .explanation = {}, .comment = "no SPF evaluator"};
  return &no_evaluator;
}

std::shared_ptr<const SpfSettings> build_spf_settings(const config::Config& config,
                                                      std::vector<config::Problem>& problems) {
  auto s = std::make_shared<SpfSettings>();
  auto policy = [&](std::string_view parameter, bool helo) {
    const auto value = text::lower_ascii(config.get(parameter));
    if (value == "fail") return Policy::kFail;
    if (value == "softfail") return Policy::kSoftfail;
    if (value == "spf_not_pass") return Policy::kNotPass;
    if (value == "false") return Policy::kFalse;
    if (value == "no_check") return Policy::kNoCheck;
    if (helo && value == "null") return Policy::kNull;
    problems.push_back(config.problem_at(
        parameter, fmt::format("expected {}, not \"{}\"",
                               helo ? "Fail, SPF_Not_Pass, Softfail, Null, False or No_Check"
                                    : "Fail, SPF_Not_Pass, Softfail, False or No_Check",
                               config.get(parameter))));
    return Policy::kFail;
  };
  s->helo = policy("moat_spf_helo_reject", true);
  s->mail_from = policy("moat_spf_mail_from_reject", false);
  s->permerror_reject = config.get_boolean("moat_spf_permerror_reject");
  s->temperror_defer = config.get_boolean("moat_spf_temperror_defer");
  for (const auto& domain : config.get_list("moat_spf_reject_not_pass_domains")) {
    s->reject_not_pass_domains.push_back(text::lower_ascii(domain));
  }
  for (const auto& domain : config.get_list("moat_spf_domain_whitelist")) {
    s->domain_whitelist.push_back(text::lower_ascii(domain));
  }
  auto networks = [&](std::string_view parameter) {
    std::vector<std::string> bad;
    auto list = net::NetworkList::parse(config.get_list(parameter), &bad);
    for (const auto& element : bad) {
      problems.push_back(config.problem_at(parameter, "bad network \"" + element + "\""));
    }
    return list;
  };
  s->skip_addresses = networks("moat_spf_skip_addresses");
  s->whitelist = networks("moat_spf_whitelist");
  const auto header = text::lower_ascii(config.get("moat_spf_header_type"));
  if (header == "ar") {
    s->header = SpfSettings::Header::kAuthenticationResults;
  } else if (header == "none") {
    s->header = SpfSettings::Header::kNone;
  } else if (header != "spf") {
    problems.push_back(config.problem_at(
        "moat_spf_header_type",
        "expected SPF, AR or None, not \"" + config.get("moat_spf_header_type") + "\""));
  }
  s->authserv_id = config.get("moat_spf_authserv_id");
  s->receiver = config.get("myhostname");
  return s;
}

}  // namespace moat::restriction
