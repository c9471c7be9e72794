// The pipelined Redis connection (see redis_connection.h).
//
// How the pieces fit:
// - A Link is one socket's life: connect, handshake, then a read loop.
//   Every handler holds its Link and checks that it is still the current
//   one, so handlers of a dropped socket do nothing.
// - Calls wait in `pending_`, oldest first; their bytes collect in `out_`
//   and go out in one write whenever no write is in flight (that is the
//   pipelining: a busy loop batches commands by itself).
// - All calls share one timeout, so the oldest call's deadline is always
//   the nearest: one timer, re-armed lazily when it fires, serves them all
//   (no timer work per call).
// - Completions are posted, never run inside our handlers: a resumed
//   coroutine may call again while we are still walking `pending_`.
// - Everything a handler may touch after the RedisConnection is gone lives
//   in Impl, held by the handlers through shared_ptr; shutdown() empties
//   `pending_`, so no cycle through a waiting coroutine outlives it.
// - A waiting coroutine may own the Store that owns this connection (a
//   session's shared_ptr), while `pending_` owns the coroutine: a cycle the
//   io_context cannot see. When the io_context shuts down, RedisService
//   destroys those waiting handlers, as Asio's own services do with theirs.
#include "state/redis_connection.h"

#include <sys/un.h>

#include <algorithm>
#include <array>
#include <deque>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/generic/stream_protocol.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

namespace moat::state {
namespace {

using Clock = std::chrono::steady_clock;
using Socket = asio::generic::stream_protocol::socket;

// Calls in flight on one connection at most: the timeout bounds how long
// they wait, this how much memory a stalled server can make them hold.
constexpr size_t kMaxWaiting = 100'000;

// A call waiting for its reply: the coroutine's completion handler behind
// a virtual call (Asio 1.22 has no any_completion_handler).
struct Waiter {
  virtual ~Waiter() = default;
  virtual void complete(Result<resp::Reply> result) = 0;
};

template <typename Handler>
struct HandlerWaiter final : Waiter {
  explicit HandlerWaiter(Handler h) : handler(std::move(h)) {}
  void complete(Result<resp::Reply> result) override {
    auto executor = asio::get_associated_executor(handler);
    asio::post(executor, [h = std::move(handler), r = std::move(result)]() mutable {
      std::move(h)(std::move(r));
    });
  }
  Handler handler;
};

struct Pending {
  std::unique_ptr<Waiter> waiter;
  Clock::time_point deadline;
};

// Something holding handlers the io_context cannot see.
class Abandonable {
 public:
  // Destroys the waiting handlers without running them.
  virtual void abandon() = 0;

 protected:
  ~Abandonable() = default;
};

class RedisService final : public asio::execution_context::service {
 public:
  static inline asio::execution_context::id id;

  explicit RedisService(asio::execution_context& context) : service(context) {}

  void add(Abandonable* connection) { live_.push_back(connection); }
  void remove(Abandonable* connection) { std::erase(live_, connection); }

 private:
  void shutdown() override {
    // Abandoning one may destroy others: work from a copy, skip the gone.
    const std::vector<Abandonable*> snapshot = live_;
    for (Abandonable* connection : snapshot) {
      if (std::find(live_.begin(), live_.end(), connection) != live_.end()) connection->abandon();
    }
  }

  std::vector<Abandonable*> live_;
};

struct Link {
  explicit Link(asio::io_context& loop) : socket(loop), resolver(loop), connect_timer(loop) {}

  void close() {
    asio::error_code ignored;
    socket.close(ignored);
    resolver.cancel();
    connect_timer.cancel();
  }

  Socket socket;
  asio::ip::tcp::resolver resolver;
  asio::steady_timer connect_timer;
  bool timed_out = false;  // the connect took too long
  resp::ReplyReader reader;
  std::array<char, 16384> input;
  std::string writing;  // the bytes of the write in flight
  bool write_busy = false;
};

}  // namespace

struct RedisConnection::Impl final : Abandonable, std::enable_shared_from_this<Impl> {
  enum class State { kConnecting, kReady, kBackingOff, kShutDown };

  Impl(asio::io_context& loop, RedisOptions opts)
      : loop_(loop),
        options(std::move(opts)),
        deadline_timer_(loop),
        retry_timer_(loop),
        backoff_(options.backoff_initial),
        service_(asio::use_service<RedisService>(loop)) {
    service_.add(this);
  }
  ~Impl() { service_.remove(this); }

  void abandon() override {
    state_ = State::kShutDown;
    auto waiting = std::move(pending_);
    pending_.clear();
    // `waiting` dies here, and with it the coroutines (which may release
    // the last owner of this Impl: touch nothing after).
  }

