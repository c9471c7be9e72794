// The SPF results one SMTP session's restrictions asked for: what
// dns::AnswerSet is for DNS answers, for check_host() results.
//
// The restriction engine never waits. check_spf asks find() for the result
// of an identity (sender, HELO name); when it is not known yet the question
// is noted and the restriction says "pending". The session then awaits
// evaluate_needed(), which runs check_host() for every noted question, and
// evaluates the check again: now the results are here. They stay until
// clear() (the session calls it when a mail transaction ends), so every
// recipient of a transaction sees the result computed for the first.
//
// Single-threaded, like the session that owns it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <asio/awaitable.hpp>

#include "spf/check_host.h"

namespace moat::dns {
class Resolver;
}

namespace moat::spf {

class ResultSet {
 public:
  // The result of check_host() for `sender` ("" = the null sender, checked
  // as postmaster@HELO) and `helo`, or null: the question is then noted.
  const SpfResult* find(std::string_view sender, std::string_view helo);

  bool has_needed() const;
  // Evaluates every noted question for this client through `resolver`
  // (null: each is a temperror). Their TXT records are asked for all at
  // once first, so the evaluations mostly find them in the cache. Logs
  // one line per result, prefixed with `who` ("NAME[IP]").
  asio::awaitable<void> evaluate_needed(dns::Resolver* resolver, std::string_view client_ip,
                                        std::string_view receiver, std::string_view who);

  // Sets a result as if it had been evaluated (tests; the policy server).
  void put(std::string_view sender, std::string_view helo, SpfResult result);
  void clear() { entries_.clear(); }

 private:
  struct Entry {
    std::string sender;
    std::string helo;
    std::optional<SpfResult> result;  // empty: noted, not evaluated yet
  };
  Entry* entry(std::string_view sender, std::string_view helo);

  std::vector<Entry> entries_;  // a handful per transaction: a flat list
};

}  // namespace moat::spf
