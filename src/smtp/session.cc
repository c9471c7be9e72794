#include "smtp/session.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <ctime>
#include <optional>
#include <span>
#include <string>
#include <utility>

#include <unistd.h>

#include <fmt/format.h>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "deliver/queue_id.h"
#include "log/log.h"
#include "restrict/answers.h"
#include "smtp/address.h"
#include "smtp/client_name.h"
#include "smtp/command.h"
#include "smtp/data_decoder.h"
#include "smtp/date.h"

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

// Commands after which a client must wait for the reply (RFC 2920); input
// that arrives ahead of it is logged as improper pipelining, as in Postfix.
bool ends_pipeline_group(Verb verb) {
  return verb == Verb::kEhlo || verb == Verb::kHelo || verb == Verb::kData || verb == Verb::kNoop ||
         verb == Verb::kVrfy;
}

// Commands that count towards smtpd_junk_command_limit.
bool is_junk_command(Verb verb) {
  return verb == Verb::kHelo || verb == Verb::kEhlo || verb == Verb::kRset || verb == Verb::kNoop ||
         verb == Verb::kVrfy || verb == Verb::kEtrn;
}

struct CommandStats {
  std::array<int, static_cast<size_t>(Verb::kUnknown) + 1> total{};
  std::array<int, static_cast<size_t>(Verb::kUnknown) + 1> ok{};

  void count(Verb verb, bool succeeded) {
    // Postfix knows no EXPN or HELP: they are unknown commands to it.
    if (verb == Verb::kExpn || verb == Verb::kHelp) verb = Verb::kUnknown;
    ++total[static_cast<size_t>(verb)];
    if (succeeded) ++ok[static_cast<size_t>(verb)];
  }

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

// "KEY=VALUE" as the client wrote it, for "Unsupported option:" replies.
std::string option_text(const EsmtpParameter& parameter) {
  return parameter.has_value ? fmt::format("{}={}", parameter.keyword, parameter.value)
                             : std::string(parameter.keyword);
}

// NOTIFY=NEVER or a comma list of SUCCESS, FAILURE, DELAY (RFC 3461).
bool valid_notify(std::string_view value) {
  const auto lower = deliver::lowercase(value);
  if (lower == "never") return true;
  for (size_t start = 0; start <= lower.size();) {
    const auto comma = std::min(lower.find(',', start), lower.size());
    const auto word = std::string_view(lower).substr(start, comma - start);
    if (word != "success" && word != "failure" && word != "delay") return false;
    start = comma + 1;
  }
  return true;
}

// RFC 3461 xtext: printable ASCII but '+' and '=', with "+XX" hex escapes.
bool valid_xtext(std::string_view text) {
  if (text.empty()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = text[i];
    if (c == '+') {
      if (text.size() - i < 3) return false;  // "+XX" needs two hex digits
      for (size_t k = 1; k <= 2; ++k) {
        const char h = text[i + k];
        if (!((h >= '0' && h <= '9') || (h >= 'A' && h <= 'F'))) return false;
      }
      i += 2;
    } else if (c < 0x21 || c > 0x7e || c == '=') {
      return false;
    }
  }
  return true;
}

// Postfix's escape of logged client input: C escapes for what is not printable.
std::string escape_for_log(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    switch (c) {
      case '\r':
        out += "\\r";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (c >= 0x20 && c < 0x7f) {
          out += static_cast<char>(c);
        } else {
          out += fmt::format("\\{:03o}", c);
        }
    }
  }
  return out;
}

// What Postfix refuses as a non-SMTP command and disconnects: a verb with a
// colon (a mail header line such as "Subject:" sent as a command) and HTTP
// proxy methods (smtpd_forbidden_commands).
bool is_non_smtp_command(const Command& command) {
  if (command.verb != Verb::kUnknown || command.name.empty()) return false;
  if (command.name.find(':') != std::string_view::npos) return true;
  const auto name = deliver::lowercase(command.name);
  return name == "connect" || name == "get" || name == "post";
}

