// c-ares on the Asio loop (see resolver.h).
//
// How the pieces fit:
// - c-ares owns its sockets; it tells us through the sock-state callback
//   which ones to watch. Each gets a Watch (a stream_descriptor that only
//   waits, never reads) whose readiness handlers call ares_process_fd. c-ares
//   announces (fd, 0, 0) before it closes a socket: the Watch is released
//   then, so Asio never closes c-ares's fd and a later socket with the same
//   number gets a fresh Watch. Handlers of a released Watch see `active`
//   false and do nothing.
// - c-ares's timeouts run on one steady_timer, re-armed from ares_timeout()
//   after every call into c-ares.
// - Queries are built here (wire.h) and sent with ares_send, so names with
//   "\DDD" escapes go out as their raw labels; the raw answer goes to
//   read_answer(), which is the one judge of what it means.
// - One Flight per (name, type) in flight; lookups that overlap wait on it.
//   Waiting stores the coroutine's completion handler (async_initiate): no
//   thread, no polling. Completions are always posted, never run inside
//   c-ares's callbacks.
// - Everything that may run after the Resolver is gone (socket and timer
//   handlers, resumed lookups) reaches it only through a weak "life" token,
//   which the destructor expires before it tears c-ares down.
//
// Choices worth knowing:
// - A name that cannot be a DNS name (empty label, label over 63 octets,
//   name over 255) gets kNxDomain with error "invalid name" at once: no such
//   name can exist, and asking would only fail.
// - A lookup asks at most kMaxQuestions names (the first and its CNAME
//   targets); longer chains and loops are kTempFail.
// - SERVFAIL and REFUSED from a server are final for the query (see
//   ARES_FLAG_NOCHECKRESP below); timeouts and unreachable servers move on
//   to the next server.
// - The cache holds each question's own answer; a CNAME chain split over
//   several answers is put together again from the cache on every lookup.
#include "dns/resolver.h"

#include <ares.h>
#include <arpa/inet.h>
#include <sys/time.h>

#include <algorithm>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/execution_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <charconv>
#include <cstring>
#include <limits>
#include <mutex>
#include <random>
#include <stdexcept>
#include <unordered_map>

#include "dns/cache.h"
#include "dns/wire.h"

namespace moat::dns {

namespace {

constexpr int kMaxQuestions = 8;

void init_library() {
  static std::once_flag once;
  static int status = ARES_SUCCESS;
  std::call_once(once, [] { status = ares_library_init(ARES_LIB_INIT_ALL); });
  if (status != ARES_SUCCESS) {
    throw std::runtime_error(std::string("c-ares: ") + ares_strerror(status));
  }
}

struct Server {
  int family = AF_INET;
  uint8_t address[16] = {};
  int port = 53;
};

// "IP", "IP:PORT", "IPv6", "[IPv6]", "[IPv6]:PORT". Empty when fine, else why.
std::string parse_server(std::string_view text, Server& out) {
  std::string_view host = text;
  std::string_view port;
  if (text.starts_with('[')) {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return "missing ']'";
    host = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (!rest.starts_with(':')) return "junk after ']'";
      port = rest.substr(1);
      if (port.empty()) return "empty port";
    }
    out.family = AF_INET6;
  } else if (std::count(text.begin(), text.end(), ':') > 1) {
    out.family = AF_INET6;  // a bare IPv6 address, no port
  } else {
    const size_t colon = text.find(':');
    if (colon != std::string_view::npos) {
      host = text.substr(0, colon);
      port = text.substr(colon + 1);
      if (port.empty()) return "empty port";
    }
    out.family = AF_INET;
  }
  const std::string host_text(host);
  if (inet_pton(out.family, host_text.c_str(), out.address) != 1) {
    return out.family == AF_INET6 ? "not an IPv6 address" : "not an IP address";
  }
  if (!port.empty()) {
    int value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value < 1 || value > 65535) {
      return "bad port";
    }
    out.port = value;
  }
  return {};
}

AnswerPtr failure(std::string error) {
  auto answer = std::make_shared<Answer>();
  answer->status = Status::kTempFail;
  answer->error = std::move(error);
  return answer;
}

// Why c-ares gave up without an answer to read.
std::string ares_error(int status) {
  switch (status) {
    case ARES_ETIMEOUT:
      return "timeout";
    case ARES_ECONNREFUSED:
      return "connection refused";
    case ARES_ESERVFAIL:
      return "SERVFAIL";
    case ARES_EREFUSED:
      return "REFUSED";
    case ARES_ENOTIMP:
      return "NOTIMP";
    case ARES_EFORMERR:
      return "FORMERR";
    case ARES_EBADRESP:
      return "malformed answer: bad response";
    case ARES_EDESTRUCTION:
    case ARES_ECANCELLED:
      return "resolver shut down";
  }
  return ares_strerror(status);
}

