#include "greylist/allowlist.h"
#include "smtp/address.h"
#include "text/ascii.h"

#include <cctype>
#include <fstream>
#include <sstream>

namespace moat::greylist {
namespace {

// Calls `line(text, number)` for each line without its comment and outer blanks.
template <typename Line>
void for_each_line(std::string_view text, Line line) {
  int number = 0;
  while (!text.empty()) {
    ++number;
    const auto end = text.find('\n');
    std::string_view one = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (const auto hash = one.find('#'); hash != std::string_view::npos) one = one.substr(0, hash);
    while (!one.empty() && std::isspace(static_cast<unsigned char>(one.front()))) {
      one.remove_prefix(1);
    }
    while (!one.empty() && std::isspace(static_cast<unsigned char>(one.back()))) {
      one.remove_suffix(1);
    }
    if (!one.empty()) line(one, number);
  }
}

bool has_blank(std::string_view text) {
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) return true;
  }
  return false;
}

// "/pattern/" as a case-insensitive PCRE; null with `error` otherwise.
std::unique_ptr<tables::Matcher> regexp(std::string_view line, std::string& error) {
  if (line.size() < 3 || line.front() != '/' || line.back() != '/') return nullptr;
  return tables::compile_pcre(line.substr(1, line.size() - 2), "", &error);
}

bool all_digits_and_dots(std::string_view text) {
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.') return false;
  }
  return true;
}

// "192.0.2" -> 192.0.2.0/24, "10.1" -> 10.1.0.0/16 (postgrey reads "a.b" as
// a /24 of a.b.0.0, evidently meaning /16).
std::optional<net::Network> partial_ipv4(std::string_view text) {
  if (!all_digits_and_dots(text)) return std::nullopt;
  size_t dots = 0;
  for (char c : text) dots += c == '.';
  if (dots == 2) return net::parse_network(std::string(text) + ".0/24");
  if (dots == 1) return net::parse_network(std::string(text) + ".0.0/16");
  return std::nullopt;
}

std::string problem(std::string_view file, int line, std::string_view what) {
  return std::string(file) + ":" + std::to_string(line) + ": " + std::string(what);
}

bool name_matches(std::string_view name, std::string_view entry) {
  if (name.size() < entry.size()) return false;
  for (size_t i = 0; i < entry.size(); ++i) {
    const char c = static_cast<char>(
        std::tolower(static_cast<unsigned char>(name[name.size() - entry.size() + i])));
    if (c != entry[i]) return false;
  }
  return name.size() == entry.size() || name[name.size() - entry.size() - 1] == '.';
}

}  // namespace

void ClientAllowlist::add(std::string_view text, std::string_view file,
                          std::vector<std::string>& problems) {
  for_each_line(text, [&](std::string_view line, int number) {
    std::string error;
    if (auto matcher = regexp(line, error)) {
      patterns_.push_back({std::move(matcher), std::string(line)});
    } else if (!error.empty()) {
      problems.push_back(problem(file, number, error));
    } else if (auto network = net::parse_network(line)) {
      networks_.push_back({*network, std::string(line)});
    } else if (auto partial = partial_ipv4(line)) {
      networks_.push_back({*partial, std::string(line)});
    } else if (all_digits_and_dots(line) || line.find(':') != std::string_view::npos ||
               line.find('/') != std::string_view::npos || has_blank(line)) {
      problems.push_back(problem(
          file, number, "\"" + std::string(line) + "\" is not an address, network or name"));
    } else {
      names_.push_back(text::lower_ascii(line));
    }
  });
}

std::string ClientAllowlist::match(const asio::ip::address& client,
                                   std::string_view client_name) const {
  for (const auto& n : networks_) {
    if (n.network.contains(client)) return n.text;
  }
  for (const auto& name : names_) {
    if (name_matches(client_name, name)) return name;
  }
  for (const auto& p : patterns_) {
    if (p.matcher->match(client_name, nullptr)) return p.text;
  }
  return {};
}

void RecipientAllowlist::add(std::string_view text, std::string_view file,
                             std::vector<std::string>& problems) {
  for_each_line(text, [&](std::string_view line, int number) {
    std::string error;
    if (auto matcher = regexp(line, error)) {
      patterns_.push_back({std::move(matcher), std::string(line)});
      return;
    }
    if (!error.empty()) {
      problems.push_back(problem(file, number, error));
      return;
    }
    if (has_blank(line)) {
      problems.push_back(problem(file, number, "\"" + std::string(line) + "\" is not an address"));
      return;
    }
    const auto at = line.find('@');
    Entry entry;
    entry.text = line;
    if (at == std::string_view::npos) {
      entry.domain = text::lower_ascii(line);
    } else {
      entry.user = text::lower_ascii(line.substr(0, at));
      entry.domain = text::lower_ascii(line.substr(at + 1));
    }
    entries_.push_back(std::move(entry));
  });
}

std::string RecipientAllowlist::match(std::string_view recipient) const {
  const std::string address = text::lower_ascii(recipient);
  const auto [local, domain] = smtp::split_address(address);
  // "user" also matches "user+extension", as in postgrey.
  const std::string_view user = local.substr(0, local.find('+'));
  for (const auto& e : entries_) {
    if (e.user.empty()) {
      // A bare domain: the address's domain is it or a subdomain.
      if (name_matches(domain, e.domain)) return e.text;
      continue;
    }
    if (user != e.user && local != e.user) continue;
    if (e.domain.empty() || domain == e.domain) return e.text;
  }
  for (const auto& p : patterns_) {
    if (p.matcher->match(recipient, nullptr)) return p.text;
  }
  return {};
}

template <typename List>
void load_allowlist(List& list, const std::vector<std::string>& files,
                    std::vector<std::string>& errors, std::vector<std::string>& warnings) {
  for (const auto& file : files) {
    std::ifstream in(file);
    if (!in) {
      if (!file.ends_with(".local")) errors.push_back(file + ": cannot be read");
      continue;
    }
    std::stringstream text;
    text << in.rdbuf();
    list.add(text.str(), file, warnings);
  }
}

template void load_allowlist(ClientAllowlist&, const std::vector<std::string>&,
                             std::vector<std::string>&, std::vector<std::string>&);
template void load_allowlist(RecipientAllowlist&, const std::vector<std::string>&,
                             std::vector<std::string>&, std::vector<std::string>&);

}  // namespace moat::greylist
