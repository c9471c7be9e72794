// Arbitrary bytes as a name's TXT records (one per line) for SPF record
// selection and parsing. Besides not crashing: a permerror says why, a parsed
// record holds only what the ABNF allows (cidr ranges, domain-specs that
// pass the syntax check), and every domain-spec it keeps expands without a
// syntax error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "spf/macro.h"
#include "spf/record.h"

using namespace moat::spf;

namespace {
void check(bool condition) {
  if (!condition) std::abort();
}

void check_expands(const std::string& spec, const MacroContext& context) {
  check(valid_domain_spec(spec));
  const Expansion expansion = expand(spec, context, MacroUse::kDomain);
  // A single label over 253 characters is the only way left to fail.
  check(expansion.ok() || expansion.error == MacroError::kTooLong);
  check(expansion.text.size() <= kMaxDomainLength);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> records;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    records.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  MacroContext context;
  context.local_part = "strong-bad";
  context.sender_domain = "email.example.com";
  context.domain = "email.example.com";
  context.helo = "mx.example.org";
  context.ip = *parse_client_ip(size % 2 ? "2001:db8::cb01" : "192.0.2.3");

  for (const std::string& record : records) {
    const RecordResult result = parse_record(record);
    check(is_spf_record(record) == (result.status != RecordStatus::kNone));
    check((result.status == RecordStatus::kPermError) == !result.error.empty());
    if (result.status != RecordStatus::kOk) continue;
    check(result.record.directives.size() <= kMaxTerms);
    for (const Directive& directive : result.record.directives) {
      check(directive.cidr4 >= 0 && directive.cidr4 <= 32);
      check(directive.cidr6 >= 0 && directive.cidr6 <= 128);
      const bool needs_domain =
          directive.mechanism == Mechanism::kInclude || directive.mechanism == Mechanism::kExists;
      if (needs_domain) check(!directive.domain_spec.empty());
      if (!directive.domain_spec.empty()) check_expands(directive.domain_spec, context);
    }
    if (result.record.redirect) check_expands(*result.record.redirect, context);
    if (result.record.explanation) check_expands(*result.record.explanation, context);
  }
  const RecordResult selected = select_record(records);
  check((selected.status == RecordStatus::kPermError) == !selected.error.empty());
  return 0;
}
