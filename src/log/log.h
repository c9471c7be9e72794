// Mail log in Postfix's format, so that fail2ban filters and pflogsumm keep
// working: "Nov 21 20:52:00 HOST postfix/smtpd[PID]: connect from NAME[IP]".
// Lines go to syslog (facility from syslog_facility, default mail) or, when
// maillog_file is set, appended to that file as Postfix's postlogd does.
// Thread-safe: every worker logs through the same sink; each line is one write.
#pragma once

#include <string>
#include <string_view>

#include <fmt/format.h>

namespace moat::log {

enum class Level { kInfo, kWarning, kError, kFatal };

struct Destination {
  std::string maillog_file;  // empty: syslog
  std::string syslog_name = "postfix";
  std::string syslog_facility = "mail";
};

// Replaces the destination (at start and on reload). Returns an error text
// when the file cannot be opened; logging then keeps its previous destination.
std::string configure(const Destination& destination);

// `program` is the Postfix daemon name the line is attributed to ("smtpd",
// "cleanup", "qmgr", "local", "virtual", "master").
void write(Level level, std::string_view program, std::string_view message);

template <typename... Args>
void info(std::string_view program, fmt::format_string<Args...> format, Args&&... args) {
  write(Level::kInfo, program, fmt::format(format, std::forward<Args>(args)...));
}
template <typename... Args>
void warning(std::string_view program, fmt::format_string<Args...> format, Args&&... args) {
  write(Level::kWarning, program, fmt::format(format, std::forward<Args>(args)...));
}
template <typename... Args>
void error(std::string_view program, fmt::format_string<Args...> format, Args&&... args) {
  write(Level::kError, program, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace moat::log
