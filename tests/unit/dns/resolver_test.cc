// The resolver against a tiny name server inside the test (UDP and TCP on
// 127.0.0.1, an ephemeral port), answering from each test's own function:
// cache, in-flight joining, CNAME following, failures, TCP fallback and
// teardown with queries in flight. The loop runs until the lookup's
// coroutine finishes; nothing waits on sleeps.
#include "dns/resolver.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <asio/read.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>

#include "dns/cache.h"
#include "packet.h"

namespace moat::dns {
namespace {

using namespace std::chrono_literals;
using testing::a_rdata;
using testing::Bytes;
using testing::Message;
using testing::Rr;
using testing::soa_rdata;
using testing::wire;

constexpr uint16_t kA = 1, kCNAME = 5, kSOA = 6, kTXT = 16;

struct Query {
  uint16_t id = 0;
  std::string name;  // lower-case, dotted
  uint16_t type = 0;
  Bytes question;  // the name in wire form
};

std::optional<Query> parse_query(const uint8_t* data, size_t size) {
  if (size < 12) return std::nullopt;
  Query query;
  query.id = static_cast<uint16_t>(data[0] << 8 | data[1]);
  size_t p = 12;
  while (p < size && data[p] != 0) {
    const size_t length = data[p];
    if (p + 1 + length > size) return std::nullopt;
    if (!query.name.empty()) query.name += '.';
    for (size_t i = p + 1; i <= p + length; ++i) {
      query.name += static_cast<char>(std::tolower(data[i]));
    }
    p += 1 + length;
  }
  if (p + 5 > size) return std::nullopt;
  query.question.assign(data + 12, data + p + 1);
  query.type = static_cast<uint16_t>(data[p + 1] << 8 | data[p + 2]);
  return query;
}

// The reply skeleton for a query: its id and question.
Message reply(const Query& query) {
  Message m;
  m.id = query.id;
  m.question = query.question;
  m.qtype = query.type;
  return m;
}

class FakeServer {
 public:
  // Returns the message to send, or nothing to stay silent.
  using Respond = std::function<std::optional<Bytes>(const Query&, bool tcp)>;

  FakeServer(asio::io_context& io, Respond respond)
      : io_(io), udp_(io), tcp_(io), respond_(std::move(respond)) {
    // UDP and TCP on the same port, as a name server has them.
    for (int attempt = 0; attempt < 50 && port_ == 0; ++attempt) {
      udp_.open(asio::ip::udp::v4());
      udp_.bind({asio::ip::address_v4::loopback(), 0});
      const uint16_t port = udp_.local_endpoint().port();
      asio::error_code ec;
      tcp_.open(asio::ip::tcp::v4());
      tcp_.set_option(asio::socket_base::reuse_address(true));
      tcp_.bind({asio::ip::address_v4::loopback(), port}, ec);
      if (!ec) tcp_.listen(asio::socket_base::max_listen_connections, ec);
      if (!ec) {
        port_ = port;
        break;
      }
      tcp_.close();
      udp_.close();
    }
    if (port_ == 0) throw std::runtime_error("no port for the fake name server");
    receive();
    accept();
  }

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  int udp_queries = 0;
  int tcp_queries = 0;

 private:
  void receive() {
    udp_.async_receive_from(asio::buffer(buffer_), peer_,
                            [this](const asio::error_code& ec, size_t size) {
                              if (ec) return;
                              if (auto query = parse_query(buffer_.data(), size)) {
                                ++udp_queries;
                                if (auto response = respond_(*query, false)) {
                                  asio::error_code ignored;
                                  udp_.send_to(asio::buffer(*response), peer_, 0, ignored);
                                }
                              }
                              receive();
                            });
  }

  void accept() {
    tcp_.async_accept([this](const asio::error_code& ec, asio::ip::tcp::socket socket) {
      if (ec) return;
      asio::co_spawn(io_, serve(std::move(socket)), [](std::exception_ptr) {});
      accept();
    });
  }