// The answers of one lookup's CNAME chain, put together.
class Chain {
 public:
  explicit Chain(std::string name) { visited_.push_back(std::move(name)); }

  const std::string& current() const { return visited_.back(); }

  // Takes the answer for current(): the lookup's result when the chain ends
  // here, or null when current() has moved on to the CNAME target.
  AnswerPtr add(AnswerPtr answer) {
    if (answer->follow_cname.empty()) return finish(std::move(answer));
    if (static_cast<int>(visited_.size()) >= kMaxQuestions) return failure("CNAME chain too long");
    if (std::find(visited_.begin(), visited_.end(), answer->follow_cname) != visited_.end()) {
      return failure("CNAME loop");
    }
    ttl_ = std::min(ttl_, answer->ttl);
    visited_.push_back(answer->follow_cname);
    return nullptr;
  }

 private:
  AnswerPtr finish(AnswerPtr answer) const {
    if (visited_.size() == 1 || answer->status == Status::kTempFail) return answer;
    auto combined = std::make_shared<Answer>(*answer);
    combined->ttl = std::min(ttl_, combined->ttl);
    return combined;
  }

  std::vector<std::string> visited_;
  uint32_t ttl_ = std::numeric_limits<uint32_t>::max();
};

bool valid_name(const std::string& name) {
  std::string ignored;
  return wire::append_name(name, ignored);
}

AnswerPtr invalid_name() {
  auto answer = std::make_shared<Answer>();
  answer->status = Status::kNxDomain;
  answer->error = "invalid name";
  return answer;
}

// A resolver the io_context's shutdown can reach (see ResolverService).
class Abandonable {
 public:
  // Destroys the waiting lookups' handlers without running them.
  virtual void abandon() = 0;

 protected:
  ~Abandonable() = default;
};

// A waiting lookup's coroutine may be the last owner of its resolver (a
// session holds it through shared_ptr), while the resolver holds the
// coroutine's handler: a cycle the io_context cannot see. Its shutdown
// reaches this service, which destroys those handlers, as Asio's own
// services do with theirs.
class ResolverService final : public asio::execution_context::service {
 public:
  static inline asio::execution_context::id id;

  explicit ResolverService(asio::execution_context& context) : service(context) {}

  void add(Abandonable* resolver) { live_.push_back(resolver); }
  void remove(Abandonable* resolver) { std::erase(live_, resolver); }

 private:
  void shutdown() override {
    // Abandoning one resolver may destroy others (or itself): work from a
    // copy and skip what is gone.
    const std::vector<Abandonable*> snapshot = live_;
    for (Abandonable* resolver : snapshot) {
      if (std::find(live_.begin(), live_.end(), resolver) != live_.end()) resolver->abandon();
    }
  }

  std::vector<Abandonable*> live_;
};

}  // namespace

struct Resolver::Impl final : Abandonable {
  using Life = std::shared_ptr<Impl*>;

  // A coroutine (or other Asio operation) waiting for a flight.
  struct Waiter {
    virtual ~Waiter() = default;
    virtual void complete(AnswerPtr answer, const asio::any_io_executor& fallback) = 0;
  };

  template <typename Handler>
  struct HandlerWaiter final : Waiter {
    explicit HandlerWaiter(Handler h) : handler(std::move(h)) {}
    void complete(AnswerPtr answer, const asio::any_io_executor& fallback) override {
      auto executor = asio::get_associated_executor(handler, fallback);
      asio::post(executor, [h = std::move(handler), a = std::move(answer)]() mutable {
        std::move(h)(std::move(a));
      });
    }
    Handler handler;
  };

  struct Flight {
    std::string name;
    Type type;
    std::vector<std::unique_ptr<Waiter>> waiters;
  };

  // The argument c-ares hands back to on_answer.
  struct Sent {
    Impl* impl;
    std::shared_ptr<Flight> flight;
  };

  struct Watch {
    Watch(asio::io_context& io, int fd) : descriptor(io, fd) {}
    asio::posix::stream_descriptor descriptor;
    bool active = true;
    bool want_read = false;
    bool want_write = false;
    bool reading = false;
    bool writing = false;
  };

