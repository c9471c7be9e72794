// The parameter registry: every main.cf parameter moat knows, with its type,
// its Postfix 3.7 default (which may refer to other parameters as $name) and a
// one-line description. It is the single source of truth for `moat check`,
// `moat check -n`, defaults and type validation. Adding a parameter is adding
// one row to the table in parameters.cc.
#pragma once

#include <span>
#include <string_view>

namespace moat::config {

enum class ParameterType {
  kString,   // free text, $name expanded
  kBoolean,  // yes / no
  kInteger,  // decimal, may be negative where Postfix allows it
  kTime,     // number with an optional unit s m h d w; `time_unit` when absent
  kSize,     // byte count (plain integer in Postfix)
  kList,     // split on commas and whitespace after expansion
};

struct ParameterSpec {
  std::string_view name;
  ParameterType type;
  std::string_view default_value;  // unexpanded, as postconf -d shows it
  std::string_view doc;
  char time_unit = 's';  // default unit of a kTime value written without one
  // Not $name-expanded when the config is loaded: the part that uses it expands
  // it later with per-message attributes (default_rbl_reply's $rbl_code...;
  // see expand_template() in expand.h), as Postfix's "raw" parameters.
  // Config::get returns the text as written.
  bool raw = false;
};

// All known parameters, sorted by name.
std::span<const ParameterSpec> all_parameters();

// nullptr when `name` is not a known parameter.
const ParameterSpec* find_parameter(std::string_view name);

}  // namespace moat::config