  asio::awaitable<void> serve(asio::ip::tcp::socket socket) {
    const auto token = asio::experimental::as_tuple(asio::use_awaitable);
    for (;;) {
      uint8_t length[2];
      auto [ec, n] = co_await asio::async_read(socket, asio::buffer(length), token);
      if (ec) co_return;
      Bytes message(static_cast<size_t>(length[0] << 8 | length[1]));
      std::tie(ec, n) = co_await asio::async_read(socket, asio::buffer(message), token);
      if (ec) co_return;
      const auto query = parse_query(message.data(), message.size());
      if (!query) co_return;
      ++tcp_queries;
      auto response = respond_(*query, true);
      if (!response) continue;
      const uint8_t prefix[2] = {static_cast<uint8_t>(response->size() >> 8),
                                 static_cast<uint8_t>(response->size())};
      const std::array<asio::const_buffer, 2> framed = {asio::buffer(prefix),
                                                        asio::buffer(*response)};
      std::tie(ec, n) = co_await asio::async_write(socket, framed, token);
      if (ec) co_return;
    }
  }

  asio::io_context& io_;
  asio::ip::udp::socket udp_;
  asio::ip::tcp::acceptor tcp_;
  Respond respond_;
  uint16_t port_ = 0;
  std::array<uint8_t, 4096> buffer_{};
  asio::ip::udp::endpoint peer_;
};

// A port where nothing listens (bound once, then closed again).
std::string dead_address() {
  asio::io_context io;
  asio::ip::udp::socket socket(io, {asio::ip::address_v4::loopback(), 0});
  return "127.0.0.1:" + std::to_string(socket.local_endpoint().port());
}

// Answers A questions for a fixed table, NXDOMAIN with an SOA otherwise.
std::optional<Bytes> table(const Query& query, bool) {
  Message m = reply(query);
  if (query.name == "mx.example" && query.type == kA) {
    m.answers.push_back(Rr{query.question, kA, 300, a_rdata("192.0.2.25")});
  } else if (query.name == "zero.example" && query.type == kA) {
    m.answers.push_back(Rr{query.question, kA, 0, a_rdata("192.0.2.26")});
  } else if (query.name == "empty.example") {
    m.authority.push_back(Rr{wire("example"), kSOA, 3600, soa_rdata(60)});
  } else if (query.name == "nosoa.example") {
    m.rcode = 3;
  } else {
    m.rcode = 3;
    m.authority.push_back(Rr{wire("example"), kSOA, 3600, soa_rdata(60)});
  }
  return m.bytes();
}

class DnsResolver : public ::testing::Test {
 protected:
  void start(FakeServer::Respond respond, Options options = {}) {
    server_ = std::make_unique<FakeServer>(io_, std::move(respond));
    start_resolver({server_->address()}, options);
  }

  void start_resolver(std::vector<std::string> servers, Options options = {}) {
    options.servers = std::move(servers);
    if (options.timeout == Options{}.timeout) options.timeout = 2000ms;
    options.tries = 1;
    resolver_ = std::make_unique<Resolver>(io_, options);
  }

  // Runs the loop until `done` says so, failing the test after 10 s.
  void run_until(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!done() && std::chrono::steady_clock::now() < deadline) io_.run_one_for(100ms);
    ASSERT_TRUE(done()) << "the loop did not get there in 10 s";
  }

  void spawn(std::string name, Type type, AnswerPtr& out) {
    asio::co_spawn(io_, resolver_->lookup(name, type), [&out](std::exception_ptr e, AnswerPtr a) {
      if (e) std::rethrow_exception(e);
      out = std::move(a);
    });
  }

  AnswerPtr lookup(std::string name, Type type) {
    AnswerPtr answer;
    spawn(std::move(name), type, answer);
    run_until([&] { return answer != nullptr; });
    return answer;
  }