// The checks at RCPT with smtpd_delay_reject = yes; the last one alone without.
constexpr restriction::Check kRcptChecks[] = {
    restriction::Check::kClient, restriction::Check::kHelo, restriction::Check::kSender,
    restriction::Check::kRecipient};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<const SmtpdConfig> config,
          deliver::DeliveryService& delivery, LoopServices services)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        config_(std::move(config)),
        delivery_(delivery),
        answers_(std::move(services.resolver), std::move(services.store),
                 std::move(services.policy)) {}

  asio::awaitable<void> run();

 private:
  enum class ReadStatus { kLine, kClosed, kTimeout };

  // I/O, each step bounded by smtpd_timeout.
  void arm_timer();
  asio::awaitable<bool> read_more();
  // True when the client sends something within `wait` (nothing is read).
  asio::awaitable<bool> input_within(std::chrono::milliseconds wait);
  asio::awaitable<bool> flush();
  asio::awaitable<ReadStatus> read_line(std::string& line, bool& bare_lf);

  // Replies are queued and sent when the client has nothing more pipelined.
  void reply(const Reply& r);
  void reply(int code, std::string_view enhanced, std::string_view text) {
    reply(Reply{code, std::string(enhanced), std::string(text)});
  }

  // One handler per command; each queues exactly one reply.
  asio::awaitable<void> on_helo(const Command& command, bool extended);
  asio::awaitable<void> on_mail(const Command& command);
  asio::awaitable<void> on_rcpt(const Command& command);
  asio::awaitable<void> on_data(const Command& command);
  asio::awaitable<void> on_bdat(const Command& command);
  void on_rset(const Command& command);
  void on_vrfy(const Command& command);
  void on_etrn(const Command& command);
  void reset_transaction();
  // Parses the MAIL/RCPT argument; on a syntax error replies (and logs as Postfix does).
  PathArgument parse_path(const Command& command, PathRole role, bool smtputf8);

  // Accepted content: delivered durably, then "250 ... queued as ID".
  asio::awaitable<void> finish_message(std::string& content, size_t size, bool too_big,
                                       std::string_view ok_prefix);
  static std::string new_instance();
  std::string received_header() const;

  // smtpd_forbid_bare_newline as it applies to this client.
  BareNewline bare_newline_policy() const;
  void reply_bare_lf();

  std::string client() const { return fmt::format("{}[{}]", client_name_, client_ip_); }
  // The last command, upper case, for "lost connection after RCPT" lines.
  std::string where() const;
  // "NOQUEUE: reject: RCPT from NAME[IP]: 550 ...; from=<s> to=<r> proto=ESMTP helo=<h>"
  void log_reject(std::string_view stage, std::string_view what, const std::string* sender,
                  std::string_view recipient) {
    log_whatsup("reject", stage, what, sender, recipient);
  }
  // The same line with another action word ("warn", "hold", "reject_warning" ...).
  void log_whatsup(std::string_view action, std::string_view stage, std::string_view what,
                   const std::string* sender, std::string_view recipient);
  void log_improper_pipelining();

  // Restrictions: the facts of this session for the engine, the checks of
  // one request (stopping at the first reject), and their log lines.
  restriction::Context restriction_context(restriction::Stage stage);
  // One check, with the DNS answers it needs looked up (see restrictions.h):
  // evaluate() once, and only when that ends pending, finish_pending()
  // fetches the noted answers and evaluates again until it decides.
  restriction::Verdict evaluate(restriction::Check check, const restriction::Context& context,
                                restriction::Effects& effects);
  asio::awaitable<restriction::Verdict> finish_pending(restriction::Check check,
                                                       const restriction::Context& context,
                                                       restriction::Effects& effects);
  asio::awaitable<restriction::Verdict> check(restriction::Check check,
                                              const restriction::Context& context,
                                              restriction::Effects& effects);
  // (A span, not an initializer_list: GCC 12 cannot keep one in a coroutine frame.)
  asio::awaitable<restriction::Verdict> run_checks(std::span<const restriction::Check> checks,
                                                   const restriction::Context& context,
                                                   restriction::Effects& effects);
  // The client's name (reverse and forward DNS), before the banner.
  asio::awaitable<void> look_up_client();
  // Logs the effects' events and, for a reject, the reject line; keeps the
  // sleep for the main loop. True when the verdict is a reject.
  bool conclude(const restriction::Verdict& verdict, restriction::Effects& effects,
                std::string_view stage, const std::string* sender, std::string_view recipient);
  // The headers and DISCARD of an accepted request, kept for the message.
  void keep_for_message(restriction::Effects& effects);
  // smtpd_data_restrictions at DATA or the first BDAT, and
  // smtpd_end_of_data_restrictions; true when the message was refused.
  asio::awaitable<bool> data_rejected(std::string_view stage);
  asio::awaitable<bool> end_of_data_rejected();

  tcp::socket socket_;
  asio::steady_timer timer_;
  std::shared_ptr<const SmtpdConfig> config_;
  deliver::DeliveryService& delivery_;

  std::string in_;  // received, not yet consumed from in_start_ on
  size_t in_start_ = 0;
  std::string out_;  // replies not yet sent
  bool timed_out_ = false;
  bool closing_ = false;
  bool skip_to_newline_ = false;

  asio::ip::address client_address_;
  std::string client_ip_;
  std::string reversed_client_ip_;  // for DNS list queries
  std::string client_name_ = "unknown";
  std::string reverse_client_name_ = "unknown";
  restriction::NameStatus client_name_status_ = restriction::NameStatus::kPerm;
  restriction::NameStatus reverse_client_name_status_ = restriction::NameStatus::kPerm;
  restriction::Answers answers_;  // what this session's restrictions waited for (DNS, SPF, ...)
  bool client_in_mynetworks_ = false;

  std::string helo_;
  std::string protocol_ = "SMTP";
  Verb last_verb_ = Verb::kUnknown;
  bool have_last_verb_ = false;
  CommandStats stats_;
  bool last_reply_ok_ = true;
  bool logged_improper_pipelining_ = false;
  bool pipelining_offered_ = false;        // EHLO advertised PIPELINING to this client
  bool improper_pipelining_ = false;       // for reject_unauth_pipelining
  bool access_denied_ = false;             // client rejected at connect (smtpd_delay_reject = no)
  std::chrono::seconds pending_sleep_{0};  // "sleep N" before the next reply goes out
  // defer_if_permit raised at CONNECT/HELO (session) or MAIL (transaction)
  // with smtpd_delay_reject = no, applied when a recipient would be accepted.
  std::optional<Reply> session_defer_if_permit_;
  std::optional<Reply> sender_defer_if_permit_;
  restriction::Effects transaction_effects_;  // PREPEND headers and DISCARD of this message
  long long error_count_ = 0;
  long long junk_count_ = 0;

  // The mail transaction.
  bool in_mail_ = false;
  std::string sender_;
  bool smtputf8_ = false;
  std::string queue_id_;
  int rcpt_count_ = 0;
  long long mail_size_ = 0;  // MAIL FROM's SIZE=
  // Told to policy servers: the same for every request of one transaction.
  std::string instance_;
  unsigned client_port_ = 0;
  std::string server_address_;
  unsigned server_port_ = 0;
  deliver::Envelope envelope_;
  std::string bdat_content_;  // BDAT chunks received so far
  size_t bdat_size_ = 0;
  bool bdat_too_big_ = false;
  bool bdat_started_ = false;  // a BDAT chunk of this message was seen
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

