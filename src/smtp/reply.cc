#include "smtp/reply.h"

#include <fmt/format.h>

#include <iterator>

namespace moat::smtp {

namespace {

// Calls `each(line, is_last)` for every '\n'-separated line of `text`; an empty
// text is one empty line, so every reply has at least one line.
template <typename Fn>
void for_each_line(std::string_view text, Fn each) {
  for (;;) {
    const auto newline = text.find('\n');
    if (newline == std::string_view::npos) {
      each(text, true);
      return;
    }
    each(text.substr(0, newline), false);
    text.remove_prefix(newline + 1);
  }
}

}  // namespace

void append_wire(std::string& out, const Reply& reply) {
  for_each_line(reply.text, [&](std::string_view line, bool is_last) {
    fmt::format_to(std::back_inserter(out), "{}", reply.code);
    // RFC 5321 wants "CODE-" on continuation lines; the last line has a space
    // only when text follows it.
    if (!is_last) {
      out += '-';
    } else if (!reply.enhanced.empty() || !line.empty()) {
      out += ' ';
    }
    if (!reply.enhanced.empty()) {
      out += reply.enhanced;
      if (!line.empty()) out += ' ';
    }
    // A bare CR would end the line early for some clients: the text may carry
    // client input (e.g. "Unsupported option: ..."), so it must not frame lines.
    for (char c : line) out += c == '\r' ? ' ' : c;
    out += "\r\n";
  });
}

std::string Reply::wire() const {
  std::string out;
  append_wire(out, *this);
  return out;
}

std::string Reply::log_text() const {
  std::string out = fmt::format("{}", code);
  if (!enhanced.empty()) out += ' ' + enhanced;
  for_each_line(text, [&](std::string_view line, bool) {
    if (line.empty()) return;
    out += ' ';
    out += line;
  });
  return out;
}

}  // namespace moat::smtp
