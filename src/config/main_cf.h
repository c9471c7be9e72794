// The main.cf syntax, and nothing more: `name = value` lines, continuation
// lines that start with whitespace, `#` comment lines, blank lines. No
// expansion and no type checks happen here (see config.h). Bounded and
// allocation-light: it is fuzzed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/problem.h"

namespace moat::config {

struct Setting {
  std::string name;
  std::string value;  // continuation lines joined with one space, trimmed
  int line = 0;       // line where `name =` starts
};

struct ParsedFile {
  std::vector<Setting> settings;  // in file order; a later duplicate overrides an earlier one
  std::vector<Problem> problems;  // syntax errors (e.g. a line with no '=')
};

ParsedFile parse_main_cf(std::string_view text, std::string_view file_name);

}  // namespace moat::config
