// Policy servers for the client's tests, all on loopback (or a unix socket
// in a temporary directory) and started by the test: a scripted peer whose
// connections each run a small behaviour in a thread of their own (answer,
// stay silent, speak garbage, hang up), policyd-spf spawned per connection
// as Postfix's spawn(8) would, and a postgrey process.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "policy/attributes.h"

namespace moat::policy::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

inline fs::path make_temp_dir() {
  std::string pattern = (fs::temp_directory_path() / "moat-policy-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

// A loopback port the kernel chose and nobody listens on (while it lives).
class ClosedPort {
 public:
  ClosedPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      throw std::runtime_error("cannot bind a loopback socket");
    }
    port_ = ntohs(address.sin_port);
  }
  ~ClosedPort() { ::close(fd_); }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

// One request from a connection, or null at end of stream (or bad input).
inline std::optional<Attributes> read_request(int fd, Reader& reader) {
  while (true) {
    if (auto request = reader.next()) return request;
    char buffer[4096];
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0 || !reader.feed(std::string_view(buffer, static_cast<size_t>(n)))) {
      return std::nullopt;
    }
  }
}

inline void write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

// Listens and runs `behaviour` on each accepted connection in a thread of
// its own, then closes it. Counts connections and keeps the requests that
// behaviours record.
class Peer {
 public:
  using Behaviour = std::function<void(int fd, Peer& peer)>;

  // On 127.0.0.1, or on a unix socket at `unix_path`.
  explicit Peer(Behaviour behaviour, std::string unix_path = "")
      : behaviour_(std::move(behaviour)), unix_path_(std::move(unix_path)) {
    if (unix_path_.empty()) {
      listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      socklen_t length = sizeof address;
      if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
          ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        throw std::runtime_error("cannot bind a loopback socket");
      }
      port_ = ntohs(address.sin_port);
    } else {
      listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
      sockaddr_un address{};
      address.sun_family = AF_UNIX;
      unix_path_.copy(address.sun_path, sizeof address.sun_path - 1);
      if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        throw std::runtime_error("cannot bind " + unix_path_);
      }
    }
    if (::listen(listen_fd_, 64) != 0) throw std::runtime_error("listen failed");
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~Peer() {
    ::shutdown(listen_fd_, SHUT_RDWR);  // ends accept()
    acceptor_.join();
    {
      std::lock_guard lock(mutex_);
      for (int fd : open_) ::shutdown(fd, SHUT_RDWR);  // ends their reads
    }
    for (auto& t : workers_) t.join();
    ::close(listen_fd_);
    if (!unix_path_.empty()) ::unlink(unix_path_.c_str());
  }

  std::string endpoint_text() const {
    return unix_path_.empty() ? "inet:127.0.0.1:" + std::to_string(port_) : "unix:" + unix_path_;
  }
  int accepted() const { return accepted_; }
  void record(Attributes request) {
    std::lock_guard lock(mutex_);
    requests_.push_back(std::move(request));
  }
  std::vector<Attributes> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void accept_loop() {
    while (true) {
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      ++accepted_;
      std::lock_guard lock(mutex_);
      open_.push_back(fd);
      workers_.emplace_back([this, fd] {
        behaviour_(fd, *this);
        {
          std::lock_guard inner(mutex_);
          std::erase(open_, fd);
        }
        ::close(fd);
      });
    }
  }

  Behaviour behaviour_;
  std::string unix_path_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<int> accepted_ = 0;
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<int> open_;
  std::vector<std::thread> workers_;
  std::vector<Attributes> requests_;
};

// --- behaviours ---

// Answers every request with `action` after `delay`, until the client
// hangs up; with `once`, hangs up itself after the first answer.
inline Peer::Behaviour answer(std::string action, std::chrono::milliseconds delay = 0ms,
                              bool once = false) {
  return [=](int fd, Peer& peer) {
    Reader reader;
    while (auto request = read_request(fd, reader)) {
      peer.record(*request);
      std::this_thread::sleep_for(delay);
      write_all(fd, "action=" + action + "\n\n");
      if (once) return;
    }
  };
}

// Reads requests and never answers.
inline Peer::Behaviour silent() {
  return [](int fd, Peer& peer) {
    Reader reader;
    while (auto request = read_request(fd, reader)) peer.record(*request);
  };
}

// Answers the first request with `bytes`, then hangs up.
inline Peer::Behaviour reply_once(std::string bytes) {
  return [=](int fd, Peer& peer) {
    Reader reader;
    if (auto request = read_request(fd, reader)) {
      peer.record(*request);
      write_all(fd, bytes);
    }
  };
}

// policyd-spf on the connection, as Postfix's spawn(8) runs it: a process
// per connection with the socket as its stdin and stdout.
inline Peer::Behaviour spawn_policyd_spf() {
  return [](int fd, Peer&) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::dup2(fd, 0);
      ::dup2(fd, 1);
      char program[] = "/usr/bin/policyd-spf";
      char* argv[] = {program, nullptr};
      ::execv(program, argv);
      ::_exit(127);
    }
    if (pid > 0) ::waitpid(pid, nullptr, 0);
  };
}

// postgrey in the foreground on a free loopback port, its database in a
// temporary directory; killed when the object goes.
class Postgrey {
 public:
  static constexpr const char* kProgram = "/usr/sbin/postgrey";
  static bool installed() { return ::access(kProgram, X_OK) == 0; }

  explicit Postgrey(int delay_seconds) : dir_(make_temp_dir()) {
    port_ = ClosedPort().port();  // free now; postgrey binds it next
    std::vector<std::string> args = {kProgram,
                                     "--inet=127.0.0.1:" + std::to_string(port_),
                                     "--dbdir=" + dir_.string(),
                                     "--pidfile=" + (dir_ / "pid").string(),
                                     "--delay=" + std::to_string(delay_seconds),
                                     "--user=root",
                                     "--group=root",
                                     "--hostname=moat.test"};
    pid_ = ::fork();
    if (pid_ == 0) {
      const int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::dup2(null, 2);
      std::vector<char*> argv;
      for (auto& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      ::execv(kProgram, argv.data());
      ::_exit(127);
    }
  }
  ~Postgrey() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Polls until it accepts connections; false after 20 s.
  bool wait_ready() const {
    for (int i = 0; i < 400; ++i) {
      const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      address.sin_port = htons(static_cast<uint16_t>(port_));
      const bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
      ::close(fd);
      if (up) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
  std::string endpoint_text() const { return "inet:127.0.0.1:" + std::to_string(port_); }

 private:
  fs::path dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace moat::policy::testing
