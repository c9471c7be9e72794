// check_policy_service: asks an external policy server (postgrey,
// policyd-spf, ...) as Postfix 3.7 does, with the attributes Postfix sends,
// and acts on its answer as on an access table's result. A server that
// cannot be reached or answers nonsense gets
// smtpd_policy_service_default_action, with a warning.
#include <fmt/format.h>

#include "config/values.h"
#include "log/log.h"
#include "restrict/evaluation.h"

namespace moat::restriction {
namespace {

std::string_view state_name(Stage stage) {
  switch (stage) {
    case Stage::kConnect:
      return "CONNECT";
    case Stage::kHelo:
      return "EHLO";
    case Stage::kMail:
      return "MAIL";
    case Stage::kRcpt:
      return "RCPT";
    case Stage::kData:
      return "DATA";
    case Stage::kEndOfData:
      return "END-OF-MESSAGE";
  }
  return "RCPT";
}

// What Postfix 3.7's smtpd sends (SMTPD_POLICY_README), in its order. No
// SASL and no TLS here: those attributes go empty, as Postfix sends them
// for a plain session.
policy::Attributes request_attributes(const Request& r, const policy::Service& service) {
  const Context& c = r.context;
  auto text = [](std::string_view v) { return std::string(v); };
  return {
      {"request", "smtpd_access_policy"},
      {"protocol_state", text(state_name(c.stage))},
      {"protocol_name", text(c.protocol_name.empty() ? "SMTP" : c.protocol_name)},
      {"helo_name", text(c.helo)},
      {"queue_id", text(c.queue_id)},
      {"sender", text(c.sender)},
      {"recipient", text(c.recipient)},
      {"recipient_count", std::to_string(c.recipient_count)},
      {"client_address", text(c.client_ip)},
      {"client_name", text(c.client_name)},
      {"reverse_client_name", text(c.reverse_client_name)},
      {"instance", text(c.instance)},
      {"sasl_method", ""},
      {"sasl_username", ""},
      {"sasl_sender", ""},
      {"size", std::to_string(c.size)},
      {"ccert_subject", ""},
      {"ccert_issuer", ""},
      {"ccert_fingerprint", ""},
      {"ccert_pubkey_fingerprint", ""},
      {"encryption_protocol", ""},
      {"encryption_cipher", ""},
      {"encryption_keysize", "0"},
      {"etrn_domain", ""},
      {"stress", ""},
      {"client_port", std::to_string(c.client_port)},
      {"policy_context", service.settings.policy_context},
      {"server_address", text(c.server_address)},
      {"server_port", std::to_string(c.server_port)},
      {"compatibility_level", text(r.engine.compatibility_level())},
      {"mail_version", text(r.engine.mail_version())},
  };
}

std::optional<std::chrono::milliseconds> duration(std::string_view text) {
  const auto t = config::parse_time(text, 's');
  if (!t) return std::nullopt;
  return std::chrono::milliseconds(*t);
}

std::optional<int> count(std::string_view text) {
  const auto n = config::parse_integer(text);
  if (!n || *n < 0 || *n > 1'000'000) return std::nullopt;
  return static_cast<int>(*n);
}

}  // namespace

Verdict check_policy_service(const Step& step, Request& r) {
  const policy::Service& service = *step.policy;
  const policy::Answer* answer = r.policy(service, request_attributes(r, service));
  if (!answer) return Verdict::pending();
  if (!*answer) {
    r.effects.warnings.push_back(
        fmt::format("problem talking to server {}: {}", service.endpoint.text, answer->error()));
    return evaluate_table_result(r, service.settings.default_action, service.endpoint.text);
  }
  return evaluate_table_result(r, **answer, service.endpoint.text);
}

const policy::Answer* Request::policy(const policy::Service& service,
                                      const policy::Attributes& request) const {
  if (context.policy) return context.policy->find(service, request);
  static const policy::Answer none = std::unexpected(std::string("no policy client"));
  return &none;
}

policy::ClientSettings policy_defaults(const config::Config& config,
                                       std::vector<config::Problem>& problems) {
  policy::ClientSettings s;
  s.timeout = config.get_time("smtpd_policy_service_timeout");
  s.max_idle = config.get_time("smtpd_policy_service_max_idle");
  s.max_ttl = config.get_time("smtpd_policy_service_max_ttl");
  s.request_limit = static_cast<int>(config.get_integer("smtpd_policy_service_request_limit"));
  s.try_limit = std::max(1, static_cast<int>(config.get_integer("smtpd_policy_service_try_limit")));
  s.retry_delay = config.get_time("smtpd_policy_service_retry_delay");
  s.default_action = config.get("smtpd_policy_service_default_action");
  s.policy_context = config.get("smtpd_policy_service_policy_context");
  if (s.timeout.count() <= 0) {
    problems.push_back(config.problem_at("smtpd_policy_service_timeout", "must be positive"));
  }
  return s;
}

bool compile_policy_service(Step& step, const policy::Service& defaults,
                            std::string_view queue_directory, std::vector<std::string>& errors) {
  // "{ inet:host:port, timeout=10s }" arrives without its outer braces.
  const auto parts = config::split_list(step.argument);
  if (parts.empty()) {
    errors.push_back("check_policy_service: missing server endpoint");
    return false;
  }
  auto service = std::make_shared<policy::Service>(defaults);
  auto endpoint = policy::parse_endpoint(parts[0], queue_directory);
  if (!endpoint) {
    errors.push_back("check_policy_service: " + endpoint.error());
    return false;
  }
  service->endpoint = std::move(*endpoint);
  for (size_t i = 1; i < parts.size(); ++i) {
    const auto& part = parts[i];
    const auto equals = part.find('=');
    std::string name = part.substr(0, equals);
    std::string value = equals == std::string::npos ? "" : part.substr(equals + 1);
    while (!name.empty() && name.back() == ' ') name.pop_back();
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    if (value.size() > 1 && value.front() == '{' && value.back() == '}') {
      value = value.substr(1, value.size() - 2);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      while (!value.empty() && value.back() == ' ') value.pop_back();
    }
    auto& s = service->settings;
    bool ok = true;
    if (name == "timeout" || name == "max_idle" || name == "max_ttl" || name == "retry_delay") {
      const auto d = duration(value);
      ok = d.has_value();
      if (ok) {
        (name == "timeout"    ? s.timeout
         : name == "max_idle" ? s.max_idle
         : name == "max_ttl"  ? s.max_ttl
                              : s.retry_delay) = *d;
      }
    } else if (name == "request_limit" || name == "try_limit") {
      const auto n = count(value);
      ok = n.has_value() && (name == "request_limit" || *n >= 1);
      if (ok) (name == "request_limit" ? s.request_limit : s.try_limit) = *n;
    } else if (name == "default_action") {
      s.default_action = value;
    } else if (name == "policy_context") {
      s.policy_context = value;
    } else {
      errors.push_back("check_policy_service: unknown attribute \"" + name + "\"");
      return false;
    }
    if (!ok) {
      errors.push_back("check_policy_service: bad " + name + " \"" + value + "\"");
      return false;
    }
  }
  step.policy = std::move(service);
  return true;
}

}  // namespace moat::restriction
