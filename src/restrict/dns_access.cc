// check_{client,reverse_client_hostname,helo,sender,recipient}_{a,mx,ns}_access:
// an access table searched with the hosts a name points at, as Postfix 3.7's
// check_server_access() does.
//
// The name: the verified client name (not "unknown"), the unverified one,
// the HELO name, or the domain of the sender or recipient (everything after
// the last '@'; the null sender is skipped). Local and virtual domains are
// not skipped. The hosts: its MX hosts (none: the name itself; a null MX:
// no check), its NS hosts (none: those of the nearest parent domain that
// has any), or for _a_ the name itself. Each host is searched by name (and
// parent domains; not for _a_), then by each of its A and AAAA addresses
// (and their network prefixes). The first table match decides, a DUNNO
// match included. An address literal is its own MX or A host; _ns_ skips it.
//
// DNS trouble never refuses: a failed MX/NS lookup or a host without
// addresses is a warning and the check goes on, as in Postfix. MX and NS
// lists are cut at 100 records (Postfix's dns_rr_list_limit). A table that
// answers OK is a configuration error ("451 4.3.5"): these checks only
// refuse, since whoever controls the DNS controls what they see.
//
// Lookup rounds: the MX or NS list (with every parent domain at once when
// the NS walk is needed), then the addresses of every host still in
// question, all at once.
#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <asio/ip/address.hpp>

#include "log/log.h"
#include "restrict/evaluation.h"

