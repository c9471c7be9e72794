// The Redis store against a real redis-server started per test on a free
// loopback port: the Store contract (with and without a password), then what
// only Redis has: AUTH, SELECT, the Lua scripts against the C++ rules, a
// forgotten script, the server going away and coming back, a server that
// never answers, pipelining. Skipped with a message when redis-server is
// not installed.
#include "state/redis_store.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <asio/detached.hpp>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "state/redis_connection.h"
#include "store_contract.h"

namespace moat::state {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::run_on;

constexpr const char* kRedisServer = "/usr/bin/redis-server";

bool have_redis_server() {
  return ::access(kRedisServer, X_OK) == 0;
}

// A loopback TCP socket bound to a port the kernel chose; listening or not.
class BoundSocket {
 public:
  explicit BoundSocket(bool listen) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0 ||
        (listen && ::listen(fd_, 64) != 0)) {
      throw std::runtime_error("cannot bind a loopback socket");
    }
    port_ = ntohs(address.sin_port);
  }
  ~BoundSocket() { ::close(fd_); }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

// Options for a BoundSocket that listens and never answers.
RedisOptions silent_options(const BoundSocket& silent, std::chrono::milliseconds timeout) {
  RedisOptions options;
  options.host = "127.0.0.1";
  options.port = silent.port();
  options.timeout = timeout;
  return options;
}

