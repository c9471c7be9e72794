// The DNS answers one SMTP session works with: what its restrictions have
// looked at, and what they still need.
//
// The restriction engine is synchronous and pure; DNS is not. A restriction
// asks the AnswerSet for an answer; when it is not known yet, the question is
// noted as needed and the restriction says "pending". The session then
// awaits fetch_needed() (all needed questions in parallel, through the
// worker's resolver and its cache) and evaluates the check again, which
// now finds the answers here. Answers stay for the session (bounded), so a
// second evaluation sees exactly what the first one asked for, even when
// the resolver's cache has forgotten it (TTL 0) in between.
//
// Single-threaded, like the session that owns it.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <asio/awaitable.hpp>

#include "dns/resolver.h"

namespace moat::dns {

class AnswerSet {
 public:
  // Without a resolver every needed question gets a kTempFail answer ("no
  // resolver") from fetch_needed().
  explicit AnswerSet(std::shared_ptr<Resolver> resolver = nullptr);

  // The answer if this session has it, or the resolver has it cached (it is
  // then kept here too); otherwise null, and the question is noted as needed.
  const Answer* find(std::string_view name, Type type);
  // Starts a lookup the session will probably need, without waiting.
  void prefetch(std::string_view name, Type type);

  bool has_needed() const { return !needed_.empty(); }
  // Looks up every needed question, in parallel; afterwards each has an
  // answer here (a kTempFail one when the DNS failed).
  asio::awaitable<void> fetch_needed();

  // Sets an answer, as if it had been looked up (tests, and answers that
  // come from elsewhere such as a hosts file).
  void put(std::string_view name, Type type, Answer answer);

  // Forgets every answer when there are many (a session asking about
  // thousands of names). Answers found earlier become invalid: call it only
  // between evaluations, never while a restriction holds one.
  void trim();

  Resolver* resolver() const { return resolver_.get(); }

 private:
  // The canonical form of (name, type), built in key_.
  std::string_view key(std::string_view name, Type type);
  const Answer* lookup(std::string_view key) const;
  const Answer* keep(std::string_view key, AnswerPtr answer);

  // A session holds a handful of answers (a few per recipient at most):
  // a flat list searched by hash beats a node-based map, and keeping one
  // costs no allocation once the buffers have grown.
  struct Kept {
    size_t hash;
    size_t offset, size;  // of the key in keys_
    AnswerPtr answer;
  };

  std::shared_ptr<Resolver> resolver_;
  std::vector<Kept> answers_;
  std::string keys_;  // the keys of answers_, back to back
  std::string key_;   // key()'s buffer
  std::vector<std::pair<std::string, Type>> needed_;
};

}  // namespace moat::dns
