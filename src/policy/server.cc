#include "policy/server.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/generic/stream_protocol.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/socket_base.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <list>

#include <fmt/format.h>

#include "log/log.h"

namespace moat::policy {
namespace {

using Protocol = asio::generic::stream_protocol;
using Socket = Protocol::socket;
using Acceptor = asio::basic_socket_acceptor<Protocol>;
using Clock = std::chrono::steady_clock;
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

std::string system_error(std::string_view what, const ListenAddress& address) {
  return fmt::format("{} {}: {}", what, address.text(), std::strerror(errno));
}

// Whether a server answers on the unix socket at `path` (then its file is
// not stale and must not be removed).
bool unix_socket_answers(const sockaddr_un& address) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const bool answers =
      ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0 ||
      errno == EAGAIN;  // alive, its backlog full
  ::close(fd);
  return answers;
}

// Client text for log lines: "127.0.0.1:40000", "[::1]:40000", or for a
// unix socket (whose clients have no address) "pid 123 on unix:/path".
std::string client_name(Socket& socket) {
  const int fd = socket.native_handle();
  sockaddr_storage peer{};
  socklen_t size = sizeof peer;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &size) != 0) return "unknown client";
  if (peer.ss_family == AF_UNIX) {
    sockaddr_un local{};
    socklen_t local_size = sizeof local - 1;  // keeps a NUL after the path
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_size);
    ucred credentials{};
    socklen_t credentials_size = sizeof credentials;
    ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &credentials_size);
    return fmt::format("pid {} on unix:{}", credentials.pid, local.sun_path);
  }
  asio::ip::tcp::endpoint endpoint;
  std::memcpy(endpoint.data(), &peer, std::min<size_t>(size, endpoint.capacity()));
  endpoint.resize(std::min<size_t>(size, endpoint.capacity()));
  const auto host = endpoint.address().to_string();
  return endpoint.address().is_v6() ? fmt::format("[{}]:{}", host, endpoint.port())
                                    : fmt::format("{}:{}", host, endpoint.port());
}

// A peer's text made safe and short for a log line.
std::string printable(std::string_view text) {
  std::string out(text.substr(0, 100));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

}  // namespace

struct Server::Shared {
  explicit Shared(Options o) : options(std::move(o)) {}
  const Options options;
  std::atomic<size_t> connections{0};
};

// A listening socket, bound once; each loop accepts from its own dup().
struct Server::Bound {
  int fd = -1;
  int family = AF_UNSPEC;
  std::string path;  // unix: the file this server made, removed at stop
  dev_t device = 0;
  ino_t inode = 0;

  void release() {
    if (fd >= 0) ::close(fd);
    fd = -1;
    // Only our own file: a newer server may have replaced it since.
    struct stat now {};
    if (!path.empty() && ::lstat(path.c_str(), &now) == 0 && now.st_dev == device &&
        now.st_ino == inode) {
      ::unlink(path.c_str());
    }
    path.clear();
  }
};

// One worker loop's share: its acceptors and its open connections. Touched
// only on that loop's thread (start_on and stop post to it); what runs there
// holds it by shared_ptr, so it outlives the Server if the loop does.
struct Server::Loop : std::enable_shared_from_this<Loop> {
  struct Connection {
    explicit Connection(Socket s) : socket(std::move(s)) {}
    Socket socket;
    // Waiting on the peer until then; the idle watch closes the socket once
    // past. max() while the handler decides: that time is not the peer's.
    Clock::time_point deadline = Clock::time_point::max();
  };
  using Connections = std::list<Connection>;

  Loop(asio::io_context& loop, MakeHandler make, std::shared_ptr<Shared> s)
      : io(loop), make_handler(std::move(make)), shared(std::move(s)), idle_watch(loop) {}

  void accept(Acceptor& acceptor);
  void admit(Socket socket);
  void watch_idle();
  void close_all();
  static asio::awaitable<void> serve(std::shared_ptr<Loop> self, Connections::iterator connection);

  asio::io_context& io;
  const MakeHandler make_handler;
  const std::shared_ptr<Shared> shared;
  std::vector<std::unique_ptr<Acceptor>> acceptors;
  Connections connections;
  asio::steady_timer idle_watch;
  bool watching = false;
  bool stopped = false;
  // One read buffer for all of this loop's connections: a connection reads
  // only once its socket is readable and hands the bytes to its Reader at
  // once, so an idle connection holds no buffer of its own.
  std::array<char, 16384> read_buffer;
};

