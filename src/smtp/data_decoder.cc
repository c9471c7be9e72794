#include "smtp/data_decoder.h"

#include <cstring>

namespace moat::smtp {
namespace {

// A line longer than this is stored in pieces: the decoder never holds more
// than this much beyond the message content.
constexpr size_t kMaxPendingLine = 64 * 1024;

}  // namespace

void DataDecoder::store(std::string_view bytes) {
  size_ += bytes.size();
  if (size_ > size_limit_) size_exceeded_ = true;
  if (!size_exceeded_) content_.append(bytes);
}

void DataDecoder::finish_line(bool crlf) {
  std::string_view line = line_;
  if (!line_started_) {
    if (crlf && previous_was_crlf_ && line == ".") {
      state_ = State::kDone;
      return;
    }
    if (!line.empty() && line.front() == '.') line.remove_prefix(1);  // dot-unstuffing
  }
  store(line);
  store("\n");
  line_.clear();
  line_started_ = false;
  previous_was_crlf_ = crlf;
}

size_t DataDecoder::feed(std::string_view input) {
  size_t used = 0;
  while (used < input.size() && state_ == State::kReading) {
    const char* start = input.data() + used;
    const size_t left = input.size() - used;
    const auto* newline = static_cast<const char*>(std::memchr(start, '\n', left));
    if (!newline) {
      line_.append(start, left);
      used += left;
      // Keep a trailing CR pending: it may be the first half of CR LF.
      if (line_.size() > kMaxPendingLine) {
        const bool keep_cr = line_.back() == '\r';
        std::string_view piece(line_.data(), line_.size() - (keep_cr ? 1 : 0));
        if (!line_started_ && !piece.empty() && piece.front() == '.') piece.remove_prefix(1);
        store(piece);
        line_started_ = true;
        line_.erase(0, line_.size() - (keep_cr ? 1 : 0));
      }
      break;
    }
    line_.append(start, static_cast<size_t>(newline - start));
    used += static_cast<size_t>(newline - start) + 1;
    const bool crlf = !line_.empty() && line_.back() == '\r';
    if (crlf) {
      line_.pop_back();
    } else {
      saw_bare_lf_ = true;
      if (stop_at_bare_lf_) {
        state_ = State::kBareLf;
        break;
      }
    }
    finish_line(crlf);
  }
  return used;
}

}  // namespace moat::smtp
