#include "state/lmdb_record.h"

#include <fmt/format.h>

namespace moat::state {
namespace {

constexpr size_t kTimeSize = 8;

// FNV-1a: small, and stable across builds and machines (std::hash is not),
// which a key kept on disk needs.
uint64_t fnv1a(std::string_view text) {
  uint64_t hash = 0xcbf29ce484222325;
  for (const unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3;
  }
  return hash;
}

}  // namespace

std::string encode_lmdb_record(int64_t expires_ms, std::string_view value) {
  std::string stored(kTimeSize, '\0');
  auto time = static_cast<uint64_t>(expires_ms);
  for (size_t i = kTimeSize; i-- > 0; time >>= 8) stored[i] = static_cast<char>(time & 0xff);
  stored += value;
  return stored;
}

std::optional<LmdbRecord> decode_lmdb_record(std::string_view stored) {
  if (stored.size() < kTimeSize) return std::nullopt;
  uint64_t time = 0;
  for (size_t i = 0; i < kTimeSize; ++i) time = time << 8 | static_cast<unsigned char>(stored[i]);
  return LmdbRecord{.expires_ms = static_cast<int64_t>(time), .value = stored.substr(kTimeSize)};
}

std::string_view lmdb_storage_key(std::string_view key, size_t max_size, std::string& scratch) {
  if (key.size() <= max_size) return key;
  // "#" and 16 hex digits after as much of the key as fits: keys that share
  // the kept prefix stay apart by their hashes.
  const auto suffix = fmt::format("#{:016x}", fnv1a(key));
  scratch.assign(key.substr(0, max_size - suffix.size()));
  scratch += suffix;
  return scratch;
}

}  // namespace moat::state