void Server::Loop::accept(Acceptor& acceptor) {
  acceptor.async_accept([self = shared_from_this(), &acceptor](asio::error_code ec, Socket socket) {
    if (self->stopped) return;
    if (!ec) {
      self->admit(std::move(socket));
    } else if (ec != asio::error::connection_aborted) {
      // Out of descriptors or memory: accepting again at once would spin
      // on the same error, so pause.
      log::warning("policy", "accept: {}", ec.message());
      auto pause = std::make_shared<asio::steady_timer>(self->io, std::chrono::milliseconds(100));
      pause->async_wait([self, &acceptor, pause](asio::error_code) {
        if (!self->stopped) self->accept(acceptor);
      });
      return;
    }
    self->accept(acceptor);
  });
}

void Server::Loop::admit(Socket socket) {
  asio::error_code ignored;
  socket.non_blocking(true, ignored);  // serve() reads without blocking once readable
  if (socket.local_endpoint(ignored).protocol().family() != AF_UNIX) {
    socket.set_option(asio::ip::tcp::no_delay(true), ignored);  // answers are whole: send now
  }
  ++shared->connections;
  const auto connection = connections.emplace(connections.end(), std::move(socket));
  if (!watching) watch_idle();
  asio::co_spawn(io, serve(shared_from_this(), connection), [](std::exception_ptr error) {
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      log::error("policy", "connection ended by exception: {}", e.what());
    }
  });
}

// One timer per loop instead of one per connection: each tick compares
// every connection's deadline, O(connections), which for a few thousand
// persistent connections is microseconds, and saves each connection a timer.
void Server::Loop::watch_idle() {
  watching = !stopped && !connections.empty();
  if (!watching) return;
  const auto tick = std::clamp<std::chrono::milliseconds>(
      shared->options.idle_timeout / 10, std::chrono::milliseconds(1), std::chrono::seconds(1));
  idle_watch.expires_after(tick);
  idle_watch.async_wait([self = shared_from_this()](asio::error_code ec) {
    if (ec) {
      self->watching = false;
      return;
    }
    const auto now = Clock::now();
    for (auto& connection : self->connections) {
      if (connection.deadline <= now) {
        asio::error_code ignored;
        connection.socket.close(ignored);  // its serve() wakes with an error and ends
        connection.deadline = Clock::time_point::max();
      }
    }
    self->watch_idle();
  });
}

void Server::Loop::close_all() {
  stopped = true;
  asio::error_code ignored;
  for (auto& acceptor : acceptors) acceptor->close(ignored);
  idle_watch.cancel();
  for (auto& connection : connections) connection.socket.close(ignored);
}

asio::awaitable<void> Server::Loop::serve(std::shared_ptr<Loop> self,
                                          Connections::iterator connection) {
  struct Leave {  // however the coroutine ends
    Loop& loop;
    Connections::iterator connection;
    ~Leave() {
      loop.connections.erase(connection);
      --loop.shared->connections;
    }
  } leave{*self, connection};
  auto& socket = connection->socket;
  const auto& options = self->shared->options;
  const Handler handler = self->make_handler();
  Reader reader(options.limits);
  for (;;) {
    connection->deadline = Clock::now() + options.idle_timeout;
    if (auto [ec] = co_await socket.async_wait(Socket::wait_read, use_tuple); ec) co_return;
    asio::error_code ec;
    const size_t size = socket.read_some(asio::buffer(self->read_buffer), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) continue;
    if (ec) co_return;  // end of file, reset, or closed: the client is done
    connection->deadline = Clock::time_point::max();
    reader.feed(std::string_view(self->read_buffer.data(), size));

    // Requests that arrived whole are answered in order, in one write.
    std::string answers;
    while (auto request = reader.next()) {
      const std::string* type = find(*request, "request");
      if (type == nullptr || *type != "smtpd_access_policy") {
        // As postgrey: logged, not answered, the connection kept.
        log::warning("policy", "unrecognized request type \"{}\" from {}",
                     printable(type ? *type : ""), client_name(socket));
        continue;
      }
      std::string action;
      try {
        action = co_await handler(*request);
      } catch (const std::exception& e) {
        log::error("policy", "request from {}: {}; closing the connection", client_name(socket),
                   e.what());
        co_return;
      }
      answers += encode({{"action", std::move(action)}});
    }
    if (!answers.empty()) {
      connection->deadline = Clock::now() + options.idle_timeout;  // a client must read
      auto [written, _] = co_await asio::async_write(socket, asio::buffer(answers), use_tuple);
      if (written) co_return;
    }
    if (reader.failed()) {
      log::warning("policy", "malformed request from {}: {}; closing the connection",
                   client_name(socket), reader.error());
      co_return;
    }
  }
}