asio::awaitable<bool> Session::input_within(std::chrono::milliseconds wait) {
  std::error_code ec;
  if (socket_.available(ec) > 0) co_return true;
  timer_.expires_after(wait);
  timer_.async_wait([self = shared_from_this()](std::error_code error) {
    // As in arm_timer: a late expiry must not cancel a later operation.
    if (error || self->timer_.expiry() > Clock::now()) return;
    std::error_code ignored;
    self->socket_.cancel(ignored);
  });
  auto [wait_error] = co_await socket_.async_wait(tcp::socket::wait_read, kNoThrow);
  timer_.cancel();
  co_return !wait_error && socket_.available(ec) > 0;
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
    } else if (newline != std::string_view::npos && newline <= config_->line_length_limit) {
      std::string_view text = pending.substr(0, newline);
      bare_lf = text.empty() || text.back() != '\r';
      if (!bare_lf) text.remove_suffix(1);
      line.assign(text);
      in_start_ += newline + 1;
      co_return ReadStatus::kLine;
    } else if (pending.size() >= config_->line_length_limit) {
      line.assign(pending.substr(0, config_->line_length_limit));
      log::warning("smtpd", "{}: request longer than {}: {}...", client(),
                   config_->line_length_limit,
                   escape_for_log(std::string_view(line).substr(0, 30)));
      bare_lf = false;
      // The rest of the line is dropped now if it is here, else as it arrives.
      if (newline != std::string_view::npos) {
        in_start_ += newline + 1;
      } else {
        in_start_ = in_.size();
        skip_to_newline_ = true;
      }
      co_return ReadStatus::kLine;
    }
    // Nothing complete is pending: answer what was pipelined, then wait.
    if (!co_await flush()) co_return ReadStatus::kClosed;
    if (!co_await read_more()) co_return timed_out_ ? ReadStatus::kTimeout : ReadStatus::kClosed;
  }
}

void Session::reply(const Reply& r) {
  last_reply_ok_ = r.code < 400;
  if (r.code < 400) return append_wire(out_, r);
  ++error_count_;
  if (config_->reject_footer.empty()) return append_wire(out_, r);
  Reply with_footer = r;
  with_footer.text += "\n" + config_->reject_footer;
  append_wire(out_, with_footer);
}

BareNewline Session::bare_newline_policy() const {
  if (config_->bare_newline_exclusions.contains(client_address_)) return BareNewline::kAllow;
  return config_->bare_newline;
}

void Session::reply_bare_lf() {
  const auto text = fmt::format("{} Error: bare <LF> received", config_->myhostname);
  if (bare_newline_policy() == BareNewline::kDisconnect) return reply(521, "5.5.2", text);
  const int code = config_->bare_newline_reject_code;
  reply(code, code < 500 ? "4.5.2" : "5.5.2", text);
}

