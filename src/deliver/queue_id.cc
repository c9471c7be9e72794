#include "deliver/queue_id.h"

#include <unistd.h>

#include <atomic>
#include <chrono>

namespace moat::deliver {
namespace {

std::atomic<unsigned long> counter{0};

// Long IDs are written in base 51 (digits and consonants without 'z'), so the
// 'z' separator appears exactly once, as in Postfix's long queue IDs.
void append_base(std::string& out, unsigned long long value, unsigned base, size_t width) {
  static constexpr char kDigits[] = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxy";
  static_assert(sizeof kDigits - 1 == 51);
  std::string digits;
  do {
    digits.insert(digits.begin(), kDigits[value % base]);
    value /= base;
  } while (value > 0);
  while (digits.size() < width) digits.insert(digits.begin(), '0');
  out += digits;
}

}  // namespace

std::string new_queue_id(bool long_format) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now).count();
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now).count() % 1000000;
  // The pid and a process-wide counter play the part of Postfix's inode number.
  const unsigned long sequence =
      (static_cast<unsigned long>(getpid()) << 20) + counter.fetch_add(1);
  std::string id;
  if (long_format) {
    append_base(id, static_cast<unsigned long long>(seconds), 51, 6);
    append_base(id, static_cast<unsigned long long>(micros), 51, 4);
    id += 'z';
    append_base(id, sequence, 51, 1);
    return id;
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (int shift = 16; shift >= 0; shift -= 4) id += kHex[(micros >> shift) & 0xf];
  std::string tail;
  unsigned long rest = sequence & 0xffffffffffUL;
  do {
    tail.insert(tail.begin(), kHex[rest & 0xf]);
    rest >>= 4;
  } while (rest > 0);
  while (tail.size() < 6) tail.insert(tail.begin(), '0');
  return id + tail;
}

}  // namespace moat::deliver
