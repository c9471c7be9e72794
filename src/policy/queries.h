// The policy server queries one SMTP session's check_policy_service
// restrictions asked for: like dns::AnswerSet for DNS answers. A query whose
// answer is not here is noted and the check is pending; the session awaits
// query_needed() (through its loop's PolicyClient) and evaluates again.
// Answers last for the mail transaction (clear()), so a check evaluated
// again after another wait does not ask the server twice.
#pragma once

#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <asio/awaitable.hpp>

#include "policy/attributes.h"
#include "policy/client.h"

namespace moat::policy {

// One check_policy_service target: where, and how (Postfix's
// smtpd_policy_service_* settings, overridden per endpoint).
struct Service {
  Endpoint endpoint;
  ClientSettings settings;
  bool operator==(const Service&) const = default;
};

using Answer = std::expected<std::string, std::string>;  // the action, or why none came

class Queries {
 public:
  // The answer of `service` to `request`, or null: the query is noted.
  const Answer* find(const Service& service, const Attributes& request);
  bool has_needed() const;
  // Sends every noted query (null client: each fails).
  asio::awaitable<void> query_needed(PolicyClient* client);
  void clear() { entries_.clear(); }

 private:
  struct Entry {
    Service service;  // a copy: a list from an access table result is compiled per use
    Attributes request;
    std::string key;  // the encoded request: same request, same answer
    std::optional<Answer> answer;
  };
  std::vector<Entry> entries_;
};

}  // namespace moat::policy
