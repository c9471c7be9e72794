// Parsing of typed parameter values in Postfix's formats: booleans, integers,
// times with units, and lists. Shared by the config loader and by any part
// that parses a value it reads from a table.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace moat::config {

// "yes"/"no" (case-insensitive, as Postfix); nullopt otherwise.
std::optional<bool> parse_boolean(std::string_view text);

// A decimal integer that fits in long long; nullopt otherwise.
std::optional<long long> parse_integer(std::string_view text);

// "300", "300s", "5m", "1h", "35d", "1w"; a bare number takes `default_unit`.
std::optional<std::chrono::seconds> parse_time(std::string_view text, char default_unit);

// Splits on commas and whitespace, dropping empty elements, as Postfix does
// for list parameters. Text inside {braces} is kept as one element (without
// the braces), which is how Postfix protects values containing spaces.
std::vector<std::string> split_list(std::string_view text);

}  // namespace moat::config
