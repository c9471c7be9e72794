#include "spf/result_set.h"

#include <ctime>

#include "dns/resolver.h"
#include "log/log.h"

namespace moat::spf {
namespace {

// The domain whose record check_host() fetches first (4.3).
std::string_view identity_domain(std::string_view sender, std::string_view helo) {
  if (sender.empty()) return helo;
  const auto at = sender.rfind('@');
  return at == std::string_view::npos ? sender : sender.substr(at + 1);
}

}  // namespace

ResultSet::Entry* ResultSet::entry(std::string_view sender, std::string_view helo) {
  for (auto& e : entries_) {
    if (e.sender == sender && e.helo == helo) return &e;
  }
  return nullptr;
}

const SpfResult* ResultSet::find(std::string_view sender, std::string_view helo) {
  if (Entry* e = entry(sender, helo)) return e->result ? &*e->result : nullptr;
  entries_.push_back({std::string(sender), std::string(helo), std::nullopt});
  return nullptr;
}

bool ResultSet::has_needed() const {
  for (const auto& e : entries_) {
    if (!e.result) return true;
  }
  return false;
}

void ResultSet::put(std::string_view sender, std::string_view helo, SpfResult result) {
  if (Entry* e = entry(sender, helo)) {
    e->result = std::move(result);
    return;
  }
  entries_.push_back({std::string(sender), std::string(helo), std::move(result)});
}

asio::awaitable<void> ResultSet::evaluate_needed(dns::Resolver* resolver,
                                                 std::string_view client_ip,
                                                 std::string_view receiver, std::string_view who) {
  if (resolver) {
    for (const auto& e : entries_) {
      const auto domain = identity_domain(e.sender, e.helo);
      if (!e.result && queryable_name(domain)) {
        resolver->prefetch(presentation_name(domain), dns::Type::kTXT);
      }
    }
  }
  // By index: the list does not change while this runs, but an entry's
  // strings must outlive the co_await.
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].result) continue;
    CheckRequest request;
    request.client_ip = client_ip;
    request.sender = entries_[i].sender;
    request.helo = entries_[i].helo;
    request.receiver = receiver;
    request.timestamp = static_cast<uint64_t>(std::time(nullptr));
    SpfResult result;
    if (resolver) {
      result = co_await check_host(*resolver, request);
    } else {
      result.result = Result::kTempError;
      result.comment = "no DNS resolver";
    }
    log::info("smtpd", "{}: SPF {}: identity={}; client-ip={}; helo={}; envelope-from=<{}>: {}",
              who, result_name(result.result), request.sender.empty() ? "helo" : "mailfrom",
              client_ip, request.helo, request.sender, result.comment);
    entries_[i].result = std::move(result);
  }
}

}  // namespace moat::spf
