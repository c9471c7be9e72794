// Decodes the DATA phase byte stream into message content: finds the end of
// data, removes dot-stuffing, turns CR LF into LF, counts the size, and
// defends against SMTP smuggling. Pure (no I/O), resumable across reads,
// bounded in memory beyond the message itself; fuzzed.
//
// Only <CR><LF>.<CR><LF> ends the message. A bare LF or bare CR never takes
// part in the end-of-data sequence: "<LF>.<LF>", "<CR>.<CR>" and
// "<LF>.<CR><LF>" are content. With `stop_at_bare_lf` a line ending in a bare
// LF stops decoding with kBareLf; either way saw_bare_lf() tells whether one
// was seen (Postfix's smtpd_forbid_bare_newline = reject answers at the end).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace moat::smtp {

class DataDecoder {
 public:
  enum class State { kReading, kDone, kBareLf };

  DataDecoder(size_t size_limit, bool stop_at_bare_lf)
      : size_limit_(size_limit), stop_at_bare_lf_(stop_at_bare_lf) {}

  // Consumes a prefix of `input`; returns the number of bytes used. Stops
  // right after the end-of-data line or at a forbidden bare LF, so the
  // caller keeps what follows (pipelined commands) for the command reader.
  size_t feed(std::string_view input);

  State state() const { return state_; }
  // The content exceeded the limit; the decoder keeps reading to the end of
  // data but stops storing it.
  bool size_exceeded() const { return size_exceeded_; }
  bool saw_bare_lf() const { return saw_bare_lf_; }
  // Content with LF line endings; complete only when state() is kDone.
  std::string& content() { return content_; }
  size_t size() const { return size_; }

 private:
  void finish_line(bool crlf);
  void store(std::string_view bytes);

  size_t size_limit_;
  bool stop_at_bare_lf_;
  bool saw_bare_lf_ = false;
  State state_ = State::kReading;
  bool size_exceeded_ = false;
  size_t size_ = 0;
  std::string content_;
  std::string line_;               // current line so far, without its ending
  bool line_started_ = false;      // part of the current line was already stored
  bool previous_was_crlf_ = true;  // the 354 reply counts as a line boundary
};

}  // namespace moat::smtp
