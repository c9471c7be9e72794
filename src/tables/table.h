// Lookup tables, Postfix style: a table is named "type:name" in main.cf and
// answers find(key) with a value or nothing.
//
//   texthash:, hash:, btree:, lmdb:, cdb:  the postmap(1) source text itself
//       (moat has no Berkeley DB; the source is what admins edit)
//   regexp:, pcre:   regexp_table(5), pcre_table(5)   (tables/pattern_table.h)
//   cidr:            cidr_table(5)                     (tables/cidr_table.h)
//   inline:{k=v, {k = v w}}, static:{value}, unix:passwd.byname
//
// File-backed tables follow their file: at most once a second a lookup
// checks its mtime, size and inode, and a changed file is parsed and swapped
// in without blocking other readers. New contents that fail to parse leave
// the old ones in service (with a warning in the log). Errors in a table's
// text name the file and line: "FILE, line N: message".
// Lookups are thread-safe from every worker thread.
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
