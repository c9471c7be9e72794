// The Public Suffix List (publicsuffix.org; Debian's `publicsuffix` package
// installs it as /usr/share/publicsuffix/public_suffix_list.dat): which part
// of a name is a registry suffix ("co.uk"), so that the organisational
// domain of "mx1.mail.example.co.uk" is "example.co.uk".
//
// Rules in Unicode (IDN) form never match the ASCII names DNS gives; such a
// name falls to the default rule "*" (its last label), which is right for
// the single-label IDN suffixes.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>

namespace moat::dns {

class PublicSuffixList {
 public:
  // The list's text: one rule a line, "//" comments, "*.x" wildcards,
  // "!x" exceptions. Never fails: a line it cannot use is skipped.
  static PublicSuffixList parse(std::string_view text);
  // Reads `path`; null with `error` set when it cannot be read.
  static std::shared_ptr<const PublicSuffixList> load(const std::string& path, std::string& error);

  // The public suffix of `name` plus one label, in lower case, without a
  // trailing dot; the name itself when it is a public suffix or shorter.
  std::string organizational_domain(std::string_view name) const;
  size_t size() const { return rules_.size() + wildcards_.size() + exceptions_.size(); }

 private:
  std::unordered_set<std::string> rules_;       // "co.uk"
  std::unordered_set<std::string> wildcards_;   // "ck" for "*.ck"
  std::unordered_set<std::string> exceptions_;  // "www.ck" for "!www.ck"
};

}  // namespace moat::dns
