// Hands a complete, accepted message to its mailboxes on a thread pool, so
// that file writes and fsync() never stall an event loop; the session
// co_awaits the result and says 250 only after every copy is on stable
// storage.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/thread_pool.hpp>

#include "deliver/destinations.h"
#include "deliver/maildir.h"

namespace moat::deliver {

struct Envelope {
  std::string queue_id;
  std::string sender;  // internal form, empty for <>
  struct Recipient {
    std::string original;  // as given in RCPT TO (internal form)
    std::vector<Mailbox> mailboxes;
  };
  std::vector<Recipient> recipients;
};

struct DeliveryResult {
  std::string error;  // empty when every copy is durable
};

class DeliveryService {
 public:
  explicit DeliveryService(size_t threads);
  ~DeliveryService();

  // `header` is what the receiving side prepends (Received:); `content` the
  // message as received. Logs Postfix's delivery lines.
  asio::awaitable<DeliveryResult> deliver(const Envelope& envelope, std::string header,
                                          const std::string& content, SyncMethod sync);

  void stop();

 private:
  asio::thread_pool pool_;
};

}  // namespace moat::deliver
