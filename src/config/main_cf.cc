// One pass over the text, one physical line at a time. A logical line (a
// `name = value` line and its continuation lines) is collected into one
// string and split when the next logical line starts, because Postfix joins
// first and splits after: "foo\n  = bar" is a valid setting.
#include "config/main_cf.h"

#include <limits>

namespace moat::config {
namespace {

// Postfix trims with isspace(); '\r' included, so CRLF files read the same.
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

class Parser {
 public:
  explicit Parser(std::string_view file_name) : file_name_(file_name) {}

  void physical_line(std::string_view line, int number) {
    std::string_view content = trim(line);
    // Comment lines are skipped even between continuation lines, as in Postfix.
    if (content.empty() || content.front() == '#') return;
    if (is_space(line.front())) {
      continue_logical_line(content, number);
      return;
    }
    finish_logical_line();
    logical_ = content;
    logical_start_ = number;
  }

  ParsedFile finish() {
    finish_logical_line();
    return std::move(result_);
  }

 private:
  void continue_logical_line(std::string_view content, int number) {
    if (logical_start_ == 0) {
      // Reported once: every following indented line belongs to the same run.
      if (!orphan_reported_)
        error(number, "",
              "continuation line (starting with whitespace) before the first parameter");
      orphan_reported_ = true;
      return;
    }
    logical_ += ' ';
    logical_ += content;
  }

  void finish_logical_line() {
    if (logical_start_ == 0) return;
    std::string_view text = logical_;
    // The name ends at the first blank or '=', as in Postfix's split_nameval().
    std::size_t name_end = 0;
    while (name_end < text.size() && text[name_end] != '=' && !is_space(text[name_end])) ++name_end;
    std::string_view name = text.substr(0, name_end);
    std::string_view rest = trim(text.substr(name_end));
    if (name.empty()) {
      error(logical_start_, "", "missing parameter name before '='");
    } else if (rest.empty() || rest.front() != '=') {
      std::string message = "missing '=' after parameter name";
      if (!rest.empty()) message += ", found " + quoted_excerpt(rest);
      error(logical_start_, name, message);
    } else {
      result_.settings.push_back(
          Setting{std::string(name), std::string(trim(rest.substr(1))), logical_start_});
    }
    logical_.clear();
    logical_start_ = 0;
  }

  void error(int line, std::string_view parameter, std::string message) {
    result_.problems.push_back(Problem{std::string(file_name_), line, std::string(parameter),
                                       std::move(message), Problem::Severity::kError});
  }

  std::string_view file_name_;
  ParsedFile result_;
  std::string logical_;    // the logical line being collected
  int logical_start_ = 0;  // its first line; 0 when there is none
  bool orphan_reported_ = false;
};

}  // namespace

ParsedFile parse_main_cf(std::string_view text, std::string_view file_name) {
  Parser parser(file_name);
  int number = 0;
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (number < std::numeric_limits<int>::max()) ++number;  // no overflow on absurd input
    parser.physical_line(line, number);
  }
  return parser.finish();
}

}  // namespace moat::config