// A redis-server of the test's own, on 127.0.0.1 and a unix socket, in a
// temporary directory, saving nothing; killed when the object goes.
class RedisServer {
 public:
  explicit RedisServer(std::vector<std::string> extra = {}) : extra_(std::move(extra)) {
    std::string pattern = (fs::temp_directory_path() / "moat-redis-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    port_ = BoundSocket(false).port();  // free now; redis-server binds it next
    start();
  }
  ~RedisServer() {
    stop();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Starts it (again) on the same port; false if it does not answer PING.
  bool start() {
    std::vector<std::string> args = {kRedisServer,
                                     "--port",
                                     std::to_string(port_),
                                     "--bind",
                                     "127.0.0.1",
                                     "--save",
                                     "",
                                     "--appendonly",
                                     "no",
                                     "--dir",
                                     dir_.string(),
                                     "--unixsocket",
                                     socket_path(),
                                     "--logfile",
                                     (dir_ / "log").string()};
    args.insert(args.end(), extra_.begin(), extra_.end());
    pid_ = ::fork();
    if (pid_ == 0) {
      std::vector<char*> argv;
      for (auto& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      ::execv(kRedisServer, argv.data());
      ::_exit(127);
    }
    return wait_ready();
  }

  // Kills it at once, as a crash would.
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  uint16_t port() const { return port_; }
  std::string socket_path() const { return (dir_ / "redis.sock").string(); }
  RedisOptions options() const {
    RedisOptions options;
    options.host = "127.0.0.1";
    options.port = port_;
    return options;
  }

 private:
  // Polls until it answers PING ("+PONG" or, with a password, "-NOAUTH").
  bool wait_ready() {
    for (int i = 0; i < 250; ++i) {
      const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      address.sin_port = htons(port_);
      char reply[64] = {};
      const bool ready =
          ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
          ::write(fd, "PING\r\n", 6) == 6 && ::read(fd, reply, sizeof reply) > 0 &&
          (reply[0] == '+' || reply[0] == '-');
      ::close(fd);
      if (ready) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  std::vector<std::string> extra_;
  fs::path dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

// --- the contract ---

struct RedisBackend {
  std::unique_ptr<RedisServer> server =
      have_redis_server() ? std::make_unique<RedisServer>() : nullptr;
  std::string skip_reason() {
    return server ? "" : std::string(kRedisServer) + " is not installed (Debian: redis-server)";
  }
  std::unique_ptr<Store> make(asio::io_context& loop) {
    return make_redis_store(loop, server->options());
  }
};

// The same through AUTH, SELECT and a unix socket.
struct RedisAuthBackend {
  std::unique_ptr<RedisServer> server =
      have_redis_server()
          ? std::make_unique<RedisServer>(std::vector<std::string>{"--requirepass", "s3cret"})
          : nullptr;
  std::string skip_reason() {
    return server ? "" : std::string(kRedisServer) + " is not installed (Debian: redis-server)";
  }
  std::unique_ptr<Store> make(asio::io_context& loop) {
    RedisOptions options;
    options.unix_path = server->socket_path();
    options.password = "s3cret";
    options.db = 5;
    return make_redis_store(loop, options);
  }
};

}  // namespace

namespace testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Redis, StoreContract, RedisBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(RedisAuth, StoreContract, RedisAuthBackend);
}  // namespace testing

namespace {

class RedisStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_redis_server()) GTEST_SKIP() << kRedisServer << " is not installed";
  }

  std::unique_ptr<Store> store(RedisOptions options) {
    return make_redis_store(loop_, std::move(options));
  }
  template <typename T>
  T run(asio::awaitable<T> operation) {
    return run_on(loop_, std::move(operation));
  }
  // Runs a raw command on a connection of its own.
  resp::Reply raw(const RedisOptions& options, std::vector<std::string> args) {
    RedisConnection connection(loop_, options);
    auto reply = run(connection.call(std::move(args)));
    EXPECT_TRUE(reply) << reply.error();
    return reply.value_or(resp::Reply{});
  }

  asio::io_context loop_{1};
};

std::string value_or_error(const Result<std::optional<std::string>>& got) {
  if (!got) return "error: " + got.error();
  return got->value_or("<absent>");
}

TEST_F(RedisStoreTest, AuthRequiredOrWrongPasswordIsAnError) {
  RedisServer server({"--requirepass", "s3cret"});
  auto options = server.options();
  auto none = store(options);
  auto got = run(none->get("grey:k"));
  ASSERT_FALSE(got);
  EXPECT_NE(got.error().find("NOAUTH"), std::string::npos) << got.error();
  EXPECT_TRUE(got.error().starts_with("redis 127.0.0.1:" + std::to_string(server.port()) + ": "))
      << got.error();

  options.password = "wrong";
  auto wrong = store(options);
  got = run(wrong->get("grey:k"));
  ASSERT_FALSE(got);
  EXPECT_NE(got.error().find("WRONGPASS"), std::string::npos) << got.error();

  options.password = "s3cret";
  auto right = store(options);
  ASSERT_TRUE(run(right->set("grey:k", "v", 60s)));
  EXPECT_EQ(value_or_error(run(right->get("grey:k"))), "v");
}

TEST_F(RedisStoreTest, DatabasesAreSeparate) {
  RedisServer server;
  auto options = server.options();
  options.db = 1;
  auto one = store(options);
  options.db = 2;
  auto two = store(options);
  ASSERT_TRUE(run(one->set("grey:k", "in one", 60s)));
  EXPECT_EQ(value_or_error(run(two->get("grey:k"))), "<absent>");
  ASSERT_TRUE(run(two->set("grey:k", "in two", 60s)));
  EXPECT_EQ(value_or_error(run(one->get("grey:k"))), "in one");
  EXPECT_EQ(resp::describe(raw(server.options(), {"EXISTS", "grey:k"})), "(integer) 0");  // db 0

  options.db = 99;  // redis-server has 16 by default
  auto missing = store(options);
  const auto got = run(missing->get("grey:k"));
  ASSERT_FALSE(got);
  EXPECT_NE(got.error().find("SELECT: ERR DB index is out of range"), std::string::npos)
      << got.error();
}

// The Lua scripts against greylist_step and count_event_step, on the values
// a damaged or foreign entry may hold.
TEST_F(RedisStoreTest, ScriptsFollowTheRulesOnEveryStoredValue) {
  RedisServer server;
  auto redis = store(server.options());
  const std::vector<std::optional<std::string>> stored = {std::nullopt,
                                                          "1000,1000",
                                                          "1000,1100",
                                                          "1000,1400",
                                                          "1000,5000",
                                                          "9000,9000",
                                                          "500,400",
                                                          "0001000,01100",
                                                          "-5,3",
                                                          "-0,0",
                                                          "",
                                                          "x",
                                                          "1000",
                                                          "1000,",
                                                          ",1000",
                                                          "10 00,1",
                                                          "1,2,3",
                                                          "+5,6",
                                                          " 5,6",
                                                          "5,6 ",
                                                          "99999999999999999999,1",
                                                          "9223372036854775808,1",
                                                          "-9223372036854775809,1",
                                                          "12345678901234,5",
                                                          "1000,1000\n",
                                                          "0x10,5"};
  const std::vector<int64_t> nows = {1000, 1100, 1400, 1000 + 2 * 86400 + 1, 200000000, 5};
  int key = 0;
  for (const auto& value : stored) {
    for (int64_t now : nows) {
      const std::string k = "grey:" + std::to_string(++key);
      const GreylistRule rule{.now = now, .delay = 300, .retry_window = 2 * 86400, .max_age = 60};
      if (value) {
        ASSERT_TRUE(run(redis->set(k, *value, 60s)));
      }
      const auto expected = greylist_step(value, rule);
      const auto seen = run(redis->greylist(k, rule));
      ASSERT_TRUE(seen) << seen.error();
      const std::string where =
          "stored \"" + value.value_or("<absent>") + "\" now " + std::to_string(now);
      EXPECT_EQ(seen->first_seen, expected.seen.first_seen) << where;
      EXPECT_EQ(seen->was_passed, expected.seen.was_passed) << where;
      EXPECT_EQ(value_or_error(run(redis->get(k))), expected.value) << where;

      const std::string c = "count:" + std::to_string(key);
      if (value) {
        ASSERT_TRUE(run(redis->set(c, *value, 60s)));
      }
      const auto step = count_event_step(value, now, 3600s);
      const auto count = run(redis->count_event(c, now, 3600s, 60s));
      ASSERT_TRUE(count) << count.error();
      EXPECT_EQ(*count, step.count) << where;
      EXPECT_EQ(value_or_error(run(redis->get(c))),
                step.value ? *step.value : value.value_or("<absent>"))
          << where;
    }
  }
}

// The one greylist_decision script against Store::greylist_decision's
// three calls (each held to the C++ rules above), on stored counters and
// triplets of every kind, with and without a counter.
TEST_F(RedisStoreTest, TheDecisionScriptDoesWhatTheThreeCallsDo) {
  RedisServer server;
  auto redis = store(server.options());
  const std::vector<std::optional<std::string>> counters = {
      std::nullopt, "0,1000", "1,1000", "2,1000", "2,5000", "3,0", "x", "2", "-1,5", "02,1"};
  const std::vector<std::optional<std::string>> triplets = {std::nullopt, "1000,1000", "1000,1400",
                                                            "1000,5000",  "9000,9000", "x"};
  const std::vector<int64_t> nows = {1000, 1200, 1400, 4700, 1000 + 2 * 86400 + 1};
  int n = 0;
  for (const auto& counter : counters) {
    for (const auto& triplet : triplets) {
      for (int64_t now : nows) {
        for (int64_t allowlist_after : {0, 2}) {
          GreylistAnswer answers[2];
          std::string values[2][2];
          for (int by_script = 0; by_script < 2; ++by_script) {
            const std::string id = std::to_string(++n);
            GreylistQuestion question{.triplet = "grey:" + id,
                                      .client = "awl:" + id,
                                      .allowlist_after = allowlist_after,
                                      .rule = {.now = now, .delay = 300, .max_age = 60}};
            if (triplet) {
              ASSERT_TRUE(run(redis->set(question.triplet, *triplet, 60s)));
            }
            if (counter) {
              ASSERT_TRUE(run(redis->set(question.client, *counter, 60s)));
            }
            const auto answer = by_script ? run(redis->greylist_decision(question))
                                          : run(redis->Store::greylist_decision(question));
            ASSERT_TRUE(answer) << answer.error();
            answers[by_script] = *answer;
            values[by_script][0] = value_or_error(run(redis->get(question.triplet)));
            values[by_script][1] = value_or_error(run(redis->get(question.client)));
          }
          const std::string where = "counter \"" + counter.value_or("<absent>") + "\" triplet \"" +
                                    triplet.value_or("<absent>") + "\" now " + std::to_string(now) +
                                    " after " + std::to_string(allowlist_after);
          EXPECT_EQ(answers[1].allowlisted, answers[0].allowlisted) << where;
          if (!answers[0].allowlisted) {
            EXPECT_EQ(answers[1].seen.first_seen, answers[0].seen.first_seen) << where;
            EXPECT_EQ(answers[1].seen.was_passed, answers[0].seen.was_passed) << where;
          }
          EXPECT_EQ(answers[1].count, answers[0].count) << where;
          EXPECT_EQ(values[1][0], values[0][0]) << where;
          EXPECT_EQ(values[1][1], values[0][1]) << where;
        }
      }
    }
  }
}

TEST_F(RedisStoreTest, TimesToLiveAreSetAsAsked) {
  RedisServer server;
  auto redis = store(server.options());
  ASSERT_TRUE(run(redis->set("a:set", "v", 100s)));
  ASSERT_TRUE(run(redis->increment("a:inc", 1, 200s)));
  ASSERT_TRUE(run(redis->greylist("a:grey", {.now = 1000, .max_age = 300})));
  ASSERT_TRUE(run(redis->count_event("a:count", 1000, 3600s, 400s)));
  EXPECT_EQ(resp::describe(raw(server.options(), {"TTL", "a:set"})), "(integer) 100");
  EXPECT_EQ(resp::describe(raw(server.options(), {"TTL", "a:inc"})), "(integer) 200");
  EXPECT_EQ(resp::describe(raw(server.options(), {"TTL", "a:grey"})), "(integer) 300");
  EXPECT_EQ(resp::describe(raw(server.options(), {"TTL", "a:count"})), "(integer) 400");
  // An event inside the interval changes nothing, its time to live included.
  ASSERT_TRUE(run(redis->count_event("a:count", 1001, 3600s, 900s)));
  EXPECT_EQ(resp::describe(raw(server.options(), {"TTL", "a:count"})), "(integer) 400");
  // As in LMDB: 0 leaves nothing behind; over a century lasts a century.
  ASSERT_TRUE(run(redis->set("a:set", "v", 0s)));
  EXPECT_EQ(run(redis->increment("a:inc", 1, 0s)).value_or(-1), 2);
  ASSERT_TRUE(run(redis->greylist("a:grey", {.now = 1000, .max_age = 0})));
  EXPECT_EQ(run(redis->count_event("a:count", 9000, 3600s, -5s)).value_or(-1), 2);
  for (const char* key : {"a:set", "a:inc", "a:grey", "a:count"}) {
    EXPECT_EQ(value_or_error(run(redis->get(key))), "<absent>") << key;
  }
  ASSERT_TRUE(run(redis->set("a:set", "v", std::chrono::seconds(INT64_MAX))));
  EXPECT_EQ(resp::describe(raw(server.options(), {"TTL", "a:set"})), "(integer) 3153600000");
}

TEST_F(RedisStoreTest, IncrementOfANonIntegerOrAnOverflowIsAnError) {
  RedisServer server;
  auto redis = store(server.options());
  ASSERT_TRUE(run(redis->set("n:k", "not a number", 60s)));
  const auto damaged = run(redis->increment("n:k", 5, 60s));
  ASSERT_FALSE(damaged);
  EXPECT_NE(damaged.error().find("not an integer"), std::string::npos) << damaged.error();
  EXPECT_EQ(value_or_error(run(redis->get("n:k"))), "not a number");
  ASSERT_TRUE(run(redis->set("n:k", "9223372036854775807", 60s)));
  const auto overflow = run(redis->increment("n:k", 1, 60s));
  ASSERT_FALSE(overflow);
  EXPECT_NE(overflow.error().find("overflow"), std::string::npos) << overflow.error();
  // A key of another type likewise.
  raw(server.options(), {"RPUSH", "n:list", "x"});
  EXPECT_FALSE(run(redis->increment("n:list", 1, 60s)));
  EXPECT_FALSE(run(redis->get("n:list")));
}

TEST_F(RedisStoreTest, AForgottenScriptIsSentAgain) {
  RedisServer server;
  auto redis = store(server.options());
  ASSERT_EQ(run(redis->count_event("c:k", 1000, 0s, 60s)).value_or(-1), 1);
  EXPECT_EQ(resp::describe(raw(server.options(), {"SCRIPT", "FLUSH"})), "OK");
  EXPECT_EQ(run(redis->count_event("c:k", 1001, 0s, 60s)).value_or(-1), 2);
  EXPECT_EQ(run(redis->count_event("c:k", 1002, 0s, 60s)).value_or(-1), 3);
}

// Calls until one succeeds or `limit` passes; how long that took.
std::optional<std::chrono::milliseconds> time_to_recover(asio::io_context& loop, Store& store,
                                                         std::chrono::milliseconds limit) {
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < limit) {
    if (run_on(loop, store.get("grey:k"))) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - start);
    }
    std::this_thread::sleep_for(20ms);
  }
  return std::nullopt;
}

