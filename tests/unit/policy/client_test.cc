// The policy client against real policy servers started by the test
// (postgrey, policyd-spf spawned per connection) and against scripted peers
// that misbehave: refuse, stay silent, speak garbage, hang up mid-answer,
// answer slowly. Connection reuse and the max_idle, max_ttl and
// request_limit closes are counted on the server side.
#include "policy/client.h"

#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "policy_peers.h"

namespace moat::policy {
namespace {

using namespace std::chrono_literals;
using namespace testing;
using Clock = std::chrono::steady_clock;
using Result = std::expected<std::string, std::string>;

TEST(PolicyEndpoint, ParsesPostfixForms) {
  auto inet = parse_endpoint("inet:127.0.0.1:10023", "/var/spool/postfix");
  ASSERT_TRUE(inet) << inet.error();
  EXPECT_EQ(inet->kind, Endpoint::Kind::kInet);
  EXPECT_EQ(inet->host, "127.0.0.1");
  EXPECT_EQ(inet->port, "10023");
  EXPECT_EQ(inet->address(), "127.0.0.1:10023");
  EXPECT_EQ(inet->text, "inet:127.0.0.1:10023");

  auto v6 = parse_endpoint("inet:[::1]:9998", "");
  ASSERT_TRUE(v6) << v6.error();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->address(), "[::1]:9998");

  auto named = parse_endpoint("inet:policy.example:smtp", "");
  ASSERT_TRUE(named) << named.error();
  EXPECT_EQ(named->host, "policy.example");
  EXPECT_EQ(named->port, "smtp");

  auto absolute = parse_endpoint("unix:/run/policy.sock", "/var/spool/postfix");
  ASSERT_TRUE(absolute) << absolute.error();
  EXPECT_EQ(absolute->kind, Endpoint::Kind::kUnix);
  EXPECT_EQ(absolute->path, "/run/policy.sock");

  auto spf = parse_endpoint("unix:private/policy-spf", "/var/spool/postfix");
  ASSERT_TRUE(spf) << spf.error();
  EXPECT_EQ(spf->path, "/var/spool/postfix/private/policy-spf");
  EXPECT_EQ(spf->address(), "/var/spool/postfix/private/policy-spf");
  EXPECT_EQ(parse_endpoint("unix:private/x", "/q/")->path, "/q/private/x");
}

TEST(PolicyEndpoint, RejectsWithReasons) {
  auto error = [](std::string_view text) {
    auto parsed = parse_endpoint(text, "/var/spool/postfix");
    return parsed ? std::string("(parsed)") : parsed.error();
  };
  EXPECT_EQ(error("127.0.0.1:10023"),
            "policy service \"127.0.0.1:10023\": expected inet:host:port or unix:pathname");
  EXPECT_EQ(error("inet:127.0.0.1"), "policy service \"inet:127.0.0.1\": missing port");
  EXPECT_EQ(error("inet::10023"), "policy service \"inet::10023\": missing host");
  EXPECT_EQ(error("inet:127.0.0.1:0"), "policy service \"inet:127.0.0.1:0\": bad port \"0\"");
  EXPECT_EQ(error("inet:127.0.0.1:70000"),
            "policy service \"inet:127.0.0.1:70000\": bad port \"70000\"");
  EXPECT_EQ(error("inet:h:"), "policy service \"inet:h:\": bad port \"\"");
  EXPECT_EQ(error("inet:::1:25"),
            "policy service \"inet:::1:25\": an IPv6 address must be in brackets: "
            "inet:[addr]:port");
  EXPECT_EQ(error("inet:[::1:25"), "policy service \"inet:[::1:25\": missing \"]\"");
  EXPECT_EQ(error("inet:[::1]25"), "policy service \"inet:[::1]25\": missing port");
  EXPECT_EQ(error("unix:"), "policy service \"unix:\": missing socket path");
  EXPECT_FALSE(parse_endpoint("unix:private/x", ""));
}

TEST(PolicyClientSettings, DefaultsArePostfix37s) {
  const ClientSettings s;  // as `postconf -d smtpd_policy_service_...` prints them
  EXPECT_EQ(s.timeout, 100s);
  EXPECT_EQ(s.max_idle, 300s);
  EXPECT_EQ(s.max_ttl, 1000s);
  EXPECT_EQ(s.request_limit, 0);
  EXPECT_EQ(s.try_limit, 2);
  EXPECT_EQ(s.retry_delay, 1s);
  EXPECT_EQ(s.default_action, "451 4.3.5 Server configuration problem");
  EXPECT_EQ(s.policy_context, "");
}

// A request as Postfix's smtpd sends it at RCPT.
Attributes rcpt_request(std::string client_address, std::string sender, std::string recipient) {
  return {{"request", "smtpd_access_policy"},
          {"protocol_state", "RCPT"},
          {"protocol_name", "ESMTP"},
          {"client_address", std::move(client_address)},
          {"client_name", "localhost"},
          {"reverse_client_name", "localhost"},
          {"helo_name", "localhost"},
          {"sender", std::move(sender)},
          {"recipient", std::move(recipient)},
          {"recipient_count", "0"},
          {"queue_id", ""},
          {"instance", "1f2e.6561a6b0.a1b2c.0"},
          {"size", "0"}};
}

struct Timed {
  Result result;
  std::chrono::milliseconds took{};
};

class PolicyClientTest : public ::testing::Test {
 protected:
  PolicyClientTest() {
    fast_.timeout = 300ms;
    fast_.retry_delay = 200ms;
  }

