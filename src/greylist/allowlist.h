// Greylisting's allowlists in postgrey's file formats, so that its
// whitelist_clients and whitelist_recipients files (Debian's
// /etc/postgrey/...) work as they are.
//
// Clients, one per line ('#' starts a comment): an IPv4 or IPv6 address or
// network ("192.0.2.1", "192.0.2.0/24", "2001:db8::/32"), a partial IPv4
// address ("192.0.2" is /24, "10.1" is /16), "/regexp/" (Perl syntax,
// case-insensitive, on the client's verified name), or a host or domain
// name: the verified name is it or ends with ".name".
//
// Recipients: "user@domain" (user+extension@domain too), "user@" (any
// domain), "domain" (the domain or a subdomain), or "/regexp/" on the
// whole address.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <asio/ip/address.hpp>

#include "net/cidr.h"
#include "tables/pattern_table.h"

namespace moat::greylist {

// A "/regexp/" line: the compiled expression and the line, for log lines.
struct AllowlistPattern {
  std::unique_ptr<tables::Matcher> matcher;
  std::string text;
};

class ClientAllowlist {
 public:
  // Adds the lines of `text` (from `file`); a line that fits no form is
  // skipped with a problem "FILE:LINE: ..." (postgrey warns and goes on).
  void add(std::string_view text, std::string_view file, std::vector<std::string>& problems);
  bool empty() const { return networks_.empty() && names_.empty() && patterns_.empty(); }
  // What matched ("192.0.2.0/24", "example.org", "/regexp/"), or empty.
  std::string match(const asio::ip::address& client, std::string_view client_name) const;

 private:
  struct Network {
    net::Network network;
    std::string text;
  };
  std::vector<Network> networks_;
  std::vector<std::string> names_;  // lower case
  std::vector<AllowlistPattern> patterns_;
};

class RecipientAllowlist {
 public:
  void add(std::string_view text, std::string_view file, std::vector<std::string>& problems);
  bool empty() const { return entries_.empty() && patterns_.empty(); }
  std::string match(std::string_view recipient) const;

 private:
  struct Entry {
    std::string user;    // empty: any user of the domain (or subdomain)
    std::string domain;  // empty: "user@", any domain
    std::string text;
  };
  std::vector<Entry> entries_;
  std::vector<AllowlistPattern> patterns_;
};

// Reads each file into the list: a file that cannot be read is an error,
// except a missing "*.local" file (postgrey's optional local additions); a
// line that fits no form is a warning (postgrey skips it too).
template <typename List>
void load_allowlist(List& list, const std::vector<std::string>& files,
                    std::vector<std::string>& errors, std::vector<std::string>& warnings);

}  // namespace moat::greylist
