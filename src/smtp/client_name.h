// The client's host name, found as Postfix's smtpd finds it: the PTR name of
// its address (hosts file first, then DNS), kept only when it is a valid,
// non-numeric host name whose own addresses include the client's
// ("forward-confirmed"); otherwise "unknown", with the reason as a
// NameStatus for reject_unknown_client_hostname and
// reject_unknown_reverse_client_hostname, and Postfix's warning lines.
#pragma once

#include <string>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/ip/address.hpp>

#include "dns/answer_set.h"
#include "dns/hosts_file.h"
#include "restrict/context.h"

namespace moat::smtp {

struct ClientName {
  std::string name = "unknown";          // verified name, or "unknown"
  std::string reverse_name = "unknown";  // the PTR name, unverified
  restriction::NameStatus name_status = restriction::NameStatus::kPerm;
  restriction::NameStatus reverse_name_status = restriction::NameStatus::kPerm;
  std::vector<std::string> warnings;  // to log as "warning: ..."
};

// The name of `address`; `hosts` may be null (DNS only).
asio::awaitable<ClientName> look_up_client_name(dns::AnswerSet& dns, const dns::HostsFile* hosts,
                                                const asio::ip::address& address);

// The DNS question that starts the lookup (to prefetch it at accept time).
std::string client_ptr_name(const asio::ip::address& address);

}  // namespace moat::smtp