  static Endpoint endpoint(const std::string& text, std::string_view queue_directory = "") {
    auto parsed = parse_endpoint(text, queue_directory);
    if (!parsed) throw std::runtime_error(parsed.error());
    return *parsed;
  }

  asio::awaitable<Result> ask(const std::string& endpoint_text, const ClientSettings& settings,
                              Attributes request = rcpt_request("192.0.2.1", "a@example.org",
                                                                "b@example.net")) {
    return client_->query(endpoint(endpoint_text), settings, std::move(request));
  }

  // Runs the queries side by side until all have ended (60 s at most).
  std::vector<Timed> run_all(std::vector<asio::awaitable<Result>> queries) {
    struct Shared {
      std::vector<std::optional<Timed>> done;
      size_t left = 0;
    };
    auto shared = std::make_shared<Shared>();
    shared->done.resize(queries.size());
    shared->left = queries.size();
    const auto start = Clock::now();
    for (size_t i = 0; i < queries.size(); ++i) {
      asio::co_spawn(loop_, std::move(queries[i]),
                     [this, shared, i, start](std::exception_ptr error, Result result) {
                       if (error) result = std::unexpected("exception");
                       const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
                           Clock::now() - start);
                       shared->done[i] = Timed{std::move(result), took};
                       if (--shared->left == 0) loop_.stop();
                     });
    }
    loop_.restart();
    loop_.run_for(60s);
    std::vector<Timed> out;
    for (auto& d : shared->done) {
      out.push_back(d ? std::move(*d) : Timed{std::unexpected("did not end"), 60s});
    }
    return out;
  }

  Timed run(asio::awaitable<Result> query) {
    std::vector<asio::awaitable<Result>> one;
    one.push_back(std::move(query));
    return std::move(run_all(std::move(one)).front());
  }

  // Lets the loop run (idle timers fire) for a while.
  void idle(std::chrono::milliseconds how_long) {
    loop_.restart();
    loop_.run_for(how_long);
  }

  asio::io_context loop_{1};
  std::unique_ptr<PolicyClient> client_ = std::make_unique<PolicyClient>(loop_);
  ClientSettings fast_;  // short timeout and retry delay
};

// --- real policy servers ---

