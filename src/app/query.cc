// moat query: postmap -q for moat's tables. The table is opened on its own;
// the config (-c) is not needed to read a table and is not loaded.
#include <iostream>

#include "app/commands.h"
#include "tables/table.h"

namespace moat::app {

int query(const std::string& table_spec, const std::string& key) {
  const auto opened = tables::open_table(table_spec, tables::SourceFormat::kPostmap);
  if (!opened.table) {
    std::cerr << "moat: fatal: " << opened.error << '\n';
    return 1;
  }
  const auto value = opened.table->find(key);
  if (!value) return 1;
  std::cout << *value << '\n';
  return 0;
}

}  // namespace moat::app