TEST_F(RedisStoreTest, ServerGoneCallsFailFastAndTheStoreRecovers) {
  RedisServer server;
  auto options = server.options();
  options.timeout = 500ms;
  options.backoff_initial = 20ms;
  options.backoff_max = 200ms;
  auto redis = store(options);
  ASSERT_TRUE(run(redis->set("grey:k", "before", 3600s)));

  server.stop();
  for (int i = 0; i < 20; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const auto got = run(redis->get("grey:k"));
    EXPECT_FALSE(got);
    EXPECT_LE(std::chrono::steady_clock::now() - start, options.timeout + 100ms);
    std::this_thread::sleep_for(10ms);
  }

  ASSERT_TRUE(server.start());
  const auto recovered = time_to_recover(loop_, *redis, 5s);
  ASSERT_TRUE(recovered) << "no recovery within 5 s";
  EXPECT_LE(*recovered, options.backoff_max + options.timeout + 200ms);
  // A killed server saving nothing comes back empty.
  EXPECT_EQ(value_or_error(run(redis->get("grey:k"))), "<absent>");
  EXPECT_TRUE(run(redis->set("grey:k", "after", 3600s)));
}

TEST_F(RedisStoreTest, NoServerAtAllFailsFast) {
  RedisOptions options;
  options.host = "127.0.0.1";
  options.port = BoundSocket(false).port();  // nothing listens there
  auto redis = store(options);
  const auto start = std::chrono::steady_clock::now();
  const auto got = run(redis->get("grey:k"));
  ASSERT_FALSE(got);
  EXPECT_NE(got.error().find("connect: Connection refused"), std::string::npos) << got.error();
  EXPECT_LE(std::chrono::steady_clock::now() - start, 500ms);
}

