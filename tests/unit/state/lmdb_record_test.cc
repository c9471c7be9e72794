// How the LMDB store lays out an entry (expiry time, then value) and folds
// keys longer than LMDB allows.
#include "state/lmdb_record.h"

#include <gtest/gtest.h>

namespace moat::state {
namespace {

TEST(LmdbRecord, TheExpiryTimeComesFirstBigEndian) {
  const auto stored = encode_lmdb_record(0x0102030405060708, "value");
  EXPECT_EQ(stored, std::string("\x01\x02\x03\x04\x05\x06\x07\x08value"));
  const auto record = decode_lmdb_record(stored);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->expires_ms, 0x0102030405060708);
  EXPECT_EQ(record->value, "value");
}

TEST(LmdbRecord, EmptyAndBinaryValuesRoundTrip) {
  for (const std::string& value : {std::string(), std::string("\0\xff,1", 4)}) {
    const auto stored = encode_lmdb_record(1'700'000'000'000, value);
    const auto record = decode_lmdb_record(stored);
    ASSERT_TRUE(record);
    EXPECT_EQ(record->expires_ms, 1'700'000'000'000);
    EXPECT_EQ(record->value, value);
  }
}

TEST(LmdbRecord, TooShortToHoldATimeIsDamaged) {
  EXPECT_FALSE(decode_lmdb_record(""));
  EXPECT_FALSE(decode_lmdb_record("1234567"));
  EXPECT_TRUE(decode_lmdb_record("12345678"));
}

TEST(LmdbStorageKey, KeysThatFitAreStoredAsThemselves) {
  std::string scratch;
  EXPECT_EQ(lmdb_storage_key("grey:a/b/c", 511, scratch), "grey:a/b/c");
  const std::string exact(511, 'k');
  EXPECT_EQ(lmdb_storage_key(exact, 511, scratch), exact);
}

TEST(LmdbStorageKey, LongerKeysAreFoldedApartByTheirHash) {
  const std::string prefix(600, 'p');
  std::string scratch_a, scratch_b;
  const auto a = lmdb_storage_key(prefix + "a", 511, scratch_a);
  const auto b = lmdb_storage_key(prefix + "b", 511, scratch_b);
  EXPECT_EQ(a.size(), 511u);
  EXPECT_EQ(b.size(), 511u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.substr(0, 494), prefix.substr(0, 494));
  std::string again;
  EXPECT_EQ(lmdb_storage_key(prefix + "a", 511, again), a);  // the same place every time
}

}  // namespace
}  // namespace moat::state
