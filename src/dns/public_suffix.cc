#include "dns/public_suffix.h"
#include "text/ascii.h"

#include <cctype>
#include <fstream>
#include <sstream>
#include <vector>

namespace moat::dns {
namespace {}  // namespace

PublicSuffixList PublicSuffixList::parse(std::string_view text) {
  PublicSuffixList list;
  while (!text.empty()) {
    const auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    // A rule is the line's first word.
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front()))) {
      line.remove_prefix(1);
    }
    line = line.substr(0, line.find_first_of(" \t\r"));
    if (line.empty() || line.starts_with("//")) continue;
    if (line.starts_with("!")) {
      list.exceptions_.insert(text::lower_ascii(line.substr(1)));
    } else if (line.starts_with("*.")) {
      list.wildcards_.insert(text::lower_ascii(line.substr(2)));
    } else {
      list.rules_.insert(text::lower_ascii(line));
    }
  }
  return list;
}

std::shared_ptr<const PublicSuffixList> PublicSuffixList::load(const std::string& path,
                                                               std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = path + ": cannot be read";
    return nullptr;
  }
  std::stringstream text;
  text << in.rdbuf();
  return std::make_shared<const PublicSuffixList>(parse(text.str()));
}

std::string PublicSuffixList::organizational_domain(std::string_view name) const {
  std::string host = text::lower_ascii(name);
  if (host.ends_with('.')) host.pop_back();
  // Where each suffix starts: "a.b.c" -> 0 ("a.b.c"), 2 ("b.c"), 4 ("c").
  std::vector<size_t> starts{0};
  for (size_t i = 0; i < host.size(); ++i) {
    if (host[i] == '.') starts.push_back(i + 1);
  }
  // The longest matching rule wins; an exception is one label longer than
  // the wildcard it cancels, so it is met first.
  size_t suffix = starts.back();  // the default rule "*": the last label
  for (size_t i = 0; i < starts.size(); ++i) {
    const std::string_view candidate = std::string_view(host).substr(starts[i]);
    if (exceptions_.contains(std::string(candidate))) {
      suffix = i + 1 < starts.size() ? starts[i + 1] : starts[i];
      break;
    }
    if (rules_.contains(std::string(candidate))) {
      suffix = starts[i];
      break;
    }
    if (i + 1 < starts.size() &&
        wildcards_.contains(std::string(std::string_view(host).substr(starts[i + 1])))) {
      suffix = starts[i];
      break;
    }
  }
  // One label more than the suffix, when there is one.
  for (size_t i = 1; i < starts.size(); ++i) {
    if (starts[i] == suffix) return host.substr(starts[i - 1]);
  }
  return host;
}

}  // namespace moat::dns