TEST_F(PolicyClientTest, PostgreyGreylistsThenPassesOneConnectionForAll) {
  if (!Postgrey::installed()) GTEST_SKIP() << "postgrey is not installed";
  Postgrey postgrey(/*delay_seconds=*/1);
  ASSERT_TRUE(postgrey.wait_ready());
  ClientSettings settings;
  settings.timeout = 10s;

  const Timed first = run(ask(postgrey.endpoint_text(), settings));
  ASSERT_TRUE(first.result) << first.result.error();
  EXPECT_TRUE(first.result->starts_with("DEFER_IF_PERMIT Greylisted, see http://postgrey"))
      << *first.result;
  const Timed other = run(ask(postgrey.endpoint_text(), settings,
                              rcpt_request("192.0.2.1", "a@example.org", "c@example.net")));
  ASSERT_TRUE(other.result) << other.result.error();
  EXPECT_TRUE(other.result->starts_with("DEFER_IF_PERMIT Greylisted")) << *other.result;

  std::this_thread::sleep_for(2100ms);  // past postgrey's --delay
  const Timed retry = run(ask(postgrey.endpoint_text(), settings));
  ASSERT_TRUE(retry.result) << retry.result.error();
  EXPECT_TRUE(retry.result->starts_with("PREPEND X-Greylist: delayed")) << *retry.result;

  // postgrey serves many requests per connection: one was enough.
  EXPECT_EQ(client_->stats().connects, 1u);
  EXPECT_EQ(client_->stats().requests, 3u);
}

TEST_F(PolicyClientTest, PolicydSpfSpawnedPerConnectionIsReused) {
  if (::access("/usr/bin/policyd-spf", X_OK) != 0) GTEST_SKIP() << "policyd-spf is not installed";
  Peer spf(spawn_policyd_spf());
  ClientSettings settings;
  settings.timeout = 20s;
  const Timed first = run(
      ask(spf.endpoint_text(), settings, rcpt_request("127.0.0.1", "a@example.org", "b@c.net")));
  ASSERT_TRUE(first.result) << first.result.error();
  // policyd-spf's skip_addresses covers loopback clients.
  EXPECT_TRUE(first.result->starts_with("prepend X-Comment: SPF check N/A for local connections"))
      << *first.result;
  // The same process answers the next recipient of the same message
  // (same "instance"): it remembers it has prepended its header already.
  const Timed second = run(
      ask(spf.endpoint_text(), settings, rcpt_request("127.0.0.1", "a@example.org", "d@c.net")));
  ASSERT_TRUE(second.result) << second.result.error();
  EXPECT_EQ(*second.result, "dunno");
  EXPECT_EQ(spf.accepted(), 1);
}

TEST_F(PolicyClientTest, UnixSocketUnderTheQueueDirectory) {
  if (::access("/usr/bin/policyd-spf", X_OK) != 0) GTEST_SKIP() << "policyd-spf is not installed";
  const auto queue_directory = make_temp_dir();
  fs::create_directory(queue_directory / "private");
  Peer spf(spawn_policyd_spf(), (queue_directory / "private/policy-spf").string());
  ClientSettings settings;
  settings.timeout = 20s;
  const Timed answer =
      run(client_->query(endpoint("unix:private/policy-spf", queue_directory.string()), settings,
                         rcpt_request("127.0.0.1", "a@example.org", "b@example.net")));
  ASSERT_TRUE(answer.result) << answer.result.error();
  EXPECT_TRUE(answer.result->starts_with("prepend X-Comment: SPF check N/A")) << *answer.result;
  EXPECT_EQ(spf.accepted(), 1);
  fs::remove_all(queue_directory);
}

// --- what is sent ---