  // --- calls ---

  void submit(std::string bytes, std::unique_ptr<Waiter> waiter) {
    if (state_ == State::kShutDown) return waiter->complete(failure("shut down"));
    if (state_ == State::kBackingOff) return waiter->complete(failure(down_reason_));
    if (pending_.size() >= kMaxWaiting) return waiter->complete(failure("too many calls waiting"));
    ++stats.calls;
    pending_.push_back(Pending{std::move(waiter), Clock::now() + options.timeout});
    out_ += bytes;
    arm_deadline();
    if (state_ == State::kReady) flush();
  }

  std::unexpected<std::string> failure(const std::string& why) const {
    return std::unexpected("redis " + options.address_text() + ": " + why);
  }

  void fail_all(const std::string& why) {
    auto waiting = std::move(pending_);
    pending_.clear();
    out_.clear();
    for (auto& call : waiting) call.waiter->complete(failure(why));
  }

  // --- writing and reading ---

  void flush() {
    if (link_->write_busy || out_.empty()) return;
    link_->writing = std::move(out_);
    out_.clear();
    link_->write_busy = true;
    asio::async_write(link_->socket, asio::buffer(link_->writing),
                      [self = shared_from_this(), link = link_](asio::error_code ec, size_t) {
                        if (self->link_ != link) return;
                        link->write_busy = false;
                        if (ec) return self->lost("write: " + ec.message());
                        self->flush();
                      });
  }

  void read() {
    link_->socket.async_read_some(
        asio::buffer(link_->input),
        [self = shared_from_this(), link = link_](asio::error_code ec, size_t n) {
          if (self->link_ != link) return;
          if (ec == asio::error::eof) return self->lost("connection closed by the server");
          if (ec) return self->lost("read: " + ec.message());
          if (!link->reader.feed(std::string_view(link->input.data(), n))) {
            return self->lost("bad reply: " + link->reader.error());
          }
          resp::Reply reply;
          while (link->reader.next(reply)) {
            if (self->pending_.empty()) return self->lost("a reply to no command");
            auto call = std::move(self->pending_.front());
            self->pending_.pop_front();
            call.waiter->complete(std::move(reply));
          }
          self->read();
        });
  }

  // --- deadlines ---

  void arm_deadline() {
    if (deadline_armed_ || pending_.empty()) return;
    deadline_armed_ = true;
    deadline_timer_.expires_at(pending_.front().deadline);
    deadline_timer_.async_wait([self = shared_from_this()](asio::error_code ec) {
      self->deadline_armed_ = false;
      if (ec || self->state_ == State::kShutDown) return;
      if (!self->pending_.empty() && self->pending_.front().deadline <= Clock::now()) {
        const auto ms = std::to_string(self->options.timeout.count());
        if (self->state_ == State::kConnecting)
          return self->connect_failed("timed out after " + ms + " ms");
        return self->lost("timed out after " + ms + " ms");
      }
      self->arm_deadline();
    });
  }

  // --- connecting ---

  void connect() {
    state_ = State::kConnecting;
    link_ = std::make_shared<Link>(loop_);
    asio::co_spawn(loop_, attempt(shared_from_this(), link_), asio::detached);
  }

  static asio::awaitable<void> attempt(std::shared_ptr<Impl> self, std::shared_ptr<Link> link) {
    link->connect_timer.expires_after(self->options.timeout);
    link->connect_timer.async_wait([link](asio::error_code ec) {
      if (ec) return;
      link->timed_out = true;
      asio::error_code ignored;
      link->socket.close(ignored);
      link->resolver.cancel();
    });
    std::string why = co_await self->open(*link);
    if (why.empty()) why = co_await self->handshake(*link);
    link->connect_timer.cancel();
    if (self->link_ != link) co_return;  // dropped meanwhile
    if (link->timed_out) why = "connect timed out";
    if (!why.empty()) {
      self->connect_failed(why);
      co_return;
    }
    self->state_ = State::kReady;
    self->backoff_ = self->options.backoff_initial;
    ++self->stats.connects;
    self->read();
    self->flush();
  }

