// ASCII case folding, as mail names want it: DNS names, address domains and
// configuration words compare without regard to ASCII case; other bytes
// (UTF-8) are left as they are.
#pragma once

#include <string>
#include <string_view>

namespace moat::text {

inline char lower_ascii(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

inline std::string lower_ascii(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = lower_ascii(c);
  return out;
}

}  // namespace moat::text
