// Arbitrary bytes as an SPF macro string: the first byte picks domain-spec
// or explanation use and the client address family, the rest is the text.
// Besides not crashing: the syntax check and the expander agree, a domain
// never comes out longer than 253 characters, an explanation never past
// kMaxExpansion, and a failed expansion yields no text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "spf/macro.h"

using namespace moat::spf;

namespace {
void check(bool condition) {
  if (!condition) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const MacroUse use = mode & 1 ? MacroUse::kExplanation : MacroUse::kDomain;

  MacroContext context;
  // Long values with every delimiter, so transformers and truncation work.
  const std::string local = "a.b-c+d,e/f_g=h.strong-bad." + std::string(mode & 4 ? 300 : 3, 'x');
  if ((mode & 8) == 0) context.local_part = local;  // else "" (postmaster)
  context.sender_domain = "email.example.com";
  context.domain = "sub.email.example.com";
  context.helo = "mx.example.org";
  context.validated_name = "mx.example.org";
  context.receiver = "receiver.example.net";
  context.timestamp = 1700000000;
  context.ip = *parse_client_ip(mode & 2 ? "2001:db8::cb01" : "192.0.2.3");

  const Expansion expansion = expand(text, context, use);
  const bool valid = valid_macro_string(text, use);
  if (expansion.error == MacroError::kSyntax || expansion.error == MacroError::kNotAllowed) {
    check(!valid);
  } else {
    check(valid);
  }
  if (!expansion.ok()) check(expansion.text.empty());
  if (use == MacroUse::kDomain) {
    check(expansion.text.size() <= kMaxDomainLength);
    if (valid_domain_spec(text)) check(valid);
    if (valid) check(valid_macro_string(text, MacroUse::kExplanation));
  } else {
    check(expansion.text.size() <= kMaxExpansion);
  }
  return 0;
}
