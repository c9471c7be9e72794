// Arbitrary bytes as policy protocol requests (what a client of moat's
// policy server, or a policy server answering moat, may send). Besides not
// crashing or growing without bound: the split of the bytes into reads
// never changes what is read, requests keep within the limits, and a
// failed reader stays failed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "policy/attributes.h"

using namespace moat::policy;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

constexpr Reader::Limits kLimits{.max_line = 64, .max_attributes = 8};

struct Outcome {
  std::vector<Attributes> requests;
  bool failed = false;
};

Outcome read_in_pieces(std::string_view bytes, size_t piece) {
  Reader reader(kLimits);
  Outcome out;
  while (!bytes.empty()) {
    const auto n = piece == 0 ? bytes.size() : std::min(piece, bytes.size());
    const bool ok = reader.feed(bytes.substr(0, n));
    check(ok == !reader.failed());
    bytes.remove_prefix(n);
    while (auto r = reader.next()) {
      check(r->size() <= kLimits.max_attributes);
      for (const auto& a : *r) {
        check(!a.name.empty() && a.name.size() + 1 + a.value.size() <= kLimits.max_line);
      }
      out.requests.push_back(std::move(*r));
    }
    if (reader.failed()) {
      check(!reader.feed("a=b\n\n") && !reader.next());
      out.failed = true;
      break;
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto whole = read_in_pieces(bytes, 0);
  for (size_t piece : {1, 3, 64}) {
    const auto split = read_in_pieces(bytes, piece);
    // A failure may be seen earlier in pieces (a long line without its
    // newline yet), but what was read before it is the same.
    check(split.failed == whole.failed);
    if (!whole.failed) check(split.requests == whole.requests);
  }
  return 0;
}
