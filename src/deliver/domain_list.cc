#include "deliver/domain_list.h"

#include <cctype>

namespace moat::deliver {

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

DomainList DomainList::build(const std::vector<std::string>& elements,
                             bool parent_matches_subdomains, std::vector<std::string>& errors) {
  DomainList list;
  list.parent_matches_subdomains_ = parent_matches_subdomains;
  std::vector<std::string> table_specs;
  for (const auto& element : elements) {
    // "type:name" is a table; a bracketed address literal is a name.
    if (element.find(':') != std::string::npos && element.front() != '[') {
      table_specs.push_back(element);
    } else {
      list.names_.push_back(lowercase(element));
    }
  }
  list.tables_ = tables::TableList::open(table_specs, tables::SourceFormat::kPostmap, errors);
  return list;
}

bool DomainList::contains(std::string_view domain_text) const {
  const std::string domain = lowercase(domain_text);
  for (const auto& name : names_) {
    if (name == domain) return true;
    // ".example.com" (or, for relay_domains, "example.com") covers subdomains.
    const std::string_view parent =
        name.front() == '.'
            ? std::string_view(name).substr(1)
            : (parent_matches_subdomains_ ? std::string_view(name) : std::string_view());
    if (!parent.empty() && domain.size() > parent.size() && domain.ends_with(parent) &&
        domain[domain.size() - parent.size() - 1] == '.') {
      return true;
    }
  }
  if (tables_.empty()) return false;
  if (tables_.find(domain)) return true;
  if (parent_matches_subdomains_) {
    for (auto dot = domain.find('.'); dot != std::string::npos; dot = domain.find('.', dot + 1)) {
      if (tables_.find(std::string_view(domain).substr(dot + 1))) return true;
      if (tables_.find(std::string_view(domain).substr(dot))) return true;
    }
  }
  return false;
}

}  // namespace moat::deliver
