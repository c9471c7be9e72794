#include "deliver/delivery.h"

#include <chrono>
#include <ctime>

#include <fmt/format.h>
#include <asio/co_spawn.hpp>
#include <asio/use_awaitable.hpp>

#include "deliver/maildir.h"
#include "log/log.h"
#include "smtp/address.h"

namespace moat::deliver {
namespace {

using Clock = std::chrono::steady_clock;

// Headers local(8) and virtual(8) prepend to each delivered copy.
std::string delivery_head(const Envelope& envelope, const Envelope::Recipient& recipient,
                          const Mailbox& mailbox) {
  return fmt::format("Return-Path: <{}>\nX-Original-To: {}\nDelivered-To: {}\n",
                     smtp::external_form(envelope.sender), smtp::external_form(recipient.original),
                     smtp::external_form(mailbox.delivered_to));
}

// Postfix's delay notation: whole seconds from 10 on, else at most two
// decimals without trailing zeros ("0.16", "1.2", "0").
std::string format_delay(double seconds) {
  if (seconds >= 10) return fmt::format("{:.0f}", seconds);
  std::string text = fmt::format("{:.2f}", seconds);
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text;
}

std::string mbox_from_line(const Envelope& envelope) {
  const std::time_t now = std::time(nullptr);
  char date[32];
  tm utc{};
  gmtime_r(&now, &utc);
  std::strftime(date, sizeof date, "%a %b %e %H:%M:%S %Y", &utc);
  return fmt::format(
      "From {}  {}\n",
      envelope.sender.empty() ? "MAILER-DAEMON" : smtp::external_form(envelope.sender), date);
}

// Runs on a pool thread: writes every copy, logs each like Postfix does.
DeliveryResult deliver_blocking(const Envelope& envelope, const std::string& header,
                                const std::string& content, SyncMethod sync,
                                Clock::time_point started) {
  DeliveryResult result;
  for (const auto& recipient : envelope.recipients) {
    for (const auto& mailbox : recipient.mailboxes) {
      std::string head = delivery_head(envelope, recipient, mailbox) + header;
      const bool is_maildir = mailbox.path.ends_with('/');
      std::string error =
          is_maildir ? write_to_maildir(mailbox.path, head, content, sync)
                     : append_to_mbox(mailbox.path, mbox_from_line(envelope), head, content);
      const double delay = std::chrono::duration<double>(Clock::now() - started).count();
      const std::string orig =
          recipient.original == mailbox.delivered_to
              ? std::string()
              : fmt::format(", orig_to=<{}>", smtp::external_form(recipient.original));
      if (error.empty()) {
        log::info(mailbox.transport,
                  "{}: to=<{}>{}, relay={}, delay={}, delays=0/0/0/{}, dsn=2.0.0, "
                  "status=sent (delivered to {})",
                  envelope.queue_id, smtp::external_form(mailbox.delivered_to), orig,
                  mailbox.transport, format_delay(delay), format_delay(delay),
                  is_maildir ? "maildir" : "mailbox");
      } else {
        log::warning(mailbox.transport, "{}: to=<{}>{}: {}", envelope.queue_id,
                     smtp::external_form(mailbox.delivered_to), orig, error);
        if (result.error.empty()) result.error = std::move(error);
      }
    }
  }
  return result;
}

}  // namespace

DeliveryService::DeliveryService(size_t threads) : pool_(threads == 0 ? 1 : threads) {}

DeliveryService::~DeliveryService() {
  stop();
}

void DeliveryService::stop() {
  pool_.stop();
  pool_.join();
}

asio::awaitable<DeliveryResult> DeliveryService::deliver(const Envelope& envelope,
                                                         std::string header,
                                                         const std::string& content,
                                                         SyncMethod sync) {
  const auto started = Clock::now();
  // co_spawn on the pool runs the work there; the awaiting session resumes
  // on its own event loop when it completes.
  co_return co_await asio::co_spawn(
      pool_,
      [&envelope, &header, &content, sync, started]() -> asio::awaitable<DeliveryResult> {
        co_return deliver_blocking(envelope, header, content, sync, started);
      },
      asio::use_awaitable);
}

}  // namespace moat::deliver