  Impl(asio::io_context& io, const Options& options, ResolverStats& stats)
      : io_(io),
        stats_(stats),
        timer_(io),
        cache_(options.cache_entries),
        ids_(std::random_device{}()) {
    init_library();
    std::vector<Server> servers(options.servers.size());
    for (size_t i = 0; i < servers.size(); ++i) {
      const std::string why = parse_server(options.servers[i], servers[i]);
      if (!why.empty()) {
        throw std::runtime_error("DNS server \"" + options.servers[i] + "\": " + why);
      }
    }

    ares_options o{};
    // NOCHECKRESP: c-ares 1.18 reports a SERVFAIL or REFUSED answer as
    // ARES_ECONNREFUSED, and drops the message; with the flag the message
    // comes to read_answer(), which names the rcode. The price: such an
    // answer is final, c-ares does not ask the next server.
    o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES | ARES_FLAG_NOCHECKRESP;
    o.timeout = static_cast<int>(std::clamp<int64_t>(options.timeout.count(), 1, 3'600'000));
    o.tries = std::max(options.tries, 1);
    o.sock_state_cb = &Impl::on_socket_state;
    o.sock_state_cb_data = this;
    // c-ares sends every UDP query of a server through one socket: with
    // hundreds in flight the default receive buffer (~200 KiB) overflows
    // and each lost answer costs a whole timeout.
    o.socket_receive_buffer_size = 4 << 20;
    const int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB |
                     ARES_OPT_SOCK_RCVBUF;
    int status = ares_init_options(&channel_, &o, mask);
    if (status != ARES_SUCCESS) {
      throw std::runtime_error(std::string("c-ares: ") + ares_strerror(status));
    }
    if (!servers.empty()) {
      std::vector<ares_addr_port_node> nodes(servers.size());
      for (size_t i = 0; i < servers.size(); ++i) {
        nodes[i].next = i + 1 < nodes.size() ? &nodes[i + 1] : nullptr;
        nodes[i].family = servers[i].family;
        std::memcpy(&nodes[i].addr, servers[i].address, servers[i].family == AF_INET ? 4 : 16);
        nodes[i].udp_port = servers[i].port;
        nodes[i].tcp_port = servers[i].port;
      }
      status = ares_set_servers_ports(channel_, nodes.data());
      if (status != ARES_SUCCESS) {
        ares_destroy(channel_);
        throw std::runtime_error(std::string("c-ares servers: ") + ares_strerror(status));
      }
    }
    service_ = &asio::use_service<ResolverService>(io_);
    service_->add(this);
  }

  void abandon() override {
    std::vector<std::unique_ptr<Waiter>> doomed;
    for (auto& [key, flight] : flights_) {
      for (auto& waiter : flight->waiters) doomed.push_back(std::move(waiter));
      flight->waiters.clear();
    }
    // `doomed` dies last, on the way out: destroying a waiting lookup may
    // destroy this resolver, so nothing may touch it afterwards.
  }

  ~Impl() {
    service_->remove(this);
    // From here on no handler and no resumed lookup reaches this object.
    life_.reset();
    shutting_down_ = true;
    // Ends every query: on_answer runs for each (ARES_EDESTRUCTION) and
    // posts "resolver shut down" to its waiters; c-ares announces the
    // closing of each socket, which releases its Watch.
    ares_destroy(channel_);
    for (auto& [fd, watch] : watches_) stop(*watch);
  }

  // --- c-ares's sockets on the Asio loop ---

  static void on_socket_state(void* data, ares_socket_t fd, int readable, int writable) {
    // No exception may cross c-ares's C frames. A socket Asio could not
    // take (out of memory, epoll refused) goes unwatched: its query times
    // out on the timer like one to a silent server.
    try {
      static_cast<Impl*>(data)->socket_state(fd, readable != 0, writable != 0);
    } catch (const std::exception&) {
    }
  }

  void socket_state(int fd, bool readable, bool writable) {
    auto found = watches_.find(fd);
    if (!readable && !writable) {
      if (found == watches_.end()) return;
      stop(*found->second);
      watches_.erase(found);
      return;
    }
    if (found == watches_.end()) {
      found = watches_.emplace(fd, std::make_shared<Watch>(io_, fd)).first;
    }
    found->second->want_read = readable;
    found->second->want_write = writable;
    arm(fd, found->second);
  }

  static void stop(Watch& watch) {
    watch.active = false;
    // Cancels the waits (their handlers see operation_aborted) and gives
    // the fd back without closing it: it is c-ares's to close.
    if (watch.descriptor.is_open()) watch.descriptor.release();
  }

