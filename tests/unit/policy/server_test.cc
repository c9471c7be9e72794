// The policy server on real sockets (loopback TCP and unix sockets in a
// temporary directory), served by worker loops on their own threads as in
// moat, and talked to by plain blocking clients. The handler answers
// "OK <instance>" so that every answer shows which request it belongs to.
#include "policy/server.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "log/log.h"

namespace moat::policy {
namespace {

using namespace std::chrono_literals;

std::string request(std::string_view instance) {
  return "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
         "client_address=192.0.2.1\nclient_name=mail.example.com\nhelo_name=mail.example.com\n"
         "sender=alice@example.com\nrecipient=bob@example.net\ninstance=" +
         std::string(instance) + "\n\n";
}

std::string answer(std::string_view instance) {
  return "action=OK " + std::string(instance) + "\n\n";
}

asio::awaitable<std::string> echo_instance(const Attributes& request) {
  const std::string* instance = find(request, "instance");
  co_return "OK " + (instance ? *instance : std::string("?"));
}

// A blocking client; every read gives up after 10 s so a broken server
// fails the test instead of hanging it.
class Client {
 public:
  explicit Client(const ListenAddress& address) {
    if (address.kind == ListenAddress::Kind::kUnix) {
      fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_un name{};
      name.sun_family = AF_UNIX;
      std::memcpy(name.sun_path, address.path.data(), address.path.size());
      connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&name), sizeof name) == 0;
    } else {
      fd_ = ::socket(address.inet.address().is_v6() ? AF_INET6 : AF_INET,
                     SOCK_STREAM | SOCK_CLOEXEC, 0);
      connected_ = ::connect(fd_, address.inet.data(), address.inet.size()) == 0;
    }
    timeval timeout{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }

  void send(std::string_view bytes) {
    while (!bytes.empty()) {
      const auto sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (sent <= 0) return;  // the server closed: the reads will tell
      bytes.remove_prefix(static_cast<size_t>(sent));
    }
  }

  // The next answer, or nothing once the server has closed.
  std::optional<std::string> answer() {
    for (;;) {
      if (const auto end = buffer_.find("\n\n"); end != std::string::npos) {
        std::string one = buffer_.substr(0, end + 2);
        buffer_.erase(0, end + 2);
        return one;
      }
      char chunk[4096];
      const auto got = ::recv(fd_, chunk, sizeof chunk, 0);
      if (got <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<size_t>(got));
    }
  }

  // True when the server closes without sending anything more.
  bool closed_by_server() { return !answer() && buffer_.empty(); }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

// Worker loops on their own threads, as moat's SMTP server runs them.
class Loops {
 public:
  explicit Loops(size_t count) {
    for (size_t i = 0; i < count; ++i) loops_.push_back(std::make_unique<asio::io_context>(1));
    for (auto& loop : loops_) {
      threads_.emplace_back([&io = *loop] {
        auto guard = asio::make_work_guard(io);
        io.run();
      });
    }
  }
  ~Loops() { halt(); }
  // Stops the loops, leaving what they still hold to their destruction.
  void halt() {
    for (auto& loop : loops_) loop->stop();
    for (auto& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }
  asio::io_context& operator[](size_t i) { return *loops_[i]; }
  size_t size() const { return loops_.size(); }

 private:
  std::vector<std::unique_ptr<asio::io_context>> loops_;
  std::vector<std::thread> threads_;
};

ListenAddress loopback() {
  ListenAddress address;
  address.inet = asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0);
  return address;
}

// Log lines go to a file of the test's own, read back to check them.
class PolicyServer : public testing::Test {
 protected:
  PolicyServer() {
    directory_ = std::filesystem::temp_directory_path() /
                 ("moat-policy-server-" + std::to_string(::getpid()));
    std::filesystem::create_directories(directory_);
    log_file_ = directory_ / "maillog";
    EXPECT_EQ(log::configure({.maillog_file = log_file_.string()}), "");
  }
  ~PolicyServer() override {
    log::configure({});
    std::filesystem::remove_all(directory_);
  }

  std::string log_text() const {
    std::ifstream in(log_file_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  ListenAddress unix_address(std::string_view name = "policy") const {
    ListenAddress address;
    address.kind = ListenAddress::Kind::kUnix;
    address.path = (directory_ / name).string();
    return address;
  }

  // Binds and starts `server` on every loop.
  static void start(Server& server, Loops& loops, Server::Handler handler = echo_instance) {
    ASSERT_EQ(server.bind(), "");
    for (size_t i = 0; i < loops.size(); ++i) {
      ASSERT_EQ(server.start_on(loops[i], [handler] { return handler; }), "");
    }
  }

  // Polls for a state another thread reaches; gives up after 10 s.
  template <typename Predicate>
  static bool eventually(Predicate done) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(1ms);
    }
    return true;
  }

