// Arbitrary bytes as the argument of MAIL FROM: / RCPT TO:, parsed in both
// roles and both strictness settings. Besides not crashing or hanging:
// failures carry the role's reply, only a sender may be null, and an accepted
// address survives external_form() and parsing again unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "smtp/address.h"

using namespace moat::smtp;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

void check_round_trip(const std::string& address, PathRole role) {
  // A route-like prefix ("@x:...") is taken for a source route when parsed
  // again, as in Postfix; such addresses cannot round-trip.
  if (address.starts_with('@') && address.find(':') != std::string::npos) return;
  // external_form() quotes the local part only, like Postfix: a domain that
  // Postfix's resolver accepted only after reading it as tokens ("a@\b",
  // "a@(x)b", "a@[1.2.3.4") does not read back as written.
  const AddressParts parts = split_address(address);
  std::string_view domain = parts.domain;
  if (domain.size() > 1 && domain.ends_with('.')) domain.remove_suffix(1);
  if (!domain.empty() && !valid_hostname(domain, true) && !valid_address_literal(domain)) return;
  const std::string external = external_form(address);
  if (external.size() + 2 > kMaxPathArgumentLength) return;
  const PathArgument again =
      parse_path_argument("<" + external + ">", role, PathOptions{.smtputf8 = true});
  check(again.ok);
  check(again.address == address);

  if (address.find('@') != std::string::npos) {
    check(std::string(parts.local) + "@" + std::string(parts.domain) == address);
  } else {
    check(parts.local == address && parts.domain.empty());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view argument(reinterpret_cast<const char*>(data), size);
  for (PathRole role : {PathRole::kSender, PathRole::kRecipient}) {
    for (bool strict : {false, true}) {
      const PathArgument path = parse_path_argument(argument, role, strict);
      if (!path.ok) {
        check(path.error.code == 501);
        check(path.error.enhanced == (role == PathRole::kSender ? "5.1.7" : "5.1.3"));
        check(path.parameters.empty());
        continue;
      }
      check(role == PathRole::kSender || !path.address.empty());
      for (const EsmtpParameter& parameter : path.parameters) {
        check(!parameter.keyword.empty() || parameter.has_value);
        check(parameter.keyword.data() >= argument.data() &&
              parameter.keyword.data() + parameter.keyword.size() <=
                  argument.data() + argument.size());
      }
      if (!path.address.empty()) check_round_trip(path.address, role);
    }
  }
  return 0;
}
