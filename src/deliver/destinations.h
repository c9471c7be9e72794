// Where a recipient address goes, with Postfix's trivial-rewrite meaning:
// the address class (local, virtual mailbox, relay, or remote), recipient
// validation against local_recipient_maps / virtual_mailbox_maps, and the
// expansion of a valid recipient into mailboxes (aliases for local domains,
// virtual_mailbox_maps for virtual ones).
//
// Routing tricks that Postfix undoes for local domains are undone here too,
// so "user%other@here", "other!user@here", "\"user@other\"@here" and
// "user@other@here" resolve to the remote user@other (and are relay attempts).
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "deliver/domain_list.h"
#include "tables/table.h"

namespace moat::deliver {

enum class AddressClass { kLocal, kVirtualMailbox, kRelay, kRemote };

struct ResolvedAddress {
  AddressClass address_class = AddressClass::kRemote;
  std::string address;         // after routing operators were undone
  std::string local;           // local part of `address`
  std::string domain;          // domain of `address` (lower case)
  bool sender_routed = false;  // local part still holds @, % or ! (user@elsewhere@domain)
};

enum class RecipientStatus { kKnown, kUnknownLocal, kUnknownVirtual };

struct Mailbox {
  std::string path;          // Maildir (ends with '/') or mbox file
  std::string transport;     // "local" or "virtual", for the delivery log line
  std::string delivered_to;  // final recipient address (Delivered-To:)
};

struct Expansion {
  std::vector<Mailbox> mailboxes;
  std::string error;  // non-empty: cannot deliver (e.g. alias to a command)
};

class Destinations {
 public:
  // Opens the tables the config names; problems name the parameter.
  static Destinations build(const config::Config& config, std::vector<config::Problem>& problems);

  ResolvedAddress resolve(std::string_view address) const;
  // True when the address is one this server may accept from anyone
  // (reject_unauth_destination passes): local, virtual, or relay without
  // sender-specified routing.
  bool is_authorized_destination(const ResolvedAddress& resolved) const;
  RecipientStatus check(const ResolvedAddress& resolved) const;
  Expansion expand(const ResolvedAddress& resolved) const;

 private:
  bool is_local_domain(std::string_view domain) const;
  // "user+ext" → ["user+ext", "user"] when recipient_delimiter allows.
  std::vector<std::string> local_part_keys(std::string_view local) const;
  void expand_local(const std::string& name, std::string_view domain, int depth,
                    Expansion& out) const;
  void expand_virtual(const ResolvedAddress& resolved, Expansion& out) const;

  DomainList mydestination_;
  DomainList virtual_mailbox_domains_;
  DomainList relay_domains_;
  std::vector<tables::TableList> local_recipient_tables_;
  bool local_recipient_maps_set_ = false;
  tables::TableList alias_maps_;
  tables::TableList virtual_mailbox_maps_;
  std::string virtual_mailbox_base_;
  std::string local_maildir_base_;
  std::string recipient_delimiter_;
  std::string myhostname_;
  bool allow_percent_hack_ = true;
  bool swap_bangpath_ = true;
  bool resolve_dequoted_ = true;
};

}  // namespace moat::deliver
