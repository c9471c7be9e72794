#include "config/problem.h"

namespace moat::config {

std::string Problem::to_string() const {
  std::string text = file;
  if (line > 0) text += ":" + std::to_string(line);
  text += ": ";
  if (!parameter.empty()) text += parameter + ": ";
  if (severity == Severity::kWarning) text += "warning: ";
  return text + message;
}

std::string quoted_excerpt(std::string_view text) {
  constexpr std::size_t kMaxShown = 80;
  if (text.size() <= kMaxShown) return "\"" + std::string(text) + "\"";
  return "\"" + std::string(text.substr(0, kMaxShown)) + "...\"";
}

}  // namespace moat::config
