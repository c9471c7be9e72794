// Postfix's policy delegation protocol (SMTPD_POLICY_README) on the wire:
// a request is "name=value" lines ended by an empty line; so is the answer
// ("action=...", empty line). Both moat's check_policy_service (a client
// of policy servers) and moat's own policy server speak it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace moat::policy {

struct Attribute {
  std::string name;
  std::string value;
  bool operator==(const Attribute&) const = default;
};

using Attributes = std::vector<Attribute>;

// The first value of `name`, or null.
const std::string* find(const Attributes& attributes, std::string_view name);

// "name=value\n" for each, then "\n". Newlines in a value would end the
// request early: they are sent as spaces (Postfix's own values have none).
std::string encode(const Attributes& attributes);

// Reads requests (or answers) from a byte stream as it arrives. Bounded:
// a line longer than `max_line`, more than `max_attributes` lines in one
// request, a NUL byte or a line without "=" fails the reader for good
// (the peer speaks something else: close the connection).
class Reader {
 public:
  struct Limits {
    size_t max_line = 4096;  // bytes, without the newline
    size_t max_attributes = 256;
  };
  Reader() = default;
  explicit Reader(Limits limits) : limits_(limits) {}

  // Takes more bytes; false once the stream is bad.
  bool feed(std::string_view bytes);
  // The next complete request, if one has arrived.
  std::optional<Attributes> next();
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  // Bytes received and not yet part of a complete request.
  size_t pending_bytes() const { return buffer_.size() - start_; }

 private:
  void parse();
  Limits limits_;
  std::string buffer_;
  size_t start_ = 0;    // where unparsed bytes begin
  Attributes current_;  // the request being read
  std::vector<Attributes> ready_;
  size_t next_ready_ = 0;
  std::string error_;
};

}  // namespace moat::policy
