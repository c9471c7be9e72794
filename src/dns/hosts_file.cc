#include "dns/hosts_file.h"

#include <fstream>
#include <sstream>

#include "dns/message.h"

namespace moat::dns {

std::shared_ptr<const HostsFile> HostsFile::load(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  if (in) text << in.rdbuf();
  return parse(text.str());
}

std::shared_ptr<const HostsFile> HostsFile::parse(std::string_view text) {
  auto hosts = std::make_shared<HostsFile>();
  while (!text.empty()) {
    auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    line = line.substr(0, line.find('#'));
    std::vector<std::string_view> fields;
    while (!line.empty()) {
      const auto start = line.find_first_not_of(" \t\r");
      if (start == std::string_view::npos) break;
      line.remove_prefix(start);
      const auto stop = std::min(line.find_first_of(" \t\r"), line.size());
      fields.push_back(line.substr(0, stop));
      line.remove_prefix(stop);
    }
    if (fields.size() < 2) continue;
    std::error_code ec;
    const auto address = asio::ip::make_address(std::string(fields[0]), ec);
    if (ec) continue;
    hosts->names_.try_emplace(address.to_string(), std::string(fields[1]));
    for (size_t i = 1; i < fields.size(); ++i) {
      hosts->addresses_[canonical(fields[i])].push_back(address);
    }
  }
  return hosts;
}

std::string_view HostsFile::name_of(const asio::ip::address& address) const {
  const auto it = names_.find(address.to_string());
  return it == names_.end() ? std::string_view() : std::string_view(it->second);
}

std::vector<asio::ip::address> HostsFile::addresses_of(std::string_view name) const {
  const auto it = addresses_.find(canonical(name));
  return it == addresses_.end() ? std::vector<asio::ip::address>() : it->second;
}

}  // namespace moat::dns
