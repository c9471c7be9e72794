// One SMTP session, from the banner to the close: the RFC 5321 dialogue top
// to bottom in one coroutine on one event-loop thread. It reads commands
// (pipelined or not), answers with Postfix's replies, applies the
// restriction lists, decodes DATA and hands accepted mail to the delivery
// service, saying 250 only once every copy is on stable storage.
#pragma once

#include <memory>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include "deliver/delivery.h"
#include "dns/resolver.h"
#include "policy/client.h"
#include "smtp/smtpd_config.h"
#include "state/store.h"

namespace moat::smtp {

// What a session uses of its event-loop thread: each loop has its own
// resolver (dns/resolver.h) and state store front (state/store.h).
struct LoopServices {
  std::shared_ptr<dns::Resolver> resolver;       // null: no DNS
  std::shared_ptr<state::Store> store;           // null: no state store (greylisting fails)
  std::shared_ptr<policy::PolicyClient> policy;  // null: policy queries fail
};

// Runs the session to its end; never throws for anything the client does.
asio::awaitable<void> run_session(asio::ip::tcp::socket socket,
                                  std::shared_ptr<const SmtpdConfig> config,
                                  deliver::DeliveryService& delivery, LoopServices services);

}  // namespace moat::smtp