TEST_F(RedisStoreTest, AHostNameIsResolvedOnConnect) {
  RedisServer server;
  auto options = server.options();
  options.host = "localhost";  // ::1 may come first and be refused: the next address is tried
  auto redis = store(options);
  EXPECT_TRUE(run(redis->set("grey:k", "v", 60s)));
  options.host = "no-such-host.invalid";
  auto nowhere = store(options);
  const auto got = run(nowhere->get("grey:k"));
  ASSERT_FALSE(got);
  // (Where no DNS answers at all, the lookup outlasts the timeout instead.)
  EXPECT_TRUE(got.error().find("resolve no-such-host.invalid") != std::string::npos ||
              got.error().find("timed out") != std::string::npos)
      << got.error();
}

TEST_F(RedisStoreTest, AMissingUnixSocketIsAnError) {
  RedisOptions options;
  options.unix_path = "/nonexistent/redis.sock";
  auto redis = store(options);
  const auto got = run(redis->get("grey:k"));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error(), "redis unix:/nonexistent/redis.sock: connect: No such file or directory");
}

// A peer that accepts (the kernel's backlog does) and never says a word.
TEST_F(RedisStoreTest, ASilentServerTimesOutWithoutHanging) {
  BoundSocket silent(true);
  auto redis = store(silent_options(silent, 300ms));
  constexpr int kCalls = 50;
  int done = 0, timed_out = 0;
  // Named: the coroutines refer to it while they run.
  auto call = [&]() -> asio::awaitable<void> {
    const auto seen = co_await redis->greylist("grey:k", GreylistRule{.now = 1000});
    if (!seen && seen.error().find("timed out") != std::string::npos) ++timed_out;
    if (++done == kCalls) loop_.stop();
  };
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kCalls; ++i) asio::co_spawn(loop_, call(), asio::detached);
  loop_.run_for(5s);
  EXPECT_EQ(done, kCalls);
  EXPECT_EQ(timed_out, kCalls);
  EXPECT_LE(std::chrono::steady_clock::now() - start, 1s);
}