  std::filesystem::path directory_;
  std::filesystem::path log_file_;
};

TEST_F(PolicyServer, AnswersManyRequestsOnOneConnection) {
  Loops loops(2);
  Server server({loopback()});
  start(server, loops);
  Client client(server.addresses()[0]);
  ASSERT_TRUE(client.connected());
  for (int i = 0; i < 1000; ++i) {
    client.send(request(std::to_string(i)));
    ASSERT_EQ(client.answer(), answer(std::to_string(i)));
  }
}

TEST_F(PolicyServer, AnswersPipelinedRequestsInOrder) {
  Loops loops(2);
  Server server({loopback()});
  start(server, loops);
  Client client(server.addresses()[0]);
  std::string burst;
  for (int i = 0; i < 500; ++i) burst += request(std::to_string(i));
  client.send(burst);
  for (int i = 0; i < 500; ++i) ASSERT_EQ(client.answer(), answer(std::to_string(i)));
}

TEST_F(PolicyServer, EachConnectionHasItsOwnHandler) {
  Loops loops(2);
  Server server({loopback()});
  ASSERT_EQ(server.bind(), "");
  for (size_t i = 0; i < loops.size(); ++i) {
    ASSERT_EQ(server.start_on(
                  loops[i],
                  [] {
                    return [count = 0](const Attributes&) mutable -> asio::awaitable<std::string> {
                      co_return "OK " + std::to_string(++count);
                    };
                  }),
              "");
  }
  Client first(server.addresses()[0]);
  Client second(server.addresses()[0]);
  for (int i = 1; i <= 3; ++i) {
    first.send(request("x"));
    EXPECT_EQ(first.answer(), answer(std::to_string(i)));
  }
  second.send(request("x"));
  EXPECT_EQ(second.answer(), answer("1"));
}

TEST_F(PolicyServer, RequestSplitAcrossWritesAndCrlfLines) {
  Loops loops(1);
  Server server({loopback()});
  start(server, loops);
  Client client(server.addresses()[0]);
  const std::string whole = request("split");
  for (char c : whole) client.send(std::string_view(&c, 1));
  EXPECT_EQ(client.answer(), answer("split"));
  client.send("request=smtpd_access_policy\r\ninstance=crlf\r\n\r\n");
  EXPECT_EQ(client.answer(), answer("crlf"));
}

TEST_F(PolicyServer, ActionWithNewlinesCannotBreakTheFraming) {
  Loops loops(1);
  Server server({loopback()});
  start(server, loops, [](const Attributes&) -> asio::awaitable<std::string> {
    co_return "REJECT line one\nline two";
  });
  Client client(server.addresses()[0]);
  client.send(request("1"));
  EXPECT_EQ(client.answer(), "action=REJECT line one line two\n\n");
}

TEST_F(PolicyServer, InetAndUnixListenersTogether) {
  Loops loops(2);
  Server server({loopback(), unix_address()});
  start(server, loops);
  struct stat made {};
  ASSERT_EQ(::stat(unix_address().path.c_str(), &made), 0);
  EXPECT_TRUE(S_ISSOCK(made.st_mode));
  EXPECT_EQ(made.st_mode & 0777, 0666);  // postgrey's default socket mode

  Client inet(server.addresses()[0]);
  Client local(server.addresses()[1]);
  ASSERT_TRUE(inet.connected());
  ASSERT_TRUE(local.connected());
  for (int i = 0; i < 100; ++i) {
    inet.send(request("inet" + std::to_string(i)));
    local.send(request("unix" + std::to_string(i)));
    ASSERT_EQ(inet.answer(), answer("inet" + std::to_string(i)));
    ASSERT_EQ(local.answer(), answer("unix" + std::to_string(i)));
  }
}

TEST_F(PolicyServer, IPv6Listener) {
  ListenAddress address;
  address.inet = asio::ip::tcp::endpoint(asio::ip::make_address("::1"), 0);
  Loops loops(1);
  Server server({address});
  if (const auto error = server.bind(); !error.empty()) GTEST_SKIP() << "no IPv6: " << error;
  ASSERT_EQ(server.start_on(loops[0], [] { return echo_instance; }), "");
  Client client(server.addresses()[0]);
  client.send(request("v6"));
  EXPECT_EQ(client.answer(), answer("v6"));
}

TEST_F(PolicyServer, UnixSocketModeIsSettable) {
  Loops loops(1);
  Server server({unix_address()}, {.socket_mode = 0600});
  start(server, loops);
  struct stat made {};
  ASSERT_EQ(::stat(unix_address().path.c_str(), &made), 0);
  EXPECT_EQ(made.st_mode & 0777, 0600);
}

TEST_F(PolicyServer, StaleUnixSocketIsReplacedOtherFilesAreNot) {
  const auto address = unix_address();
  {  // a socket file left by a server that died
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un name{};
    name.sun_family = AF_UNIX;
    std::memcpy(name.sun_path, address.path.data(), address.path.size());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&name), sizeof name), 0);
    ::close(fd);
  }
  Loops loops(1);
  {
    Server server({address});
    start(server, loops);
    Client client(address);
    client.send(request("fresh"));
    EXPECT_EQ(client.answer(), answer("fresh"));

    // While it serves, a second server must not take the path over.
    Server second({address});
    EXPECT_NE(second.bind().find("another server is listening there"), std::string::npos);
  }
  EXPECT_FALSE(std::filesystem::exists(address.path));  // removed at shutdown

  std::ofstream(address.path) << "not a socket";
  Server server({address});
  EXPECT_NE(server.bind().find("exists and is not a socket"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(address.path));
}

