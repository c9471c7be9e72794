// Arbitrary bytes as a main.cf: the parser, the loader (expansion, type
// checks, unused warnings) and every accessor must neither crash nor hang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/config.h"
#include "config/main_cf.h"
#include "config/parameters.h"

using namespace moat::config;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ParsedFile parsed = parse_main_cf(text, "fuzz.cf");
  for (const Problem& problem : parsed.problems) (void)problem.to_string();

  LoadResult result = Config::load_text(text, "fuzz.cf");
  for (const Problem& problem : result.problems) (void)problem.to_string();
  (void)result.ok();
  if (!result.config) return 0;
  const Config& config = *result.config;
  for (const ParameterSpec& spec : all_parameters()) {
    (void)config.get(spec.name);
    (void)config.get_list(spec.name);
    if (spec.type == ParameterType::kBoolean) (void)config.get_boolean(spec.name);
    if (spec.type == ParameterType::kInteger || spec.type == ParameterType::kSize)
      (void)config.get_integer(spec.name);
    if (spec.type == ParameterType::kTime) (void)config.get_time(spec.name);
  }
  for (const Setting& setting : parsed.settings) (void)config.get(setting.name);
  (void)config.non_default_lines();
  return 0;
}
