// Arbitrary bytes as a DNS response, read as the answer to a few questions.
// Besides not crashing, hanging or reading outside the buffer: the answer
// is consistent with its status, its TTLs are in range, and every name it
// hands out reads back as a DNS name (so it can be asked or cached).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "dns/message.h"
#include "dns/wire.h"

using namespace moat::dns;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

void check_name(const std::string& name) {
  std::string encoded;
  check(wire::append_name(name, encoded));
  check(canonical(name) == name);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static constexpr std::string_view kNames[] = {"example", "www.example", "MX.Example.",
                                                "1.2.0.192.in-addr.arpa"};
  static constexpr Type kTypes[] = {Type::kA,   Type::kAAAA, Type::kMX,
                                    Type::kTXT, Type::kPTR,  Type::kCNAME};
  const std::span<const uint8_t> message(data, size);
  for (std::string_view name : kNames) {
    for (Type type : kTypes) {
      const Answer answer = read_answer(message, name, type);
      check(answer.ttl <= 0x7fffffffu);
      switch (answer.status) {
        case Status::kOk:
          check(!answer.records.empty());
          check(answer.follow_cname.empty());
          break;
        case Status::kTempFail:
          check(answer.ttl == 0);
          check(!answer.error.empty());
          check(answer.records.empty());
          continue;
        case Status::kNoData:
        case Status::kNxDomain:
          check(answer.records.empty());
          check(answer.follow_cname.empty() || answer.status == Status::kNoData);
          break;
      }
      check_name(answer.canonical_name);
      if (!answer.follow_cname.empty()) {
        check(answer.follow_cname == answer.canonical_name);
        check_name(answer.follow_cname);
      }
      for (const Record& record : answer.records) {
        check(record.type == type);
        check(record.name == answer.canonical_name);
        check(record.ttl >= answer.ttl);
        if (type == Type::kMX || type == Type::kPTR || type == Type::kCNAME) {
          check_name(record.target);
        }
        if (type == Type::kA || type == Type::kAAAA) check(!address_text(record).empty());
        if (type == Type::kTXT) {
          size_t total = 0;
          for (const std::string& s : record.strings) total += s.size();
          check(total == record.text.size());
        }
      }
    }
  }
  return 0;
}
