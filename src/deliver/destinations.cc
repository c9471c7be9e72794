#include "deliver/destinations.h"

#include "config/values.h"
#include "smtp/address.h"

namespace moat::deliver {
namespace {

constexpr int kMaxAliasDepth = 100;  // Postfix's local(8) stops at 100 levels too

std::string join_path(const std::string& base, std::string_view relative) {
  if (base.empty() || relative.starts_with('/')) return std::string(relative);
  return base.back() == '/' ? base + std::string(relative) : base + "/" + std::string(relative);
}

}  // namespace

Destinations Destinations::build(const config::Config& config,
                                 std::vector<config::Problem>& problems) {
  Destinations d;
  auto domains = [&](std::string_view parameter, bool parent_matches) {
    std::vector<std::string> errors;
    auto list = DomainList::build(config.get_list(parameter), parent_matches, errors);
    for (auto& e : errors) problems.push_back(config.problem_at(parameter, std::move(e)));
    return list;
  };
  auto maps = [&](std::string_view parameter, tables::SourceFormat format) {
    std::vector<std::string> errors;
    auto list = tables::TableList::open(config.get_list(parameter), format, errors);
    for (auto& e : errors) problems.push_back(config.problem_at(parameter, std::move(e)));
    return list;
  };
  d.mydestination_ = domains("mydestination", false);
  d.virtual_mailbox_domains_ = domains("virtual_mailbox_domains", false);
  d.relay_domains_ = domains("relay_domains", true);
  d.alias_maps_ = maps("alias_maps", tables::SourceFormat::kAliases);
  // local_recipient_maps usually repeats $alias_maps: those tables are aliases files.
  std::vector<std::string> errors;
  for (const auto& spec : config.get_list("local_recipient_maps")) {
    const bool is_alias = std::ranges::count(config.get_list("alias_maps"), spec) > 0;
    auto one = tables::TableList::open(
        {spec}, is_alias ? tables::SourceFormat::kAliases : tables::SourceFormat::kPostmap, errors);
    if (!one.empty()) d.local_recipient_tables_.push_back(std::move(one));
  }
  for (auto& e : errors)
    problems.push_back(config.problem_at("local_recipient_maps", std::move(e)));
  d.local_recipient_maps_set_ = !config.get_list("local_recipient_maps").empty();
  d.virtual_mailbox_maps_ = maps("virtual_mailbox_maps", tables::SourceFormat::kPostmap);
  d.virtual_mailbox_base_ = config.get("virtual_mailbox_base");
  d.local_maildir_base_ = config.get("moat_local_maildir_base");
  d.recipient_delimiter_ = config.get("recipient_delimiter");
  d.myhostname_ = lowercase(config.get("myhostname"));
  d.allow_percent_hack_ = config.get_boolean("allow_percent_hack");
  d.swap_bangpath_ = config.get_boolean("swap_bangpath");
  d.resolve_dequoted_ = config.get_boolean("resolve_dequoted_address");
  return d;
}

bool Destinations::is_local_domain(std::string_view domain) const {
  if (domain.empty()) return true;  // a bare local part is local, as after Postfix's rewriting
  return mydestination_.contains(domain);
}

ResolvedAddress Destinations::resolve(std::string_view address_text) const {
  std::string address(address_text);
  ResolvedAddress resolved;
  // Each pass strips one local domain and undoes one routing operator, as
  // Postfix's resolver does; bounded because every pass shortens the address.
  for (int pass = 0; pass < 64; ++pass) {
    const auto parts = smtp::split_address(address);
    const std::string local(parts.local);
    const std::string domain = lowercase(parts.domain);
    if (!is_local_domain(domain)) break;
    if (resolve_dequoted_ && local.find('@') != std::string::npos) {
      address = local;  // "user@other"@here, user@other@here
      continue;
    }
    if (allow_percent_hack_ && local.find('%') != std::string::npos) {
      const auto percent = local.rfind('%');  // user%other → user@other
      address = local.substr(0, percent) + "@" + local.substr(percent + 1);
      continue;
    }
    if (swap_bangpath_ && local.find('!') != std::string::npos) {
      const auto bang = local.find('!');  // other!user → user@other
      address = local.substr(bang + 1) + "@" + local.substr(0, bang);
      continue;
    }
    break;
  }
  const auto parts = smtp::split_address(address);
  resolved.address = address;
  resolved.local = std::string(parts.local);
  resolved.domain = lowercase(parts.domain);
  resolved.sender_routed = resolved.local.find_first_of("@%!") != std::string::npos;
  if (is_local_domain(resolved.domain)) {
    resolved.address_class = AddressClass::kLocal;
  } else if (virtual_mailbox_domains_.contains(resolved.domain)) {
    resolved.address_class = AddressClass::kVirtualMailbox;
  } else if (relay_domains_.contains(resolved.domain)) {
    resolved.address_class = AddressClass::kRelay;
  } else {
    resolved.address_class = AddressClass::kRemote;
  }
  return resolved;
}

// Postfix refuses sender-specified routing (user%elsewhere@here, user@elsewhere@here
// left after rewriting) for every destination class, not only relay_domains.
bool Destinations::is_authorized_destination(const ResolvedAddress& resolved) const {
  return resolved.address_class != AddressClass::kRemote && !resolved.sender_routed;
}

std::vector<std::string> Destinations::local_part_keys(std::string_view local) const {
  std::vector<std::string> keys{lowercase(local)};
  if (!recipient_delimiter_.empty()) {
    const auto at = local.find_first_of(recipient_delimiter_);
    if (at != std::string_view::npos && at > 0) keys.push_back(lowercase(local.substr(0, at)));
  }
  return keys;
}

RecipientStatus Destinations::check(const ResolvedAddress& resolved) const {
  if (resolved.address_class == AddressClass::kLocal) {
    // An empty local_recipient_maps disables the check, as in Postfix.
    if (!local_recipient_maps_set_) return RecipientStatus::kKnown;
    for (const auto& key : local_part_keys(resolved.local)) {
      for (const auto& table : local_recipient_tables_) {
        if (table.find(key) || table.find(key + "@" + resolved.domain))
          return RecipientStatus::kKnown;
      }
    }
    return RecipientStatus::kUnknownLocal;
  }
  if (resolved.address_class == AddressClass::kVirtualMailbox) {
    Expansion probe;
    expand_virtual(resolved, probe);
    return probe.mailboxes.empty() ? RecipientStatus::kUnknownVirtual : RecipientStatus::kKnown;
  }
  return RecipientStatus::kKnown;
}

Expansion Destinations::expand(const ResolvedAddress& resolved) const {
  Expansion out;
  if (resolved.address_class == AddressClass::kLocal) {
    expand_local(lowercase(resolved.local), resolved.domain.empty() ? myhostname_ : resolved.domain,
                 0, out);
  } else if (resolved.address_class == AddressClass::kVirtualMailbox) {
    expand_virtual(resolved, out);
    if (out.mailboxes.empty() && out.error.empty()) out.error = "unknown virtual mailbox";
  } else {
    out.error = "delivery to remote destinations is not supported";
  }
  return out;
}

void Destinations::expand_local(const std::string& name, std::string_view domain, int depth,
                                Expansion& out) const {
  if (!out.error.empty()) return;
  if (depth > kMaxAliasDepth) {
    out.error = "alias expansion loop for " + name;
    return;
  }
  const auto keys = local_part_keys(name);
  std::optional<std::string> targets;
  for (const auto& key : keys) {
    if ((targets = alias_maps_.find(key))) break;
  }
  if (!targets) {
    // A name with no alias is a mailbox: Maildir $moat_local_maildir_base/USER/.
    const std::string user = keys.back();
    for (const auto& existing : out.mailboxes) {
      if (existing.delivered_to == user + "@" + std::string(domain)) return;
    }
    out.mailboxes.push_back(
        {join_path(local_maildir_base_, user) + "/", "local", user + "@" + std::string(domain)});
    return;
  }
  for (auto target : config::split_list(*targets)) {
    if (target.size() >= 2 && target.front() == '"' && target.back() == '"') {
      target = target.substr(1, target.size() - 2);
    }
    if (target.starts_with('|') || target.starts_with('/') || target.starts_with(":include:")) {
      out.error = "alias " + name + ": delivery to \"" + target + "\" is not supported";
      return;
    }
    const auto resolved = resolve(target);
    if (resolved.address_class == AddressClass::kLocal) {
      const std::string next = lowercase(resolved.local);
      if (next == keys.front() || next == keys.back()) {
        // "name: name, other" delivers to name's own mailbox (no loop).
        out.mailboxes.push_back({join_path(local_maildir_base_, next) + "/", "local",
                                 next + "@" + std::string(domain)});
      } else {
        expand_local(next, domain, depth + 1, out);
      }
    } else if (resolved.address_class == AddressClass::kVirtualMailbox) {
      expand_virtual(resolved, out);
    } else {
      out.error = "alias " + name + ": forwarding to " + target + " is not supported";
      return;
    }
  }
}

void Destinations::expand_virtual(const ResolvedAddress& resolved, Expansion& out) const {
  std::vector<std::string> keys;
  for (const auto& local : local_part_keys(resolved.local))
    keys.push_back(local + "@" + resolved.domain);
  keys.push_back("@" + resolved.domain);
  for (const auto& key : keys) {
    if (auto path = virtual_mailbox_maps_.find(key)) {
      out.mailboxes.push_back({join_path(virtual_mailbox_base_, *path), "virtual",
                               lowercase(resolved.local) + "@" + resolved.domain});
      return;
    }
  }
}

}  // namespace moat::deliver