TEST_F(PolicyClientTest, SendsTheRequestAndPolicyContext) {
  Peer peer(answer("DUNNO"));
  ClientSettings settings = fast_;
  const Timed plain = run(ask(peer.endpoint_text(), settings));
  ASSERT_TRUE(plain.result) << plain.result.error();
  EXPECT_EQ(*plain.result, "DUNNO");
  settings.policy_context = "submission";
  ASSERT_TRUE(run(ask(peer.endpoint_text(), settings)).result);

  const auto requests = peer.requests();
  ASSERT_EQ(requests.size(), 2u);
  Attributes expected = rcpt_request("192.0.2.1", "a@example.org", "b@example.net");
  expected.push_back({"policy_context", ""});  // Postfix sends it, empty by default
  EXPECT_EQ(requests[0], expected);
  expected.back().value = "submission";
  EXPECT_EQ(requests[1], expected);
  EXPECT_EQ(peer.accepted(), 1);
}

TEST_F(PolicyClientTest, ExtraAnswerAttributesAreIgnored) {
  Peer peer(reply_once("reason=x\naction=REJECT no thanks\n\n"));
  const Timed got = run(ask(peer.endpoint_text(), fast_));
  ASSERT_TRUE(got.result) << got.result.error();
  EXPECT_EQ(*got.result, "REJECT no thanks");
}

// --- failures: retried try_limit times, then the last error ---

TEST_F(PolicyClientTest, RefusedConnection) {
  const ClosedPort closed;
  const std::string text = "inet:127.0.0.1:" + std::to_string(closed.port());
  const Timed got = run(ask(text, fast_));
  ASSERT_FALSE(got.result);
  EXPECT_EQ(got.result.error(),
            "connect to 127.0.0.1:" + std::to_string(closed.port()) + ": Connection refused");
  EXPECT_GE(got.took, 200ms);  // one retry_delay between the two attempts
  EXPECT_LT(got.took, 1000ms);
  EXPECT_EQ(client_->stats().connects, 0u);
}

TEST_F(PolicyClientTest, MissingUnixSocket) {
  const Timed got = run(ask("unix:/nonexistent/moat-policy.sock", fast_));
  ASSERT_FALSE(got.result);
  EXPECT_EQ(got.result.error(),
            "connect to /nonexistent/moat-policy.sock: No such file or directory");
}

TEST_F(PolicyClientTest, SilentServerTimesOutOnEveryAttempt) {
  Peer peer(silent());
  const Timed got = run(ask(peer.endpoint_text(), fast_));
  ASSERT_FALSE(got.result);
  EXPECT_EQ(got.result.error(),
            "problem talking to server " + peer.endpoint_text() + ": read timeout");
  // try_limit × timeout + retry_delay
  EXPECT_GE(got.took, 800ms);
  EXPECT_LT(got.took, 1500ms);
  EXPECT_EQ(peer.accepted(), 2);
  EXPECT_EQ(peer.requests().size(), 2u);
}

TEST_F(PolicyClientTest, GarbageAnswer) {
  Peer peer(reply_once("250 this is no policy server\n\n"));
  const Timed got = run(ask(peer.endpoint_text(), fast_));
  ASSERT_FALSE(got.result);
  EXPECT_EQ(got.result.error(), "problem talking to server " + peer.endpoint_text() +
                                    ": bad answer: line without name=value");
  EXPECT_EQ(peer.accepted(), 2);
}

TEST_F(PolicyClientTest, AnswerWithoutAction) {
  Peer peer(reply_once("result=DUNNO\n\n"));
  const Timed got = run(ask(peer.endpoint_text(), fast_));
  ASSERT_FALSE(got.result);
  EXPECT_EQ(got.result.error(),
            "problem talking to server " + peer.endpoint_text() + ": answer without action=");
}

TEST_F(PolicyClientTest, ClosedInMidAnswer) {
  Peer peer(reply_once("action=DUN"));
  ClientSettings settings = fast_;
  settings.try_limit = 3;
  const Timed got = run(ask(peer.endpoint_text(), settings));
  ASSERT_FALSE(got.result);
  EXPECT_EQ(got.result.error(),
            "problem talking to server " + peer.endpoint_text() + ": connection closed by server");
  EXPECT_EQ(peer.accepted(), 3);
  EXPECT_GE(got.took, 400ms);  // two retry delays
}