  void arm(int fd, const std::shared_ptr<Watch>& watch) {
    if (watch->want_read && !watch->reading) {
      watch->reading = true;
      watch->descriptor.async_wait(
          asio::posix::stream_descriptor::wait_read,
          [life = std::weak_ptr(life_), watch, fd](const asio::error_code& ec) {
            watch->reading = false;
            if (ec || !watch->active) return;
            const Life alive = life.lock();
            if (!alive) return;
            (*alive)->process(fd, ARES_SOCKET_BAD);
            if (watch->active) (*alive)->arm(fd, watch);
          });
    }
    if (watch->want_write && !watch->writing) {
      watch->writing = true;
      watch->descriptor.async_wait(
          asio::posix::stream_descriptor::wait_write,
          [life = std::weak_ptr(life_), watch, fd](const asio::error_code& ec) {
            watch->writing = false;
            if (ec || !watch->active) return;
            const Life alive = life.lock();
            if (!alive) return;
            (*alive)->process(ARES_SOCKET_BAD, fd);
            if (watch->active) (*alive)->arm(fd, watch);
          });
    }
  }

  void process(ares_socket_t read_fd, ares_socket_t write_fd) {
    ares_process_fd(channel_, read_fd, write_fd);
    rearm_timer();
  }

  // ares_timeout() walks every query in flight, so it is asked only when
  // the timer is not armed yet: a query sent later times out later than the
  // one the timer waits for (the timeout is the same), and when the timer
  // fires it asks again for the next one. A timer left armed after its
  // queries were answered fires once for nothing.
  void rearm_timer() {
    if (timer_armed_) return;
    timeval tv{};
    if (ares_timeout(channel_, nullptr, &tv) == nullptr) return;
    timer_armed_ = true;
    timer_.expires_after(std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec));
    timer_.async_wait([life = std::weak_ptr(life_)](const asio::error_code& ec) {
      if (ec) return;
      if (const Life alive = life.lock()) {
        (*alive)->timer_armed_ = false;
        (*alive)->process(ARES_SOCKET_BAD, ARES_SOCKET_BAD);
      }
    });
  }

  // --- flights ---

  // Adds `waiter` (may be null: a prefetch) to the flight for (name, type),
  // starting the query when there is none. False when it joined one.
  bool wait(const std::string& name, Type type, std::unique_ptr<Waiter> waiter) {
    const std::string key = AnswerCache::key(name, type);
    auto found = flights_.find(key);
    const bool joined = found != flights_.end();
    if (!joined) {
      found = flights_.emplace(key, std::make_shared<Flight>(Flight{name, type, {}})).first;
    }
    // The waiter goes in before the query is sent: c-ares may answer
    // (fail) inside ares_send.
    if (waiter) found->second->waiters.push_back(std::move(waiter));
    if (!joined) send(found->second);
    return !joined;
  }

  void send(const std::shared_ptr<Flight>& flight) {
    const std::string packet = wire::query(static_cast<uint16_t>(ids_()), flight->name,
                                           static_cast<uint16_t>(flight->type));
    if (packet.empty()) {  // callers check names first; never leave a waiter hanging
      finish(flight, invalid_name());
      return;
    }
    ++stats_.queries;
    auto* sent = new Sent{this, flight};
    ares_send(channel_, reinterpret_cast<const unsigned char*>(packet.data()),
              static_cast<int>(packet.size()), &Impl::on_answer, sent);
    rearm_timer();
  }

  static void on_answer(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
    const std::unique_ptr<Sent> sent(static_cast<Sent*>(arg));
    const Flight& flight = *sent->flight;
    AnswerPtr answer;
    // With a message in hand, it says best what happened (NXDOMAIN comes
    // with a buffer even when the status is an error).
    if (abuf != nullptr && alen > 0) {
      answer = std::make_shared<Answer>(read_answer(
          std::span<const uint8_t>(abuf, static_cast<size_t>(alen)), flight.name, flight.type));
    } else {
      answer = failure(ares_error(status));
    }
    sent->impl->finish(sent->flight, std::move(answer));
  }

  void finish(const std::shared_ptr<Flight>& flight, AnswerPtr answer) {
    const auto found = flights_.find(AnswerCache::key(flight->name, flight->type));
    if (found != flights_.end() && found->second == flight) flights_.erase(found);
    if (!shutting_down_ && answer->status != Status::kTempFail) {
      cache_.put(flight->name, flight->type, answer, answer->ttl, AnswerCache::Clock::now());
    }
    const asio::any_io_executor fallback = io_.get_executor();
    for (auto& waiter : flight->waiters) waiter->complete(answer, fallback);
    flight->waiters.clear();
  }

  template <typename Token>
  auto async_wait_flight(const std::string& name, Type type, Token&& token) {
    return asio::async_initiate<Token, void(AnswerPtr)>(
        [this, &name, type](auto handler) {
          using Handler = decltype(handler);
          if (!wait(name, type, std::make_unique<HandlerWaiter<Handler>>(std::move(handler)))) {
            ++stats_.joined;
          }
        },
        token);
  }

  // --- lookups ---

  AnswerPtr find_cached(std::string_view name, Type type) {
    return cache_.find(name, type, AnswerCache::coarse_now());
  }

  // Holds only the weak token across suspensions: the Resolver may be gone
  // when a wait completes.
  static asio::awaitable<AnswerPtr> run_lookup(std::weak_ptr<Impl*> life, std::string name,
                                               Type type) {
    if (!valid_name(name)) co_return invalid_name();
    Chain chain(std::move(name));
    bool from_cache = true;
    for (;;) {
      const std::string current = chain.current();
      Impl* self = nullptr;
      if (const Life alive = life.lock()) self = *alive;
      if (self == nullptr) co_return failure("resolver shut down");
      AnswerPtr answer = valid_name(current) ? self->find_cached(current, type) : invalid_name();
      if (!answer) {
        from_cache = false;
        answer = co_await self->async_wait_flight(current, type, asio::use_awaitable);
      }
      AnswerPtr result = chain.add(std::move(answer));
      if (result) {
        if (from_cache) {
          if (const Life alive = life.lock()) ++(*alive)->stats_.cache_hits;
        }
        co_return result;
      }
    }
  }

  // The chain from the cache alone, or null when a part is missing. Only
  // valid names are ever cached, so a hit needs no validation; an answer
  // that ends its chain here (the usual case) is returned as it is.
  AnswerPtr cached_chain(std::string_view name, Type type) {
    AnswerPtr first = find_cached(name, type);
    if (!first) return valid_name(std::string(name)) ? nullptr : invalid_name();
    if (first->follow_cname.empty()) return first;
    Chain chain{std::string(name)};
    if (AnswerPtr result = chain.add(std::move(first))) return result;
    for (;;) {
      AnswerPtr answer = find_cached(chain.current(), type);
      if (!answer) return nullptr;
      if (AnswerPtr result = chain.add(std::move(answer))) return result;
    }
  }

  asio::io_context& io_;
  ResolverService* service_ = nullptr;
  ResolverStats& stats_;
  ares_channel channel_ = nullptr;
  asio::steady_timer timer_;
  bool timer_armed_ = false;
  AnswerCache cache_;
  std::mt19937 ids_;
  std::unordered_map<int, std::shared_ptr<Watch>> watches_;
  std::unordered_map<std::string, std::shared_ptr<Flight>> flights_;
  Life life_ = std::make_shared<Impl*>(this);
  bool shutting_down_ = false;
};