  asio::io_context io_;
  std::unique_ptr<FakeServer> server_;
  std::unique_ptr<Resolver> resolver_;  // destroyed first: it watches the loop's sockets
};

TEST_F(DnsResolver, Answers) {
  start(table);
  const AnswerPtr answer = lookup("mx.example", Type::kA);
  ASSERT_EQ(answer->status, Status::kOk) << answer->error;
  ASSERT_EQ(answer->records.size(), 1u);
  EXPECT_EQ(address_text(answer->records[0]), "192.0.2.25");
  EXPECT_EQ(answer->ttl, 300u);
  EXPECT_EQ(server_->udp_queries, 1);
  EXPECT_EQ(resolver_->stats().queries, 1u);
  EXPECT_EQ(resolver_->stats().lookups, 1u);
}

TEST_F(DnsResolver, CacheHitDoesNotAsk) {
  start(table);
  const AnswerPtr first = lookup("mx.example", Type::kA);
  EXPECT_EQ(resolver_->cached("MX.example.", Type::kA), first);
  const AnswerPtr second = lookup("MX.Example.", Type::kA);
  EXPECT_EQ(second, first);
  EXPECT_EQ(resolver_->stats().queries, 1u);
  EXPECT_EQ(resolver_->stats().cache_hits, 1u);
  EXPECT_EQ(server_->udp_queries, 1);
  // Another type is another question.
  EXPECT_EQ(lookup("mx.example", Type::kTXT)->status, Status::kNxDomain);
  EXPECT_EQ(resolver_->stats().queries, 2u);
}

TEST_F(DnsResolver, CachesNegativeAnswers) {
  start(table);
  AnswerPtr answer = lookup("nothing.example", Type::kA);
  EXPECT_EQ(answer->status, Status::kNxDomain);
  EXPECT_EQ(answer->ttl, 60u);
  answer = lookup("nothing.example", Type::kA);
  EXPECT_EQ(answer->status, Status::kNxDomain);
  answer = lookup("empty.example", Type::kA);
  EXPECT_EQ(answer->status, Status::kNoData);
  answer = lookup("empty.example", Type::kA);
  EXPECT_EQ(answer->status, Status::kNoData);
  EXPECT_EQ(resolver_->stats().queries, 2u);
  EXPECT_EQ(server_->udp_queries, 2);
}

TEST_F(DnsResolver, TtlZeroIsNotCached) {
  start(table);
  EXPECT_EQ(lookup("zero.example", Type::kA)->status, Status::kOk);
  EXPECT_EQ(lookup("zero.example", Type::kA)->status, Status::kOk);
  EXPECT_EQ(lookup("nosoa.example", Type::kA)->status, Status::kNxDomain);
  EXPECT_EQ(lookup("nosoa.example", Type::kA)->status, Status::kNxDomain);
  EXPECT_EQ(server_->udp_queries, 4);
  EXPECT_EQ(resolver_->cached("zero.example", Type::kA), nullptr);
}

TEST_F(DnsResolver, TemporaryFailuresAreNotCached) {
  start([](const Query& query, bool) -> std::optional<Bytes> {
    Message m = reply(query);
    m.rcode = 2;
    return m.bytes();
  });
  AnswerPtr answer = lookup("mx.example", Type::kA);
  EXPECT_EQ(answer->status, Status::kTempFail);
  EXPECT_EQ(answer->error, "SERVFAIL");
  const int asked = server_->udp_queries;
  answer = lookup("mx.example", Type::kA);
  EXPECT_EQ(answer->status, Status::kTempFail);
  EXPECT_EQ(server_->udp_queries, 2 * asked);
}

TEST_F(DnsResolver, OverlappingLookupsShareOneQuery) {
  start(table);
  AnswerPtr first, second;
  spawn("mx.example", Type::kA, first);
  spawn("MX.example", Type::kA, second);
  run_until([&] { return first && second; });
  EXPECT_EQ(first, second);
  EXPECT_EQ(first->status, Status::kOk);
  EXPECT_EQ(resolver_->stats().queries, 1u);
  EXPECT_EQ(resolver_->stats().joined, 1u);
  EXPECT_EQ(server_->udp_queries, 1);
}

std::optional<Bytes> chains(const Query& query, bool) {
  Message m = reply(query);
  if (query.name == "www.example") {
    m.answers.push_back(Rr{query.question, kCNAME, 100, wire("web.elsewhere.test")});
  } else if (query.name == "web.elsewhere.test" && query.type == kA) {
    m.answers.push_back(Rr{query.question, kA, 300, a_rdata("198.51.100.7")});
  } else if (query.name == "loop1.example") {
    m.answers.push_back(Rr{query.question, kCNAME, 100, wire("loop2.test")});
  } else if (query.name == "loop2.test") {
    m.answers.push_back(Rr{query.question, kCNAME, 100, wire("loop1.example")});
  } else if (query.name.starts_with("long")) {
    const int n = std::stoi(query.name.substr(4));
    m.answers.push_back(Rr{query.question, kCNAME, 100, wire("long" + std::to_string(n + 1))});
  } else {
    m.rcode = 3;
  }
  return m.bytes();
}

TEST_F(DnsResolver, FollowsCnamesAcrossQueries) {
  start(chains);
  AnswerPtr answer = lookup("www.example", Type::kA);
  ASSERT_EQ(answer->status, Status::kOk) << answer->error;
  EXPECT_EQ(address_text(answer->records.at(0)), "198.51.100.7");
  EXPECT_EQ(answer->canonical_name, "web.elsewhere.test");
  EXPECT_TRUE(answer->follow_cname.empty());
  EXPECT_EQ(answer->ttl, 100u);
  EXPECT_EQ(resolver_->stats().queries, 2u);

  // Both parts are cached: the chain is put together without asking.
  answer = lookup("www.example", Type::kA);
  EXPECT_EQ(answer->status, Status::kOk);
  EXPECT_EQ(resolver_->stats().queries, 2u);
  EXPECT_EQ(resolver_->stats().cache_hits, 1u);
  ASSERT_NE(resolver_->cached("www.example", Type::kA), nullptr);
  EXPECT_EQ(resolver_->cached("www.example", Type::kA)->records.size(), 1u);
}

TEST_F(DnsResolver, CnameLoopsAndLongChainsFail) {
  start(chains);
  AnswerPtr answer = lookup("loop1.example", Type::kA);
  EXPECT_EQ(answer->status, Status::kTempFail);
  EXPECT_EQ(answer->error, "CNAME loop");
  answer = lookup("long0", Type::kA);
  EXPECT_EQ(answer->status, Status::kTempFail);
  EXPECT_EQ(answer->error, "CNAME chain too long");
  EXPECT_EQ(server_->udp_queries, 2 + 8);
}

TEST_F(DnsResolver, SilentServerTimesOut) {
  start([](const Query&, bool) { return std::optional<Bytes>(); }, Options{.timeout = 200ms});
  const auto began = std::chrono::steady_clock::now();
  const AnswerPtr answer = lookup("mx.example", Type::kA);
  const auto took = std::chrono::steady_clock::now() - began;
  EXPECT_EQ(answer->status, Status::kTempFail);
  EXPECT_EQ(answer->error, "timeout");
  EXPECT_GE(took, 150ms);
  EXPECT_LT(took, 3s);
}

TEST_F(DnsResolver, NothingListeningIsConnectionRefused) {
  start_resolver({dead_address()});
  const AnswerPtr answer = lookup("mx.example", Type::kA);
  EXPECT_EQ(answer->status, Status::kTempFail);
  EXPECT_EQ(answer->error, "connection refused");
}

TEST_F(DnsResolver, TruncatedAnswerIsAskedAgainOverTcp) {
  start([](const Query& query, bool tcp) -> std::optional<Bytes> {
    Message m = reply(query);
    if (!tcp) {
      m.flags |= 0x0200;  // TC: too big for UDP
      return m.bytes();
    }
    for (int i = 0; i < 40; ++i) {
      m.answers.push_back(
          Rr{query.question, kTXT, 300,
             testing::txt_rdata({"v=spf1 include:_spf" + std::to_string(i) + ".example ~all"})});
    }
    return m.bytes();
  });
  const AnswerPtr answer = lookup("big.example", Type::kTXT);
  ASSERT_EQ(answer->status, Status::kOk) << answer->error;
  EXPECT_EQ(answer->records.size(), 40u);
  EXPECT_EQ(server_->udp_queries, 1);
  EXPECT_EQ(server_->tcp_queries, 1);
}

TEST_F(DnsResolver, MalformedAnswerIsATemporaryFailure) {
  start([](const Query& query, bool) -> std::optional<Bytes> {
    Message m = reply(query);
    m.answers.push_back(Rr{query.question, kA, 300, Bytes{1, 2, 3, 4, 5}});
    return m.bytes();
  });
  const AnswerPtr answer = lookup("mx.example", Type::kA);
  EXPECT_EQ(answer->status, Status::kTempFail);
  EXPECT_EQ(answer->error, "malformed answer: A record with rdlength other than 4");
  EXPECT_EQ(resolver_->cached("mx.example", Type::kA), nullptr);
}

TEST_F(DnsResolver, GarbageIsIgnoredUntilTimeout) {
  start(
      [](const Query&, bool) -> std::optional<Bytes> {
        return Bytes{0xde, 0xad, 0xbe, 0xef};
      },
      Options{.timeout = 200ms});
  const AnswerPtr answer = lookup("mx.example", Type::kA);
  EXPECT_EQ(answer->status, Status::kTempFail);
  EXPECT_EQ(answer->error, "timeout");
}

TEST_F(DnsResolver, PrefetchFillsTheCache) {
  start(table);
  resolver_->prefetch("mx.example", Type::kA);
  resolver_->prefetch("mx.example", Type::kA);  // in flight already
  run_until([&] { return resolver_->cached("mx.example", Type::kA) != nullptr; });
  EXPECT_EQ(resolver_->stats().queries, 1u);
  EXPECT_EQ(lookup("mx.example", Type::kA)->status, Status::kOk);
  EXPECT_EQ(resolver_->stats().queries, 1u);
  EXPECT_EQ(resolver_->stats().cache_hits, 1u);
  EXPECT_EQ(server_->udp_queries, 1);
}

TEST_F(DnsResolver, InvalidNamesAreNotAsked) {
  start(table);
  const AnswerPtr answer = lookup("a..example", Type::kA);
  EXPECT_EQ(answer->status, Status::kNxDomain);
  EXPECT_EQ(answer->error, "invalid name");
  EXPECT_EQ(lookup(std::string(64, 'x') + ".example", Type::kA)->status, Status::kNxDomain);
  EXPECT_EQ(server_->udp_queries, 0);
}

TEST_F(DnsResolver, ManyLookupsAtOnce) {
  start([](const Query& query, bool) -> std::optional<Bytes> {
    Message m = reply(query);
    m.answers.push_back(Rr{query.question, kA, 300, a_rdata("192.0.2.1")});
    return m.bytes();
  });
  std::vector<AnswerPtr> answers(200);
  for (size_t i = 0; i < answers.size(); ++i) {
    spawn("host" + std::to_string(i) + ".example", Type::kA, answers[i]);
  }
  run_until([&] { return std::ranges::all_of(answers, [](auto& a) { return a != nullptr; }); });
  for (const AnswerPtr& answer : answers) EXPECT_EQ(answer->status, Status::kOk) << answer->error;
  EXPECT_EQ(resolver_->stats().queries, 200u);
  EXPECT_EQ(server_->udp_queries, 200);
}

TEST_F(DnsResolver, EscapedNamesGoOutAsRawLabels) {
  std::string asked;
  start([&asked](const Query& query, bool) -> std::optional<Bytes> {
    asked = query.name;
    Message m = reply(query);
    m.answers.push_back(Rr{query.question, kTXT, 300, testing::txt_rdata({"x"})});
    return m.bytes();
  });
  const AnswerPtr answer = lookup("a\\032b\\.c.Example.", Type::kTXT);
  ASSERT_EQ(answer->status, Status::kOk) << answer->error;
  EXPECT_EQ(asked, "a b.c.example");  // the test server joins labels with '.'
  EXPECT_EQ(answer->canonical_name, "a\\032b\\046c.example");
}

TEST_F(DnsResolver, DestructionCompletesWaitingLookups) {
  start([](const Query&, bool) { return std::optional<Bytes>(); });
  AnswerPtr first, second;
  spawn("mx.example", Type::kA, first);
  spawn("other.example", Type::kA, second);
  run_until([&] { return server_->udp_queries == 2; });
  resolver_.reset();
  run_until([&] { return first && second; });
  EXPECT_EQ(first->status, Status::kTempFail);
  EXPECT_EQ(first->error, "resolver shut down");
  EXPECT_EQ(second->error, "resolver shut down");
}

TEST_F(DnsResolver, DestructionBeforeTheLookupRuns) {
  start(table);
  AnswerPtr answer;
  spawn("mx.example", Type::kA, answer);
  resolver_.reset();
  run_until([&] { return answer != nullptr; });
  EXPECT_EQ(answer->status, Status::kTempFail);
}

TEST(DnsResolverServers, ChecksServerLists) {
  EXPECT_EQ(Resolver::check_servers({}), "");
  EXPECT_EQ(Resolver::check_servers({"127.0.0.1", "127.0.0.1:5353", "::1", "[::1]:53", "[::1]"}),
            "");
  EXPECT_EQ(Resolver::check_servers({"127.0.0.1:0"}), "\"127.0.0.1:0\": bad port");
  EXPECT_EQ(Resolver::check_servers({"127.0.0.1:"}), "\"127.0.0.1:\": empty port");
  EXPECT_EQ(Resolver::check_servers({"127.0.0.1:65536"}), "\"127.0.0.1:65536\": bad port");
  EXPECT_EQ(Resolver::check_servers({"ns.example:53"}), "\"ns.example:53\": not an IP address");
  EXPECT_EQ(Resolver::check_servers({"[::1"}), "\"[::1\": missing ']'");
  EXPECT_EQ(Resolver::check_servers({"[127.0.0.1]:53"}), "\"[127.0.0.1]:53\": not an IPv6 address");
  asio::io_context io;
  EXPECT_THROW(Resolver(io, Options{.servers = {"bogus"}}), std::runtime_error);
  Resolver fine(io, Options{.servers = {"127.0.0.1:5353", "[::1]:5353"}});
  EXPECT_EQ(fine.options().servers.size(), 2u);
  Resolver from_resolv_conf(io, Options{});  // /etc/resolv.conf; nothing is asked
  EXPECT_EQ(from_resolv_conf.stats().queries, 0u);
}

TEST(DnsAnswerCache, EvictsTheLeastRecentlyUsedAndExpires) {
  AnswerCache cache(2);
  const auto now = AnswerCache::Clock::now();
  auto answer = std::make_shared<const Answer>();
  cache.put("a", Type::kA, answer, 60, now);
  cache.put("b", Type::kA, answer, 60, now);
  EXPECT_NE(cache.find("a", Type::kA, now), nullptr);  // a is now the most recent
  cache.put("c", Type::kA, answer, 60, now);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.find("b", Type::kA, now), nullptr);
  EXPECT_NE(cache.find("a", Type::kA, now), nullptr);
  EXPECT_NE(cache.find("c", Type::kA, now), nullptr);
  EXPECT_EQ(cache.find("c", Type::kMX, now), nullptr);
  EXPECT_NE(cache.find("c", Type::kA, now + 59s), nullptr);
  EXPECT_EQ(cache.find("c", Type::kA, now + 60s), nullptr);
  EXPECT_EQ(cache.size(), 1u);
  cache.put("d", Type::kA, answer, 0, now);
  EXPECT_EQ(cache.find("d", Type::kA, now), nullptr);
  AnswerCache none(0);
  none.put("a", Type::kA, answer, 60, now);
  EXPECT_EQ(none.find("a", Type::kA, now), nullptr);
}

}  // namespace
}  // namespace moat::dns

