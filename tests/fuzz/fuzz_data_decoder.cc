// Feeds arbitrary bytes, split at a data-chosen point, to the DATA decoder in
// both bare-LF modes; checks that the split never changes the outcome.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "smtp/data_decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t split = data[0] % size;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  for (bool forbid : {false, true}) {
    moat::smtp::DataDecoder whole(4096, forbid);
    const size_t used_whole = whole.feed(input);
    moat::smtp::DataDecoder parts(4096, forbid);
    size_t used = parts.feed(input.substr(0, std::min(split, input.size())));
    if (parts.state() == moat::smtp::DataDecoder::State::kReading)
      used += parts.feed(input.substr(used));
    if (used != used_whole || parts.state() != whole.state() ||
        parts.content() != whole.content() || parts.size() != whole.size()) {
      std::abort();
    }
  }
  return 0;
}
