#include "smtp/session.h"

#include <array>
#include <chrono>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "deliver/queue_id.h"
#include "log/log.h"
#include "smtp/address.h"
#include "smtp/command.h"
#include "smtp/data_decoder.h"

namespace moat::smtp {
namespace {

using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);

// Postfix's order of commands in the disconnect statistics.
constexpr std::array kStatsOrder = {Verb::kHelo,     Verb::kEhlo, Verb::kXclient, Verb::kXforward,
                                    Verb::kStarttls, Verb::kAuth, Verb::kMail,    Verb::kRcpt,
                                    Verb::kData,     Verb::kBdat, Verb::kRset,    Verb::kNoop,
                                    Verb::kVrfy,     Verb::kEtrn, Verb::kQuit,    Verb::kUnknown};

struct CommandStats {
  std::array<int, static_cast<size_t>(Verb::kUnknown) + 1> total{};
  std::array<int, static_cast<size_t>(Verb::kUnknown) + 1> ok{};

  // "ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4"
  std::string summary() const {
    std::string out;
    int all = 0, all_ok = 0;
    for (const auto verb : kStatsOrder) {
      const auto i = static_cast<size_t>(verb);
      if (total[i] == 0) continue;
      all += total[i];
      all_ok += ok[i];
      out += ok[i] == total[i] ? fmt::format(" {}={}", stats_name(verb), total[i])
                               : fmt::format(" {}={}/{}", stats_name(verb), ok[i], total[i]);
    }
    out += all_ok == all ? fmt::format(" commands={}", all)
                         : fmt::format(" commands={}/{}", all_ok, all);
    return out;
  }
};

bool has_non_ascii(std::string_view text) {
  for (unsigned char c : text) {
    if (c >= 0x80) return true;
  }
  return false;
}

// "KEY=VALUE" as the client wrote it, for "Unsupported option:" replies.
std::string option_text(const EsmtpParameter& parameter) {
  return parameter.has_value ? fmt::format("{}={}", parameter.keyword, parameter.value)
                             : std::string(parameter.keyword);
}

std::string rfc2822_date() {
  const std::time_t now = std::time(nullptr);
  tm local{};
  localtime_r(&now, &local);
  char buffer[64];
  std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S %z (%Z)", &local);
  return buffer;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<const SmtpdConfig> config,
          deliver::DeliveryService& delivery)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        config_(std::move(config)),
        delivery_(delivery) {}

  asio::awaitable<void> run();

 private:
  enum class ReadStatus { kLine, kClosed, kTimeout };

  // I/O with the smtpd_timeout deadline.
  asio::awaitable<bool> read_more();
  asio::awaitable<bool> flush();
  void arm_timer();
  asio::awaitable<ReadStatus> read_line(std::string& line, bool& bare_lf);

  // Replies: queued, sent when the client has nothing more pipelined.
  void reply(int code, std::string_view enhanced, std::string_view text);
  void reply(const Reply& r);

  // One handler per command; each queues exactly one reply.
  void on_helo(const Command& command, bool extended);
  void on_mail(const Command& command);
  void on_rcpt(const Command& command);
  asio::awaitable<void> on_data(const Command& command);
  void on_rset(const Command& command);
  void on_vrfy(const Command& command);
  void reset_transaction();

  bool bare_lf_forbidden() const;
  std::string client() const { return fmt::format("{}[{}]", client_name_, client_ip_); }
  // The last command, upper case, for "lost connection after RCPT" lines.
  std::string where() const;
  void log_reject(std::string_view stage, const Reply& r, std::string_view recipient);
  std::string received_header() const;
  asio::awaitable<void> deliver_message(std::string& content);

  tcp::socket socket_;
  asio::steady_timer timer_;
  std::shared_ptr<const SmtpdConfig> config_;
  deliver::DeliveryService& delivery_;

  std::string in_;
  size_t in_start_ = 0;
  std::string out_;
  bool timed_out_ = false;
  bool closing_ = false;
  bool skip_to_newline_ = false;

  asio::ip::address client_address_;
  std::string client_ip_;
  std::string client_name_ = "unknown";
  bool client_in_mynetworks_ = false;