asio::awaitable<void> get_into(Store& store, std::optional<std::string>* error) {
  const auto got = co_await store.get("grey:k");
  *error = got ? "" : got.error();
}

// The same, keeping the Store alive, as a session does.
asio::awaitable<void> hold_and_get(std::shared_ptr<Store> store,
                                   std::optional<std::string>* error) {
  co_await get_into(*store, error);
}

TEST_F(RedisStoreTest, DestroyingTheStoreEndsWaitingCalls) {
  BoundSocket silent(true);
  auto redis = store(silent_options(silent, 10s));
  std::optional<std::string> error;
  asio::co_spawn(loop_, get_into(*redis, &error), asio::detached);
  loop_.run_for(100ms);
  ASSERT_FALSE(error);  // waiting
  redis.reset();
  loop_.restart();
  loop_.run_for(100ms);
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("shut down"), std::string::npos) << *error;
}

// A session's coroutine holding the Store waits in the Store: a cycle that
// the io_context's shutdown must break (no leak, no crash).
TEST_F(RedisStoreTest, WaitingCallsDieWithTheirLoop) {
  BoundSocket silent(true);
  std::weak_ptr<Store> watch;
  std::optional<std::string> error;
  {
    asio::io_context loop(1);
    std::shared_ptr<Store> redis = make_redis_store(loop, silent_options(silent, 10s));
    watch = redis;
    asio::co_spawn(loop, hold_and_get(std::move(redis), &error), asio::detached);
    loop.run_for(100ms);
  }
  EXPECT_TRUE(watch.expired());
  EXPECT_FALSE(error);  // never resumed
}

