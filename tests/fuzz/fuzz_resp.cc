// Arbitrary bytes as a Redis server's replies. Besides not crashing, hanging
// or growing without bound: how the bytes are split between reads never
// changes what is read, every reply keeps within the limits, and a failed
// reader stays failed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "state/resp.h"

using namespace moat::state::resp;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

// Small limits, so the fuzzer reaches them.
constexpr Limits kLimits{.max_line = 64, .max_bulk = 256, .max_depth = 4, .max_reply_bytes = 4096};

// Depth and cost as the reader counts them.
size_t cost(const Reply& reply, size_t depth) {
  check(depth <= kLimits.max_depth);
  size_t total = kElementCost + reply.text.size();
  if (reply.type == Reply::Type::kBulk) check(reply.text.size() <= kLimits.max_bulk);
  if (reply.type == Reply::Type::kSimple || reply.type == Reply::Type::kError) {
    check(reply.text.size() <= kLimits.max_line);
    check(reply.text.find_first_of("\r\n") == std::string_view::npos);
  }
  for (const Reply& element : reply.elements) total += cost(element, depth + 1);
  if (reply.type != Reply::Type::kArray) check(reply.elements.empty());
  return total;
}

struct Outcome {
  std::vector<Reply> replies;
  bool failed = false;
};

Outcome read(std::string_view bytes, size_t chunk) {
  ReplyReader reader(kLimits);
  Outcome outcome;
  while (!bytes.empty()) {
    const std::string_view piece = bytes.substr(0, chunk);
    bytes.remove_prefix(piece.size());
    const bool ok = reader.feed(piece);
    check(ok == !reader.failed());
    Reply reply;
    while (reader.next(reply)) {
      check(cost(reply, 0) <= kLimits.max_reply_bytes);
      outcome.replies.push_back(std::move(reply));
    }
    if (!ok) break;
  }
  outcome.failed = reader.failed();
  if (outcome.failed) check(!reader.feed("+OK\r\n") && !reader.error().empty());
  return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const Outcome whole = read(bytes, bytes.size() + 1);
  for (size_t chunk : {size_t{1}, size_t{3}, size_t{64}}) {
    const Outcome split = read(bytes, chunk);
    check(split.failed == whole.failed);
    check(split.replies == whole.replies);
  }
  for (const Reply& reply : whole.replies) describe(reply);  // any reply can be shown
  return 0;
}