Resolver::Resolver(asio::io_context& io, Options options)
    : options_(std::move(options)), impl_(std::make_unique<Impl>(io, options_, stats_)) {}

Resolver::~Resolver() = default;

AnswerPtr Resolver::cached(std::string_view name, Type type) {
  // Names moat builds are canonical already: copy only those that are not.
  const bool is_canonical = !name.ends_with('.') &&
                            std::ranges::none_of(name, [](char c) { return c >= 'A' && c <= 'Z'; });
  if (is_canonical) return impl_->cached_chain(name, type);
  return impl_->cached_chain(canonical(name), type);
}

void Resolver::prefetch(std::string_view name, Type type) {
  const std::string key = canonical(name);
  if (!valid_name(key) || impl_->find_cached(key, type)) return;
  impl_->wait(key, type, nullptr);
}

asio::awaitable<AnswerPtr> Resolver::lookup(std::string_view name, Type type) {
  ++stats_.lookups;
  // Not a coroutine itself: the name is copied now, while the caller's
  // string surely lives.
  return Impl::run_lookup(impl_->life_, canonical(name), type);
}

std::string Resolver::check_servers(const std::vector<std::string>& servers) {
  for (const std::string& entry : servers) {
    Server server;
    const std::string why = parse_server(entry, server);
    if (!why.empty()) return "\"" + entry + "\": " + why;
  }
  return {};
}

}  // namespace moat::dns