  std::string helo_;
  std::string protocol_ = "SMTP";
  Verb last_verb_ = Verb::kUnknown;
  bool have_last_verb_ = false;
  CommandStats stats_;
  bool last_reply_ok_ = true;
  long long error_count_ = 0;
  long long junk_count_ = 0;

  // The mail transaction.
  bool in_mail_ = false;
  std::string sender_;
  bool smtputf8_ = false;
  std::string queue_id_;
  int rcpt_count_ = 0;
  deliver::Envelope envelope_;
};

void Session::arm_timer() {
  timer_.expires_after(config_->timeout);
  timer_.async_wait([self = shared_from_this()](std::error_code ec) {
    // A timer that fired while a read completed must not cancel the next one.
    if (ec || self->timer_.expiry() > Clock::now()) return;
    self->timed_out_ = true;
    std::error_code ignored;
    self->socket_.cancel(ignored);
  });
}

// Waits for the socket to become readable and only then reads into a
// per-thread buffer, so an idle session holds no read buffer at all: that is
// what keeps thousands of idle connections cheap.
asio::awaitable<bool> Session::read_more() {
  if (in_start_ == in_.size()) {
    in_.clear();
    in_start_ = 0;
    if (in_.capacity() > 4096) std::string().swap(in_);
  } else if (in_start_ > 16 * 1024) {
    in_.erase(0, in_start_);
    in_start_ = 0;
  }
  thread_local std::array<char, 64 * 1024> buffer;
  for (;;) {
    std::error_code ec;
    const size_t n = socket_.read_some(asio::buffer(buffer), ec);
    if (!ec) {
      in_.append(buffer.data(), n);
      co_return n > 0;
    }
    if (ec != asio::error::would_block && ec != asio::error::try_again) co_return false;
    arm_timer();
    auto [wait_error] = co_await socket_.async_wait(tcp::socket::wait_read, kNoThrow);
    timer_.cancel();
    if (wait_error) co_return false;
  }
}

asio::awaitable<bool> Session::flush() {
  if (out_.empty()) co_return true;
  arm_timer();
  auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(out_), kNoThrow);
  timer_.cancel();
  out_.clear();
  if (out_.capacity() > 4096) std::string().swap(out_);
  co_return !ec;
}

// Reads one command line. Lines longer than line_length_limit are cut there
// and the rest up to the newline is discarded, as Postfix's smtpd does.
asio::awaitable<Session::ReadStatus> Session::read_line(std::string& line, bool& bare_lf) {
  for (;;) {
    const std::string_view pending = std::string_view(in_).substr(in_start_);
    const auto newline = pending.find('\n');
    if (skip_to_newline_) {
      if (newline == std::string_view::npos) {
        in_start_ = in_.size();
      } else {
        in_start_ += newline + 1;
        skip_to_newline_ = false;
        continue;
      }
    } else if (newline != std::string_view::npos) {
      std::string_view text = pending.substr(0, newline);
      bare_lf = text.empty() || text.back() != '\r';
      if (!bare_lf) text.remove_suffix(1);
      line.assign(text.substr(0, config_->line_length_limit));
      in_start_ += newline + 1;
      co_return ReadStatus::kLine;
    } else if (pending.size() >= config_->line_length_limit) {
      line.assign(pending.substr(0, config_->line_length_limit));
      bare_lf = false;
      in_start_ = in_.size();
      skip_to_newline_ = true;
      co_return ReadStatus::kLine;
    }
    // Nothing complete is pending: answer what was pipelined, then wait.
    if (!co_await flush()) co_return ReadStatus::kClosed;
    if (!co_await read_more()) co_return timed_out_ ? ReadStatus::kTimeout : ReadStatus::kClosed;
  }
}

void Session::reply(const Reply& r) {
  last_reply_ok_ = r.code < 400;
  if (r.code >= 400) {
    ++error_count_;
    if (!config_->reject_footer.empty()) {
      Reply with_footer = r;
      with_footer.text += "\n" + config_->reject_footer;
      append_wire(out_, with_footer);
      return;
    }
  }
  append_wire(out_, r);
}

