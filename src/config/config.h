// A loaded, validated configuration: the values of main.cf with defaults from
// the parameter registry and $name / ${name} / ${name?text} / ${name:text}
// expansion applied. Immutable once loaded; shared as
// std::shared_ptr<const Config> by every session that started with it.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/problem.h"

namespace moat::config {

class Config;

struct LoadResult {
  std::shared_ptr<const Config> config;  // null when the file could not be read
  std::vector<Problem> problems;         // warnings and errors, in line order

  bool ok() const;  // config present and no problem is an error
};

class Config {
 public:
  // Reads and validates a main.cf file. Unknown parameters give a warning
  // ("unused parameter"); a value of the wrong type is an error.
  static LoadResult load_file(const std::string& path);
  // The same from text already in memory; `file_name` is used in problems.
  static LoadResult load_text(std::string_view text, std::string_view file_name);

  // The expanded value of a known parameter, its default when not set; of a
  // parameter moat does not know but the file sets (a user-defined table or
  // restriction class), that value. "" for any other name. A raw parameter
  // (ParameterSpec::raw) comes back as written: its user expands it.
  const std::string& get(std::string_view name) const;
  bool get_boolean(std::string_view name) const;
  long long get_integer(std::string_view name) const;
  std::chrono::seconds get_time(std::string_view name) const;
  std::vector<std::string> get_list(std::string_view name) const;

  // Line where the parameter is set in the file; 0 when it has its default.
  int line_of(std::string_view name) const;
  const std::string& file_name() const { return file_name_; }

  // The parameters set in the file, as `postconf -n` shows them: sorted by
  // name, "name = value" with the value unexpanded, as written.
  std::vector<std::string> non_default_lines() const;

  // A problem located at the line of `parameter` in this file (for checks
  // done by other parts on values of this config).
  Problem problem_at(std::string_view parameter, std::string message,
                     Problem::Severity severity = Problem::Severity::kError) const;

 private:
  void expand_all(std::vector<Problem>& problems);
  void warn_unused(std::vector<Problem>& problems) const;

  std::string file_name_;
  std::map<std::string, std::string, std::less<>> raw_;       // as written in the file
  std::map<std::string, int, std::less<>> lines_;             // where each was set
  std::map<std::string, std::string, std::less<>> expanded_;  // every known or set parameter
};

}  // namespace moat::config