TEST_F(PolicyServer, BindErrorNamesTheAddress) {
  Loops loops(1);
  Server first({loopback()});
  start(first, loops);
  Server second({loopback(), first.addresses()[0]});
  const auto error = second.bind();
  EXPECT_NE(error.find("bind " + first.addresses()[0].text()), std::string::npos) << error;
  EXPECT_NE(error.find("in use"), std::string::npos) << error;
}

// Each kind of malformed input closes its own connection, logs the client
// and the reason, and leaves the other connections working.
TEST_F(PolicyServer, MalformedRequestClosesOnlyThatConnection) {
  Server::Options options;
  options.limits.max_line = 1000;
  options.limits.max_attributes = 50;
  Loops loops(1);
  Server server({loopback()}, options);
  start(server, loops);
  Client bystander(server.addresses()[0]);

  static constexpr char kNul[] = "request=smtpd_access_policy\nsender=a\0b\n\n";
  std::string too_many;
  for (int i = 0; i < 60; ++i) too_many += "name" + std::to_string(i) + "=value\n";
  const std::pair<std::string, std::string> cases[] = {
      {too_many, "too many attributes"},
      {"request=smtpd_access_policy\nsender=" + std::string(2000, 'a') + "\n\n", "line too long"},
      {"sender=" + std::string(5000, 'a'), "line too long"},  // no newline in sight
      {std::string(kNul, sizeof kNul - 1), "NUL byte in a line"},
      {"request=smtpd_access_policy\nGET / HTTP/1.0\n\n", "line without name=value"},
      {"\x16\x03\x01\x02\xfc\x03\x03\n", "line without name=value"},  // binary
  };
  size_t logged = 0;
  for (const auto& [input, reason] : cases) {
    Client client(server.addresses()[0]);
    client.send(input);
    EXPECT_TRUE(client.closed_by_server()) << reason;
    // One line, naming the client and the reason.
    const auto log = log_text();
    const auto line = log.rfind("warning: malformed request from 127.0.0.1:");
    ASSERT_NE(line, std::string::npos) << log;
    EXPECT_NE(log.find(": " + reason + "; closing the connection\n", line), std::string::npos)
        << log;
    EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), ++logged) << log;

    bystander.send(request("still"));
    EXPECT_EQ(bystander.answer(), answer("still"));
  }
  EXPECT_TRUE(eventually([&] { return server.active_connections() == 1; }));
}

TEST_F(PolicyServer, RequestsBeforeGarbageAreStillAnswered) {
  Loops loops(1);
  Server server({loopback()});
  start(server, loops);
  Client client(server.addresses()[0]);
  client.send(request("1") + request("2") + "garbage\n");
  EXPECT_EQ(client.answer(), answer("1"));
  EXPECT_EQ(client.answer(), answer("2"));
  EXPECT_TRUE(client.closed_by_server());
}

