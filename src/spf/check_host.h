// The SPF evaluator: RFC 7208's check_host() over moat's asynchronous
// resolver. Given the client address, the MAIL FROM (or, for the null
// sender, the HELO identity "postmaster@HELO", 2.4) and the HELO name, it
// fetches the sender domain's record (4.4, 4.5), evaluates its mechanisms
// (5) and modifiers (6) with the DNS processing limits of 4.6.4 (10 terms
// that query DNS, 2 void lookups, 10 MX and PTR names) and returns one of
// the seven results with, for "fail", the explanation (6.2).
//
// Domain names are expanded with macro.h and handed to the resolver in
// presentation form; a name that cannot be queried (empty label, label over
// 63 octets) is "does not exist": no match for a, mx, exists; "none" for
// include and redirect targets, so permerror there (5.2, 6.1).
//
// Not here: record parsing (record.h), macro expansion (macro.h), what a
// restriction does with the result.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <asio/awaitable.hpp>

#include "dns/resolver.h"
#include "spf/macro.h"

namespace moat::spf {

// The explanation of a "fail" when the record has no usable exp= (6.2):
// the words policyd-spf (pyspf) gives, which administrators know from its
// "Message rejected due to: SPF fail - not authorized" replies.
inline constexpr std::string_view kDefaultExplanation = "SPF fail - not authorized";

enum class Result { kNone, kNeutral, kPass, kFail, kSoftFail, kTempError, kPermError };

std::string_view result_name(Result result);  // "none", "neutral", "pass", ...

struct CheckRequest {
  std::string client_ip;             // "192.0.2.1", "2001:db8::1"; used unless `ip` is set
  std::optional<ClientIp> ip;        // parsed form, takes precedence
  std::string sender;                // MAIL FROM address without <>; "" = null sender
  std::string helo;                  // HELO/EHLO name
  std::string receiver = "unknown";  // %{r}
  uint64_t timestamp = 0;            // %{t}, seconds since the epoch
};

struct SpfResult {
  Result result = Result::kNone;
  std::string explanation;  // for kFail: the exp= text or kDefaultExplanation
  std::string comment;      // a short reason, for logs and Received-SPF
};

// RFC 7208 4: check_host(<ip>, <domain>, <sender>) for the request's
// identity. Never throws for DNS or record trouble: those are results.
// The request is copied when the coroutine first runs: it must be alive
// until then (co_await the call directly, as usual).
asio::awaitable<SpfResult> check_host(dns::Resolver& resolver, const CheckRequest& request);

// The name as the resolver takes it: bytes outside 0x21..0x7e and '\\' as
// "\DDD" (labels are separated by the dots, which are kept).
std::string presentation_name(std::string_view raw);

// True when every label of raw (one trailing dot allowed) has 1..63 octets
// and the whole fits in 253: a name a DNS query can carry.
bool queryable_name(std::string_view raw);

}  // namespace moat::spf