std::vector<std::string> echo_command(int i) {
  return {"ECHO", std::to_string(i)};
}

// Many coroutines' commands share the one connection and each gets its own
// reply back.
TEST_F(RedisStoreTest, PipelinedRepliesReachTheirCallers) {
  RedisServer server;
  auto options = server.options();
  options.timeout = 20s;  // a slow (sanitized) build is not what this measures
  RedisConnection connection(loop_, options);
  constexpr int kCalls = 20000;
  int done = 0, matched = 0;
  auto echo = [&](int i) -> asio::awaitable<void> {
    const auto reply = co_await connection.call(echo_command(i));
    if (reply && reply->text == std::to_string(i)) ++matched;
    if (++done == kCalls) loop_.stop();
  };
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kCalls; ++i) asio::co_spawn(loop_, echo(i), asio::detached);
  loop_.run_for(30s);
  const auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start);
  EXPECT_EQ(done, kCalls);
  EXPECT_EQ(matched, kCalls);
  EXPECT_EQ(connection.stats().connects, 1u);
  std::printf("[ pipeline ] %d calls in %.3f s: %.0f calls/s on one connection\n", kCalls,
              elapsed.count(), kCalls / elapsed.count());
}

// Greylisting steps per second through the Store: one at a time, then many
// sessions at once sharing the connection (what pipelining buys).
TEST_F(RedisStoreTest, GreylistThroughput) {
  RedisServer server;
  auto options = server.options();
  options.timeout = 20s;
  auto redis = store(options);
  ASSERT_TRUE(run(redis->greylist("grey:warm", GreylistRule{.now = 1000})));  // loads the script
  constexpr int kSequential = 2000, kSessions = 200, kPerSession = 50;
  int failures = 0, finished = 0;
  auto session = [&](int id, int steps) -> asio::awaitable<void> {
    for (int i = 0; i < steps; ++i) {
      const auto seen = co_await redis->greylist("grey:" + std::to_string(id % 1000),
                                                 GreylistRule{.now = 1000 + i});
      if (!seen) ++failures;
    }
    ++finished;
    if (finished == kSessions || steps == kSequential) loop_.stop();
  };
  auto rate = [&](int sessions, int steps) {
    finished = 0;
    const auto start = std::chrono::steady_clock::now();
    for (int id = 0; id < sessions; ++id) asio::co_spawn(loop_, session(id, steps), asio::detached);
    loop_.restart();
    loop_.run_for(60s);
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    return sessions * steps / elapsed.count();
  };
  const double one = rate(1, kSequential);
  const double many = rate(kSessions, kPerSession);
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(finished, kSessions);
  std::printf("[ throughput ] greylist: %.0f/s one at a time, %.0f/s from %d sessions (x%.1f)\n",
              one, many, kSessions, many / one);
}

}  // namespace
}  // namespace moat::state
