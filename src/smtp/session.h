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
#include "smtp/smtpd_config.h"

namespace moat::smtp {

// Runs the session to its end; never throws for anything the client does.
// `resolver` is the worker thread's (see dns/resolver.h); null: no DNS.
asio::awaitable<void> run_session(asio::ip::tcp::socket socket,
                                  std::shared_ptr<const SmtpdConfig> config,
                                  deliver::DeliveryService& delivery,
                                  std::shared_ptr<dns::Resolver> resolver);

}  // namespace moat::smtp
