// The reject_unknown_* restrictions: a client without a (confirmed) reverse
// name, and HELO names and address domains that do not exist in DNS.
//
// Postfix's rules: a name is "known" when any of its lookups finds a
// record; a temporary DNS failure never refuses for good (450, or the
// *_tempfail_action), whatever the configured reply code says; local and
// virtual domains and address literals are not looked up.
#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "restrict/evaluation.h"

namespace moat::restriction {
namespace {

enum class HostStatus { kFound, kNullMx, kNotFound, kRetry };

// What the lookups of `name` say together, or nullopt while an answer is
// still to come. `error` gets the reason of a temporary failure.
std::optional<HostStatus> host_status(Request& r, std::string_view name,
                                      std::initializer_list<dns::Type> types, std::string& error) {
  bool found = false, null_mx = false, missing = false, nxdomain = false, retry = false;
  for (const auto type : types) {
    const dns::Answer* answer = r.dns(name, type);
    if (!answer) {
      missing = true;  // keep going: every question of this round is noted
      continue;
    }
    switch (answer->status) {
      case dns::Status::kOk:
        if (type == dns::Type::kMX && std::ranges::all_of(answer->records, [](const auto& mx) {
              return mx.target.empty();
            })) {
          null_mx = true;
        } else {
          found = true;
        }
        break;
      case dns::Status::kNxDomain:
        nxdomain = true;
        break;
      case dns::Status::kTempFail:
        retry = true;
        if (error.empty()) error = answer->error;
        break;
      case dns::Status::kNoData:
        break;
    }
  }
  if (found) return HostStatus::kFound;
  if (missing) return std::nullopt;
  if (null_mx) return HostStatus::kNullMx;
  if (nxdomain) return HostStatus::kNotFound;  // the name does not exist at all
  if (retry) return HostStatus::kRetry;
  return HostStatus::kNotFound;
}

void warn_lookup_error(Request& r, std::string_view name, std::string_view error) {
  r.effects.warnings.push_back(
      fmt::format("{}: address or MX lookup error: {}", name, error.empty() ? "failed" : error));
}

// reject_unknown_sender_domain / reject_unknown_recipient_domain.
Verdict unknown_address(Request& r, std::string_view address, bool sender) {
  const auto resolved = r.engine.destinations().resolve(address);
  if (resolved.address.find('@') == std::string::npos) return Verdict::dunno();
  if (resolved.address_class == deliver::AddressClass::kLocal ||
      resolved.address_class == deliver::AddressClass::kVirtualMailbox) {
    return Verdict::dunno();
  }
  const std::string_view domain = resolved.domain;
  if (domain.empty() || (domain.front() == '[' && domain.back() == ']')) return Verdict::dunno();
  std::string error;
  const auto status =
      host_status(r, domain, {dns::Type::kMX, dns::Type::kA, dns::Type::kAAAA}, error);
  if (!status) return Verdict::pending();
  const std::string_view what = sender ? "Sender address" : "Recipient address";
  auto reply = [&](int code, std::string_view dsn, std::string_view text) {
    return smtp::Reply{code, fix_dsn(code, dsn, ListKind::kHelo),
                       fmt::format("<{}>: {} rejected: {}", address, what, text)};
  };
  switch (*status) {
    case HostStatus::kFound:
      return Verdict::dunno();
    case HostStatus::kNullMx:
      return r.reject(reply(sender ? 550 : 556, sender ? "4.7.27" : "4.1.10",
                            fmt::format("Domain {} does not accept mail (nullMX)", domain)));
    case HostStatus::kNotFound:
      return r.reject(reply(r.engine.codes().unknown_address_reject_code,
                            sender ? "4.1.8" : "4.1.2", "Domain not found"));
    case HostStatus::kRetry:
      warn_lookup_error(r, domain, error);
      return r.tempfail(r.engine.unknown_address_tempfail_action(),
                        reply(450, sender ? "4.1.8" : "4.1.2", "Domain not found"));
  }
  return Verdict::dunno();
}

// "Client host rejected: ..., [IP]": the client checks name no address.
Verdict client_reply(Request& r, bool temporary, std::string_view dsn, std::string_view what) {
  const int code = temporary ? 450 : r.engine.codes().unknown_client_reject_code;
  return r.reject(smtp::Reply{
      code, fix_dsn(code, dsn, ListKind::kHelo),
      fmt::format("Client host rejected: cannot find your {}, [{}]", what, r.context.client_ip)});
}

}  // namespace

Verdict reject_unknown_client_hostname(const Step&, Request& r) {
  const auto status = r.context.client_name_status;
  if (status == NameStatus::kOk) return Verdict::dunno();
  return client_reply(r, status == NameStatus::kTemp, "4.7.25", "hostname");
}

Verdict reject_unknown_reverse_client_hostname(const Step&, Request& r) {
  const auto status = r.context.reverse_client_name_status;
  if (status == NameStatus::kOk) return Verdict::dunno();
  return client_reply(r, status == NameStatus::kTemp, "4.7.1", "reverse hostname");
}

Verdict reject_unknown_helo_hostname(const Step&, Request& r) {
  if (!r.context.has_helo) return Verdict::dunno();
  const std::string_view helo = r.context.helo;
  if (helo.starts_with('[')) {
    // An address literal is checked for syntax only, as Postfix does.
    if (valid_address_literal(helo)) return Verdict::dunno();
    const int code = r.engine.codes().invalid_hostname_reject_code;
    return r.reject(
        smtp::Reply{code, fix_dsn(code, "5.5.2", ListKind::kHelo),
                    fmt::format("<{}>: Helo command rejected: invalid ip address", helo)});
  }
  std::string error;
  const auto status =
      host_status(r, helo, {dns::Type::kA, dns::Type::kAAAA, dns::Type::kMX}, error);
  if (!status) return Verdict::pending();
  // A host may have a null MX: it sends mail, it does not receive any.
  if (*status == HostStatus::kFound || *status == HostStatus::kNullMx) return Verdict::dunno();
  auto reply = [&](int code) {
    return smtp::Reply{code, fix_dsn(code, "4.7.1", ListKind::kHelo),
                       fmt::format("<{}>: Helo command rejected: Host not found", helo)};
  };
  if (*status == HostStatus::kNotFound) {
    return r.reject(reply(r.engine.codes().unknown_hostname_reject_code));
  }
  warn_lookup_error(r, helo, error);
  return r.tempfail(r.engine.unknown_helo_tempfail_action(), reply(450));
}

Verdict reject_unknown_sender_domain(const Step&, Request& r) {
  if (!r.context.has_sender || r.context.sender.empty()) return Verdict::dunno();
  return unknown_address(r, r.context.sender, true);
}

Verdict reject_unknown_recipient_domain(const Step&, Request& r) {
  if (r.context.stage != Stage::kRcpt || r.context.recipient.empty()) return Verdict::dunno();
  return unknown_address(r, r.context.recipient, false);
}

}  // namespace moat::restriction
