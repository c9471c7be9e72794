// A hosts file (/etc/hosts format), read once per config snapshot: what
// glibc's "files" source answers before DNS for the client's reverse and
// forward names, so that moat names a client as Postfix (through glibc)
// does, e.g. localhost[127.0.0.1].
//
// Not a resolver of its own: only the client-name lookup consults it, as
// only Postfix's getnameinfo()/getaddrinfo() calls do; DNSBL, MX and other
// restriction lookups go to DNS only, as Postfix's res_query() calls do.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <asio/ip/address.hpp>

namespace moat::dns {

class HostsFile {
 public:
  // An unreadable or missing file is an empty one (glibc treats it so).
  static std::shared_ptr<const HostsFile> load(const std::string& path);
  // Parses text in hosts(5) format.
  static std::shared_ptr<const HostsFile> parse(std::string_view text);

  // The first name of the first line with `address`; empty if none.
  std::string_view name_of(const asio::ip::address& address) const;
  // Every address listed for `name` (official name or alias, any case).
  std::vector<asio::ip::address> addresses_of(std::string_view name) const;

 private:
  std::unordered_map<std::string, std::string> names_;  // address text -> first name
  std::unordered_map<std::string, std::vector<asio::ip::address>> addresses_;  // lower name
};

}  // namespace moat::dns