std::string Session::where() const {
  if (!have_last_verb_) return "CONNECT";
  std::string name(stats_name(last_verb_));
  for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

void Session::log_whatsup(std::string_view action, std::string_view stage, std::string_view what,
                          const std::string* sender, std::string_view recipient) {
  std::string detail;
  // Replies show addresses in internal form, the log in quoted external form.
  if (sender) detail += fmt::format("from=<{}> ", external_form(*sender));
  if (!recipient.empty()) detail += fmt::format("to=<{}> ", external_form(recipient));
  // Postfix names the HELO only once the client sent one.
  const std::string helo = helo_.empty() ? std::string() : fmt::format(" helo=<{}>", helo_);
  log::info("smtpd", "{}: {}: {} from {}: {}; {}proto={}{}",
            queue_id_.empty() ? "NOQUEUE" : queue_id_, action, stage, client(), what, detail,
            protocol_, helo);
}

restriction::Context Session::restriction_context(restriction::Stage stage) {
  restriction::Context context;
  context.stage = stage;
  context.client_address = client_address_;
  context.client_ip = client_ip_;
  context.reversed_client_ip = reversed_client_ip_;
  context.client_name = client_name_;
  context.reverse_client_name = reverse_client_name_;
  context.client_name_status = client_name_status_;
  context.reverse_client_name_status = reverse_client_name_status_;
  answers_.attach(context);
  context.helo = helo_;
  context.has_helo = !helo_.empty();
  context.sender = sender_;
  context.has_sender = in_mail_;
  context.recipient_count = rcpt_count_;
  context.client_in_mynetworks = client_in_mynetworks_;
  context.improper_pipelining = improper_pipelining_;
  context.protocol_name = protocol_;
  context.queue_id = queue_id_;
  context.instance = instance_;
  context.size = mail_size_;
  context.client_port = client_port_;
  context.server_address = server_address_;
  context.server_port = server_port_;
  return context;
}

restriction::Verdict Session::evaluate(restriction::Check check,
                                       const restriction::Context& context,
                                       restriction::Effects& effects) {
  return answers_.evaluate(config_->restrictions, check, context, effects);
}

asio::awaitable<restriction::Verdict> Session::finish_pending(restriction::Check check,
                                                              const restriction::Context& context,
                                                              restriction::Effects& effects) {
  const std::string who = client();  // must outlive the wait
  co_return co_await answers_.finish_pending(config_->restrictions, check, context, effects,
                                             client_ip_, config_->myhostname, who);
}

asio::awaitable<restriction::Verdict> Session::check(restriction::Check check,
                                                     const restriction::Context& context,
                                                     restriction::Effects& effects) {
  auto verdict = evaluate(check, context, effects);
  if (verdict.is_pending()) verdict = co_await finish_pending(check, context, effects);
  co_return verdict;
}

asio::awaitable<restriction::Verdict> Session::run_checks(
    std::span<const restriction::Check> checks, const restriction::Context& context,
    restriction::Effects& effects) {
  for (const auto one : checks) {
    // Evaluated in place: a coroutine frame only for a check that waits for DNS.
    auto verdict = evaluate(one, context, effects);
    if (verdict.is_pending()) verdict = co_await finish_pending(one, context, effects);
    if (verdict.is_reject()) co_return verdict;
  }
  co_return restriction::Verdict::dunno();
}

asio::awaitable<void> Session::look_up_client() {
  if (!config_->peername_lookup) co_return;
  auto names = co_await look_up_client_name(answers_.dns(), config_->hosts.get(), client_address_);
  for (const auto& warning : names.warnings) log::warning("smtpd", "{}", warning);
  client_name_ = std::move(names.name);
  reverse_client_name_ = std::move(names.reverse_name);
  client_name_status_ = names.name_status;
  reverse_client_name_status_ = names.reverse_name_status;
}

void Session::keep_for_message(restriction::Effects& effects) {
  // Each recipient's check may prepend the same header (check_spf's, a
  // table's PREPEND): the message gets it once. X-Greylist says how long
  // the first retried recipient waited; one such line is enough (postgrey
  // adds it once per message).
  auto& kept = transaction_effects_.prepend;
  for (auto& header : effects.prepend) {
    const bool greylist = header.starts_with("X-Greylist:");
    if (std::ranges::find_if(kept, [&](const std::string& k) {
          return k == header || (greylist && k.starts_with("X-Greylist:"));
        }) == kept.end()) {
      kept.push_back(std::move(header));
    }
  }
  transaction_effects_.discard = transaction_effects_.discard || effects.discard;
}

bool Session::conclude(const restriction::Verdict& verdict, restriction::Effects& effects,
                       std::string_view stage, const std::string* sender,
                       std::string_view recipient) {
  for (const auto& warning : effects.warnings) log::warning("smtpd", "{}", warning);
  effects.warnings.clear();
  for (const auto& event : effects.events) {
    log_whatsup(event.action, stage, event.text, sender, recipient);
  }
  effects.events.clear();
  pending_sleep_ += effects.sleep;
  effects.sleep = {};
  if (!verdict.is_reject()) return false;
  log_reject(stage, verdict.reply.log_text(), sender, recipient);
  reply(verdict.reply);
  // A 421 from an access table ends the session, as in Postfix.
  if (verdict.reply.code == 421) closing_ = true;
  return true;
}

// Postfix logs, once per session, input that arrived ahead of a reply the
// client had to wait for.
void Session::log_improper_pipelining() {
  if (logged_improper_pipelining_ || in_start_ >= in_.size()) return;
  logged_improper_pipelining_ = true;
  improper_pipelining_ = true;
  log::info("smtpd", "improper command pipelining after {} from {}: {}", where(), client(),
            escape_for_log(std::string_view(in_).substr(in_start_, 4096)));
}

void Session::reset_transaction() {
  in_mail_ = false;
  sender_.clear();
  smtputf8_ = false;
  queue_id_.clear();
  rcpt_count_ = 0;
  envelope_ = {};
  bdat_content_.clear();
  bdat_size_ = 0;
  bdat_too_big_ = false;
  bdat_started_ = false;
  sender_defer_if_permit_.reset();
  transaction_effects_.clear();
  answers_.end_transaction();
  mail_size_ = 0;
}

asio::awaitable<void> Session::on_helo(const Command& command, bool extended) {
  if (command.argument.empty()) {
    co_return reply(501, "", extended ? "Syntax: EHLO hostname" : "Syntax: HELO hostname");
  }
  if (!config_->restrictions.delay_reject() &&
      config_->restrictions.has_list(restriction::Check::kHelo)) {
    // The name is what the check and its log lines see; a refused one is not kept.
    std::string previous = std::exchange(helo_, std::string(command.argument));
    restriction::Effects effects;
    const auto context = restriction_context(restriction::Stage::kHelo);
    const auto verdict = co_await check(restriction::Check::kHelo, context, effects);
    const bool refused = conclude(verdict, effects, extended ? "EHLO" : "HELO", nullptr, {});
    if (refused) {
      helo_ = std::move(previous);
      co_return;
    }
    if (effects.defer_if_permit && !session_defer_if_permit_) {
      session_defer_if_permit_ = std::move(effects.defer_if_permit);
    }
  }
  reset_transaction();
  helo_.assign(command.argument);
  protocol_ = extended ? "ESMTP" : "SMTP";
  pipelining_offered_ = extended;
  if (!extended) co_return reply(250, "", config_->myhostname);
  std::string text = config_->myhostname + "\nPIPELINING";
  if (config_->message_size_limit > 0) {
    text += fmt::format("\nSIZE {}", config_->message_size_limit);
  }
  if (!config_->disable_vrfy) text += "\nVRFY";
  text += "\nENHANCEDSTATUSCODES\n8BITMIME";
  if (config_->smtputf8_enable) text += "\nSMTPUTF8";
  text += "\nCHUNKING";
  reply(250, "", text);
}

PathArgument Session::parse_path(const Command& command, PathRole role, bool smtputf8) {
  auto path = parse_path_argument(
      command.argument, role,
      {.strict_rfc821_envelopes = config_->strict_rfc821_envelopes, .smtputf8 = smtputf8});
  if (path.ok) return path;
  // Postfix warns about malformed addresses, but not about an unclosed "<...".
  const bool bad_address = path.error.enhanced == "5.1.7" || path.error.enhanced == "5.1.3";
  if (bad_address && !(command.argument.starts_with('<') && !command.argument.ends_with('>'))) {
    log::warning("smtpd", "Illegal address syntax from {} in {} command: {}", client(),
                 role == PathRole::kSender ? "MAIL" : "RCPT", command.argument);
  }
  reply(path.error);
  return path;
}

asio::awaitable<void> Session::on_mail(const Command& command) {
  if (config_->helo_required && helo_.empty()) {
    co_return reply(503, "5.5.1", "Error: send HELO/EHLO first");
  }
  if (in_mail_) co_return reply(503, "5.5.1", "Error: nested MAIL command");
  if (!command.has_from_to) co_return reply(501, "5.5.4", "Syntax: MAIL FROM:<address>");
  // The parser itself notices a SMTPUTF8 parameter of this MAIL command.
  auto path = parse_path(command, PathRole::kSender, false);
  if (!path.ok) co_return;
  bool smtputf8 = false;
  long long declared_size = 0;
  for (const auto& parameter : path.parameters) {
    const auto keyword = deliver::lowercase(parameter.keyword);
    const auto value = deliver::lowercase(parameter.value);
    if (keyword == "size") {
      long long size = 0;
      const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), size);
      if (error == std::errc::result_out_of_range) {
        co_return reply(552, "5.3.4", "Message size exceeds file system imposed limit");
      }
      if (value.empty() || error != std::errc() || end != value.data() + value.size() || size < 0) {
        co_return reply(501, "5.5.4", "Bad message size syntax");
      }
      if (config_->message_size_limit > 0 && size > config_->message_size_limit) {
        const Reply too_big{552, "5.3.4", "Message size exceeds fixed limit"};
        log_reject("MAIL", too_big.log_text(), &path.address, {});
        co_return reply(too_big);
      }
      declared_size = size;
    } else if (keyword == "body" && (value == "7bit" || value == "8bitmime")) {
      // Content is stored as received either way.
    } else if (keyword == "smtputf8" && config_->smtputf8_enable && !parameter.has_value) {
      smtputf8 = true;
    } else if (keyword == "ret") {
      // DSN parameters are accepted as Postfix accepts them; moat sends no DSNs.
      if (value != "full" && value != "hdrs")
        co_return reply(501, "5.5.4", "Bad RET parameter syntax");
    } else if (keyword == "envid") {
      if (!valid_xtext(parameter.value))
        co_return reply(501, "5.5.4", "Bad ENVID parameter syntax");
    } else {
      co_return reply(555, "5.5.4", fmt::format("Unsupported option: {}", option_text(parameter)));
    }
  }
  transaction_effects_.clear();
  instance_ = new_instance();
  mail_size_ = declared_size;
  if (!config_->restrictions.delay_reject() &&
      config_->restrictions.has_list(restriction::Check::kSender)) {
    auto context = restriction_context(restriction::Stage::kMail);
    context.sender = path.address;
    context.has_sender = true;
    const auto verdict = co_await check(restriction::Check::kSender, context, transaction_effects_);
    if (conclude(verdict, transaction_effects_, "MAIL", &path.address, {})) {
      transaction_effects_.clear();
      co_return;
    }
    sender_defer_if_permit_ = std::move(transaction_effects_.defer_if_permit);
    transaction_effects_.defer_if_permit.reset();
  }
  in_mail_ = true;
  sender_ = std::move(path.address);
  smtputf8_ = smtputf8;
  envelope_.sender = sender_;
  reply(250, "2.1.0", "Ok");
}