Server::Server(std::vector<ListenAddress> addresses, Options options)
    : addresses_(std::move(addresses)), shared_(std::make_shared<Shared>(std::move(options))) {}

Server::~Server() {
  stop();
}

std::string Server::bind() {
  std::lock_guard lock(mutex_);
  if (stopped_ || !bound_.empty()) return "policy server: bind() after bind() or stop()";
  auto fail = [this](std::string error) {
    for (auto& bound : bound_) bound.release();
    bound_.clear();
    return error;
  };
  for (auto& address : addresses_) {
    Bound bound;
    if (address.kind == ListenAddress::Kind::kUnix) {
      sockaddr_un name{};
      name.sun_family = AF_UNIX;
      if (address.path.size() >= sizeof name.sun_path) {
        return fail(fmt::format("bind {}: path too long", address.text()));
      }
      std::memcpy(name.sun_path, address.path.data(), address.path.size());
      struct stat existing {};
      if (::lstat(address.path.c_str(), &existing) == 0) {
        if (!S_ISSOCK(existing.st_mode)) {
          return fail(fmt::format("bind {}: the file exists and is not a socket", address.text()));
        }
        if (unix_socket_answers(name)) {
          return fail(fmt::format("bind {}: another server is listening there", address.text()));
        }
        ::unlink(address.path.c_str());  // stale, left by a server that died
      }
      bound.fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      bound.family = AF_UNIX;
      if (bound.fd < 0) return fail(system_error("socket", address));
      if (::bind(bound.fd, reinterpret_cast<sockaddr*>(&name), sizeof name) != 0) {
        const auto error = system_error("bind", address);
        ::close(bound.fd);
        return fail(error);
      }
      struct stat made {};
      ::lstat(address.path.c_str(), &made);
      bound.path = address.path;
      bound.device = made.st_dev;
      bound.inode = made.st_ino;
      if (::chmod(address.path.c_str(), shared_->options.socket_mode) != 0) {
        const auto error = system_error("chmod", address);
        bound.release();
        return fail(error);
      }
    } else {
      bound.family = address.inet.address().is_v6() ? AF_INET6 : AF_INET;
      bound.fd = ::socket(bound.family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
      if (bound.fd < 0) return fail(system_error("socket", address));
      const int one = 1;
      ::setsockopt(bound.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      if (bound.family == AF_INET6) {
        ::setsockopt(bound.fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
      }
      if (::bind(bound.fd, address.inet.data(), static_cast<socklen_t>(address.inet.size())) != 0) {
        const auto error = system_error("bind", address);
        ::close(bound.fd);
        return fail(error);
      }
      // Port 0 asks the kernel for one: tell which.
      socklen_t size = static_cast<socklen_t>(address.inet.capacity());
      if (::getsockname(bound.fd, address.inet.data(), &size) == 0) address.inet.resize(size);
    }
    if (::listen(bound.fd, SOMAXCONN) != 0) {
      const auto error = system_error("listen", address);
      bound.release();
      return fail(error);
    }
    bound_.push_back(std::move(bound));
  }
  return {};
}

std::string Server::start_on(asio::io_context& io, MakeHandler make_handler) {
  std::lock_guard lock(mutex_);
  if (stopped_) return "policy server: start_on() after stop()";
  if (bound_.size() != addresses_.size()) return "policy server: start_on() before bind()";
  auto loop = std::make_shared<Loop>(io, std::move(make_handler), shared_);
  for (size_t i = 0; i < bound_.size(); ++i) {
    const int copy = ::fcntl(bound_[i].fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0) return system_error("dup", addresses_[i]);
    auto acceptor = std::make_unique<Acceptor>(io);
    const int protocol = bound_[i].family == AF_UNIX ? 0 : IPPROTO_TCP;
    asio::error_code ec;
    acceptor->assign(Protocol(bound_[i].family, protocol), copy, ec);
    if (ec) {
      ::close(copy);
      return fmt::format("listen {}: {}", addresses_[i].text(), ec.message());
    }
    loop->acceptors.push_back(std::move(acceptor));
  }
  asio::post(io, [loop] {
    if (loop->stopped) return;
    for (auto& acceptor : loop->acceptors) loop->accept(*acceptor);
  });
  loops_.push_back(std::move(loop));
  return {};
}

void Server::stop() {
  std::vector<std::shared_ptr<Loop>> loops;
  std::vector<Bound> bound;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
    loops.swap(loops_);
    bound.swap(bound_);
  }
  for (auto& loop : loops) asio::post(loop->io, [loop] { loop->close_all(); });
  for (auto& b : bound) b.release();
}

size_t Server::active_connections() const {
  return shared_->connections.load();
}

}  // namespace moat::policy
