#include "policy/responder.h"

#include <charconv>

#include <fmt/format.h>

#include "dns/message.h"
#include "log/log.h"

namespace moat::policy {
namespace {

using restriction::Stage;

// Postfix's protocol_state values.
Stage stage_of(std::string_view state) {
  if (state == "CONNECT") return Stage::kConnect;
  if (state == "EHLO" || state == "HELO") return Stage::kHelo;
  if (state == "MAIL") return Stage::kMail;
  if (state == "DATA" || state == "BDAT") return Stage::kData;
  if (state == "END-OF-MESSAGE") return Stage::kEndOfData;
  return Stage::kRcpt;  // RCPT, VRFY, and whatever names a recipient
}

std::string_view value(const Attributes& request, std::string_view name) {
  const std::string* v = find(request, name);
  return v ? std::string_view(*v) : std::string_view();
}

// Postfix's client_name and reverse_client_name: "unknown" when there is none.
restriction::NameStatus name_status(std::string_view name) {
  return name.empty() || name == "unknown" ? restriction::NameStatus::kPerm
                                           : restriction::NameStatus::kOk;
}

// Multi-line headers (Received-SPF is folded) on one line: an action is one.
std::string unfolded(std::string_view header) {
  std::string out;
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == '\n') {
      while (i + 1 < header.size() && (header[i + 1] == '\t' || header[i + 1] == ' ')) ++i;
      out += ' ';
      continue;
    }
    out += header[i];
  }
  return out;
}

std::string reply_action(const smtp::Reply& reply) {
  std::string out = std::to_string(reply.code);
  if (!reply.enhanced.empty()) out += " " + reply.enhanced;
  return out + " " + action_text(reply.text);
}

}  // namespace

std::string action_text(std::string_view text) {
  static constexpr std::string_view kClasses[] = {
      "Client host",       "Unverified Client host", "Helo command", "Sender address",
      "Recipient address", "Data command",           "End-of-data"};
  if (!text.starts_with('<')) return std::string(text);
  const auto close = text.find(">: ");
  if (close == std::string_view::npos) return std::string(text);
  const std::string_view rest = text.substr(close + 3);
  for (auto cls : kClasses) {
    if (rest.starts_with(cls) && rest.substr(cls.size()).starts_with(" rejected: ")) {
      return std::string(rest.substr(cls.size() + std::string_view(" rejected: ").size()));
    }
  }
  return std::string(text);
}

Responder::Responder(std::shared_ptr<const smtp::SmtpdConfig> config, smtp::LoopServices services)
    : config_(std::move(config)),
      answers_(std::move(services.resolver), std::move(services.store),
               std::move(services.policy)) {}

asio::awaitable<std::string> Responder::answer(const Attributes& request) {
  if (value(request, "request") != "smtpd_access_policy") {
    log::warning("policy", "unknown request \"{}\": answering DUNNO", value(request, "request"));
    co_return "DUNNO";
  }
  if (const auto instance = value(request, "instance"); instance != instance_ || instance.empty()) {
    answers_.end_transaction();
    instance_ = instance;
  }
  restriction::Context context;
  context.stage = stage_of(value(request, "protocol_state"));
  const std::string client_ip(value(request, "client_address"));
  std::error_code ec;
  context.client_address = asio::ip::make_address(client_ip, ec);
  if (ec) {
    log::warning("policy", "bad client_address \"{}\": answering DUNNO", client_ip);
    co_return "DUNNO";
  }
  const std::string reversed = dns::reversed_address(client_ip);
  context.client_ip = client_ip;
  context.reversed_client_ip = reversed;
  context.client_name = value(request, "client_name");
  context.reverse_client_name = value(request, "reverse_client_name");
  if (context.client_name.empty()) context.client_name = "unknown";
  if (context.reverse_client_name.empty()) context.reverse_client_name = "unknown";
  context.client_name_status = name_status(context.client_name);
  context.reverse_client_name_status = name_status(context.reverse_client_name);
  context.helo = value(request, "helo_name");
  context.has_helo = !context.helo.empty();
  context.has_sender = context.stage >= Stage::kMail;
  context.sender = value(request, "sender");
  context.recipient = value(request, "recipient");
  const auto count = value(request, "recipient_count");
  std::from_chars(count.data(), count.data() + count.size(), context.recipient_count);
  context.client_in_mynetworks = config_->mynetworks.contains(context.client_address);
  const auto resolved = config_->destinations.resolve(context.recipient);
  if (!context.recipient.empty()) context.resolved_recipient = &resolved;
  answers_.attach(context);

  const auto& engine = config_->restrictions;
  restriction::Effects effects;
  auto verdict = answers_.evaluate(engine, restriction::Check::kPolicy, context, effects);
  if (verdict.is_pending()) {
    const std::string who = fmt::format("{}[{}]", context.client_name, client_ip);
    verdict = co_await answers_.finish_pending(engine, restriction::Check::kPolicy, context,
                                               effects, client_ip, config_->myhostname, who);
  }
  for (const auto& warning : effects.warnings) log::warning("policy", "{}", warning);
  for (const auto& event : effects.events) {
    log::info("policy", "{}: {} from {}[{}]: {}", event.action, value(request, "protocol_state"),
              context.client_name, client_ip, event.text);
  }
  if (verdict.is_reject()) co_return reply_action(verdict.reply);
  // Postfix keeps DEFER_IF_PERMIT pending and applies it to its own permit.
  if (effects.defer_if_permit) {
    const auto& defer = *effects.defer_if_permit;
    co_return "DEFER_IF_PERMIT " + (defer.enhanced.empty() ? "" : defer.enhanced + " ") +
        action_text(defer.text);
  }
  if (verdict.is_permit()) co_return "OK";
  if (effects.discard) co_return "DISCARD";
  if (!effects.prepend.empty()) co_return "PREPEND " + unfolded(effects.prepend.front());
  co_return "DUNNO";
}

}  // namespace moat::policy
