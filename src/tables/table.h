// Lookup tables, Postfix style: a table is named "type:name" in main.cf
// (hash:/etc/postfix/access, texthash:..., inline:{k=v}, static:value,
// unix:passwd.byname) and answers find(key) with a value or nothing.
// Tables are loaded when a config snapshot is built and are immutable after,
// so lookups are lock-free from every worker thread.
//
// hash: and btree: read the text source file itself (the file postmap would
// compile): moat has no Berkeley DB, and the source is what admins edit.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace moat::tables {

// The syntax of a file-backed table's source.
enum class SourceFormat {
  kPostmap,  // "key value" per line (postmap(1))
  kAliases,  // "name: value, value" per line (aliases(5), postalias(1))
};

class Table {
 public:
  virtual ~Table() = default;
  // Keys are matched case-insensitively, as Postfix's hash tables do.
  virtual std::optional<std::string> find(std::string_view key) const = 0;
  // Pattern tables (regexp:, pcre:, cidr:) match the whole query string:
  // Postfix asks them only the full key (a whole address, host name or IP),
  // never the partial keys of access(5) (parent domains, "user@", prefixes).
  virtual bool matches_patterns() const { return false; }
};

struct OpenResult {
  std::unique_ptr<Table> table;  // null on error
  std::string error;             // "open /etc/aliases: No such file or directory"
};

OpenResult open_table(std::string_view spec, SourceFormat format);

// A "maps" parameter value: several tables searched in order, first hit wins.
class TableList {
 public:
  TableList() = default;
  // Opens every element of `specs`; errors are appended to `errors`.
  static TableList open(const std::vector<std::string>& specs, SourceFormat format,
                        std::vector<std::string>& errors);

  std::optional<std::string> find(std::string_view key) const;
  bool empty() const { return tables_.empty(); }

 private:
  std::vector<std::shared_ptr<const Table>> tables_;
};

}  // namespace moat::tables
