// Built-in restrictions that need no DNS: the client's network, HELO syntax,
// address syntax, destinations and recipient validation, bounces, pipelining.
#include <cctype>

#include "restrict/evaluation.h"

namespace moat::restriction {
namespace {

bool is_literal(std::string_view name) {
  return name.starts_with('[') && name.ends_with(']');
}

bool valid_ipv4(std::string_view text) {
  std::error_code ec;
  asio::ip::make_address_v4(std::string(text), ec);
  return !ec;
}

// A fully-qualified host name as Postfix's reject_non_fqdn_* see it: a valid
// name (trailing dots ignored) with a dot in it, or an address literal.
bool fqdn(std::string_view name) {
  if (is_literal(name)) return true;
  while (name.ends_with('.')) name.remove_suffix(1);
  return name.find('.') != std::string_view::npos && valid_hostname(name);
}

// reject_non_fqdn_sender/recipient: the domain of the address; the null
// sender and bare "postmaster" pass elsewhere.
bool fqdn_address(std::string_view address) {
  const auto at = address.rfind('@');
  return at != std::string_view::npos && fqdn(address.substr(at + 1));
}

Verdict unauth_destination(Request& r, int code) {
  if (r.context.stage != Stage::kRcpt || !r.context.resolved_recipient) return Verdict::dunno();
  if (r.engine.destinations().is_authorized_destination(*r.context.resolved_recipient)) {
    return Verdict::dunno();
  }
  // Postfix shows the address in its internal (unquoted) form here.
  return r.reject(smtp::Reply{code, code < 500 ? "4.7.1" : "5.7.1",
                              "<" + std::string(r.context.recipient) + ">: Relay access denied"});
}

// The reply for an address in a local or virtual domain that is not listed.
Verdict unlisted(Request& r, std::string_view address, const deliver::ResolvedAddress& resolved,
                 bool sender) {
  const auto status = r.engine.destinations().check(resolved);
  if (status == deliver::RecipientStatus::kKnown) return Verdict::dunno();
  const bool local = status == deliver::RecipientStatus::kUnknownLocal;
  const auto& codes = r.engine.codes();
  const int code =
      local ? codes.unknown_local_recipient_reject_code : codes.unknown_virtual_mailbox_reject_code;
  std::string text = "<" + std::string(address) + ">: ";
  text += sender ? "Sender" : "Recipient";
  text += " address rejected: User unknown";
  if (r.engine.show_user_unknown_table_name()) {
    text += local ? " in local recipient table" : " in virtual mailbox table";
  }
  std::string dsn = sender ? "5.1.0" : "5.1.1";
  dsn[0] = code < 500 ? '4' : '5';
  return r.reject(smtp::Reply{code, std::move(dsn), std::move(text)});
}

}  // namespace

bool valid_hostname(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  if (name.back() == '.') name.remove_suffix(1);
  size_t label = 0;
  bool all_numeric = true;
  char previous = '.';
  for (char c : name) {
    const bool digit = c >= '0' && c <= '9';
    if (digit || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') {
      if (++label > 63) return false;
      if (!digit) all_numeric = false;
    } else if (c == '-') {
      if (previous == '.') return false;  // a label may not start with '-'
      ++label;
      all_numeric = false;
    } else if (c == '.') {
      if (previous == '.' || previous == '-') return false;
      label = 0;
    } else {
      return false;
    }
    previous = c;
  }
  return previous != '-' && !all_numeric;
}

bool valid_address_literal(std::string_view text) {
  if (!is_literal(text)) return false;
  auto inner = text.substr(1, text.size() - 2);
  if (inner.size() > 5 && (inner.substr(0, 5) == "IPv6:" || inner.substr(0, 5) == "ipv6:")) {
    std::error_code ec;
    asio::ip::make_address_v6(std::string(inner.substr(5)), ec);
    return !ec;
  }
  return valid_ipv4(inner);
}

Verdict permit_mynetworks(const Step&, Request& r) {
  return r.context.client_in_mynetworks ? Verdict::permit() : Verdict::dunno();
}

Verdict permit_sasl_authenticated(const Step&, Request& r) {
  return r.context.sasl_authenticated ? Verdict::permit() : Verdict::dunno();
}

Verdict permit_inet_interfaces(const Step&, Request& r) {
  for (const auto& address : r.engine.interface_addresses()) {
    if (address == r.context.client_address) return Verdict::permit();
  }
  return Verdict::dunno();
}

Verdict reject_invalid_helo_hostname(const Step&, Request& r) {
  if (!r.context.has_helo) return Verdict::dunno();
  const auto helo = r.context.helo;
  const bool ok =
      is_literal(helo) ? valid_address_literal(helo) : valid_hostname(helo) || valid_ipv4(helo);
  if (ok) return Verdict::dunno();
  const int code = r.engine.codes().invalid_hostname_reject_code;
  smtp::Reply reply{code, "", "<" + std::string(helo) + ">: Helo command rejected: Invalid name"};
  reply.enhanced = fix_dsn(code, "5.5.2", ListKind::kHelo);
  return r.reject(std::move(reply));
}

Verdict reject_non_fqdn_helo_hostname(const Step&, Request& r) {
  if (!r.context.has_helo) return Verdict::dunno();
  const auto helo = r.context.helo;
  if (fqdn(helo) || valid_ipv4(helo)) return Verdict::dunno();
  const int code = r.engine.codes().non_fqdn_reject_code;
  return r.reject(smtp::Reply{
      code, fix_dsn(code, "5.5.2", ListKind::kHelo),
      "<" + std::string(helo) + ">: Helo command rejected: need fully-qualified hostname"});
}

Verdict reject_non_fqdn_sender(const Step&, Request& r) {
  if (!r.context.has_sender || r.context.sender.empty() || fqdn_address(r.context.sender)) {
    return Verdict::dunno();
  }
  const int code = r.engine.codes().non_fqdn_reject_code;
  return r.reject(smtp::Reply{code, fix_dsn(code, "5.5.2", ListKind::kHelo),
                              "<" + std::string(r.context.sender) +
                                  ">: Sender address rejected: need fully-qualified address"});
}

Verdict reject_non_fqdn_recipient(const Step&, Request& r) {
  if (r.context.stage != Stage::kRcpt || fqdn_address(r.context.recipient)) return Verdict::dunno();
  const int code = r.engine.codes().non_fqdn_reject_code;
  return r.reject(smtp::Reply{code, fix_dsn(code, "5.5.2", ListKind::kHelo),
                              "<" + std::string(r.context.recipient) +
                                  ">: Recipient address rejected: need fully-qualified address"});
}

Verdict reject_unauth_destination(const Step&, Request& r) {
  return unauth_destination(r, r.engine.codes().relay_domains_reject_code);
}

// Postfix answers 454 here whatever defer_code says.
Verdict defer_unauth_destination(const Step&, Request& r) {
  return unauth_destination(r, 454);
}

Verdict permit_auth_destination(const Step&, Request& r) {
  if (r.context.stage == Stage::kRcpt && r.context.resolved_recipient &&
      r.engine.destinations().is_authorized_destination(*r.context.resolved_recipient)) {
    return Verdict::permit();
  }
  return Verdict::dunno();
}

Verdict reject_unlisted_sender(const Step&, Request& r) {
  if (!r.context.has_sender || r.context.sender.empty()) return Verdict::dunno();
  const auto resolved = r.engine.destinations().resolve(r.context.sender);
  return unlisted(r, r.context.sender, resolved, true);
}

Verdict reject_unlisted_recipient(const Step&, Request& r) {
  if (r.context.stage != Stage::kRcpt || !r.context.resolved_recipient) return Verdict::dunno();
  return unlisted(r, r.context.recipient, *r.context.resolved_recipient, false);
}

Verdict reject_multi_recipient_bounce(const Step&, Request& r) {
  if (!r.context.has_sender || !r.context.sender.empty()) return Verdict::dunno();
  // At RCPT: a second recipient; at DATA: more than one accepted.
  const int limit = r.context.stage == Stage::kRcpt ? 1 : 2;
  if (r.context.recipient_count < limit) return Verdict::dunno();
  return r.reject(r.engine.codes().multi_recipient_bounce_reject_code, "5.5.3",
                  "Multi-recipient bounce");
}

Verdict reject_unauth_pipelining(const Step&, Request& r) {
  if (!r.context.improper_pipelining) return Verdict::dunno();
  return r.reject(503, "5.5.0", "Improper use of SMTP command pipelining");
}

Verdict reject_plaintext_session(const Step&, Request& r) {
  if (r.context.tls) return Verdict::dunno();
  return r.reject(r.engine.codes().plaintext_reject_code, "4.7.1",
                  "Session encryption is required");
}

Verdict Engine::unlisted_recipient(const Context& context) const {
  Effects effects;
  Request request{context, *this, ListKind::kRecipient, effects};
  return reject_unlisted_recipient(Step{}, request);
}

}  // namespace moat::restriction
