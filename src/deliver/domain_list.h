// A list of domains as Postfix's domain-valued parameters hold them
// (mydestination, relay_domains, virtual_mailbox_domains): literal names,
// ".parent" patterns for subdomains, and type:name tables looked up by domain.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tables/table.h"

namespace moat::deliver {

class DomainList {
 public:
  DomainList() = default;
  // `parent_matches_subdomains`: a literal "example.com" also matches
  // "sub.example.com" (Postfix's parent_domain_matches_subdomains, which
  // covers relay_domains but not mydestination).
  static DomainList build(const std::vector<std::string>& elements, bool parent_matches_subdomains,
                          std::vector<std::string>& errors);

  bool contains(std::string_view domain) const;  // case-insensitive
  bool empty() const { return names_.empty() && tables_.empty(); }

 private:
  std::vector<std::string> names_;  // lower case; ".x" entries match subdomains of x
  tables::TableList tables_;
  bool parent_matches_subdomains_ = false;
};

// ASCII lower-casing used for domain and local-part keys.
std::string lowercase(std::string_view text);

}  // namespace moat::deliver
