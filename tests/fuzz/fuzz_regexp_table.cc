// Arbitrary bytes as a regexp: table (regexp_table(5)) source; see pattern_table_fuzzer.h.
#include "pattern_table_fuzzer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fuzz_pattern_table(data, size, moat::tables::parse_regexp_table, "fuzz.regexp");
}
