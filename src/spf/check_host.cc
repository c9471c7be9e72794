#include "spf/check_host.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "dns/message.h"
#include "spf/record.h"
#include "spf/record_cache.h"

namespace moat::spf {

namespace {

constexpr int kMaxDnsTerms = 10;     // 4.6.4
constexpr int kMaxVoidLookups = 2;   // 4.6.4
constexpr size_t kMaxMxNames = 10;   // 4.6.4
constexpr size_t kMaxPtrNames = 10;  // 4.6.4

// Parsed records of this thread's TXT answers. Per thread because the
// resolver is (one per worker thread), so no lock; a few MiB at most.
RecordCache& thread_record_cache() {
  thread_local RecordCache cache(/*max_entries=*/1024, /*max_directives=*/32768);
  return cache;
}

char lower(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

std::string lowered(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = lower(c);
  return out;
}

bool alnum(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0;
}

// toplabel (7.1): alphanumerics and inner hyphens, not all digits.
bool valid_toplabel(std::string_view label) {
  if (label.empty() || label.front() == '-' || label.back() == '-') return false;
  bool alpha = false;
  for (char c : label) {
    if (c == '-') {
      alpha = true;
      continue;
    }
    if (!alnum(c)) return false;
    if (!std::isdigit(static_cast<unsigned char>(c))) alpha = true;
  }
  return alpha;
}

std::string_view strip_dot(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return name;
}

// 4.3: a domain check_host() can work on: queryable, more than one label,
// a proper toplabel (which also turns away "[192.0.2.1]" literals).
bool valid_domain(std::string_view raw) {
  if (!queryable_name(raw)) return false;
  const std::string_view name = strip_dot(raw);
  const size_t dot = name.rfind('.');
  if (dot == std::string_view::npos) return false;
  return valid_toplabel(name.substr(dot + 1));
}

// Undoes the resolver's \DDD escapes (for %{p}).
std::string raw_name(std::string_view presentation) {
  std::string out;
  for (size_t i = 0; i < presentation.size(); ++i) {
    const char c = presentation[i];
    if (c == '\\' && i + 3 < presentation.size()) {
      const std::string_view digits = presentation.substr(i + 1, 3);
      if (digits.size() == 3 &&
          std::all_of(digits.begin(), digits.end(), [](char d) { return d >= '0' && d <= '9'; })) {
        out +=
            static_cast<char>((digits[0] - '0') * 100 + (digits[1] - '0') * 10 + (digits[2] - '0'));
        i += 3;
        continue;
      }
    }
    out += c;
  }
  return out;
}

bool prefix_match(const uint8_t* a, const uint8_t* b, int bits) {
  int i = 0;
  for (; bits >= 8; bits -= 8, ++i) {
    if (a[i] != b[i]) return false;
  }
  if (bits == 0) return true;
  const auto mask = static_cast<uint8_t>(0xff << (8 - bits));
  return (a[i] & mask) == (b[i] & mask);
}

bool needs_escape(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x21 || u > 0x7e || c == '\\';
}

// presentation_name(raw), without a copy when raw has nothing to escape, as
// nearly every name has; else it is built in escaped.
std::string_view query_name(std::string_view raw, std::string& escaped) {
  if (std::none_of(raw.begin(), raw.end(), needs_escape)) return raw;
  escaped = presentation_name(raw);
  return escaped;
}

std::string ip_text(const ClientIp& ip) {
  char buffer[INET6_ADDRSTRLEN] = {};
  if (!inet_ntop(ip.v6 ? AF_INET6 : AF_INET, ip.bytes.data(), buffer, sizeof buffer)) return "";
  return buffer;
}

// 4.1/5.6: an IPv4-mapped IPv6 address is the IPv4 client it stands for.
ClientIp unmapped(ClientIp ip) {
  if (!ip.v6) return ip;
  for (int i = 0; i < 10; ++i) {
    if (ip.bytes[i] != 0) return ip;
  }
  if (ip.bytes[10] != 0xff || ip.bytes[11] != 0xff) return ip;
  ClientIp v4;
  for (int i = 0; i < 4; ++i) v4.bytes[i] = ip.bytes[12 + i];
  return v4;
}

SpfResult make(Result result, std::string comment) {
  SpfResult out;
  out.result = result;
  out.comment = std::move(comment);
  return out;
}

Result qualifier_result(Qualifier qualifier) {
  switch (qualifier) {
    case Qualifier::kPass:
      return Result::kPass;
    case Qualifier::kFail:
      return Result::kFail;
    case Qualifier::kSoftFail:
      return Result::kSoftFail;
    case Qualifier::kNeutral:
      return Result::kNeutral;
  }
  return Result::kNeutral;
}

// What one directive's evaluation came to.
enum class Outcome { kNoMatch, kMatch, kTempError, kPermError };

struct Step {
  Outcome outcome = Outcome::kNoMatch;
  std::string why;  // for errors
};

Step step(Outcome outcome, std::string why = {}) {
  return Step{outcome, std::move(why)};
}

class Evaluator {
 public:
  Evaluator(dns::Resolver& resolver, CheckRequest request)
      : resolver_(resolver), request_(std::move(request)) {}

  asio::awaitable<SpfResult> run();

 private:
  // outer: the result is check_host()'s own (the first record's or a
  // redirect's), not one an include only matches against (5.2). Only an
  // outer result gets an explanation (6.2) and says what matched.
  asio::awaitable<SpfResult> evaluate(std::string domain, bool outer);
  // all, ip4, ip6: the client address alone decides.
  Outcome match_address(const Directive& d) const;
  // The mechanisms that query DNS. The matchers' target is directive()'s
  // expansion, alive while it awaits them.
  asio::awaitable<Step> directive(const Directive& d, const std::string& domain);
  asio::awaitable<Step> match_a(const std::string& target, int cidr4, int cidr6);
  asio::awaitable<Step> match_mx(const std::string& target, int cidr4, int cidr6);
  asio::awaitable<Step> match_ptr(const std::string& target);
  asio::awaitable<Step> match_exists(const std::string& target);
  asio::awaitable<Step> match_include(const std::string& target);
  asio::awaitable<std::string> explanation(const Record& record, const std::string& domain);
  asio::awaitable<void> validate_client();
  // The resolver's answer; a hit in its cache is taken as it is, without
  // the copies and the coroutine of a lookup (the warm path).
  asio::awaitable<dns::AnswerPtr> lookup(std::string_view name, dns::Type type);
  // Expands a domain-spec ("" = domain) for the current domain; a name that
  // cannot be queried comes back empty with *ok true.
  asio::awaitable<Expansion> expand_spec(const std::string& spec, const std::string& domain,
                                         MacroUse use);
  bool address_matches(const dns::Record& record, int cidr4, int cidr6) const;
  dns::Type address_type() const { return ip_.v6 ? dns::Type::kAAAA : dns::Type::kA; }
  // Counts a void lookup; true when the limit is passed.
  bool void_lookup() { return ++void_lookups_ > kMaxVoidLookups; }

  dns::Resolver& resolver_;
  CheckRequest request_;
  ClientIp ip_;
  std::string local_part_;
  std::string sender_domain_;
  int dns_terms_ = 0;
  int void_lookups_ = 0;
  bool validated_ = false;
  std::vector<std::string> validated_names_;  // presentation form, 5.5
};

asio::awaitable<SpfResult> Evaluator::run() {
  std::optional<ClientIp> parsed = request_.ip;
  if (!parsed) parsed = parse_client_ip(request_.client_ip);
  if (!parsed) co_return make(Result::kPermError, "invalid client address");
  ip_ = unmapped(*parsed);

  // 4.3 and 2.4: the identity.
  if (request_.sender.empty()) {
    local_part_ = "postmaster";
    sender_domain_ = request_.helo;
  } else {
    const size_t at = request_.sender.rfind('@');
    if (at == std::string::npos) {
      local_part_ = "postmaster";
      sender_domain_ = request_.sender;
    } else {
      local_part_ = request_.sender.substr(0, at);
      sender_domain_ = request_.sender.substr(at + 1);
    }
    if (local_part_.empty()) local_part_ = "postmaster";
  }
  if (!valid_domain(sender_domain_)) {
    co_return make(Result::kNone, "no valid domain to check");
  }
  std::string domain(strip_dot(sender_domain_));
  SpfResult result = co_await evaluate(std::move(domain), true);
  co_return result;
}

asio::awaitable<SpfResult> Evaluator::evaluate(std::string domain, bool outer) {
  if (!valid_domain(domain)) co_return make(Result::kNone, "invalid domain " + domain);
  std::string escaped;
  const std::string_view query = query_name(domain, escaped);
  const auto answer = co_await lookup(query, dns::Type::kTXT);
  if (answer->status == dns::Status::kTempFail) {
    co_return make(Result::kTempError, "DNS error looking up " + domain + ": " + answer->error);
  }
  if (answer->status != dns::Status::kOk) {
    co_return make(Result::kNone, "no SPF record for " + domain);
  }
  // Held for the whole evaluation: includes below may evict it from the cache.
  const RecordCache::RecordPtr selected = thread_record_cache().get(answer);
  if (selected->status == RecordStatus::kNone) {
    co_return make(Result::kNone, "no SPF record for " + domain);
  }
  if (selected->status == RecordStatus::kPermError) {
    co_return make(Result::kPermError, domain + ": " + selected->error);
  }
  const Record& record = selected->record;

  for (const Directive& d : record.directives) {
    // A provider's record lists dozens of networks: no coroutine for each.
    const bool queries_dns = d.mechanism != Mechanism::kAll && d.mechanism != Mechanism::kIp4 &&
                             d.mechanism != Mechanism::kIp6;
    Step s;  // an if: with co_await inside ?: GCC 12 code freed a bad pointer
    if (queries_dns) {
      s = co_await directive(d, domain);
    } else {
      s.outcome = match_address(d);
    }
    if (s.outcome == Outcome::kTempError) co_return make(Result::kTempError, s.why);
    if (s.outcome == Outcome::kPermError) co_return make(Result::kPermError, s.why);
    if (s.outcome == Outcome::kNoMatch) continue;
    SpfResult out;
    out.result = qualifier_result(d.qualifier);
    if (!outer) co_return out;
    out.comment = fmt::format("{}: mechanism {} matched", domain, mechanism_name(d.mechanism));
    if (out.result == Result::kFail) out.explanation = co_await explanation(record, domain);
    co_return out;
  }

  if (record.redirect) {
    if (++dns_terms_ > kMaxDnsTerms) {
      co_return make(Result::kPermError, "more than 10 DNS lookups");
    }
    Expansion target = co_await expand_spec(*record.redirect, domain, MacroUse::kDomain);
    if (!target.ok()) co_return make(Result::kPermError, "bad redirect target");
    if (!valid_domain(target.text)) {
      co_return make(Result::kPermError, "redirect target is not a valid domain");
    }
    std::string next(strip_dot(target.text));
    SpfResult redirected = co_await evaluate(std::move(next), outer);
    if (redirected.result == Result::kNone) {
      co_return make(Result::kPermError, "redirect target has no SPF record: " + target.text);
    }
    co_return redirected;
  }
  if (!outer) co_return make(Result::kNeutral, {});
  co_return make(Result::kNeutral, domain + ": no mechanism matched");
}

asio::awaitable<Expansion> Evaluator::expand_spec(const std::string& spec,
                                                  const std::string& domain, MacroUse use) {
  Expansion out;
  if (spec.empty()) {
    out.text = domain;
    co_return out;
  }
  // Most domain-specs are plain names (a parsed record's passed
  // valid_domain_spec()): without a '%' and short enough, expand() would
  // give back the very text.
  if (use == MacroUse::kDomain && spec.find('%') == std::string::npos &&
      spec.size() <= kMaxDomainLength) {
    out.text = spec;
    co_return out;
  }
  const bool needs_p =
      spec.find("%{p") != std::string::npos || spec.find("%{P") != std::string::npos;
  std::string validated = "unknown";
  if (needs_p) {
    co_await validate_client();
    // 7.3: prefer the domain itself, then a subdomain, then any name.
    const std::string wanted = lowered(presentation_name(strip_dot(domain)));
    const std::string* best = nullptr;
    int best_rank = 3;
    for (const auto& name : validated_names_) {
      int rank = 2;
      if (name == wanted) {
        rank = 0;
      } else if (name.size() > wanted.size() && name.ends_with(wanted) &&
                 name[name.size() - wanted.size() - 1] == '.') {
        rank = 1;
      }
      if (rank < best_rank) {
        best_rank = rank;
        best = &name;
      }
    }
    if (best) validated = raw_name(*best);
  }
  MacroContext context;
  context.local_part = local_part_;
  context.sender_domain = sender_domain_;
  context.domain = domain;
  context.ip = ip_;
  context.helo = request_.helo;
  context.validated_name = validated;
  context.receiver = request_.receiver;
  context.timestamp = request_.timestamp;
  out = expand(spec, context, use);
  co_return out;
}

// 5.5: the client's validated names (at most 10 PTR names looked at).
asio::awaitable<void> Evaluator::validate_client() {
  if (validated_) co_return;
  validated_ = true;
  const std::string text = ip_text(ip_);
  const std::string reverse = dns::reverse_name(text);
  if (reverse.empty()) co_return;
  const auto ptr = co_await lookup(reverse, dns::Type::kPTR);
  if (ptr->status != dns::Status::kOk) co_return;
  size_t looked = 0;
  for (const auto& record : ptr->records) {
    if (looked == kMaxPtrNames) break;
    ++looked;
    if (record.target.empty()) continue;
    const std::string name = record.target;
    const auto addresses = co_await lookup(name, address_type());
    if (addresses->status != dns::Status::kOk) continue;
    for (const auto& a : addresses->records) {
      if (address_matches(a, 32, 128)) {
        validated_names_.push_back(dns::canonical(name));
        break;
      }
    }
  }
}

bool Evaluator::address_matches(const dns::Record& record, int cidr4, int cidr6) const {
  if (ip_.v6) {
    if (record.type != dns::Type::kAAAA) return false;
    return prefix_match(record.address.data(), ip_.bytes.data(), cidr6);
  }
  if (record.type != dns::Type::kA) return false;
  return prefix_match(record.address.data(), ip_.bytes.data(), cidr4);
}

asio::awaitable<dns::AnswerPtr> Evaluator::lookup(std::string_view name, dns::Type type) {
  if (dns::AnswerPtr answer = resolver_.cached(name, type)) co_return answer;
  co_return co_await resolver_.lookup(name, type);
}

Outcome Evaluator::match_address(const Directive& d) const {
  bool hit = false;
  switch (d.mechanism) {
    case Mechanism::kAll:
      hit = true;
      break;
    case Mechanism::kIp4:
      hit = !ip_.v6 && prefix_match(d.network.data(), ip_.bytes.data(), d.cidr4);
      break;
    case Mechanism::kIp6:
      hit = ip_.v6 && prefix_match(d.network.data(), ip_.bytes.data(), d.cidr6);
      break;
    default:
      break;
  }
  return hit ? Outcome::kMatch : Outcome::kNoMatch;
}

asio::awaitable<Step> Evaluator::directive(const Directive& d, const std::string& domain) {
  const Mechanism m = d.mechanism;
  // Each of these counts against the limit (4.6.4).
  if (++dns_terms_ > kMaxDnsTerms) co_return step(Outcome::kPermError, "more than 10 DNS lookups");
  const Expansion target = co_await expand_spec(d.domain_spec, domain, MacroUse::kDomain);
  if (!target.ok()) {
    co_return step(Outcome::kPermError,
                   fmt::format("bad domain-spec in {}", mechanism_name(d.mechanism)));
  }
  Step result;
  switch (m) {
    case Mechanism::kA:
      result = co_await match_a(target.text, d.cidr4, d.cidr6);
      break;
    case Mechanism::kMx:
      result = co_await match_mx(target.text, d.cidr4, d.cidr6);
      break;
    case Mechanism::kPtr:
      result = co_await match_ptr(target.text);
      break;
    case Mechanism::kExists:
      result = co_await match_exists(target.text);
      break;
    case Mechanism::kInclude:
      result = co_await match_include(target.text);
      break;
    default:
      break;
  }
  co_return result;
}

asio::awaitable<Step> Evaluator::match_a(const std::string& target, int cidr4, int cidr6) {
  if (!queryable_name(target)) co_return step(Outcome::kNoMatch);
  std::string escaped;
  const std::string_view query = query_name(target, escaped);
  const auto answer = co_await lookup(query, address_type());
  if (answer->status == dns::Status::kTempFail) {
    co_return step(Outcome::kTempError, "DNS error looking up " + target + ": " + answer->error);
  }
  if (answer->status != dns::Status::kOk) {
    if (void_lookup()) co_return step(Outcome::kPermError, "more than 2 void lookups");
    co_return step(Outcome::kNoMatch);
  }
  for (const auto& record : answer->records) {
    if (address_matches(record, cidr4, cidr6)) co_return step(Outcome::kMatch);
  }
  co_return step(Outcome::kNoMatch);
}

asio::awaitable<Step> Evaluator::match_mx(const std::string& target, int cidr4, int cidr6) {
  if (!queryable_name(target)) co_return step(Outcome::kNoMatch);
  std::string escaped;
  const std::string_view query = query_name(target, escaped);
  const auto answer = co_await lookup(query, dns::Type::kMX);
  if (answer->status == dns::Status::kTempFail) {
    co_return step(Outcome::kTempError, "DNS error looking up " + target + ": " + answer->error);
  }
  if (answer->status != dns::Status::kOk) {
    if (void_lookup()) co_return step(Outcome::kPermError, "more than 2 void lookups");
    co_return step(Outcome::kNoMatch);
  }
  if (answer->records.size() > kMaxMxNames) {
    co_return step(Outcome::kPermError, "more than 10 MX names for " + target);
  }
  for (const auto& mx : answer->records) {
    if (mx.target.empty()) continue;
    const std::string name = mx.target;
    const auto addresses = co_await lookup(name, address_type());
    if (addresses->status == dns::Status::kTempFail) {
      co_return step(Outcome::kTempError, "DNS error looking up " + name + ": " + addresses->error);
    }
    if (addresses->status != dns::Status::kOk) continue;
    for (const auto& record : addresses->records) {
      if (address_matches(record, cidr4, cidr6)) co_return step(Outcome::kMatch);
    }
  }
  co_return step(Outcome::kNoMatch);
}

asio::awaitable<Step> Evaluator::match_ptr(const std::string& target) {
  if (!queryable_name(target)) co_return step(Outcome::kNoMatch);
  co_await validate_client();
  const std::string wanted = lowered(presentation_name(strip_dot(target)));
  for (const auto& name : validated_names_) {
    if (name == wanted) co_return step(Outcome::kMatch);
    if (name.size() > wanted.size() && name.ends_with(wanted) &&
        name[name.size() - wanted.size() - 1] == '.') {
      co_return step(Outcome::kMatch);
    }
  }
  co_return step(Outcome::kNoMatch);
}

asio::awaitable<Step> Evaluator::match_exists(const std::string& target) {
  if (!queryable_name(target)) co_return step(Outcome::kNoMatch);
  std::string escaped;
  const std::string_view query = query_name(target, escaped);
  const auto answer = co_await lookup(query, dns::Type::kA);
  if (answer->status == dns::Status::kTempFail) {
    co_return step(Outcome::kTempError, "DNS error looking up " + target + ": " + answer->error);
  }
  if (answer->status == dns::Status::kOk) co_return step(Outcome::kMatch);
  if (void_lookup()) co_return step(Outcome::kPermError, "more than 2 void lookups");
  co_return step(Outcome::kNoMatch);
}

// 5.2's table.
asio::awaitable<Step> Evaluator::match_include(const std::string& target) {
  std::string domain(strip_dot(target));
  const SpfResult inner = co_await evaluate(std::move(domain), false);
  switch (inner.result) {
    case Result::kPass:
      co_return step(Outcome::kMatch);
    case Result::kFail:
    case Result::kSoftFail:
    case Result::kNeutral:
      co_return step(Outcome::kNoMatch);
    case Result::kTempError:
      co_return step(Outcome::kTempError, inner.comment);
    case Result::kPermError:
      co_return step(Outcome::kPermError, inner.comment);
    case Result::kNone:
      break;
  }
  co_return step(Outcome::kPermError, "included domain has no SPF record: " + target);
}

// 6.2: any trouble means the default explanation.
asio::awaitable<std::string> Evaluator::explanation(const Record& record,
                                                    const std::string& domain) {
  std::string out(kDefaultExplanation);
  if (!record.explanation) co_return out;
  const Expansion target = co_await expand_spec(*record.explanation, domain, MacroUse::kDomain);
  if (!target.ok() || !queryable_name(target.text)) co_return out;
  std::string escaped;
  const std::string_view query = query_name(target.text, escaped);
  const auto answer = co_await lookup(query, dns::Type::kTXT);
  if (answer->status != dns::Status::kOk || answer->records.size() != 1) co_return out;
  const std::string text = answer->records.front().text;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7e) co_return out;
  }
  const Expansion expanded = co_await expand_spec(text, domain, MacroUse::kExplanation);
  if (!expanded.ok()) co_return out;
  co_return expanded.text;
}

}  // namespace

