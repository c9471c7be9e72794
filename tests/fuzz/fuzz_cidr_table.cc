// Arbitrary bytes as a cidr: table (cidr_table(5)) source, then lookups of
// IPv4, IPv6 and non-address keys. Besides not crashing: a refused table
// says "NAME, line N: ...", a key that is not an address is never found,
// and the indexed lookup agrees with a rule-by-rule reading of the text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tables/cidr_table.h"

using namespace moat::tables;

namespace {
void check(bool condition) {
  if (!condition) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string error;
  const auto table = CidrTable::parse(text, "fuzz.cidr", &error);
  if (!table) {
    check(error.starts_with("fuzz.cidr, line "));
    return 0;
  }
  check(table->matches_patterns());
  for (const char* key : {"192.0.2.1", "10.0.0.1", "0.0.0.0", "255.255.255.255", "::1",
                          "2001:db8::1", "::ffff:10.0.0.1"}) {
    const auto value = table->find(key);
    check(!value || !value->empty());
  }
  for (const char* key : {"", "example.com", "1.2.3", "[::1]", "010.0.0.1"}) {
    check(!table->find(key));
  }
  // The first word of the input as a key, when it is an address.
  const std::string_view word = text.substr(0, text.find_first_of(" \t\n/"));
  if (parse_ip_address(word)) table->find(word);
  return 0;
}
