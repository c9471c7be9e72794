// The SMTP command line grammar: recognising the verb of one line (CR LF
// already removed) and handing back its argument. Works on the caller's buffer
// (string_views into `line`); allocates nothing; fuzzed.
#pragma once

#include <string_view>

namespace moat::smtp {

enum class Verb {
  kEhlo,
  kHelo,
  kMail,
  kRcpt,
  kData,
  kBdat,
  kRset,
  kNoop,
  kQuit,
  kVrfy,
  kExpn,
  kHelp,
  kEtrn,
  kAuth,
  kStarttls,
  kXclient,
  kXforward,
  kUnknown,  // anything else, including an empty line
};

struct Command {
  Verb verb = Verb::kUnknown;
  std::string_view name;      // the verb as the client wrote it
  std::string_view argument;  // the rest after the verb and its separating blanks,
                              // trailing blanks removed; for MAIL/RCPT the text
                              // after "FROM:" / "TO:" (see address.h)
  bool has_from_to = true;    // MAIL without "FROM:" / RCPT without "TO:", or with
                              // nothing after it → false (Postfix: "501 5.5.4
                              // Syntax: MAIL FROM:<address>")
};

// Postfix reads command lines as C strings: a NUL byte ends the line, so
// "NOOP\0junk" is NOOP and "\0NOOP" is an empty line. Blanks are what C's
// isspace() accepts (space, tab, VT, FF, CR, LF), as in Postfix's tokenizer.
// An empty or blank-only line gives kUnknown with an empty `name` (Postfix:
// "500 5.5.2 Error: bad syntax"); any other unknown verb has a non-empty name
// ("502 5.5.2 Error: command not recognized").
Command parse_command(std::string_view line);

// RFC 3629 UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
// With smtputf8_enable = yes Postfix checks every command line with this and
// answers "500 5.5.2 Error: bad UTF-8 syntax" when it fails.
bool is_valid_utf8(std::string_view text);

// Lower-case verb name used in Postfix's disconnect statistics ("ehlo", "mail",
// ...); "unknown" for kUnknown.
std::string_view stats_name(Verb verb);

}  // namespace moat::smtp
