// Loading is: parse the syntax (main_cf.cc), keep the last setting of each
// name, expand every known parameter and every set one (expand.cc), check
// the types of the known ones (values.cc), and warn about set parameters
// nothing uses. Problems come out sorted by line.
#include "config/config.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <set>

#include "config/expand.h"
#include "config/main_cf.h"
#include "config/parameters.h"
#include "config/values.h"

namespace moat::config {
namespace {

// Postfix needs a fully-qualified name; a bare host name gets .localdomain.
std::string system_host_name() {
  char buffer[256] = {};
  if (gethostname(buffer, sizeof buffer - 1) != 0 || buffer[0] == '\0')
    return "localhost.localdomain";
  std::string name = buffer;
  if (name.find('.') == std::string::npos) name += ".localdomain";
  return name;
}

// mydomain's default: myhostname without its first label.
std::string domain_of(std::string_view host) {
  std::size_t dot = host.find('.');
  if (dot == std::string_view::npos || dot + 1 == host.size()) return "localdomain";
  return std::string(host.substr(dot + 1));
}

// A computed value is literal text: a '$' in it must not be expanded.
std::string escape_dollars(std::string_view text) {
  std::string escaped;
  for (char c : text) {
    if (c == '$') escaped += '$';
    escaped += c;
  }
  return escaped;
}

// "" when `value` is valid for `spec`, else the problem with it.
std::string type_problem(const ParameterSpec& spec, const std::string& value) {
  switch (spec.type) {
    case ParameterType::kBoolean:
      if (parse_boolean(value)) return "";
      return "bad boolean value " + quoted_excerpt(value) + " (use yes or no)";
    case ParameterType::kInteger:
      if (parse_integer(value)) return "";
      return "bad integer value " + quoted_excerpt(value);
    case ParameterType::kSize:
      if (parse_integer(value).value_or(-1) >= 0) return "";
      return "bad size value " + quoted_excerpt(value) + " (use a number of bytes)";
    case ParameterType::kTime:
      if (parse_time(value, spec.time_unit)) return "";
      return "bad time value " + quoted_excerpt(value) +
             " (use a number with an optional unit s, m, h, d or w)";
    case ParameterType::kString:
    case ParameterType::kList:
      return "";
  }
  return "";
}

// Names the registry's defaults refer to: the same for every load.
const std::set<std::string_view>& names_in_defaults() {
  static const std::set<std::string_view> names = [] {
    std::set<std::string_view> found;
    for (const ParameterSpec& spec : all_parameters())
      scan_references(spec.default_value, [&](std::string_view name) { found.insert(name); });
    return found;
  }();
  return names;
}

bool read_file(const std::string& path, std::string& text, std::string& error) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = std::strerror(errno);
    return false;
  }
  char buffer[65536];
  ssize_t count;
  while ((count = read(fd, buffer, sizeof buffer)) != 0) {
    if (count < 0 && errno == EINTR) continue;
    if (count < 0) {
      error = std::strerror(errno);
      close(fd);
      return false;
    }
    text.append(buffer, static_cast<std::size_t>(count));
  }
  close(fd);
  return true;
}

}  // namespace

bool LoadResult::ok() const {
  return config && std::none_of(problems.begin(), problems.end(),
                                [](const Problem& problem) { return problem.is_error(); });
}

LoadResult Config::load_file(const std::string& path) {
  std::string text;
  std::string error;
  if (!read_file(path, text, error)) {
    return LoadResult{nullptr, {Problem{path, 0, "", "cannot read file: " + error}}};
  }
  return load_text(text, path);
}

LoadResult Config::load_text(std::string_view text, std::string_view file_name) {
  std::shared_ptr<Config> config(new Config());
  config->file_name_ = file_name;
  ParsedFile parsed = parse_main_cf(text, file_name);
  std::vector<Problem> problems = std::move(parsed.problems);
  for (Setting& setting : parsed.settings) {
    if (int earlier = config->line_of(setting.name); earlier != 0) {
      problems.push_back(Problem{std::string(file_name), setting.line, setting.name,
                                 "overriding earlier entry at line " + std::to_string(earlier),
                                 Problem::Severity::kWarning});
    }
    config->lines_[setting.name] = setting.line;
    config->raw_[setting.name] = std::move(setting.value);
  }
  config->expand_all(problems);
  config->warn_unused(problems);
  // In line order; problems without a line (defaults) after the others.
  std::stable_sort(problems.begin(), problems.end(), [](const Problem& a, const Problem& b) {
    return (a.line == 0 ? INT_MAX : a.line) < (b.line == 0 ? INT_MAX : b.line);
  });
  return LoadResult{std::move(config), std::move(problems)};
}