TEST_F(PolicyClientTest, ServerThatHangsUpAfterEachAnswerCostsARetry) {
  Peer peer(answer("DUNNO", 0ms, /*once=*/true));
  ASSERT_TRUE(run(ask(peer.endpoint_text(), fast_)).result);
  // The pooled connection is dead: the first attempt fails, the retry works
  // (Postfix's request_limit = 1 is the workaround for such servers).
  const Timed second = run(ask(peer.endpoint_text(), fast_));
  ASSERT_TRUE(second.result) << second.result.error();
  EXPECT_GE(second.took, 200ms);
  EXPECT_EQ(peer.accepted(), 2);

  ClientSettings one_each = fast_;
  one_each.request_limit = 1;
  const Timed third = run(ask(peer.endpoint_text(), one_each));
  ASSERT_TRUE(third.result) << third.result.error();
  const Timed fourth = run(ask(peer.endpoint_text(), one_each));
  ASSERT_TRUE(fourth.result) << fourth.result.error();
  EXPECT_LT(fourth.took, 200ms);
  EXPECT_EQ(peer.accepted(), 4);
}

// --- no stalls ---

TEST_F(PolicyClientTest, SlowEndpointDoesNotStallAnother) {
  Peer slow(answer("DUNNO", 1500ms));
  Peer hanging(silent());
  Peer quick(answer("OK"));
  ClientSettings settings = fast_;
  settings.timeout = 5s;
  std::vector<asio::awaitable<Result>> queries;
  queries.push_back(ask(slow.endpoint_text(), settings));
  ClientSettings hang_up = fast_;
  hang_up.timeout = 1s;
  queries.push_back(ask(hanging.endpoint_text(), hang_up));
  queries.push_back(ask(quick.endpoint_text(), settings));
  queries.push_back(ask(quick.endpoint_text(), settings));
  ClientSettings impatient = fast_;
  impatient.try_limit = 1;
  queries.push_back(ask(hanging.endpoint_text(), impatient));
  const auto done = run_all(std::move(queries));
  ASSERT_TRUE(done[0].result) << done[0].result.error();
  EXPECT_GE(done[0].took, 1500ms);
  ASSERT_TRUE(done[2].result) << done[2].result.error();
  ASSERT_TRUE(done[3].result) << done[3].result.error();
  EXPECT_LT(done[2].took, 500ms);
  EXPECT_LT(done[3].took, 500ms);
  ASSERT_FALSE(done[4].result);
  EXPECT_LT(done[4].took, 700ms);
  ASSERT_FALSE(done[1].result);  // 2 × 1 s + retry delay
  EXPECT_GE(done[1].took, 2200ms);
}

TEST_F(PolicyClientTest, ConcurrentQueriesUseSeveralConnections) {
  Peer peer(answer("DUNNO", 300ms));
  std::vector<asio::awaitable<Result>> queries;
  ClientSettings settings;
  settings.timeout = 5s;
  for (int i = 0; i < 4; ++i) queries.push_back(ask(peer.endpoint_text(), settings));
  const auto done = run_all(std::move(queries));
  for (const auto& d : done) {
    ASSERT_TRUE(d.result) << d.result.error();
    EXPECT_LT(d.took, 900ms);  // side by side, not one after the other
  }
  EXPECT_EQ(peer.accepted(), 4);
}

