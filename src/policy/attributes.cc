#include "policy/attributes.h"

#include <algorithm>

namespace moat::policy {

const std::string* find(const Attributes& attributes, std::string_view name) {
  for (const auto& a : attributes) {
    if (a.name == name) return &a.value;
  }
  return nullptr;
}

std::string encode(const Attributes& attributes) {
  std::string out;
  for (const auto& a : attributes) {
    out += a.name;
    out += '=';
    for (char c : a.value) out += c == '\n' || c == '\r' ? ' ' : c;
    out += '\n';
  }
  out += '\n';
  return out;
}

bool Reader::feed(std::string_view bytes) {
  if (failed()) return false;
  // Compact what earlier requests used before the buffer grows.
  if (start_ > 0 && start_ == buffer_.size()) {
    buffer_.clear();
    start_ = 0;
  } else if (start_ > 65536) {
    buffer_.erase(0, start_);
    start_ = 0;
  }
  buffer_.append(bytes);
  parse();
  return !failed();
}

void Reader::parse() {
  while (!failed()) {
    const auto newline = buffer_.find('\n', start_);
    if (newline == std::string::npos) {
      // (One byte more may still be the "\r" of a "\r\n" ending.)
      if (buffer_.size() - start_ > limits_.max_line + 1) error_ = "line too long";
      return;
    }
    std::string_view line(buffer_.data() + start_, newline - start_);
    start_ = newline + 1;
    if (line.ends_with('\r')) line.remove_suffix(1);  // tolerated, as Postfix does
    if (line.size() > limits_.max_line) {
      error_ = "line too long";
      return;
    }
    if (line.find('\0') != std::string_view::npos) {
      error_ = "NUL byte in a line";
      return;
    }
    if (line.empty()) {
      ready_.push_back(std::move(current_));
      current_.clear();
      continue;
    }
    const auto equals = line.find('=');
    if (equals == std::string_view::npos || equals == 0) {
      error_ = "line without name=value";
      return;
    }
    if (current_.size() >= limits_.max_attributes) {
      error_ = "too many attributes";
      return;
    }
    current_.push_back({std::string(line.substr(0, equals)), std::string(line.substr(equals + 1))});
  }
}

std::optional<Attributes> Reader::next() {
  if (next_ready_ == ready_.size()) {
    ready_.clear();
    next_ready_ = 0;
    return std::nullopt;
  }
  return std::move(ready_[next_ready_++]);
}

}  // namespace moat::policy
