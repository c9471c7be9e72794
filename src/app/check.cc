#include <iostream>

#include "app/commands.h"
#include "app/loaded_config.h"

namespace moat::app {

int check(const std::string& config_path, bool print_non_default) {
  const auto loaded = load_config(config_path);
  for (const auto& problem : loaded.problems) std::cerr << problem.to_string() << '\n';
  if (print_non_default && loaded.config) {
    for (const auto& line : loaded.config->non_default_lines()) std::cout << line << '\n';
  }
  return loaded.ok() ? 0 : 1;
}

}  // namespace moat::app