void Config::expand_all(std::vector<Problem>& problems) {
  const std::string host_name = system_host_name();
  ParameterExpander expander([&](std::string_view name) -> std::optional<std::string> {
    if (auto set = raw_.find(name); set != raw_.end()) return set->second;
    if (name == "myhostname") return escape_dollars(host_name);
    if (name == "mydomain") {
      const std::string* host = expander.expand("myhostname");
      return escape_dollars(domain_of(host ? *host : host_name));
    }
    if (const ParameterSpec* spec = find_parameter(name)) return std::string(spec->default_value);
    return std::nullopt;
  });
  // The registry is sorted, so each parameter goes at the end of expanded_.
  for (const ParameterSpec& spec : all_parameters()) {
    if (spec.raw) {
      // Expanded later by its user; only its syntax can be checked now.
      auto set = raw_.find(spec.name);
      std::string value(set != raw_.end() ? std::string_view(set->second) : spec.default_value);
      std::string error = scan_references(value, [](std::string_view) {});
      if (!error.empty()) problems.push_back(problem_at(spec.name, error));
      expanded_.emplace_hint(expanded_.end(), spec.name, std::move(value));
      continue;
    }
    const std::string* value = expander.expand(spec.name);
    expanded_.emplace_hint(expanded_.end(), spec.name, value ? *value : std::string());
    if (!value) continue;  // the expander says why
    if (std::string error = type_problem(spec, *value); !error.empty())
      problems.push_back(problem_at(spec.name, std::move(error)));
  }
  // Parameters moat does not know keep their value: others may refer to them.
  for (const auto& [name, raw] : raw_) {
    if (find_parameter(name)) continue;
    const std::string* value = expander.expand(name);
    expanded_.emplace(name, value ? *value : std::string());
  }
  for (const ParameterExpander::Error& error : expander.errors())
    problems.push_back(problem_at(error.parameter, error.message));
}

void Config::warn_unused(std::vector<Problem>& problems) const {
  // As Postfix: a parameter is used when a value (set, or a default) refers
  // to it as $name, or when it names a restriction class.
  std::set<std::string, std::less<>> used;
  for (const auto& [name, raw] : raw_) {
    scan_references(raw, [&, self = std::string_view(name)](std::string_view other) {
      if (other != self) used.emplace(other);
    });
  }
  for (std::string& name : get_list("smtpd_restriction_classes")) used.insert(std::move(name));
  for (const auto& [name, raw] : raw_) {
    if (!find_parameter(name) && !used.contains(name) && !names_in_defaults().contains(name))
      problems.push_back(problem_at(name, "unused parameter", Problem::Severity::kWarning));
  }
}

const std::string& Config::get(std::string_view name) const {
  static const std::string kEmpty;
  auto it = expanded_.find(name);
  return it == expanded_.end() ? kEmpty : it->second;
}

bool Config::get_boolean(std::string_view name) const {
  return parse_boolean(get(name)).value_or(false);
}

long long Config::get_integer(std::string_view name) const {
  return parse_integer(get(name)).value_or(0);
}

std::chrono::seconds Config::get_time(std::string_view name) const {
  const ParameterSpec* spec = find_parameter(name);
  return parse_time(get(name), spec ? spec->time_unit : 's').value_or(std::chrono::seconds(0));
}

std::vector<std::string> Config::get_list(std::string_view name) const {
  return split_list(get(name));
}

int Config::line_of(std::string_view name) const {
  auto it = lines_.find(name);
  return it == lines_.end() ? 0 : it->second;
}

std::vector<std::string> Config::non_default_lines() const {
  std::vector<std::string> lines;
  lines.reserve(raw_.size());
  for (const auto& [name, raw] : raw_)  // std::map: already sorted by name
    lines.push_back(raw.empty() ? name + " =" : name + " = " + raw);
  return lines;
}

Problem Config::problem_at(std::string_view parameter, std::string message,
                           Problem::Severity severity) const {
  return Problem{file_name_, line_of(parameter), std::string(parameter), std::move(message),
                 severity};
}

}  // namespace moat::config
