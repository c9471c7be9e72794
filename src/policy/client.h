// The client side of Postfix's policy delegation protocol: what
// check_policy_service uses to ask an external policy server (postgrey,
// policyd-spf, ...) and get its "action=" back.
//
// One PolicyClient per event loop, shared by all of that loop's sessions.
// Connections are persistent and pooled per endpoint (keyed by its text):
// as in Postfix, a connection carries one request at a time and waits for
// its answer, so concurrent sessions use several connections, at most
// `max_connections` per endpoint; a query beyond that waits for one to come
// free (at most ClientSettings::timeout). An idle connection is reused,
// the most recently used first, so surplus ones reach max_idle and close.
//
// Failures are retried as Postfix does: any error (connect, write, read,
// timeout, an answer that is no policy answer) closes that connection;
// after retry_delay the request is tried again on a new one, try_limit
// times in all. Then query() returns the last error, and the caller
// applies smtpd_policy_service_default_action: this unit never decides.
//
// Not thread-safe: use it on its loop's thread only. Destroy it before its
// io_context; queries still waiting then end with "policy client shut
// down" when the loop runs again.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <string>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>

#include "policy/attributes.h"
#include "policy/endpoint.h"

namespace moat::policy {

// Postfix 3.7's smtpd_policy_service_* parameters (postconf(5); defaults as
// `postconf -d` prints them). check_policy_service { ENDPOINT, name=value }
// may override them per endpoint: the caller builds one per endpoint.
struct ClientSettings {
  // smtpd_policy_service_timeout: limit on connecting, writing a request
  // and reading its answer (each), and on waiting for a pooled connection.
  std::chrono::milliseconds timeout{std::chrono::seconds(100)};
  // smtpd_policy_service_max_idle: an unused connection is closed after it.
  std::chrono::milliseconds max_idle{std::chrono::seconds(300)};
  // smtpd_policy_service_max_ttl: a connection this old is closed once its
  // current request is answered (or while idle).
  std::chrono::milliseconds max_ttl{std::chrono::seconds(1000)};
  // smtpd_policy_service_request_limit: requests per connection, 0 = any.
  int request_limit = 0;
  // smtpd_policy_service_try_limit: attempts per request (at least 1).
  int try_limit = 2;
  // smtpd_policy_service_retry_delay: the pause between attempts.
  std::chrono::milliseconds retry_delay{std::chrono::seconds(1)};
  // smtpd_policy_service_default_action: what the caller does when query()
  // fails. Carried here for the caller; the client never uses it.
  std::string default_action = "451 4.3.5 Server configuration problem";
  // smtpd_policy_service_policy_context: sent as "policy_context=" with
  // every request (Postfix 3.1+ always sends it, empty by default).
  std::string policy_context;

  bool operator==(const ClientSettings&) const = default;
};

// Counters for tests.
struct PolicyStats {
  uint64_t connects = 0;  // connections made
  uint64_t requests = 0;  // requests written (every attempt counts)
};

class PolicyClient {
 public:
  static constexpr size_t kDefaultMaxConnections = 16;

  explicit PolicyClient(asio::io_context& loop, size_t max_connections = kDefaultMaxConnections);
  ~PolicyClient();
  PolicyClient(const PolicyClient&) = delete;
  PolicyClient& operator=(const PolicyClient&) = delete;

  // Sends `request` (plus policy_context) and returns the answer's action
  // value ("DUNNO", "DEFER_IF_PERMIT Greylisted ...", "prepend ..."), or
  // an error in Postfix's words ("connect to 127.0.0.1:10023: Connection
  // refused", "problem talking to server inet:...: read timeout").
  // Takes its arguments by value: the coroutine may start after the
  // caller's temporaries are gone (co_spawn), and it outlives them anyway.
  asio::awaitable<std::expected<std::string, std::string>> query(Endpoint endpoint,
                                                                 ClientSettings settings,
                                                                 Attributes request);

  const PolicyStats& stats() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace moat::policy
