#include "smtp/command.h"

#include <array>

namespace moat::smtp {

namespace {

struct VerbName {
  std::string_view upper;  // as matched, case-insensitively
  std::string_view stats;  // as counted in "disconnect from ..." lines
  Verb verb;
};

constexpr std::array kVerbs = {
    VerbName{"EHLO", "ehlo", Verb::kEhlo},
    VerbName{"HELO", "helo", Verb::kHelo},
    VerbName{"MAIL", "mail", Verb::kMail},
    VerbName{"RCPT", "rcpt", Verb::kRcpt},
    VerbName{"DATA", "data", Verb::kData},
    VerbName{"BDAT", "bdat", Verb::kBdat},
    VerbName{"RSET", "rset", Verb::kRset},
    VerbName{"NOOP", "noop", Verb::kNoop},
    VerbName{"QUIT", "quit", Verb::kQuit},
    VerbName{"VRFY", "vrfy", Verb::kVrfy},
    VerbName{"EXPN", "expn", Verb::kExpn},
    VerbName{"HELP", "help", Verb::kHelp},
    VerbName{"ETRN", "etrn", Verb::kEtrn},
    VerbName{"AUTH", "auth", Verb::kAuth},
    VerbName{"STARTTLS", "starttls", Verb::kStarttls},
    VerbName{"XCLIENT", "xclient", Verb::kXclient},
    VerbName{"XFORWARD", "xforward", Verb::kXforward},
};

// C's isspace() in the "C" locale: Postfix splits command words with it.
constexpr bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

constexpr char ascii_upper(char c) {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c;
}

bool equals_ignoring_case(std::string_view text, std::string_view upper) {
  if (text.size() != upper.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (ascii_upper(text[i]) != upper[i]) return false;
  }
  return true;
}

bool starts_with_ignoring_case(std::string_view text, std::string_view upper) {
  return text.size() >= upper.size() && equals_ignoring_case(text.substr(0, upper.size()), upper);
}

std::string_view trim_leading_blanks(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && is_blank(text[i])) ++i;
  return text.substr(i);
}

// Postfix never sees trailing blanks because they separate words, unless a
// backslash protects one ("a\ "): that blank stays part of the argument.
std::string_view trim_trailing_blanks(std::string_view text) {
  std::size_t n = text.size();
  while (n > 0 && is_blank(text[n - 1])) --n;
  std::size_t backslashes = 0;
  while (backslashes < n && text[n - 1 - backslashes] == '\\') ++backslashes;
  if (backslashes % 2 == 1 && n < text.size()) ++n;
  return text.substr(0, n);
}

// MAIL and RCPT carry "FROM:" / "TO:" before the path. Postfix's tokenizer ends
// a word right after such a keyword, so "FROM:<a@b>" and "FROM: <a@b>" both
// work, but "FROM :<a@b>" does not. Both hold with strict_rfc821_envelopes too.
void split_path_keyword(Command& command, std::string_view keyword) {
  if (!starts_with_ignoring_case(command.argument, keyword)) {
    command.has_from_to = false;
    return;
  }
  command.argument = trim_leading_blanks(command.argument.substr(keyword.size()));
  // "MAIL FROM:" with nothing after it is a syntax error in Postfix as well.
  if (command.argument.empty()) command.has_from_to = false;
}

// Length of the UTF-8 sequence that `lead` starts, or 0 when `lead` cannot
// start one.
int utf8_sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;  // continuation byte, overlong lead (0xc0, 0xc1), or past U+10FFFF
}

}  // namespace

Command parse_command(std::string_view line) {
  // Postfix handles the line as a C string: everything after a NUL is ignored.
  line = line.substr(0, line.find('\0'));
  line = trim_leading_blanks(line);

  Command command;
  std::size_t verb_end = 0;
  while (verb_end < line.size() && !is_blank(line[verb_end])) ++verb_end;
  command.name = line.substr(0, verb_end);
  command.argument = trim_trailing_blanks(trim_leading_blanks(line.substr(verb_end)));

  for (const auto& entry : kVerbs) {
    if (equals_ignoring_case(command.name, entry.upper)) {
      command.verb = entry.verb;
      break;
    }
  }
  if (command.verb == Verb::kMail) split_path_keyword(command, "FROM:");
  if (command.verb == Verb::kRcpt) split_path_keyword(command, "TO:");
  return command;
}

bool is_valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const int length = utf8_sequence_length(lead);
    if (length == 0 || text.size() - i < static_cast<std::size_t>(length)) return false;
    for (int k = 1; k < length; ++k) {
      const auto c = static_cast<unsigned char>(text[i + k]);
      // The second byte is narrowed for some leads: this excludes overlong
      // forms (E0, F0), UTF-16 surrogates (ED) and code points past U+10FFFF (F4).
      unsigned char low = 0x80;
      unsigned char high = 0xbf;
      if (k == 1 && lead == 0xe0) low = 0xa0;
      if (k == 1 && lead == 0xed) high = 0x9f;
      if (k == 1 && lead == 0xf0) low = 0x90;
      if (k == 1 && lead == 0xf4) high = 0x8f;
      if (c < low || c > high) return false;
    }
    i += static_cast<std::size_t>(length);
  }
  return true;
}

std::string_view stats_name(Verb verb) {
  for (const auto& entry : kVerbs) {
    if (entry.verb == verb) return entry.stats;
  }
  return "unknown";
}

}  // namespace moat::smtp
