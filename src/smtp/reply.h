// SMTP replies: a three-digit code, an RFC 3463 enhanced status code and text,
// formatted on the wire as RFC 5321 wants (multi-line with "CODE-" on every
// line but the last). Reply texts follow Postfix's wording.
#pragma once

#include <string>
#include <string_view>

namespace moat::smtp {

struct Reply {
  int code = 250;
  std::string enhanced;  // "2.0.0"; empty for replies that carry none (220, 221 banner...)
  std::string text;      // may contain '\n' to make a multi-line reply

  bool is_positive() const { return code < 400; }
  bool is_temporary() const { return code >= 400 && code < 500; }
  bool is_permanent() const { return code >= 500; }

  // "CODE ENH text\r\n", or a multi-line reply with "CODE-ENH " continuation
  // prefixes; the enhanced code is repeated on every line, as Postfix does.
  std::string wire() const;
  // "CODE ENH text" on one line (lines joined with ' '), as Postfix logs it.
  std::string log_text() const;
};

// Appends the wire form of `reply` to `out` without a temporary string.
void append_wire(std::string& out, const Reply& reply);

}  // namespace moat::smtp
