// Arbitrary bytes as one SMTP command line: the verb and argument are views
// into the line with no blanks at their edges, MAIL/RCPT arguments go on to
// the path parser in both roles and strictness settings, and nothing crashes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "smtp/address.h"
#include "smtp/command.h"

using namespace moat::smtp;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  const Command command = parse_command(line);
  check(inside(command.name, line) && inside(command.argument, line));
  check(command.name.find('\0') == std::string_view::npos);
  check(command.argument.find('\0') == std::string_view::npos);
  for (char c : command.name) check(!is_blank(c));
  if (!command.argument.empty()) check(!is_blank(command.argument.front()));
  if (command.verb == Verb::kUnknown) check(stats_name(command.verb) == "unknown");
  (void)is_valid_utf8(line);

  const bool has_path = command.verb == Verb::kMail || command.verb == Verb::kRcpt;
  check(command.has_from_to || has_path);
  if (has_path && command.has_from_to) {
    check(!command.argument.empty());
    for (PathRole role : {PathRole::kSender, PathRole::kRecipient}) {
      for (bool strict : {false, true}) (void)parse_path_argument(command.argument, role, strict);
    }
  }
  return 0;
}
