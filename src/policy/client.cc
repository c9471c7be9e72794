// The pooled policy client (see client.h).
//
// How the pieces fit:
// - query() is one coroutine per request: up to try_limit attempts, each
//   on a connection of its own choosing, retry_delay apart.
// - A Pool holds an endpoint's open connections (at most max_connections,
//   so finding an idle one by a scan is cheap). A busy connection belongs
//   to the one attempt using it; an idle one waits in the pool.
// - Each connection has one timer: while busy it is the current step's
//   deadline (it closes the socket, so the step ends with an error); while
//   idle it is the earlier of max_idle and max_ttl (it drops the
//   connection). A generation number makes a stale firing do nothing.
// - Coroutines that sleep (waiting for a free connection, or between
//   attempts) register their timer, so shutdown() can wake them; every
//   coroutine holds the Impl, so nothing it touches goes away under it.
#include "policy/client.h"

#include <sys/un.h>

#include <algorithm>
#include <array>
#include <list>
#include <optional>
#include <unordered_map>
#include <vector>

#include <asio/generic/stream_protocol.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

namespace moat::policy {
namespace {

using Clock = std::chrono::steady_clock;
using Socket = asio::generic::stream_protocol::socket;
using Result = std::expected<std::string, std::string>;

constexpr auto kShutDown = "policy client shut down";

// One socket to a policy server; carries one request at a time.
struct Connection {
  explicit Connection(asio::io_context& loop) : socket(loop), resolver(loop), timer(loop) {}

  void close() {
    asio::error_code ignored;
    socket.close(ignored);
    resolver.cancel();
    timer.cancel();
  }

  Socket socket;
  asio::ip::tcp::resolver resolver;
  asio::steady_timer timer;  // the step's deadline, or the idle limit
  unsigned generation = 0;   // which arming of `timer` counts
  bool timed_out = false;
  bool connected = false;
  bool idle = false;
  Clock::time_point born = Clock::now();
  Clock::time_point last_used;
  int requests = 0;
  Reader reader;
  std::array<char, 4096> input;
};

using ConnectionPtr = std::shared_ptr<Connection>;

struct Sleeper;

struct Pool {
  std::vector<ConnectionPtr> connections;  // idle, busy or connecting
  std::list<Sleeper*> waiting;             // for a free slot, oldest first
};

// A coroutine's own timer while it sleeps; listed so that it can be woken.
struct Sleeper {
  Sleeper(asio::io_context& loop, std::list<Sleeper*>& all) : timer(loop), all(all) {
    in_all = all.insert(all.end(), this);
  }
  ~Sleeper() {
    all.erase(in_all);
    if (pool) pool->waiting.erase(*in_pool);
  }
  void wait_in(Pool& p) {
    pool = &p;
    in_pool = p.waiting.insert(p.waiting.end(), this);
  }
  // Takes it off the pool's list and wakes it; false if it had woken already.
  bool wake() {
    pool->waiting.erase(*in_pool);
    pool = nullptr;
    return timer.cancel() > 0;
  }

