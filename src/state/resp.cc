#include "state/resp.h"

#include <algorithm>
#include <charconv>

namespace moat::state::resp {
namespace {

// Strict integers as Redis writes them: an optional '-', digits, nothing
// else, within int64.
bool parse_integer(std::string_view text, int64_t& value) {
  if (text.empty()) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

}  // namespace

bool ReplyReader::feed(std::string_view bytes) {
  if (failed()) return false;
  while (!bytes.empty()) {
    if (in_bulk_) {
      const size_t take = std::min(bulk_missing_, bytes.size());
      bulk_.append(bytes.substr(0, take));
      bytes.remove_prefix(take);
      bulk_missing_ -= take;
      if (bulk_missing_ > 0) continue;
      if (!bulk_.ends_with("\r\n")) return fail("bulk string not followed by CRLF");
      bulk_.resize(bulk_.size() - 2);
      in_bulk_ = false;
      Reply value{.type = Reply::Type::kBulk, .text = std::move(bulk_)};
      bulk_.clear();
      if (!value_done(std::move(value))) return false;
      continue;
    }
    const size_t newline = bytes.find('\n');
    const size_t take = newline == std::string_view::npos ? bytes.size() : newline + 1;
    if (line_.size() + take > limits_.max_line + 2) return fail("reply line too long");
    line_.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
    if (newline == std::string_view::npos) continue;
    if (line_.size() < 2 || line_[line_.size() - 2] != '\r') {
      return fail("reply line not ended by CRLF");
    }
    const std::string line = std::move(line_);
    line_.clear();
    if (!line_done(std::string_view(line).substr(0, line.size() - 2))) return false;
  }
  return true;
}

bool ReplyReader::line_done(std::string_view line) {
  if (line.empty()) return fail("empty reply line");
  const std::string_view rest = line.substr(1);
  if (rest.find('\r') != std::string_view::npos) return fail("CR inside a reply line");
  if (!charge(kElementCost)) return false;
  switch (line[0]) {
    case '+':
    case '-': {
      if (!charge(rest.size())) return false;
      const auto type = line[0] == '+' ? Reply::Type::kSimple : Reply::Type::kError;
      return value_done(Reply{.type = type, .text = std::string(rest)});
    }
    case ':': {
      int64_t value = 0;
      if (!parse_integer(rest, value)) return fail("bad integer reply");
      return value_done(Reply{.type = Reply::Type::kInteger, .integer = value});
    }
    case '$': {
      int64_t length = 0;
      if (!parse_integer(rest, length) || length < -1) return fail("bad bulk string length");
      if (length == -1) return value_done(Reply{.type = Reply::Type::kNull});
      if (static_cast<uint64_t>(length) > limits_.max_bulk) return fail("bulk string too long");
      if (!charge(static_cast<size_t>(length))) return false;
      in_bulk_ = true;
      bulk_missing_ = static_cast<size_t>(length) + 2;
      return true;
    }
    case '*': {
      int64_t count = 0;
      if (!parse_integer(rest, count) || count < -1) return fail("bad array length");
      if (count == -1) return value_done(Reply{.type = Reply::Type::kNull});
      if (count == 0) return value_done(Reply{.type = Reply::Type::kArray});
      if (stack_.size() >= limits_.max_depth) return fail("arrays nested too deep");
      // Elements are paid for as they arrive; a count no reply could afford
      // is refused now.
      if (static_cast<uint64_t>(count) > limits_.max_reply_bytes / kElementCost) {
        return fail("array too long");
      }
      stack_.push_back(Frame{.array = Reply{.type = Reply::Type::kArray},
                             .missing = static_cast<size_t>(count)});
      return true;
    }
    default:
      return fail("unknown reply type");
  }
}

bool ReplyReader::charge(size_t bytes) {
  if (bytes > limits_.max_reply_bytes - reply_bytes_) return fail("reply too large");
  reply_bytes_ += bytes;
  return true;
}

bool ReplyReader::value_done(Reply value) {
  for (;;) {
    if (stack_.empty()) {
      ready_.push_back(std::move(value));
      reply_bytes_ = 0;
      return true;
    }
    Frame& top = stack_.back();
    top.array.elements.push_back(std::move(value));
    if (--top.missing > 0) return true;
    value = std::move(top.array);
    stack_.pop_back();
  }
}

bool ReplyReader::fail(std::string why) {
  error_ = std::move(why);
  return false;
}

bool ReplyReader::next(Reply& reply) {
  if (ready_.empty()) return false;
  reply = std::move(ready_.front());
  ready_.pop_front();
  return true;
}

void ReplyReader::reset() {
  *this = ReplyReader(limits_);
}

void append_command(std::string& out, std::span<const std::string_view> args) {
  out += '*';
  out += std::to_string(args.size());
  out += "\r\n";
  for (std::string_view arg : args) {
    out += '$';
    out += std::to_string(arg.size());
    out += "\r\n";
    out += arg;
    out += "\r\n";
  }
}

std::string describe(const Reply& reply) {
  switch (reply.type) {
    case Reply::Type::kSimple:
      return reply.text;
    case Reply::Type::kError:
      return "(error) " + reply.text;
    case Reply::Type::kInteger:
      return "(integer) " + std::to_string(reply.integer);
    case Reply::Type::kBulk:
      return "\"" + reply.text + "\"";
    case Reply::Type::kNull:
      return "(nil)";
    case Reply::Type::kArray: {
      std::string text = "[";
      for (size_t i = 0; i < reply.elements.size(); ++i) {
        if (i > 0) text += ", ";
        text += describe(reply.elements[i]);
      }
      return text + "]";
    }
  }
  return "?";
}

}  // namespace moat::state::resp
