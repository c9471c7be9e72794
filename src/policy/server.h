// moat as a policy server: Postfix's check_policy_service (SMTPD_POLICY_README)
// connects here, keeps the connection open and sends requests one at a time;
// each gets "action=VALUE" back. This unit owns the sockets, the framing, the
// order of answers, the limits and the idle timeout; deciding the action is
// the Handler's work.
//
// Threading: bind() once, then start_on() once per worker event loop (the
// SMTP server's loops, so a handler may use that loop's resolver and state
// store). Each listening socket is bound once and every loop accepts from its
// own dup() of it: whichever loop is ready takes a new connection, which then
// lives on that loop until it closes. One scheme serves TCP and unix sockets
// alike (a unix socket cannot be SO_REUSEPORTed); Postfix keeps policy
// connections open for minutes, so accepts are rare and the few loops that
// wake for one and find it taken cost nothing worth a second scheme.
//
// Per connection: requests are answered in the order they arrive, pipelined
// or not. A malformed request (a line too long, too many lines, a NUL byte,
// a line without "=") is logged and closes that connection only. A request
// without "request=smtpd_access_policy" is logged and not answered, as
// postgrey does. A connection idle (or not reading its answers) for
// idle_timeout is closed. Nothing is read while a request is being decided,
// so a client's unanswered input stays bounded by one read.
#pragma once

#include <sys/types.h>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "policy/attributes.h"
#include "policy/listen_address.h"

namespace moat::policy {

class Server {
 public:
  // The action for one request: the value of the "action=" answer line
  // ("DUNNO", "DEFER_IF_PERMIT Greylisted ..."). Runs on the loop that owns
  // the connection; `request` lives until the returned awaitable finishes. An
  // exception is logged as an error and closes the connection (Postfix then
  // reports a temporary failure, never a wrong answer).
  using Handler = std::function<asio::awaitable<std::string>(const Attributes& request)>;
  // Makes the Handler of one new connection, on its loop. A handler may keep
  // state for the connection's life (a Responder's answers for one mail
  // transaction, the config snapshot the connection started with).
  using MakeHandler = std::function<Handler()>;

  struct Options {
    std::chrono::milliseconds idle_timeout = std::chrono::seconds(100);  // moat_policy_timeout
    mode_t socket_mode = 0666;  // unix sockets; postgrey's --socketmode default
    Reader::Limits limits;
  };

  explicit Server(std::vector<ListenAddress> addresses) : Server(std::move(addresses), Options{}) {}
  Server(std::vector<ListenAddress> addresses, Options options);
  // stop()s. Loops may keep running: what they still hold does not refer
  // here. The loops must outlive this call (stop() posts to them).
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds every address; returns an error text naming the address on the
  // first failure (nothing stays bound then). A unix socket's file is
  // replaced when it is a stale socket, and refused when it is anything else
  // or a live server answers on it.
  std::string bind();
  // The bound addresses, with the kernel's port where port 0 was asked for.
  const std::vector<ListenAddress>& addresses() const { return addresses_; }

  // Accepts on `loop` too, each connection answered by a handler from
  // `make_handler` (once per loop; any thread). Returns an error text when
  // the loop cannot get the sockets.
  std::string start_on(asio::io_context& loop, MakeHandler make_handler);

  // Stops accepting, closes every connection on every loop (each loop does
  // so when it next runs), and removes the unix socket files this server
  // made. Any thread; idempotent.
  void stop();

  // Open connections, over all loops (for tests and a graceful shutdown).
  size_t active_connections() const;

 private:
  struct Shared;
  struct Loop;
  struct Bound;

  std::vector<ListenAddress> addresses_;
  std::shared_ptr<Shared> shared_;
  std::mutex mutex_;  // guards bound_, loops_ and stopped_
  std::vector<Bound> bound_;
  std::vector<std::shared_ptr<Loop>> loops_;
  bool stopped_ = false;
};

}  // namespace moat::policy
