// One entry of the LMDB state store as it lies in the database, and the key
// it lies under.
//
// A value is stored after its expiry time (8 bytes, big-endian milliseconds
// since the Unix epoch: a wall-clock time, because entries outlive the
// process), so one lookup tells both the value and whether it still counts.
// An entry too short to hold the time is damaged and reads as expired.
//
// LMDB keys are at most 511 bytes; a longer key (a greylisting triplet with
// two long addresses can be) is stored as its first bytes and a 64-bit hash
// of the whole, so it still has one place of its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace moat::state {

struct LmdbRecord {
  int64_t expires_ms = 0;
  std::string_view value;  // a view into the stored bytes
};

std::string encode_lmdb_record(int64_t expires_ms, std::string_view value);
std::optional<LmdbRecord> decode_lmdb_record(std::string_view stored);

// The key as stored: `key` itself when it fits in `max_size` bytes, else
// its folded form, built in `scratch`.
std::string_view lmdb_storage_key(std::string_view key, size_t max_size, std::string& scratch);

}  // namespace moat::state