namespace moat::restriction {
namespace {

enum class Hosts { kA, kMx, kNs };

// Postfix 3.7.11's dns_rr_list_limit: records past it are dropped.
constexpr size_t kListLimit = 100;

std::string_view type_text(Hosts type) {
  switch (type) {
    case Hosts::kA:
      return "A";
    case Hosts::kMx:
      return "MX";
    case Hosts::kNs:
      return "NS";
  }
  return {};
}

// Postfix's dns_lookup() sends no query for an address or a name that is
// not a valid host name (a trailing dot included): "Host not found".
bool askable(std::string_view name) {
  return !name.empty() && name.back() != '.' && valid_hostname(name);
}

// Postfix's valid_hostaddr(): the host "name" is an IPv4 or IPv6 address.
bool is_address(std::string_view text) {
  if (text.empty() || text.find_first_not_of("0123456789abcdefABCDEF.:") != std::string_view::npos)
    return false;
  std::error_code ec;
  asio::ip::make_address(std::string(text), ec);
  return !ec;
}

std::string lowered(std::string_view text) {
  std::string out(text);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

const dns::Answer kNotAsked{.status = dns::Status::kNxDomain};

bool not_found(const dns::Answer& answer) {
  return answer.status == dns::Status::kNoData || answer.status == dns::Status::kNxDomain;
}

// Postfix's dns_strerror(h_errno) after a failed MX/NS lookup.
std::string_view lookup_error(const dns::Answer& answer) {
  switch (answer.status) {
    case dns::Status::kNxDomain:
      return "Host not found";
    case dns::Status::kNoData:
      return "Host found but no data record of requested type";
    default:
      return "Host not found, try again";
  }
}

// glibc's gai_strerror() for a host whose address lookup found nothing.
std::string_view address_error(const dns::Answer& a, const dns::Answer& aaaa) {
  if (a.status == dns::Status::kTempFail || aaaa.status == dns::Status::kTempFail)
    return "Temporary failure in name resolution";
  if (a.status == dns::Status::kNxDomain || aaaa.status == dns::Status::kNxDomain)
    return "Name or service not known";
  return "No address associated with hostname";
}

class ServerCheck {
 public:
  ServerCheck(const Step& step, Request& r, Hosts type) : step_(step), r_(r), type_(type) {}

  Verdict run(std::string_view name) {
    const auto at = name.rfind('@');
    const std::string_view domain = at == std::string_view::npos ? name : name.substr(at + 1);
    if (domain.empty()) return Verdict::dunno();
    if (domain.front() == '[') return literal(domain);
    std::vector<std::string> hosts;
    if (type_ == Hosts::kA) {
      hosts.emplace_back(domain);
    } else {
      bool pending = false;
      if (!host_list(name, domain, hosts, pending)) return Verdict::dunno();
      if (pending) return Verdict::pending();
    }
    return check_hosts(hosts);
  }

 private:
  Verdict decide(const std::string& value) {
    return evaluate_table_result(r_, value, step_.argument);
  }

  // "[1.2.3.4]", "[IPv6:...]": the address is its own MX or A host.
  Verdict literal(std::string_view domain) {
    if (type_ == Hosts::kNs || !valid_address_literal(domain)) return Verdict::dunno();
    std::string_view bare = domain.substr(1, domain.size() - 2);
    if (bare.size() > 5 && lowered(bare.substr(0, 5)) == "ipv6:") bare.remove_prefix(5);
    if (auto value = find_host_address(step_, bare)) return decide(*value);
    return Verdict::dunno();
  }

  // The MX or NS hosts of `domain` into `hosts`; false when there is
  // nothing to check (null MX, lookup failure: warned).
  bool host_list(std::string_view name, std::string_view domain, std::vector<std::string>& hosts,
                 bool& pending) {
    const dns::Type qtype = type_ == Hosts::kMx ? dns::Type::kMX : dns::Type::kNS;
    const dns::Answer* answer = &kNotAsked;
    if (askable(domain) && !(answer = r_.dns(domain, qtype))) {
      pending = true;
      return true;
    }
    std::string_view queried = domain;
    std::string_view warn_name = domain;
    if (type_ == Hosts::kMx) {
      if (answer->status == dns::Status::kOk &&
          std::ranges::any_of(answer->records, [](const auto& mx) { return mx.target.empty(); })) {
        return false;  // null MX
      }
      if (not_found(*answer)) {
        hosts.emplace_back(domain);  // no MX: the name is its own MX host
        return true;
      }
    } else if (not_found(*answer)) {
      // No NS here: those of the nearest parent domain that has any (the
      // top-level domain included). Every parent is asked in one round.
      warn_name = name;
      std::string_view parent = domain;
      for (;;) {
        const auto dot = parent.find('.');
        if (dot == std::string_view::npos || dot + 1 >= parent.size()) break;
        parent.remove_prefix(dot + 1);
        const dns::Answer* found = askable(parent) ? r_.dns(parent, qtype) : &kNotAsked;
        if (!found) {
          note_parents(parent);
          pending = true;
          return true;
        }
        answer = found;
        if (!not_found(*answer)) {
          queried = warn_name = parent;
          break;
        }
      }
    }
    if (answer->status != dns::Status::kOk) {
      r_.effects.warnings.push_back(fmt::format("Unable to look up {} host for {}: {}",
                                                type_text(type_), warn_name,
                                                lookup_error(*answer)));
      return false;
    }
    const auto& records = answer->records;
    if (records.size() > kListLimit) {
      r_.effects.warnings.push_back(
          fmt::format("DNS record count limit ({}) exceeded -- dropping excess record(s) after "
                      "qname={} qtype={}",
                      kListLimit, queried, type_text(type_)));
    }
    for (size_t i = 0; i < records.size() && i < kListLimit; ++i) {
      hosts.push_back(records[i].target);
    }
    return true;
  }

  // The parents above `parent`, asked in the round that asks `parent`.
  void note_parents(std::string_view parent) {
    for (;;) {
      const auto dot = parent.find('.');
      if (dot == std::string_view::npos || dot + 1 >= parent.size()) return;
      parent.remove_prefix(dot + 1);
      if (askable(parent)) r_.dns(parent, dns::Type::kNS);
    }
  }

  Verdict check_hosts(const std::vector<std::string>& hosts) {
    for (size_t i = 0; i < hosts.size(); ++i) {
      const std::string& host = hosts[i];
      if (is_address(host)) {
        if (auto value = find_host_address(step_, host)) return decide(*value);
        continue;
      }
      if (type_ != Hosts::kA) {
        if (auto value = find_host_name(step_, r_, host)) return decide(*value);
      }
      const std::string query = dns::canonical(host);
      const dns::Answer* a = r_.dns(query, dns::Type::kA);
      const dns::Answer* aaaa = r_.dns(query, dns::Type::kAAAA);
      if (!a || !aaaa) {
        note_addresses(hosts, i + 1);
        return Verdict::pending();
      }
      bool any = false;
      for (const auto* answer : {a, aaaa}) {
        if (answer->status != dns::Status::kOk) continue;
        for (const auto& record : answer->records) {
          any = true;
          if (auto value = find_host_address(step_, dns::address_text(record))) {
            return decide(*value);
          }
        }
      }
      if (!any && type_ != Hosts::kA) {
        r_.effects.warnings.push_back(fmt::format("Unable to look up {} host {} for {} {}: {}",
                                                  type_text(type_), host, r_.reply_class(),
                                                  r_.reply_name(), address_error(*a, *aaaa)));
      }
    }
    return Verdict::dunno();
  }

  // The addresses of the hosts after `from` that the check may still need:
  // up to the first one whose name is in the table.
  void note_addresses(const std::vector<std::string>& hosts, size_t from) {
    for (size_t i = from; i < hosts.size(); ++i) {
      if (is_address(hosts[i])) continue;
      if (type_ != Hosts::kA && find_host_name(step_, r_, hosts[i])) return;
      const std::string query = dns::canonical(hosts[i]);
      r_.dns(query, dns::Type::kA);
      r_.dns(query, dns::Type::kAAAA);
    }
  }

  const Step& step_;
  Request& r_;
  Hosts type_;
};

// Postfix's forbid_allowlist(): an OK from these tables would let whoever
// controls a DNS zone allow their own mail.
Verdict forbid_ok(const Step& step, Request& r, Verdict verdict, std::string_view target) {
  if (!verdict.is_permit() || r.effects.discard) return verdict;
  log::warning("smtpd", "restriction {} returns OK for {}", step.name, target);
  log::warning("smtpd", "this is not allowed for security reasons");
  return r.server_error("use DUNNO instead of OK if you want to make an exception");
}

Verdict check(const Step& step, Request& r, Hosts type, ListKind kind, std::string_view name) {
  NamedAs named(r, kind);
  return forbid_ok(step, r, ServerCheck(step, r, type).run(name), name);
}

bool is_unknown(std::string_view name) {
  return name.size() == 7 && lowered(name) == "unknown";
}

Verdict check_client(const Step& step, Request& r, Hosts type) {
  if (is_unknown(r.context.client_name)) return Verdict::dunno();
  return check(step, r, type, ListKind::kClient, r.context.client_name);
}

Verdict check_reverse_client(const Step& step, Request& r, Hosts type) {
  if (is_unknown(r.context.reverse_client_name)) return Verdict::dunno();
  return check(step, r, type, ListKind::kReverseClient, r.context.reverse_client_name);
}

Verdict check_helo(const Step& step, Request& r, Hosts type) {
  if (!r.context.has_helo) return Verdict::dunno();
  return check(step, r, type, ListKind::kHelo, r.context.helo);
}

Verdict check_sender(const Step& step, Request& r, Hosts type) {
  if (!r.context.has_sender || r.context.sender.empty()) return Verdict::dunno();
  return check(step, r, type, ListKind::kSender, r.context.sender);
}

Verdict check_recipient(const Step& step, Request& r, Hosts type) {
  // As check_recipient_access: after RCPT only with exactly one recipient.
  if (r.context.stage < Stage::kRcpt || r.context.recipient.empty()) return Verdict::dunno();
  return check(step, r, type, ListKind::kRecipient, r.context.recipient);
}

}  // namespace

Verdict check_client_a_access(const Step& s, Request& r) {
  return check_client(s, r, Hosts::kA);
}
Verdict check_client_mx_access(const Step& s, Request& r) {
  return check_client(s, r, Hosts::kMx);
}
Verdict check_client_ns_access(const Step& s, Request& r) {
  return check_client(s, r, Hosts::kNs);
}
Verdict check_reverse_client_hostname_a_access(const Step& s, Request& r) {
  return check_reverse_client(s, r, Hosts::kA);
}
Verdict check_reverse_client_hostname_mx_access(const Step& s, Request& r) {
  return check_reverse_client(s, r, Hosts::kMx);
}
Verdict check_reverse_client_hostname_ns_access(const Step& s, Request& r) {
  return check_reverse_client(s, r, Hosts::kNs);
}
Verdict check_helo_a_access(const Step& s, Request& r) {
  return check_helo(s, r, Hosts::kA);
}
Verdict check_helo_mx_access(const Step& s, Request& r) {
  return check_helo(s, r, Hosts::kMx);
}
Verdict check_helo_ns_access(const Step& s, Request& r) {
  return check_helo(s, r, Hosts::kNs);
}
Verdict check_sender_a_access(const Step& s, Request& r) {
  return check_sender(s, r, Hosts::kA);
}
Verdict check_sender_mx_access(const Step& s, Request& r) {
  return check_sender(s, r, Hosts::kMx);
}
Verdict check_sender_ns_access(const Step& s, Request& r) {
  return check_sender(s, r, Hosts::kNs);
}
Verdict check_recipient_a_access(const Step& s, Request& r) {
  return check_recipient(s, r, Hosts::kA);
}
Verdict check_recipient_mx_access(const Step& s, Request& r) {
  return check_recipient(s, r, Hosts::kMx);
}
Verdict check_recipient_ns_access(const Step& s, Request& r) {
  return check_recipient(s, r, Hosts::kNs);
}

}  // namespace moat::restriction