namespace moat::dns {
namespace {

// Sessions hold the resolver through shared_ptr (AnswerSet): when the
// io_context goes away with such a session suspended in a lookup, the
// resolver dies inside the loop's shutdown. That must be clean too.
TEST(DnsResolverLifetime, LastOwnerIsASuspendedLookup) {
  auto io = std::make_unique<asio::io_context>();
  bool started = false;
  {
    auto server = std::make_shared<FakeServer>(
        *io, [](const Query&, bool) { return std::optional<Bytes>(); });
    auto resolver = std::make_shared<Resolver>(
        *io, Options{.servers = {server->address()}, .timeout = 5000ms, .tries = 1});
    asio::co_spawn(
        *io,
        [](std::shared_ptr<Resolver> r, std::shared_ptr<FakeServer> s,
           bool& started) -> asio::awaitable<void> {
          started = true;
          co_await r->lookup("mx.example", Type::kA);
          (void)s;
        }(resolver, server, started),
        [](std::exception_ptr) {});
  }
  for (int i = 0; i < 20 && !started; ++i) io->run_one_for(50ms);
  io->run_for(50ms);
  ASSERT_TRUE(started);
  io.reset();  // destroys the suspended lookup, and with it the resolver
}

}  // namespace
}  // namespace moat::dns