asio::awaitable<void> Session::on_rcpt(const Command& command) {
  if (!in_mail_) co_return reply(503, "5.5.1", "Error: need MAIL command");
  if (!command.has_from_to) co_return reply(501, "5.5.4", "Syntax: RCPT TO:<address>");
  if (rcpt_count_ >= config_->recipient_limit) {
    reply(452, "4.5.3", "Error: too many recipients");
    last_reply_ok_ = true;  // Postfix's statistics count these as successful
    co_return;
  }
  auto path = parse_path(command, PathRole::kRecipient, smtputf8_);
  if (!path.ok) co_return;
  for (const auto& parameter : path.parameters) {
    const auto keyword = deliver::lowercase(parameter.keyword);
    if (keyword == "notify") {
      if (valid_notify(parameter.value)) continue;
      co_return reply(501, "5.5.4", "Error: Bad NOTIFY parameter syntax");
    }
    if (keyword == "orcpt") {
      const auto semicolon = parameter.value.find(';');
      if (semicolon != std::string_view::npos && semicolon > 0 &&
          valid_xtext(parameter.value.substr(semicolon + 1))) {
        continue;
      }
      co_return reply(501, "5.5.4", "Error: Bad ORCPT parameter syntax");
    }
    co_return reply(555, "5.5.4", fmt::format("Unsupported option: {}", option_text(parameter)));
  }
  const auto resolved = config_->destinations.resolve(path.address);
  auto context = restriction_context(restriction::Stage::kRcpt);
  context.recipient = path.address;
  context.resolved_recipient = &resolved;
  const auto& engine = config_->restrictions;
  // RFC 5321 wants "postmaster" accepted whatever the restrictions say.
  if (deliver::lowercase(path.address) != "postmaster") {
    restriction::Effects effects;
    effects.defer_if_permit =
        session_defer_if_permit_ ? session_defer_if_permit_ : sender_defer_if_permit_;
    const std::span<const restriction::Check> checks(kRcptChecks);
    auto verdict =
        co_await run_checks(engine.delay_reject() ? checks : checks.last(1), context, effects);
    verdict = restriction::Engine::apply_defer_if_permit(std::move(verdict), effects);
    if (conclude(verdict, effects, "RCPT", &sender_, path.address)) co_return;
    keep_for_message(effects);
  }
  auto reject = [&](const Reply& r) {
    log_reject("RCPT", r.log_text(), &sender_, path.address);
    reply(r);
  };
  if (config_->reject_unlisted_recipient) {
    if (auto verdict = engine.unlisted_recipient(context); verdict.is_reject()) {
      co_return reject(verdict.reply);
    }
  }
  auto expansion = config_->destinations.expand(resolved);
  if (!expansion.error.empty()) {
    log::warning("smtpd", "{}: recipient <{}>: {}", client(), path.address, expansion.error);
    co_return reject({451, "4.3.0", fmt::format("<{}>: Temporary lookup failure", path.address)});
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

// Postfix's form, "PID.SECONDS.MICROSECONDS.N" in hex: unique per transaction.
std::string Session::new_instance() {
  static std::atomic<unsigned> counter{0};
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now);
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now - seconds);
  return fmt::format("{:x}.{:x}.{:x}.{:x}", static_cast<unsigned>(getpid()), seconds.count(),
                     micros.count(), counter++);
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

asio::awaitable<void> Session::finish_message(std::string& content, size_t size, bool too_big,
                                              std::string_view ok_prefix) {
  if (too_big) {
    log::warning("smtpd", "{}: queue file size limit exceeded", queue_id_);
    reply(552, "5.3.4", "Error: message file too big");
    co_return;
  }
  // The lines Postfix's cleanup and qmgr would log for the queued message.
  static constexpr std::string_view kMessageId = "\nmessage-id:";
  const std::string head =
      "\n" + deliver::lowercase(std::string_view(content).substr(0, content.find("\n\n")));
  if (const auto at = head.find(kMessageId); at != std::string::npos) {
    const auto start = at + kMessageId.size() - 1;
    std::string_view id = std::string_view(content).substr(start);
    id = id.substr(0, id.find('\n'));
    while (!id.empty() && (id.front() == ' ' || id.front() == '\t')) id.remove_prefix(1);
    log::info("cleanup", "{}: message-id={}", queue_id_, id);
  }
  // PREPEND headers from access tables go above our Received: line, as in Postfix.
  std::string header;
  for (const auto& line : transaction_effects_.prepend) header += line + "\n";
  header += received_header();
  if (transaction_effects_.discard) {
    // DISCARD: the client is told the message was queued; nothing is kept.
    log::info("cleanup", "{}: discard: message discarded by an access table", queue_id_);
    error_count_ = 0;
    reply(250, "2.0.0", fmt::format("Ok: {}queued as {}", ok_prefix, queue_id_));
    co_return;
  }
  size_t recipients = 0;
  for (const auto& r : envelope_.recipients) recipients += r.mailboxes.size();
  log::info("qmgr", "{}: from=<{}>, size={}, nrcpt={} (queue active)", queue_id_, sender_,
            header.size() + size, recipients);
  const auto result =
      co_await delivery_.deliver(envelope_, std::move(header), content, config_->delivery_sync);
  if (!result.error.empty()) {
    reply(451, "4.3.0", "Error: queue file write error");
    co_return;
  }
  log::info("qmgr", "{}: removed", queue_id_);
  error_count_ = 0;  // Postfix forgives errors once mail was delivered
  reply(250, "2.0.0", fmt::format("Ok: {}queued as {}", ok_prefix, queue_id_));
}

asio::awaitable<bool> Session::data_rejected(std::string_view stage) {
  if (!config_->restrictions.has_list(restriction::Check::kData)) co_return false;
  auto context = restriction_context(restriction::Stage::kData);
  // Postfix names the recipient only when there is exactly one.
  const std::string_view recipient =
      rcpt_count_ == 1 ? std::string_view(envelope_.recipients.front().original) : "";
  context.recipient = recipient;
  restriction::Effects effects;
  auto verdict = co_await check(restriction::Check::kData, context, effects);
  verdict = restriction::Engine::apply_defer_if_permit(std::move(verdict), effects);
  if (conclude(verdict, effects, stage, &sender_, recipient)) co_return true;
  keep_for_message(effects);
  co_return false;
}

asio::awaitable<bool> Session::end_of_data_rejected() {
  if (!config_->restrictions.has_list(restriction::Check::kEndOfData)) co_return false;
  auto context = restriction_context(restriction::Stage::kEndOfData);
  const std::string_view recipient =
      rcpt_count_ == 1 ? std::string_view(envelope_.recipients.front().original) : "";
  context.recipient = recipient;
  restriction::Effects effects;
  auto verdict = co_await check(restriction::Check::kEndOfData, context, effects);
  verdict = restriction::Engine::apply_defer_if_permit(std::move(verdict), effects);
  transaction_effects_.discard = transaction_effects_.discard || effects.discard;
  co_return conclude(verdict, effects, "END-OF-MESSAGE", &sender_, recipient);
}

asio::awaitable<void> Session::on_data(const Command& command) {
  if (!command.argument.empty()) co_return reply(501, "5.5.4", "Syntax: DATA");
  if (rcpt_count_ == 0) {
    if (!in_mail_) co_return reply(503, "5.5.1", "Error: need RCPT command");
    co_return reply(554, "5.5.1", "Error: no valid recipients");
  }
  log_improper_pipelining();
  if (co_await data_rejected("DATA")) co_return;
  reply(354, "", "End data with <CR><LF>.<CR><LF>");
  if (!co_await flush()) {
    closing_ = true;
    co_return;
  }
  const auto bare_newline = bare_newline_policy();
  DataDecoder decoder(static_cast<size_t>(config_->message_size_limit),
                      bare_newline == BareNewline::kDisconnect);
  for (;;) {
    in_start_ += decoder.feed(std::string_view(in_).substr(in_start_));
    if (decoder.state() != DataDecoder::State::kReading) break;
    if (!co_await read_more()) {
      log::info("smtpd", "{} after DATA ({} bytes) from {}",
                timed_out_ ? "timeout" : "lost connection", decoder.size(), client());
      if (timed_out_) {
        reply(421, "4.4.2", fmt::format("{} Error: timeout exceeded", config_->myhostname));
      }
      last_reply_ok_ = false;  // counts as data=0/1, as in Postfix
      closing_ = true;
      co_return;
    }
  }
  if (decoder.state() == DataDecoder::State::kBareLf ||
      (decoder.saw_bare_lf() && bare_newline == BareNewline::kReject)) {
    log_reject(decoder.state() == DataDecoder::State::kBareLf ? "DATA" : "END-OF-MESSAGE",
               "bare <LF> received", &sender_, envelope_.recipients.front().original);
    reply_bare_lf();
    closing_ = decoder.state() == DataDecoder::State::kBareLf;
  } else if (!decoder.size_exceeded() && co_await end_of_data_rejected()) {
    // refused by smtpd_end_of_data_restrictions: nothing delivered
  } else {
    co_await finish_message(decoder.content(), decoder.size(), decoder.size_exceeded(), "");
  }
  reset_transaction();
}

// BDAT (RFC 3030 CHUNKING): "BDAT SIZE [LAST]" followed by exactly SIZE
// bytes of content, no dot-stuffing; CR LF is stored as LF like DATA content.
asio::awaitable<void> Session::on_bdat(const Command& command) {
  std::string_view argument = command.argument;
  const auto blank = argument.find_first_of(" \t");
  const std::string_view count_text = argument.substr(0, blank);
  const std::string_view rest =
      blank == std::string_view::npos ? std::string_view() : argument.substr(blank + 1);
  size_t count = 0;
  const auto [end, error] =
      std::from_chars(count_text.data(), count_text.data() + count_text.size(), count);
  const bool last = deliver::lowercase(rest) == "last";
  if (count_text.empty() || error != std::errc() || end != count_text.data() + count_text.size() ||
      (!rest.empty() && !last)) {
    // Without a valid count the chunk cannot be skipped: the session must end.
    log::warning("smtpd", "{}: malformed BDAT command syntax from {}: {}",
                 queue_id_.empty() ? "NOQUEUE" : queue_id_, client(),
                 escape_for_log(std::string(command.name) +
                                (argument.empty() ? "" : " " + std::string(argument))));
    reply(521, "5.5.4", "Syntax: BDAT count [LAST]");
    closing_ = true;
    co_return;
  }
  // The first chunk of a message is where DATA would be: the data restrictions
  // apply (their reply waits until the chunk has been read).
  const bool first_chunk = rcpt_count_ > 0 && bdat_size_ == 0 && !bdat_started_;
  bdat_started_ = bdat_started_ || rcpt_count_ > 0;
  const bool refused = first_chunk && co_await data_rejected("BDAT");
  const bool accept = rcpt_count_ > 0 && !refused;
  // Read (or skip) exactly `count` bytes.
  size_t left = count;
  bool pending_cr = !bdat_content_.empty() && bdat_content_.back() == '\r';
  while (left > 0) {
    if (in_start_ == in_.size() && !co_await read_more()) {
      log::info("smtpd", "{} after BDAT from {}", timed_out_ ? "timeout" : "lost connection",
                client());
      last_reply_ok_ = false;
      closing_ = true;
      co_return;
    }
    const size_t take = std::min(left, in_.size() - in_start_);
    const std::string_view chunk = std::string_view(in_).substr(in_start_, take);
    in_start_ += take;
    left -= take;
    if (!accept || bdat_too_big_) continue;
    bdat_size_ += take;
    if (config_->message_size_limit > 0 &&
        bdat_size_ > static_cast<size_t>(config_->message_size_limit)) {
      bdat_too_big_ = true;
      continue;
    }
    for (char c : chunk) {
      if (pending_cr && c == '\n') bdat_content_.pop_back();  // CR LF → LF
      bdat_content_ += c;
      pending_cr = c == '\r';
    }
  }
  if (refused) {
    reset_transaction();
    co_return;
  }
  if (!accept) {
    if (!in_mail_) co_return reply(503, "5.5.1", "Error: need RCPT command");
    co_return reply(554, "5.5.1", "Error: no valid recipients");
  }
  if (!last) co_return reply(250, "2.0.0", fmt::format("Ok: {} bytes", count));
  if (!bdat_content_.empty() && bdat_content_.back() != '\n') bdat_content_ += '\n';
  if (!bdat_too_big_ && co_await end_of_data_rejected()) {
    reset_transaction();
    co_return;
  }
  co_await finish_message(bdat_content_, bdat_size_, bdat_too_big_,
                          fmt::format("{} bytes ", bdat_size_));
  reset_transaction();
}

void Session::on_rset(const Command& command) {
  if (!command.argument.empty()) return reply(501, "5.5.4", "Syntax: RSET");
  reset_transaction();
  reply(250, "2.0.0", "Ok");
}

void Session::on_vrfy(const Command& command) {
  if (config_->disable_vrfy) return reply(502, "5.5.1", "VRFY command is disabled");
  if (command.argument.empty()) return reply(501, "5.5.4", "Syntax: VRFY address [SMTPUTF8]");
  auto path = parse_path_argument(command.argument, PathRole::kRecipient,
                                  {.strict_rfc821_envelopes = false, .smtputf8 = true});
  if (!path.ok) return reply(path.error);
  const auto status = config_->destinations.check(config_->destinations.resolve(path.address));
  if (status != deliver::RecipientStatus::kKnown) {
    const bool local = status == deliver::RecipientStatus::kUnknownLocal;
    const int code = local ? config_->unknown_local_recipient_reject_code
                           : config_->unknown_virtual_mailbox_reject_code;
    const Reply unknown{code, code < 500 ? "4.1.1" : "5.1.1",
                        fmt::format("<{}>: Recipient address rejected: User unknown in {} table",
                                    path.address, local ? "local recipient" : "virtual mailbox")};
    log_reject("VRFY", unknown.log_text(), in_mail_ ? &sender_ : nullptr, path.address);
    return reply(unknown);
  }
  reply(252, "2.0.0", command.argument);  // echoed as written, as Postfix does
}

// ETRN is not offered (moat keeps no deferred mail to flush); it is answered
// as Postfix answers for a domain it does not flush.
void Session::on_etrn(const Command& command) {
  if (helo_.empty()) return reply(503, "5.5.1", "Error: send HELO/EHLO first");
  if (in_mail_) return reply(503, "5.5.1", "Error: MAIL transaction in progress");
  if (command.argument.empty()) return reply(500, "", "Syntax: ETRN domain");
  log::warning("smtpd", "reject: ETRN {}... from {}", command.argument, client());
  reply(459, "", fmt::format("<{}>: service unavailable", command.argument));
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
  client_port_ = remote.port();
  if (const auto local = socket_.local_endpoint(ec); !ec) {
    auto address = local.address();
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
      address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    }
    server_address_ = address.to_string();
    server_port_ = local.port();
  }
  instance_ = new_instance();
  reversed_client_ip_ = dns::reversed_address(client_ip_);
  client_in_mynetworks_ = config_->mynetworks.contains(client_address_);
  socket_.set_option(tcp::no_delay(true), ec);
  socket_.non_blocking(true, ec);
  // DNS block list lookups run while the client's name is looked up.
  config_->restrictions.prefetch_client(client_ip_, answers_.dns());
  co_await look_up_client();
  log::info("smtpd", "connect from {}", client());

  // A client that talks before the banner is pipelining without permission.
  // Such bytes may still be on their way when the connection is accepted:
  // when a restriction asks, give them a moment (the banner waits for it).
  if (config_->restrictions.checks_pipelining()) {
    improper_pipelining_ = co_await input_within(std::chrono::milliseconds(20));
  }
  bool greeted = false;
  if (!config_->restrictions.delay_reject() &&
      config_->restrictions.has_list(restriction::Check::kClient)) {
    restriction::Effects effects;
    const auto context = restriction_context(restriction::Stage::kConnect);
    const auto verdict = co_await check(restriction::Check::kClient, context, effects);
    // Refused: the reply replaces the banner and every later command but
    // QUIT gets 503, as in Postfix.
    access_denied_ = greeted = conclude(verdict, effects, "CONNECT", nullptr, {});
    session_defer_if_permit_ = std::move(effects.defer_if_permit);
  }
  if (!greeted) reply(220, "", config_->banner);
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
    const auto bare_newline = bare_newline_policy();
    if (bare_lf &&
        (bare_newline == BareNewline::kReject || bare_newline == BareNewline::kDisconnect)) {
      // Postfix names the previous command in this log line.
      log_reject(where(), "bare <LF> received", in_mail_ ? &sender_ : nullptr, {});
      reply_bare_lf();
      break;
    }
    const Command command = parse_command(line);
    if (is_non_smtp_command(command)) {
      // Mail headers sent as commands, or an HTTP proxy request: not a mail client.
      log::warning("smtpd", "non-SMTP command from {}: {}", client(), escape_for_log(line));
      reply(221, "2.7.0", "Error: I can break rules, too. Goodbye.");
      stats_.count(Verb::kUnknown, false);
      break;
    }
    if (command.name.empty()) {
      reply(500, "5.5.2", "Error: bad syntax");  // not counted, as in Postfix
    } else if (config_->smtputf8_enable && !is_valid_utf8(line)) {
      reply(500, "5.5.2", "Error: bad UTF-8 syntax");
    } else {
      last_verb_ = command.verb;
      have_last_verb_ = true;
      // Without PIPELINING negotiated, any command sent ahead of a reply is improper.
      if (ends_pipeline_group(command.verb) || !pipelining_offered_) log_improper_pipelining();
      if (is_junk_command(command.verb) && ++junk_count_ > config_->junk_command_limit) {
        ++error_count_;  // Postfix's smtpd_junk_command_limit
      }
      const bool denied = access_denied_ && command.verb != Verb::kQuit;
      if (denied) reply(503, "5.7.0", fmt::format("Error: access denied for {}", client()));
      switch (denied ? Verb::kUnknown : command.verb) {
        case Verb::kEhlo:
          co_await on_helo(command, true);
          break;
        case Verb::kHelo:
          co_await on_helo(command, false);
          break;
        case Verb::kMail:
          co_await on_mail(command);
          break;
        case Verb::kRcpt:
          co_await on_rcpt(command);
          break;
        case Verb::kData:
          co_await on_data(command);
          break;
        case Verb::kBdat:
          co_await on_bdat(command);
          break;
        case Verb::kRset:
          on_rset(command);
          break;
        case Verb::kNoop:
          reply(250, "2.0.0", "Ok");
          break;
        case Verb::kVrfy:
          on_vrfy(command);
          break;
        case Verb::kEtrn:
          on_etrn(command);
          break;
        case Verb::kAuth:
          reply(503, "5.5.1", "Error: authentication not enabled");
          break;
        case Verb::kStarttls:
          reply(502, "5.5.1", "Error: command not implemented");
          break;
        case Verb::kXclient:
        case Verb::kXforward:
          reply(550, "5.7.0", "Error: insufficient authorization");
          break;
        case Verb::kQuit:
          reply(221, "2.0.0", "Bye");
          closing_ = true;
          break;
        default:
          if (!denied) reply(500, "5.5.2", "Error: command not recognized");
          break;
      }
      stats_.count(command.verb, last_reply_ok_);
    }
    // "sleep N" from the restrictions: the reply waits, as in Postfix.
    if (pending_sleep_.count() > 0 && !closing_) {
      timer_.expires_after(std::exchange(pending_sleep_, std::chrono::seconds(0)));
      co_await timer_.async_wait(kNoThrow);
    }
    // Past the soft limit every error reply is delayed (a tarpit).
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
                                  deliver::DeliveryService& delivery, LoopServices services) {
  auto session = std::make_shared<Session>(std::move(socket), std::move(config), delivery,
                                           std::move(services));
  co_await session->run();
}

}  // namespace moat::smtp