TEST_F(PolicyClientTest, ConnectionsPerEndpointAreCapped) {
  client_ = std::make_unique<PolicyClient>(loop_, /*max_connections=*/2);
  Peer peer(answer("DUNNO", 300ms));
  ClientSettings settings;
  settings.timeout = 5s;
  std::vector<asio::awaitable<Result>> queries;
  for (int i = 0; i < 6; ++i) queries.push_back(ask(peer.endpoint_text(), settings));
  const auto done = run_all(std::move(queries));
  std::chrono::milliseconds last{};
  for (const auto& d : done) {
    ASSERT_TRUE(d.result) << d.result.error();
    last = std::max(last, d.took);
  }
  EXPECT_EQ(peer.accepted(), 2);
  EXPECT_GE(last, 900ms);  // three rounds of two

  // Waiting for a free connection is bounded by the timeout too.
  settings.timeout = 400ms;
  settings.try_limit = 1;
  Peer hanging(silent());
  queries.clear();
  for (int i = 0; i < 3; ++i) queries.push_back(ask(hanging.endpoint_text(), settings));
  const auto stuck = run_all(std::move(queries));
  ASSERT_FALSE(stuck[2].result);
  EXPECT_EQ(stuck[2].result.error(), "problem talking to server " + hanging.endpoint_text() +
                                         ": timeout waiting for a free connection");
  EXPECT_LT(stuck[2].took, 700ms);
}

// --- closing connections: request_limit, max_idle, max_ttl ---

TEST_F(PolicyClientTest, RequestLimitClosesAfterThatManyRequests) {
  Peer peer(answer("DUNNO"));
  ClientSettings settings = fast_;
  settings.request_limit = 2;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(run(ask(peer.endpoint_text(), settings)).result);
  EXPECT_EQ(peer.accepted(), 3);
}

TEST_F(PolicyClientTest, MaxIdleClosesAnUnusedConnection) {
  Peer peer(answer("DUNNO"));
  ClientSettings settings = fast_;
  settings.max_idle = 300ms;
  ASSERT_TRUE(run(ask(peer.endpoint_text(), settings)).result);
  idle(100ms);
  ASSERT_TRUE(run(ask(peer.endpoint_text(), settings)).result);
  EXPECT_EQ(peer.accepted(), 1);
  idle(600ms);
  ASSERT_TRUE(run(ask(peer.endpoint_text(), settings)).result);
  EXPECT_EQ(peer.accepted(), 2);
}

TEST_F(PolicyClientTest, MaxTtlClosesAnOldConnection) {
  Peer peer(answer("DUNNO"));
  ClientSettings settings = fast_;
  settings.max_ttl = 400ms;
  ASSERT_TRUE(run(ask(peer.endpoint_text(), settings)).result);
  idle(150ms);
  ASSERT_TRUE(run(ask(peer.endpoint_text(), settings)).result);
  EXPECT_EQ(peer.accepted(), 1);
  idle(400ms);  // older than max_ttl now, though never idle for long
  ASSERT_TRUE(run(ask(peer.endpoint_text(), settings)).result);
  EXPECT_EQ(peer.accepted(), 2);
}

// --- shutting down ---

TEST_F(PolicyClientTest, DestroyedClientEndsWaitingQueries) {
  client_ = std::make_unique<PolicyClient>(loop_, /*max_connections=*/1);
  Peer hanging(silent());
  const ClosedPort closed;
  ClientSettings patient;
  patient.timeout = 30s;
  patient.retry_delay = 30s;
  std::vector<asio::awaitable<Result>> queries;
  queries.push_back(ask(hanging.endpoint_text(), patient));  // reading
  queries.push_back(ask(hanging.endpoint_text(), patient));  // waiting for the connection
  queries.push_back(ask("inet:127.0.0.1:" + std::to_string(closed.port()), patient));  // retry
  // The client goes while they wait.
  asio::steady_timer later(loop_, 300ms);
  later.async_wait([this](asio::error_code) { client_.reset(); });
  const auto done = run_all(std::move(queries));
  for (const auto& d : done) {
    ASSERT_FALSE(d.result);
    EXPECT_EQ(d.result.error(), "policy client shut down");
    EXPECT_LT(d.took, 2s);
  }
}

TEST_F(PolicyClientTest, QueryStartedAfterTheClientWentFails) {
  Peer peer(answer("DUNNO"));
  auto query = ask(peer.endpoint_text(), fast_);
  client_.reset();
  const Timed got = run(std::move(query));
  ASSERT_FALSE(got.result);
  EXPECT_EQ(got.result.error(), "policy client shut down");
}

}  // namespace
}  // namespace moat::policy