  asio::steady_timer timer;
  std::list<Sleeper*>& all;
  std::list<Sleeper*>::iterator in_all;
  Pool* pool = nullptr;
  std::optional<std::list<Sleeper*>::iterator> in_pool;
};

}  // namespace

struct PolicyClient::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, size_t max) : loop(io), max_connections(std::max<size_t>(max, 1)) {}

  // --- the pool ---

  // An idle connection, a new unconnected one, or an error when none came
  // free within the timeout.
  asio::awaitable<std::expected<ConnectionPtr, std::string>> acquire(Pool& pool,
                                                                     const Endpoint& endpoint,
                                                                     const ClientSettings& s) {
    const auto give_up = Clock::now() + s.timeout;
    while (true) {
      if (shut_down) co_return std::unexpected(kShutDown);
      // The most recently used: the others then reach max_idle and close.
      ConnectionPtr best;
      for (const auto& c : pool.connections) {
        if (c->idle && (!best || c->last_used > best->last_used)) best = c;
      }
      if (best) {
        best->idle = false;
        ++best->generation;
        best->timer.cancel();
        co_return best;
      }
      if (pool.connections.size() < max_connections) {
        pool.connections.push_back(std::make_shared<Connection>(loop));
        co_return pool.connections.back();
      }
      if (Clock::now() >= give_up) {
        co_return std::unexpected("problem talking to server " + endpoint.text +
                                  ": timeout waiting for a free connection");
      }
      Sleeper sleeper(loop, sleeping);
      sleeper.wait_in(pool);
      sleeper.timer.expires_at(give_up);
      asio::error_code ignored;
      co_await sleeper.timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    }
  }

  void wake_one(Pool& pool) {
    while (!pool.waiting.empty()) {
      if (pool.waiting.front()->wake()) return;
    }
  }

  void drop(Pool& pool, const ConnectionPtr& c) {
    c->close();
    std::erase(pool.connections, c);
    wake_one(pool);
  }

  // Back to the pool, idle until max_idle (or max_ttl) closes it.
  void park(Pool& pool, const ConnectionPtr& c, const ClientSettings& s) {
    const auto now = Clock::now();
    c->idle = true;
    c->last_used = now;
    const unsigned generation = ++c->generation;
    c->timer.expires_at(std::min(now + s.max_idle, c->born + s.max_ttl));
    c->timer.async_wait([self = shared_from_this(), &pool, c, generation](asio::error_code ec) {
      if (ec || c->generation != generation || !c->idle) return;
      self->drop(pool, c);
    });
    wake_one(pool);
  }

  // Starts the deadline of one step (connect, write, read).
  static void arm(const ConnectionPtr& c, std::chrono::milliseconds limit) {
    const unsigned generation = ++c->generation;
    c->timed_out = false;
    c->timer.expires_after(limit);
    c->timer.async_wait([c, generation](asio::error_code ec) {
      if (ec || c->generation != generation) return;
      c->timed_out = true;
      asio::error_code ignored;
      c->socket.close(ignored);
      c->resolver.cancel();
    });
  }

  static void disarm(const ConnectionPtr& c) {
    ++c->generation;
    c->timer.cancel();
  }

  // --- one attempt ---

  asio::awaitable<Result> attempt(const Endpoint& endpoint, const ClientSettings& s,
                                  const std::string& request) {
    Pool& pool = pools[endpoint.text];
    auto got = co_await acquire(pool, endpoint, s);
    if (!got) co_return std::unexpected(got.error());
    const ConnectionPtr c = std::move(*got);
    Result answer;
    if (!c->connected) {
      std::string why = co_await connect(c, endpoint, s);
      if (!why.empty()) answer = std::unexpected(std::move(why));
    }
    if (answer) answer = co_await exchange(c, endpoint, s, request);
    if (shut_down) co_return std::unexpected(kShutDown);
    if (!answer) {
      drop(pool, c);
      co_return answer;
    }
    ++c->requests;
    const bool spent = (s.request_limit > 0 && c->requests >= s.request_limit) ||
                       Clock::now() - c->born >= s.max_ttl;
    // Bytes beyond the answer: the server is out of step with us.
    const bool in_step = c->reader.pending_bytes() == 0 && !c->reader.next();
    if (spent || !in_step) {
      drop(pool, c);
    } else {
      park(pool, c, s);
    }
    co_return answer;
  }

  // "" or why not, in Postfix's words ("connect to HOST:PORT: ...").
  asio::awaitable<std::string> connect(const ConnectionPtr& c, const Endpoint& endpoint,
                                       const ClientSettings& s) {
    const std::string failed = "connect to " + endpoint.address() + ": ";
    asio::error_code ec;
    auto token = asio::redirect_error(asio::use_awaitable, ec);
    arm(c, s.timeout);
    if (endpoint.kind == Endpoint::Kind::kUnix) {
      // Asio throws on a path longer than sockaddr_un holds.
      if (endpoint.path.size() >= sizeof(sockaddr_un::sun_path)) co_return failed + "path too long";
      co_await c->socket.async_connect(asio::local::stream_protocol::endpoint(endpoint.path),
                                       token);
    } else {
      const auto found = co_await c->resolver.async_resolve(endpoint.host, endpoint.port, token);
      if (!ec && found.empty()) ec = asio::error::host_not_found;
      if (!ec) {
        for (const auto& entry : found) {
          if (c->timed_out) break;
          asio::error_code ignored;
          c->socket.close(ignored);
          co_await c->socket.async_connect(entry.endpoint(), token);
          if (!ec) break;
        }
      }
    }
    disarm(c);
    if (c->timed_out) co_return failed + "Connection timed out";
    if (ec) co_return failed + ec.message();
    c->connected = true;
    ++stats.connects;
    co_return "";
  }

  // Writes the request and reads the answer's action.
  asio::awaitable<Result> exchange(const ConnectionPtr& c, const Endpoint& endpoint,
                                   const ClientSettings& s, const std::string& request) {
    const std::string problem = "problem talking to server " + endpoint.text + ": ";
    asio::error_code ec;
    auto token = asio::redirect_error(asio::use_awaitable, ec);
    c->reader = Reader();
    ++stats.requests;
    arm(c, s.timeout);
    co_await asio::async_write(c->socket, asio::buffer(request), token);
    if (c->timed_out) co_return std::unexpected(problem + "write timeout");
    if (ec) co_return std::unexpected(problem + ec.message());
    // One deadline for the whole answer: a server trickling bytes cannot
    // hold a session longer than the timeout.
    arm(c, s.timeout);
    while (true) {
      if (auto answer = c->reader.next()) {
        disarm(c);
        const std::string* action = find(*answer, "action");
        if (!action) co_return std::unexpected(problem + "answer without action=");
        co_return *action;
      }
      const size_t n = co_await c->socket.async_read_some(asio::buffer(c->input), token);
      if (c->timed_out) co_return std::unexpected(problem + "read timeout");
      if (ec == asio::error::eof)
        co_return std::unexpected(problem + "connection closed by server");
      if (ec) co_return std::unexpected(problem + ec.message());
      if (!c->reader.feed(std::string_view(c->input.data(), n))) {
        co_return std::unexpected(problem + "bad answer: " + c->reader.error());
      }
    }
  }

  asio::awaitable<void> pause(std::chrono::milliseconds delay) {
    Sleeper sleeper(loop, sleeping);
    sleeper.timer.expires_after(delay);
    asio::error_code ignored;
    co_await sleeper.timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }

  static asio::awaitable<Result> query(std::shared_ptr<Impl> impl, Endpoint endpoint,
                                       ClientSettings settings, Attributes request) {
    if (!find(request, "policy_context")) {
      request.push_back({"policy_context", settings.policy_context});
    }
    const std::string bytes = encode(request);
    const int tries = std::max(1, settings.try_limit);
    for (int attempt = 1;; ++attempt) {
      Result answer = co_await impl->attempt(endpoint, settings, bytes);
      if (answer || impl->shut_down || attempt >= tries) co_return answer;
      co_await impl->pause(settings.retry_delay);
      if (impl->shut_down) co_return std::unexpected(kShutDown);
    }
  }

  void shutdown() {
    shut_down = true;
    for (auto& [text, pool] : pools) {
      for (const auto& c : pool.connections) c->close();
      pool.connections.clear();
    }
    for (Sleeper* sleeper : sleeping) sleeper->timer.cancel();
  }

  asio::io_context& loop;
  const size_t max_connections;
  bool shut_down = false;
  PolicyStats stats;
  // By endpoint text. Never shrinks: endpoints come from the configuration.
  std::unordered_map<std::string, Pool> pools;
  std::list<Sleeper*> sleeping;
};

PolicyClient::PolicyClient(asio::io_context& loop, size_t max_connections)
    : impl_(std::make_shared<Impl>(loop, max_connections)) {}

PolicyClient::~PolicyClient() {
  impl_->shutdown();
}

const PolicyStats& PolicyClient::stats() const {
  return impl_->stats;
}

asio::awaitable<std::expected<std::string, std::string>> PolicyClient::query(
    Endpoint endpoint, ClientSettings settings, Attributes request) {
  // Not a coroutine itself: the Impl is taken now, while this client is
  // surely alive, and held until the query ends.
  return Impl::query(impl_, std::move(endpoint), std::move(settings), std::move(request));
}

}  // namespace moat::policy
