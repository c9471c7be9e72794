// One pipelined connection to a Redis server, shared by every coroutine of
// one event loop (the Redis store's transport).
//
// call() sends a command at once, without waiting for earlier ones: many
// sessions' commands are in flight together and replies are matched to
// them in order. Commands made in the same turn of the loop go out in one
// write.
//
// The connection looks after itself:
// - On every (re)connect it sends AUTH (with a password), SELECT (with a
//   database other than 0) and PING, and only then lets commands through,
//   so no command ever runs unauthenticated or in the wrong database.
// - Every call has a deadline (RedisOptions::timeout). A call past it fails
//   with "timed out", and so does every call behind it: the connection is
//   dropped and made anew, since later replies could no longer be matched.
// - At most 100000 calls wait at once; more fail at once.
// - A lost connection is re-made at once; a failed connect waits
//   (exponential backoff, bounded by backoff_max). While waiting, calls
//   fail at once with the last failure's reason rather than queue.
//
// Not thread-safe: make it on any thread, then use it only on its loop's
// thread. Destroy it before its io_context; calls still waiting then
// complete with an error when the loop runs again.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>

#include "state/redis_options.h"
#include "state/resp.h"
#include "state/store.h"

namespace moat::state {

// Counters for tests.
struct RedisStats {
  uint64_t connects = 0;  // handshakes that succeeded
  uint64_t calls = 0;     // commands sent
};

class RedisConnection {
 public:
  // Starts connecting at once (when the loop runs).
  RedisConnection(asio::io_context& loop, RedisOptions options);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // The reply, which may be an error reply (kError: the server answered
  // "no"). An error text when there was no reply: not connected, timed out,
  // connection lost, shut down. Texts start with "redis ADDRESS: ".
  asio::awaitable<Result<resp::Reply>> call(std::vector<std::string> args);

  // Fails every waiting call and stops for good; later calls fail at once.
  void shutdown();

  const RedisOptions& options() const;
  const RedisStats& stats() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace moat::state