  // Connects the link's socket; "" or why not.
  asio::awaitable<std::string> open(Link& link) {
    asio::error_code ec;
    auto token = asio::redirect_error(asio::use_awaitable, ec);
    if (!options.unix_path.empty()) {
      // Asio throws on a path longer than sockaddr_un holds.
      if (options.unix_path.size() >= sizeof(sockaddr_un::sun_path)) co_return "path too long";
      const asio::local::stream_protocol::endpoint path(options.unix_path);
      co_await link.socket.async_connect(path, token);
      co_return ec ? "connect: " + ec.message() : "";
    }
    const auto found =
        co_await link.resolver.async_resolve(options.host, std::to_string(options.port), token);
    if (ec) co_return "resolve " + options.host + ": " + ec.message();
    for (const auto& entry : found) {
      if (link.timed_out) break;
      asio::error_code ignored;
      link.socket.close(ignored);
      co_await link.socket.async_connect(entry.endpoint(), token);
      if (!ec) {
        link.socket.set_option(asio::ip::tcp::no_delay(true), ignored);
        co_return "";
      }
    }
    co_return "connect: " + (ec ? ec.message() : "no address");
  }

  // AUTH, SELECT and PING, checked; "" or why not.
  asio::awaitable<std::string> handshake(Link& link) {
    std::string hello;
    std::vector<std::string_view> names;
    if (!options.password.empty()) {
      resp::append_command(hello, {"AUTH", options.password});
      names.push_back("AUTH");
    }
    const std::string db = std::to_string(options.db);
    if (options.db != 0) {
      resp::append_command(hello, {"SELECT", db});
      names.push_back("SELECT");
    }
    resp::append_command(hello, {"PING"});
    names.push_back("PING");

    asio::error_code ec;
    auto token = asio::redirect_error(asio::use_awaitable, ec);
    co_await asio::async_write(link.socket, asio::buffer(hello), token);
    if (ec) co_return "write: " + ec.message();
    for (std::string_view name : names) {
      resp::Reply reply;
      while (!link.reader.next(reply)) {
        const size_t n = co_await link.socket.async_read_some(asio::buffer(link.input), token);
        if (ec == asio::error::eof) co_return "connection closed by the server";
        if (ec) co_return "read: " + ec.message();
        if (!link.reader.feed(std::string_view(link.input.data(), n))) {
          co_return "bad reply: " + link.reader.error();
        }
      }
      if (reply.type == resp::Reply::Type::kError) co_return std::string(name) + ": " + reply.text;
    }
    co_return "";
  }

  // A connect or handshake failed: wait, then try again.
  void connect_failed(const std::string& why) {
    drop_link();
    down_reason_ = why;
    fail_all(why);
    state_ = State::kBackingOff;
    retry_timer_.expires_after(backoff_);
    backoff_ = std::min(backoff_ * 2, options.backoff_max);
    retry_timer_.async_wait([self = shared_from_this()](asio::error_code ec) {
      if (!ec && self->state_ == State::kBackingOff) self->connect();
    });
  }

  // A working connection broke: what was in flight is lost; reconnect now.
  void lost(const std::string& why) {
    drop_link();
    fail_all(why);
    connect();
  }

  void drop_link() {
    if (link_) link_->close();
    link_.reset();
  }

  void shutdown() {
    state_ = State::kShutDown;
    drop_link();
    deadline_timer_.cancel();
    retry_timer_.cancel();
    fail_all("shut down");
  }

  asio::io_context& loop_;
  const RedisOptions options;
  RedisStats stats;
  State state_ = State::kConnecting;
  std::shared_ptr<Link> link_;
  std::deque<Pending> pending_;
  std::string out_;  // commands not yet written
  asio::steady_timer deadline_timer_;
  bool deadline_armed_ = false;
  asio::steady_timer retry_timer_;
  std::chrono::milliseconds backoff_;
  std::string down_reason_;
  RedisService& service_;
};

RedisConnection::RedisConnection(asio::io_context& loop, RedisOptions options)
    : impl_(std::make_shared<Impl>(loop, std::move(options))) {
  impl_->connect();
}

RedisConnection::~RedisConnection() {
  impl_->shutdown();
}

void RedisConnection::shutdown() {
  impl_->shutdown();
}

const RedisOptions& RedisConnection::options() const {
  return impl_->options;
}

const RedisStats& RedisConnection::stats() const {
  return impl_->stats;
}

asio::awaitable<Result<resp::Reply>> RedisConnection::call(std::vector<std::string> args) {
  std::string bytes;
  std::vector<std::string_view> views(args.begin(), args.end());
  resp::append_command(bytes, views);
  // Not a coroutine itself: the command is encoded now; the Impl is held
  // until the call completes.
  return asio::async_initiate<const asio::use_awaitable_t<>, void(Result<resp::Reply>)>(
      [impl = impl_, bytes = std::move(bytes)](auto handler) mutable {
        using Handler = decltype(handler);
        impl->submit(std::move(bytes),
                     std::make_unique<HandlerWaiter<Handler>>(std::move(handler)));
      },
      asio::use_awaitable);
}

}  // namespace moat::state