std::string_view result_name(Result result) {
  switch (result) {
    case Result::kNone:
      return "none";
    case Result::kNeutral:
      return "neutral";
    case Result::kPass:
      return "pass";
    case Result::kFail:
      return "fail";
    case Result::kSoftFail:
      return "softfail";
    case Result::kTempError:
      return "temperror";
    case Result::kPermError:
      return "permerror";
  }
  return "none";
}

std::string presentation_name(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (char c : raw) {
    if (needs_escape(c)) {
      out += fmt::format("\\{:03d}", static_cast<unsigned>(static_cast<unsigned char>(c)));
    } else {
      out += c;
    }
  }
  return out;
}

bool queryable_name(std::string_view raw) {
  const std::string_view name = strip_dot(raw);
  if (name.empty() || name.size() > kMaxDomainLength) return false;
  size_t start = 0;
  while (true) {
    const size_t dot = name.find('.', start);
    const size_t end = dot == std::string_view::npos ? name.size() : dot;
    const size_t length = end - start;
    if (length == 0 || length > 63) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

asio::awaitable<SpfResult> check_host(dns::Resolver& resolver, const CheckRequest& request) {
  auto evaluator = std::make_unique<Evaluator>(resolver, request);
  SpfResult result = co_await evaluator->run();
  co_return result;
}

}  // namespace moat::spf