void Session::reply(int code, std::string_view enhanced, std::string_view text) {
  reply(Reply{code, std::string(enhanced), std::string(text)});
}

bool Session::bare_lf_forbidden() const {
  return config_->forbid_bare_newline &&
         !config_->bare_newline_exclusions.contains(client_address_);
}

std::string Session::where() const {
  if (!have_last_verb_) return "CONNECT";
  std::string name(stats_name(last_verb_));
  for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

void Session::log_reject(std::string_view stage, const Reply& r, std::string_view recipient) {
  std::string detail = fmt::format("from=<{}>", external_form(sender_));
  if (!recipient.empty()) detail += fmt::format(" to=<{}>", external_form(recipient));
  log::info("smtpd", "{}: reject: {} from {}: {}; {} proto={} helo=<{}>",
            queue_id_.empty() ? "NOQUEUE" : queue_id_, stage, client(), r.log_text(), detail,
            protocol_, helo_);
}

void Session::reset_transaction() {
  in_mail_ = false;
  sender_.clear();
  smtputf8_ = false;
  queue_id_.clear();
  rcpt_count_ = 0;
  envelope_ = {};
}

void Session::on_helo(const Command& command, bool extended) {
  if (command.argument.empty()) {
    reply(501, "", extended ? "Syntax: EHLO hostname" : "Syntax: HELO hostname");
    return;
  }
  reset_transaction();
  helo_.assign(command.argument);
  protocol_ = extended ? "ESMTP" : "SMTP";
  if (!extended) {
    reply(250, "", config_->myhostname);
    return;
  }
  std::string text = config_->myhostname;
  text += "\nPIPELINING";
  if (config_->message_size_limit > 0)
    text += fmt::format("\nSIZE {}", config_->message_size_limit);
  if (!config_->disable_vrfy) text += "\nVRFY";
  text += "\nENHANCEDSTATUSCODES\n8BITMIME";
  if (config_->smtputf8_enable) text += "\nSMTPUTF8";
  reply(250, "", text);
}

void Session::on_mail(const Command& command) {
  if (config_->helo_required && helo_.empty())
    return reply(503, "5.5.1", "Error: send HELO/EHLO first");
  if (in_mail_) return reply(503, "5.5.1", "Error: nested MAIL command");
  if (!command.has_from_to) return reply(501, "5.5.4", "Syntax: MAIL FROM:<address>");
  auto path =
      parse_path_argument(command.argument, PathRole::kSender, config_->strict_rfc821_envelopes);
  if (!path.ok) return reply(path.error);
  bool smtputf8 = false;
  for (const auto& parameter : path.parameters) {
    const auto keyword = deliver::lowercase(parameter.keyword);
    if (keyword == "size") {
      long long size = 0;
      const auto value = parameter.value;
      if (value.empty() || value.size() > 18 ||
          value.find_first_not_of("0123456789") != std::string_view::npos) {
        return reply(501, "5.5.4", "Bad message size syntax");
      }
      for (char c : value) size = size * 10 + (c - '0');
      if (config_->message_size_limit > 0 && size > config_->message_size_limit) {
        return reply(552, "5.3.4", "Message size exceeds fixed limit");
      }
    } else if (keyword == "body") {
      const auto body = deliver::lowercase(parameter.value);
      if (body != "7bit" && body != "8bitmime")
        return reply(501, "5.5.4", "Unsupported BODY parameter");
    } else if (keyword == "smtputf8" && config_->smtputf8_enable && !parameter.has_value) {
      smtputf8 = true;
    } else {
      return reply(555, "5.5.4", fmt::format("Unsupported option: {}", option_text(parameter)));
    }
  }
  if (!smtputf8 && has_non_ascii(path.address)) {
    return reply(553, "5.6.7", "Must declare SMTPUTF8 to send unicode address");
  }
  in_mail_ = true;
  sender_ = std::move(path.address);
  smtputf8_ = smtputf8;
  envelope_.sender = sender_;
  reply(250, "2.1.0", "Ok");
}

void Session::on_rcpt(const Command& command) {
  if (!in_mail_) return reply(503, "5.5.1", "Error: need MAIL command");
  if (!command.has_from_to) return reply(501, "5.5.4", "Syntax: RCPT TO:<address>");
  if (rcpt_count_ >= config_->recipient_limit)
    return reply(452, "4.5.3", "Error: too many recipients");
  auto path =
      parse_path_argument(command.argument, PathRole::kRecipient, config_->strict_rfc821_envelopes);
  if (!path.ok) return reply(path.error);
  if (!path.parameters.empty()) {
    return reply(555, "5.5.4",
                 fmt::format("Unsupported option: {}", option_text(path.parameters.front())));
  }
  if (!smtputf8_ && has_non_ascii(path.address)) {
    return reply(553, "5.6.7", "Must declare SMTPUTF8 to send unicode address");
  }
  const auto resolved = config_->destinations.resolve(path.address);
  restrict ::Context context;
  context.stage = restrict ::Stage::kRcpt;
  context.client_address = client_address_;
  context.client_name = client_name_;
  context.helo = helo_;
  context.sender = sender_;
  context.recipient = path.address;
  context.resolved_recipient = &resolved;
  context.client_in_mynetworks = client_in_mynetworks_;

  auto reject = [&](const Reply& r) {
    log_reject("RCPT", r, path.address);
    reply(r);
  };
  const auto& environment = config_->restriction_environment;
  if (auto verdict = config_->relay_restrictions.evaluate(context, environment);
      verdict.is_reject()) {
    return reject(verdict.reply);
  }
  if (auto verdict = config_->recipient_restrictions.evaluate(context, environment);
      verdict.is_reject()) {
    return reject(verdict.reply);
  }
  if (config_->reject_unlisted_recipient) {
    const auto status = config_->destinations.check(resolved);
    if (status != deliver::RecipientStatus::kKnown) {
      const bool local = status == deliver::RecipientStatus::kUnknownLocal;
      const int code = local ? config_->unknown_local_recipient_reject_code
                             : config_->unknown_virtual_mailbox_reject_code;
      std::string text = fmt::format("<{}>: Recipient address rejected: User unknown",
                                     external_form(path.address));
      if (config_->show_user_unknown_table_name) {
        text += local ? " in local recipient table" : " in virtual mailbox table";
      }
      return reject({code, code < 500 ? "4.1.1" : "5.1.1", text});
    }
  }
  auto expansion = config_->destinations.expand(resolved);
  if (!expansion.error.empty()) {
    log::warning("smtpd", "{}: recipient <{}>: {}", client(), external_form(path.address),
                 expansion.error);
    return reject(
        {451, "4.3.0", fmt::format("<{}>: Temporary lookup failure", external_form(path.address))});
  }
  if (queue_id_.empty()) {
    queue_id_ = deliver::new_queue_id(config_->long_queue_ids);
    envelope_.queue_id = queue_id_;
    log::info("smtpd", "{}: client={}", queue_id_, client());
  }
  envelope_.recipients.push_back({path.address, std::move(expansion.mailboxes)});
  ++rcpt_count_;
  reply(250, "2.1.5", "Ok");
}

std::string Session::received_header() const {
  std::string header = fmt::format("Received: from {} ({} [{}])\n\tby {} ({}) with {} id {}",
                                   helo_.empty() ? client_name_ : helo_, client_name_, client_ip_,
                                   config_->myhostname, config_->mail_name,
                                   smtputf8_ ? "UTF8" + protocol_ : protocol_, queue_id_);
  if (envelope_.recipients.size() == 1) {
    header += fmt::format("\n\tfor <{}>", external_form(envelope_.recipients.front().original));
  }
  header += "; " + rfc2822_date() + "\n";
  return header;
}

asio::awaitable<void> Session::deliver_message(std::string& content) {
  // The lines Postfix's cleanup and qmgr would log for the queued message.
  static constexpr std::string_view kMessageId = "\nmessage-id:";
  const std::string head =
      deliver::lowercase(std::string_view(content).substr(0, content.find("\n\n")));
  if (const auto at = ("\n" + head).find(kMessageId); at != std::string::npos) {
    const auto start = at + kMessageId.size() - 1;
    const auto end = content.find('\n', start);
    std::string_view id = std::string_view(content).substr(start, end - start);
    while (!id.empty() && (id.front() == ' ' || id.front() == '\t')) id.remove_prefix(1);
    log::info("cleanup", "{}: message-id={}", queue_id_, id);
  }
  std::string header = received_header();
  size_t recipients = 0;
  for (const auto& r : envelope_.recipients) recipients += r.mailboxes.size();
  log::info("qmgr", "{}: from=<{}>, size={}, nrcpt={} (queue active)", queue_id_,
            external_form(sender_), header.size() + content.size(), recipients);
  const auto result = co_await delivery_.deliver(envelope_, std::move(header), content);
  if (!result.error.empty()) {
    reply(451, "4.3.0", "Error: queue file write error");
    co_return;
  }
  log::info("qmgr", "{}: removed", queue_id_);
  error_count_ = 0;  // Postfix forgives errors once mail was delivered
  reply(250, "2.0.0", fmt::format("Ok: queued as {}", queue_id_));
}

asio::awaitable<void> Session::on_data(const Command& command) {
  if (!command.argument.empty()) co_return reply(501, "5.5.4", "Syntax: DATA");
  if (rcpt_count_ == 0) {
    if (!in_mail_) co_return reply(503, "5.5.1", "Error: need RCPT command");
    co_return reply(554, "5.5.1", "Error: no valid recipients");
  }
  reply(354, "", "End data with <CR><LF>.<CR><LF>");
  if (!co_await flush()) {
    closing_ = true;
    co_return;
  }
  DataDecoder decoder(static_cast<size_t>(config_->message_size_limit), bare_lf_forbidden());
  for (;;) {
    in_start_ += decoder.feed(std::string_view(in_).substr(in_start_));
    if (decoder.state() != DataDecoder::State::kReading) break;
    if (!co_await read_more()) {
      log::info("smtpd", "{} after DATA ({} bytes) from {}",
                timed_out_ ? "timeout" : "lost connection", decoder.size(), client());
      if (timed_out_)
        reply(421, "4.4.2", fmt::format("{} Error: timeout exceeded", config_->myhostname));
      last_reply_ok_ = false;  // counts as data=0/1, as in Postfix
      closing_ = true;
      co_return;
    }
  }
  if (decoder.state() == DataDecoder::State::kBareLf) {
    reply(521, "5.5.2", fmt::format("{} Error: bare <LF> received", config_->myhostname));
    log::info("smtpd", "disconnect: bare <LF> received from {}", client());
    closing_ = true;
    co_return;
  }
  if (decoder.size_exceeded()) {
    log_reject("END-OF-MESSAGE", {552, "5.3.4", "Message size exceeds fixed limit"}, "");
    reply(552, "5.3.4", "Message size exceeds fixed limit");
  } else {
    co_await deliver_message(decoder.content());
  }
  reset_transaction();
}

void Session::on_rset(const Command& command) {
  if (!command.argument.empty()) return reply(501, "5.5.4", "Syntax: RSET");
  reset_transaction();
  reply(250, "2.0.0", "Ok");
}

void Session::on_vrfy(const Command& command) {
  if (config_->disable_vrfy) return reply(502, "5.5.1", "VRFY command is disabled");
  if (command.argument.empty()) return reply(501, "5.5.4", "Syntax: VRFY address");
  auto path = parse_path_argument(command.argument, PathRole::kRecipient, false);
  if (!path.ok) return reply(path.error);
  const auto resolved = config_->destinations.resolve(path.address);
  const auto status = config_->destinations.check(resolved);
  if (status != deliver::RecipientStatus::kKnown) {
    const bool local = status == deliver::RecipientStatus::kUnknownLocal;
    return reply(
        local ? config_->unknown_local_recipient_reject_code
              : config_->unknown_virtual_mailbox_reject_code,
        "5.1.1",
        fmt::format("<{}>: Recipient address rejected: User unknown in {} table",
                    external_form(path.address), local ? "local recipient" : "virtual mailbox"));
  }
  reply(252, "2.0.0", external_form(path.address));
}

asio::awaitable<void> Session::run() {
  std::error_code ec;
  const auto remote = socket_.remote_endpoint(ec);
  if (ec) co_return;
  client_address_ = remote.address();
  if (client_address_.is_v6() && client_address_.to_v6().is_v4_mapped()) {
    client_address_ = asio::ip::make_address_v4(asio::ip::v4_mapped, client_address_.to_v6());
  }
  client_ip_ = client_address_.to_string();
  client_in_mynetworks_ = config_->mynetworks.contains(client_address_);
  socket_.set_option(tcp::no_delay(true), ec);
  socket_.non_blocking(true, ec);
  log::info("smtpd", "connect from {}", client());

  reply(220, "", config_->banner);
  std::string line;
  while (!closing_) {
    if (error_count_ >= config_->hard_error_limit) {
      log::info("smtpd", "too many errors after {} from {}", where(), client());
      reply(421, "4.7.0", fmt::format("{} Error: too many errors", config_->myhostname));
      break;
    }
    bool bare_lf = false;
    const auto status = co_await read_line(line, bare_lf);
    if (status != ReadStatus::kLine) {
      if (status == ReadStatus::kTimeout) {
        log::info("smtpd", "timeout after {} from {}", where(), client());
        reply(421, "4.4.2", fmt::format("{} Error: timeout exceeded", config_->myhostname));
      } else {
        log::info("smtpd", "lost connection after {} from {}", where(), client());
      }
      break;
    }
    if (bare_lf && bare_lf_forbidden()) {
      reply(521, "5.5.2", fmt::format("{} Error: bare <LF> received", config_->myhostname));
      log::info("smtpd", "disconnect: bare <LF> received from {}", client());
      break;
    }
    const Command command = parse_command(line);
    last_verb_ = command.verb;
    have_last_verb_ = true;
    switch (command.verb) {
      case Verb::kEhlo:
        on_helo(command, true);
        break;
      case Verb::kHelo:
        on_helo(command, false);
        break;
      case Verb::kMail:
        on_mail(command);
        break;
      case Verb::kRcpt:
        on_rcpt(command);
        break;
      case Verb::kData:
        co_await on_data(command);
        break;
      case Verb::kRset:
        ++junk_count_;
        on_rset(command);
        break;
      case Verb::kNoop:
        ++junk_count_;
        reply(250, "2.0.0", "Ok");
        break;
      case Verb::kVrfy:
        ++junk_count_;
        on_vrfy(command);
        break;
      case Verb::kQuit:
        reply(221, "2.0.0", "Bye");
        closing_ = true;
        break;
      default:
        if (line.empty()) {
          reply(500, "5.5.2", "Error: bad syntax");
        } else {
          reply(502, "5.5.2", "Error: command not recognized");
        }
        break;
    }
    const auto i = static_cast<size_t>(command.verb);
    ++stats_.total[i];
    if (last_reply_ok_) ++stats_.ok[i];
    // Junk commands beyond the limit count as errors (Postfix's smtpd_junk_command_limit).
    if (junk_count_ > config_->junk_command_limit) ++error_count_;
    // Past the soft limit every error reply is delayed (tarpit).
    if (!last_reply_ok_ && error_count_ > config_->soft_error_limit &&
        config_->error_sleep.count() > 0 && !closing_) {
      if (!co_await flush()) break;
      timer_.expires_after(config_->error_sleep);
      co_await timer_.async_wait(kNoThrow);
    }
  }
  co_await flush();
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  log::info("smtpd", "disconnect from {}{}", client(), stats_.summary());
}

}  // namespace

asio::awaitable<void> run_session(tcp::socket socket, std::shared_ptr<const SmtpdConfig> config,
                                  deliver::DeliveryService& delivery) {
  auto session = std::make_shared<Session>(std::move(socket), std::move(config), delivery);
  co_await session->run();
}

}  // namespace moat::smtp