TEST_F(PolicyServer, UnrecognizedRequestTypeIsLoggedAndNotAnswered) {
  Loops loops(1);
  Server server({loopback()});
  start(server, loops);
  Client client(server.addresses()[0]);
  client.send("request=junk\ninstance=x\n\n" + request("after"));
  EXPECT_EQ(client.answer(), answer("after"));  // the next answer is the next request's
  client.send("instance=no-type\n\n" + request("again"));
  EXPECT_EQ(client.answer(), answer("again"));
  const auto log = log_text();
  EXPECT_NE(log.find("warning: unrecognized request type \"junk\" from 127.0.0.1:"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("warning: unrecognized request type \"\" from 127.0.0.1:"), std::string::npos)
      << log;
}

TEST_F(PolicyServer, HandlerExceptionClosesThatConnectionOnly) {
  Loops loops(1);
  Server server({loopback()});
  start(server, loops, [](const Attributes& request) -> asio::awaitable<std::string> {
    if (*find(request, "instance") == "throw") throw std::runtime_error("store unavailable");
    co_return "DUNNO";
  });
  Client bad(server.addresses()[0]);
  Client good(server.addresses()[0]);
  bad.send(request("throw"));
  EXPECT_TRUE(bad.closed_by_server());
  EXPECT_NE(log_text().find("error: request from 127.0.0.1:"), std::string::npos);
  EXPECT_NE(log_text().find("store unavailable; closing the connection"), std::string::npos);
  good.send(request("fine"));
  EXPECT_EQ(good.answer(), "action=DUNNO\n\n");
}

TEST_F(PolicyServer, UnixClientIsNamedByProcessAndSocket) {
  Loops loops(1);
  Server server({unix_address()});
  start(server, loops);
  Client client(unix_address());
  client.send("no equals sign\n");
  EXPECT_TRUE(client.closed_by_server());
  EXPECT_NE(log_text().find("malformed request from pid " + std::to_string(::getpid()) +
                            " on unix:" + unix_address().path + ": line without name=value"),
            std::string::npos)
      << log_text();
}

TEST_F(PolicyServer, IdleConnectionIsClosedBusyOneIsNot) {
  Loops loops(1);
  Server server({loopback()}, {.idle_timeout = 300ms});
  start(server, loops);
  Client idle(server.addresses()[0]);
  Client busy(server.addresses()[0]);
  const auto opened = std::chrono::steady_clock::now();
  // `busy` sends a request every 100 ms, well within the timeout.
  for (int i = 0; i < 8; ++i) {
    busy.send(request(std::to_string(i)));
    ASSERT_EQ(busy.answer(), answer(std::to_string(i)));
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(idle.closed_by_server());
  const auto waited = std::chrono::steady_clock::now() - opened;
  EXPECT_GE(waited, 300ms);
  busy.send(request("last"));
  EXPECT_EQ(busy.answer(), answer("last"));
}

TEST_F(PolicyServer, IdleTimeoutCountsFromTheLastRequest) {
  Loops loops(1);
  Server server({loopback()}, {.idle_timeout = 200ms});
  start(server, loops);
  Client client(server.addresses()[0]);
  std::this_thread::sleep_for(100ms);
  client.send(request("1"));
  EXPECT_EQ(client.answer(), answer("1"));
  const auto answered = std::chrono::steady_clock::now();
  EXPECT_TRUE(client.closed_by_server());
  EXPECT_GE(std::chrono::steady_clock::now() - answered, 200ms);
}

// One loop: the slow request and the others share it, and still the others
// are answered while the slow one waits.
TEST_F(PolicyServer, SlowHandlerDoesNotStallOtherConnections) {
  Loops loops(1);
  asio::steady_timer gate(loops[0], asio::steady_timer::time_point::max());
  Server server({loopback()});
  start(server, loops, [&gate](const Attributes& request) -> asio::awaitable<std::string> {
    if (*find(request, "instance") == "slow") {
      co_await gate.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    }
    co_return "OK " + *find(request, "instance");
  });
  Client slow(server.addresses()[0]);
  slow.send(request("slow") + request("behind-slow"));
  std::vector<std::unique_ptr<Client>> others;
  for (int i = 0; i < 20; ++i) {
    others.push_back(std::make_unique<Client>(server.addresses()[0]));
    for (int j = 0; j < 10; ++j) {
      others.back()->send(request(std::to_string(j)));
      ASSERT_EQ(others.back()->answer(), answer(std::to_string(j)));
    }
  }
  asio::post(loops[0], [&gate] { gate.cancel(); });
  EXPECT_EQ(slow.answer(), answer("slow"));
  EXPECT_EQ(slow.answer(), answer("behind-slow"));
}

TEST_F(PolicyServer, TwoThousandConcurrentConnections) {
  constexpr int kConnections = 2000;
  rlimit files{};
  ::getrlimit(RLIMIT_NOFILE, &files);
  if (files.rlim_cur < 2 * kConnections + 100) {
    files.rlim_cur = std::min<rlim_t>(files.rlim_max, 2 * kConnections + 100);
    ::setrlimit(RLIMIT_NOFILE, &files);
  }
  if (files.rlim_cur < 2 * kConnections + 100) GTEST_SKIP() << "RLIMIT_NOFILE too low";

  Loops loops(2);
  Server server({loopback(), unix_address()});
  start(server, loops);
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kConnections; ++i) {
    clients.push_back(std::make_unique<Client>(server.addresses()[i % 2]));
    ASSERT_TRUE(clients.back()->connected()) << i;
  }
  // Every connection has a request in flight before any answer is read.
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < kConnections; ++i) {
      clients[i]->send(request(std::to_string(round) + "-" + std::to_string(i)));
    }
    for (int i = 0; i < kConnections; ++i) {
      ASSERT_EQ(clients[i]->answer(), answer(std::to_string(round) + "-" + std::to_string(i)));
    }
  }
  EXPECT_EQ(server.active_connections(), kConnections);
  clients.clear();
  EXPECT_TRUE(eventually([&] { return server.active_connections() == 0; }));
}

