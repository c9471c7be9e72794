#include "smtp/client_name.h"

#include <fmt/format.h>

#include "restrict/evaluation.h"

namespace moat::smtp {
namespace {

using restriction::NameStatus;

// The answer to (name, type), looked up when the session does not have it.
asio::awaitable<const dns::Answer*> answer(dns::AnswerSet& dns, std::string_view name,
                                           dns::Type type) {
  if (const auto* known = dns.find(name, type)) co_return known;
  co_await dns.fetch_needed();
  co_return dns.find(name, type);
}

bool numeric(std::string_view name) {
  std::error_code ec;
  asio::ip::make_address(std::string(name), ec);
  return !ec;
}

// glibc's getaddrinfo() error texts, which Postfix's warnings quote.
std::string_view lookup_error(dns::Status status) {
  switch (status) {
    case dns::Status::kNxDomain:
      return "Name or service not known";
    case dns::Status::kNoData:
      return "No address associated with hostname";
    default:
      return "Temporary failure in name resolution";
  }
}

}  // namespace

std::string client_ptr_name(const asio::ip::address& address) {
  return dns::reverse_name(address.to_string());
}

asio::awaitable<ClientName> look_up_client_name(dns::AnswerSet& dns, const dns::HostsFile* hosts,
                                                const asio::ip::address& address) {
  ClientName out;
  // The reverse name.
  std::string name;
  if (hosts) name = hosts->name_of(address);
  if (name.empty()) {
    const dns::Answer* ptr = co_await answer(dns, client_ptr_name(address), dns::Type::kPTR);
    if (!ptr || ptr->status != dns::Status::kOk || ptr->records.empty()) {
      const bool temporary = !ptr || ptr->status == dns::Status::kTempFail;
      out.name_status = out.reverse_name_status = temporary ? NameStatus::kTemp : NameStatus::kPerm;
      co_return out;
    }
    name = ptr->records.front().target;
  }
  // Postfix refuses malformed and numeric names as no name at all.
  if (!restriction::valid_hostname(name) || numeric(name)) co_return out;
  out.name = out.reverse_name = name;
  out.name_status = out.reverse_name_status = NameStatus::kOk;

  // The forward check: the name must list the client's address.
  std::vector<asio::ip::address> addresses;
  if (hosts) addresses = hosts->addresses_of(name);
  if (addresses.empty()) {
    const auto type = address.is_v4() ? dns::Type::kA : dns::Type::kAAAA;
    const dns::Answer* forward = co_await answer(dns, name, type);
    if (!forward || forward->status != dns::Status::kOk) {
      const auto status = forward ? forward->status : dns::Status::kTempFail;
      out.warnings.push_back(fmt::format("hostname {} does not resolve to address {}: {}", name,
                                         address.to_string(), lookup_error(status)));
      out.name = "unknown";
      out.name_status = status == dns::Status::kTempFail ? NameStatus::kTemp : NameStatus::kForged;
      co_return out;
    }
    for (const auto& record : forward->records) {
      std::error_code ec;
      auto a = asio::ip::make_address(dns::address_text(record), ec);
      if (!ec) addresses.push_back(a);
    }
  }
  if (std::ranges::find(addresses, address) == addresses.end()) {
    out.warnings.push_back(
        fmt::format("hostname {} does not resolve to address {}", name, address.to_string()));
    out.name = "unknown";
    out.name_status = NameStatus::kForged;
  }
  co_return out;
}

}  // namespace moat::smtp
