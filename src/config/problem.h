// A configuration problem, located by file, line and parameter, printed the way
// `moat check` reports it: "FILE:LINE: parameter: message".
#pragma once

#include <string>
#include <string_view>

namespace moat::config {

struct Problem {
  enum class Severity { kWarning, kError };
  std::string file;
  int line = 0;  // 1-based; 0 when the problem has no line (e.g. unreadable file)
  std::string parameter;
  std::string message;
  Severity severity = Severity::kError;

  bool is_error() const { return severity == Severity::kError; }
  // "FILE:LINE: parameter: message", with "warning: " before the message for warnings.
  std::string to_string() const;
};

// `text` in double quotes for a problem message, cut short when long (a value
// may be megabytes).
std::string quoted_excerpt(std::string_view text);

}  // namespace moat::config
