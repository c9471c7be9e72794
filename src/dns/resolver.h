// The asynchronous stub resolver: c-ares driven from an Asio event loop,
// with a bounded cache in front.
//
// One Resolver per worker thread (per io_context); it is not thread-safe and
// every call and completion happens on that loop's thread. c-ares's sockets
// are watched by Asio and its timeouts run on an Asio timer, so a lookup
// never blocks the loop. Servers come from /etc/resolv.conf unless
// Options::servers names them ("127.0.0.1:5353", "[::1]:53"); c-ares
// retries, rotates servers and falls back to TCP on a truncated answer.
//
// Cache: answers are kept for their TTL (negative ones for the SOA minimum,
// RFC 2308), at most Options::cache_entries of them, least recently used
// first out; temporary failures are not cached. A cache hit never touches
// c-ares. Lookups of the same name and type that overlap share one query.
// CNAMEs are followed (at most 8 queries per lookup) when the server did
// not put the target's records in the same answer.
//
// A name that cannot be a DNS name (empty label, label over 63 octets,
// name over 255) is never asked: kNxDomain with error "invalid name".
// SERVFAIL and REFUSED answers are final (no next server: c-ares 1.18 would
// report them as "connection refused"). A Resolver must not outlive its
// io_context: destroy it first, and lookups still waiting complete with
// kTempFail ("resolver shut down") when the loop runs again. One kept alive
// only by lookups waiting in it goes away with the io_context.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>

#include "dns/message.h"

namespace moat::dns {

struct Options {
  std::vector<std::string> servers;         // empty: /etc/resolv.conf
  std::chrono::milliseconds timeout{5000};  // per try
  int tries = 2;                            // per server
  size_t cache_entries = 20000;

  bool operator==(const Options&) const = default;
};

using AnswerPtr = std::shared_ptr<const Answer>;

// Counters for tests and benchmarks.
struct ResolverStats {
  uint64_t lookups = 0;     // calls of lookup()
  uint64_t cache_hits = 0;  // answered from the cache
  uint64_t queries = 0;     // questions sent through c-ares
  uint64_t joined = 0;      // lookups that shared a query already in flight
};

class Resolver {
 public:
  // Throws std::runtime_error when c-ares cannot be set up (bad server
  // list): a configuration error, checked before any session starts.
  Resolver(asio::io_context& io, Options options);
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  const Options& options() const { return options_; }

  // The cached answer, or null; never starts a query.
  AnswerPtr cached(std::string_view name, Type type);
  // Starts a lookup unless it is cached or in flight; does not wait.
  void prefetch(std::string_view name, Type type);
  // The answer, from the cache or from the servers. Never throws for DNS
  // trouble: that is an Answer with Status::kTempFail.
  asio::awaitable<AnswerPtr> lookup(std::string_view name, Type type);

  const ResolverStats& stats() const { return stats_; }

  // Checks a server list ("HOST:PORT ..."); empty string when usable, else
  // why not. For config checks.
  static std::string check_servers(const std::vector<std::string>& servers);

 private:
  struct Impl;
  Options options_;
  ResolverStats stats_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace moat::dns
