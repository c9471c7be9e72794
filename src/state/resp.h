// RESP2, the Redis wire protocol, as the Redis store speaks it: commands
// encoded as arrays of bulk strings, and an incremental reader of replies.
//
// The reader is the one place bytes from a Redis server are parsed: it is
// bounded (line length, bulk length, nesting depth and the size of one whole
// reply all have limits), never throws on bad input, keeps its state across
// reads (bytes may arrive one at a time), and is fuzzed. A malformed or
// oversized reply stops it for good: the connection is then useless, since
// later replies can no longer be matched to their commands.
//
// Not here: RESP3 (moat never sends HELLO 3, so its types are errors),
// inline commands, sockets (redis_connection.h).
//
// Plain C++20 (no <expected>): the fuzz build compiles it with clang 14.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace moat::state::resp {

struct Reply {
  enum class Type { kSimple, kError, kInteger, kBulk, kNull, kArray };
  Type type = Type::kNull;
  std::string text;  // kSimple, kError, kBulk
  int64_t integer = 0;
  std::vector<Reply> elements;  // kArray

  bool operator==(const Reply&) const = default;
};

struct Limits {
  size_t max_line = 4096;             // a +, -, : line or a length header
  size_t max_bulk = 1 << 20;          // one bulk string
  size_t max_depth = 8;               // arrays within arrays
  size_t max_reply_bytes = 8u << 20;  // one whole reply, counted as below
};

// The bytes a reply is charged against Limits::max_reply_bytes: its text
// plus a fixed cost per element, so a million empty array elements count.
inline constexpr size_t kElementCost = 64;

class ReplyReader {
 public:
  explicit ReplyReader(Limits limits = {}) : limits_(limits) {}

  // Reads bytes; the replies they complete queue up for next(). False once
  // the stream is malformed or over a limit (error() says why); from then
  // on every feed() is refused.
  bool feed(std::string_view bytes);
  // The oldest complete reply not yet taken; false when there is none.
  bool next(Reply& reply);

  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  // Forgets everything: for a new connection.
  void reset();

 private:
  struct Frame {
    Reply array;
    size_t missing = 0;  // elements still to come
  };

  bool fail(std::string why);
  bool line_done(std::string_view line);
  bool charge(size_t bytes);
  bool value_done(Reply value);

  Limits limits_;
  std::string line_;         // the current header line so far, CRLF included
  bool in_bulk_ = false;     // reading a bulk string's payload
  size_t bulk_missing_ = 0;  // its bytes still to come, CRLF included
  std::string bulk_;
  std::vector<Frame> stack_;  // the arrays being filled, outermost first
  size_t reply_bytes_ = 0;    // what the reply being read has cost so far
  std::deque<Reply> ready_;
  std::string error_;
};

// Appends one command (an array of bulk strings) to `out`.
void append_command(std::string& out, std::span<const std::string_view> args);
inline void append_command(std::string& out, std::initializer_list<std::string_view> args) {
  append_command(out, std::span<const std::string_view>(args.begin(), args.size()));
}

// A reply in a readable one-line form, for messages and test failures
// ("OK", "(error) ERR ...", "(integer) 3", "\"text\"", "(nil)", "[a, b]").
std::string describe(const Reply& reply);

}  // namespace moat::state::resp
