#include "log/log.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <atomic>
#include <ctime>
#include <mutex>
#include <shared_mutex>

namespace moat::log {
namespace {

struct Sink {
  // Lines are written under a shared lock (each is one write(2), whole with
  // O_APPEND), so loops do not queue behind each other's lines; configure()
  // and opening the syslog socket take it exclusively.
  std::shared_mutex mutex;
  int fd = -1;         // maillog_file, or -1 for syslog
  int syslog_fd = -1;  // datagram socket connected to /dev/log
  std::string name = "postfix";
  std::string host;
  int facility = LOG_MAIL;
};

Sink& sink() {
  static Sink instance;
  return instance;
}

int facility_code(std::string_view name) {
  static constexpr std::pair<std::string_view, int> kFacilities[] = {
      {"mail", LOG_MAIL},     {"daemon", LOG_DAEMON}, {"user", LOG_USER},
      {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
      {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
      {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7}};
  for (const auto& [text, code] : kFacilities) {
    if (text == name) return code;
  }
  return LOG_MAIL;
}

std::string short_host_name() {
  char buffer[256] = {};
  if (gethostname(buffer, sizeof buffer - 1) != 0) return "localhost";
  std::string name(buffer);
  return name.substr(0, name.find('.'));
}

// getpid() is a system call and lines are many: asked once per process
// (again in a forked child).
std::atomic<pid_t> cached_pid{0};

pid_t process_id() {
  pid_t pid = cached_pid.load(std::memory_order_relaxed);
  if (pid == 0) {
    static const int registered =
        pthread_atfork(nullptr, nullptr, [] { cached_pid.store(0, std::memory_order_relaxed); });
    (void)registered;
    pid = getpid();
    cached_pid.store(pid, std::memory_order_relaxed);
  }
  return pid;
}

// "Nov 21 20:52:00": localtime_r takes glibc's time zone lock on every
// call, so each thread formats a second once.
std::string_view timestamp() {
  thread_local time_t second = -1;
  thread_local char text[32];
  thread_local size_t length = 0;
  const time_t now = std::time(nullptr);
  if (now != second) {
    tm local{};
    localtime_r(&now, &local);
    length = std::strftime(text, sizeof text, "%b %e %H:%M:%S", &local);
    second = now;
  }
  return std::string_view(text, length);
}

std::string_view severity_prefix(Level level) {
  switch (level) {
    case Level::kWarning:
      return "warning: ";
    case Level::kError:
      return "error: ";
    case Level::kFatal:
      return "fatal: ";
    case Level::kInfo:
      break;
  }
  return "";
}

}  // namespace

std::string configure(const Destination& destination) {
  int fd = -1;
  if (!destination.maillog_file.empty()) {
    fd = ::open(destination.maillog_file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) return fmt::format("open {}: {}", destination.maillog_file, std::strerror(errno));
  }
  auto& s = sink();
  std::unique_lock lock(s.mutex);
  if (s.fd >= 0) ::close(s.fd);
  s.fd = fd;
  s.name = destination.syslog_name;
  s.facility = facility_code(destination.syslog_facility);
  if (s.host.empty()) s.host = short_host_name();
  return {};
}

void write(Level level, std::string_view program, std::string_view message) {
  auto& s = sink();
  const auto prefix = severity_prefix(level);
  const auto stamp = timestamp();
  std::shared_lock lock(s.mutex);
  if (s.fd >= 0) {
    const std::string line = fmt::format("{} {} {}/{}[{}]: {}{}\n", stamp, s.host, s.name, program,
                                         process_id(), prefix, message);
    // One write per line: O_APPEND keeps lines from several processes whole.
    [[maybe_unused]] auto written = ::write(s.fd, line.data(), line.size());
    return;
  }
  // RFC 3164 datagram to the local syslog daemon, with Postfix's tag
  // "postfix/smtpd[PID]" (openlog() would need a new ident per program).
  const int severity = level == Level::kInfo      ? LOG_INFO
                       : level == Level::kWarning ? LOG_WARNING
                                                  : LOG_ERR;
  const std::string datagram = fmt::format("<{}>{} {}/{}[{}]: {}{}", s.facility | severity, stamp,
                                           s.name, program, process_id(), prefix, message);
  if (s.syslog_fd < 0) {
    lock.unlock();
    std::unique_lock exclusive(s.mutex);
    if (s.syslog_fd < 0) {
      s.syslog_fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      sockaddr_un address{};
      address.sun_family = AF_UNIX;
      std::strcpy(address.sun_path, "/dev/log");
      if (s.syslog_fd >= 0 &&
          ::connect(s.syslog_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        ::close(s.syslog_fd);
        s.syslog_fd = -1;
      }
    }
    exclusive.unlock();
    lock.lock();
  }
  if (s.syslog_fd < 0 || ::send(s.syslog_fd, datagram.data(), datagram.size(), MSG_DONTWAIT) < 0) {
    // No syslog daemon (containers, tests): the line must not vanish.
    const std::string line = datagram.substr(datagram.find('>') + 1) + "\n";
    [[maybe_unused]] auto written = ::write(STDERR_FILENO, line.data(), line.size());
  }
}

}  // namespace moat::log
