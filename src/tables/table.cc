#include "tables/table.h"

#include <pwd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "tables/text_table.h"

namespace moat::tables {
namespace {

// static:value answers every key with the same value.
class StaticTable final : public Table {
 public:
  explicit StaticTable(std::string value) : value_(std::move(value)) {}
  std::optional<std::string> find(std::string_view) const override { return value_; }

 private:
  std::string value_;
};

// unix:passwd.byname: the system's user accounts, as Postfix's default
// local_recipient_maps uses them.
class PasswdTable final : public Table {
 public:
  std::optional<std::string> find(std::string_view key) const override {
    passwd entry{};
    passwd* result = nullptr;
    char buffer[4096];
    const std::string name(key);
    if (getpwnam_r(name.c_str(), &entry, buffer, sizeof buffer, &result) != 0 || !result) {
      return std::nullopt;
    }
    return std::string(result->pw_dir);
  }
};

OpenResult open_file_table(const std::string& path, SourceFormat format) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {nullptr, "open " + path + ": " + std::strerror(errno)};
  std::stringstream text;
  text << in.rdbuf();
  std::string error;
  auto table = TextTable::parse(text.str(), format, &error);
  if (!error.empty()) return {nullptr, path + ": " + error};
  return {std::move(table), {}};
}

}  // namespace

OpenResult open_table(std::string_view spec, SourceFormat format) {
  // proxy: only routes lookups through Postfix's proxymap; moat looks up directly.
  if (spec.starts_with("proxy:")) spec.remove_prefix(6);
  const auto colon = spec.find(':');
  if (colon == std::string_view::npos) {
    return {nullptr, "table \"" + std::string(spec) + "\": expected type:name"};
  }
  const std::string_view type = spec.substr(0, colon);
  const std::string name(spec.substr(colon + 1));
  if (type == "hash" || type == "btree" || type == "texthash" || type == "lmdb" || type == "cdb") {
    return open_file_table(name, format);
  }
  if (type == "static") {
    std::string value = name;
    if (value.size() >= 2 && value.front() == '{' && value.back() == '}')
      value = value.substr(1, value.size() - 2);
    return {std::make_unique<StaticTable>(value), {}};
  }
  if (type == "inline") {
    std::string body = name;
    if (body.size() >= 2 && body.front() == '{' && body.back() == '}')
      body = body.substr(1, body.size() - 2);
    std::string error;
    auto table = parse_inline_table(body, &error);
    if (!error.empty()) return {nullptr, "inline table: " + error};
    return {std::move(table), {}};
  }
  if (type == "unix" && name == "passwd.byname") return {std::make_unique<PasswdTable>(), {}};
  return {nullptr,
          "unsupported table type \"" + std::string(type) + "\" in \"" + std::string(spec) + "\""};
}

TableList TableList::open(const std::vector<std::string>& specs, SourceFormat format,
                          std::vector<std::string>& errors) {
  TableList list;
  for (const auto& spec : specs) {
    auto result = open_table(spec, format);
    if (result.table) {
      list.tables_.push_back(std::move(result.table));
    } else {
      errors.push_back(std::move(result.error));
    }
  }
  return list;
}

std::optional<std::string> TableList::find(std::string_view key) const {
  for (const auto& table : tables_) {
    if (auto value = table->find(key)) return value;
  }
  return std::nullopt;
}

}  // namespace moat::tables