TEST_F(PolicyServer, StopClosesEveryConnectionAndTheListeners) {
  Loops loops(2);
  auto server = std::make_unique<Server>(std::vector{loopback(), unix_address()});
  start(*server, loops);
  const auto inet = server->addresses()[0];
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 100; ++i) {
    clients.push_back(std::make_unique<Client>(server->addresses()[i % 2]));
    clients.back()->send(request(std::to_string(i)));
    ASSERT_EQ(clients.back()->answer(), answer(std::to_string(i)));
  }
  // A request half sent, and one being decided, do not hold the stop up.
  clients[0]->send("request=smtpd_access_policy\n");

  server->stop();
  for (auto& client : clients) EXPECT_TRUE(client->closed_by_server());
  EXPECT_TRUE(eventually([&] { return server->active_connections() == 0; }));
  EXPECT_FALSE(std::filesystem::exists(unix_address().path));
  // Each loop closes its copy of the listening socket when it next runs.
  EXPECT_TRUE(eventually([&] { return !Client(inet).connected(); }));
  server.reset();
}

TEST_F(PolicyServer, StopWithADecisionInFlight) {
  Loops loops(1);
  asio::steady_timer gate(loops[0], asio::steady_timer::time_point::max());
  std::atomic<bool> deciding = false;
  Server server({loopback()});
  start(server, loops, [&](const Attributes&) -> asio::awaitable<std::string> {
    deciding = true;
    co_await gate.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    co_return "DUNNO";
  });
  Client client(server.addresses()[0]);
  client.send(request("1"));
  ASSERT_TRUE(eventually([&] { return deciding.load(); }));
  server.stop();
  EXPECT_TRUE(client.closed_by_server());
  asio::post(loops[0], [&gate] { gate.cancel(); });
  EXPECT_TRUE(eventually([&] { return server.active_connections() == 0; }));
}

// Loops halted with connections still open (moat's shutdown after its
// grace period): destroying them frees everything (ASan checks for leaks).
TEST_F(PolicyServer, LoopsHaltedWithConnectionsOpenLeakNothing) {
  std::vector<std::unique_ptr<Client>> clients;
  auto loops = std::make_unique<Loops>(2);
  Server server({loopback(), unix_address()});
  start(server, *loops);
  for (int i = 0; i < 50; ++i) {
    clients.push_back(std::make_unique<Client>(server.addresses()[i % 2]));
    clients.back()->send(request(std::to_string(i)));
    ASSERT_EQ(clients.back()->answer(), answer(std::to_string(i)));
  }
  clients[0]->send("request=smtpd_access_policy\n");
  loops->halt();
  server.stop();  // posts to loops that no longer run
  loops.reset();  // destroys what they held: sockets, coroutines
  for (auto& client : clients) EXPECT_TRUE(client->closed_by_server());
  EXPECT_EQ(server.active_connections(), 0);
}

TEST_F(PolicyServer, StartOnNeedsAServerNotStopped) {
  Loops loops(1);
  Server server({loopback()});
  ASSERT_EQ(server.bind(), "");
  server.stop();
  EXPECT_NE(server.start_on(loops[0], [] { return echo_instance; }), "");
}

}  // namespace
}  // namespace moat::policy
