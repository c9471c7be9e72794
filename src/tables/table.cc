#include "tables/table.h"

#include <pwd.h>
#include <sys/stat.h>
#include <time.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>

#include "log/log.h"
#include "tables/cidr_table.h"
#include "tables/pattern_table.h"
#include "tables/source_lines.h"
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

// Parses a file's text into a table, or returns null with "FILE, line N: ...".
using Parser = std::function<std::unique_ptr<Table>(std::string_view text, std::string* error)>;

// What identifies one version of a file: a rewrite in place changes mtime
// or size, a replacement by rename() changes the inode.
struct FileStamp {
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  timespec mtime{};
  bool operator==(const FileStamp& o) const {
    return device == o.device && inode == o.inode && size == o.size &&
           mtime.tv_sec == o.mtime.tv_sec && mtime.tv_nsec == o.mtime.tv_nsec;
  }
};

bool stamp_of(const std::string& path, FileStamp& stamp) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return false;
  stamp = {st.st_dev, st.st_ino, st.st_size, st.st_mtim};
  return true;
}

struct Loaded {
  std::unique_ptr<Table> table;
  std::string error;
};

Loaded load_file(const std::string& path, const Parser& parse) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {nullptr, "open " + path + ": " + std::strerror(errno)};
  std::stringstream text;
  text << in.rdbuf();
  std::string error;
  auto table = parse(text.str(), &error);
  if (!table || !error.empty()) return {nullptr, error};
  return {std::move(table), {}};
}

// A file-backed table that follows its file. Readers load the current
// contents through an atomic shared_ptr and never wait for a reload: at
// most once a second, one reader (whichever wins `checking_`) stats the file
// and, when it changed, parses it and swaps the new contents in. A file
// that no longer parses leaves the old contents in service, with a warning.
class ReloadingTable final : public Table {
 public:
  ReloadingTable(std::string path, Parser parse, bool patterns, std::unique_ptr<Table> first,
                 FileStamp stamp)
      : path_(std::move(path)),
        parse_(std::move(parse)),
        patterns_(patterns),
        current_(std::shared_ptr<const Table>(std::move(first))),
        stamp_(stamp),
        next_check_(now_ms() + kCheckIntervalMs) {}

  std::optional<std::string> find(std::string_view key) const override {
    maybe_reload();
    return current_.load(std::memory_order_acquire)->find(key);
  }
  bool matches_patterns() const override { return patterns_; }

 private:
  static constexpr int64_t kCheckIntervalMs = 1000;

  // The coarse clock is enough for a once-a-second check and costs a few
  // nanoseconds: this runs on every lookup.
  static int64_t now_ms() {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
    return static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
  }

  void maybe_reload() const {
    const int64_t now = now_ms();
    if (now < next_check_.load(std::memory_order_relaxed)) return;
    if (checking_.exchange(true, std::memory_order_acquire)) return;  // another reader checks
    next_check_.store(now + kCheckIntervalMs, std::memory_order_relaxed);
    FileStamp stamp;
    if (!stamp_of(path_, stamp)) {
      if (!missing_reported_) {
        log::warning("master", "table {}: {}: the old contents stay in service", path_,
                     std::strerror(errno));
        missing_reported_ = true;
      }
    } else if (!(stamp == stamp_)) {
      missing_reported_ = false;
      stamp_ = stamp;
      auto loaded = load_file(path_, parse_);
      if (loaded.table) {
        current_.store(std::shared_ptr<const Table>(std::move(loaded.table)),
                       std::memory_order_release);
      } else {
        log::warning("master", "table {} not reloaded, the old contents stay in service: {}", path_,
                     loaded.error);
      }
    }
    checking_.store(false, std::memory_order_release);
  }

  const std::string path_;
  const Parser parse_;
  const bool patterns_;
  mutable std::atomic<std::shared_ptr<const Table>> current_;
  // Touched only by the reader holding `checking_`.
  mutable FileStamp stamp_;
  mutable bool missing_reported_ = false;
  mutable std::atomic<bool> checking_{false};
  mutable std::atomic<int64_t> next_check_;
};

OpenResult open_file_table(const std::string& path, Parser parse, bool patterns) {
  FileStamp stamp;
  const bool stamped = stamp_of(path, stamp);
  auto loaded = load_file(path, parse);
  if (!loaded.table) return {nullptr, std::move(loaded.error)};
  if (!stamped) return {std::move(loaded.table), {}};
  return {std::make_unique<ReloadingTable>(path, std::move(parse), patterns,
                                           std::move(loaded.table), stamp),
          {}};
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
    return open_file_table(
        name,
        [name, format](std::string_view text, std::string* error) -> std::unique_ptr<Table> {
          std::string message;
          auto table = TextTable::parse(text, format, &message);
          if (!message.empty()) {
            *error = name + ", " + message;
            return nullptr;
          }
          return table;
        },
        false);
  }
  if (type == "regexp" || type == "pcre") {
    const auto parser = type == "regexp" ? parse_regexp_table : parse_pcre_table;
    return open_file_table(
        name,
        [name, parser](std::string_view text, std::string* error) -> std::unique_ptr<Table> {
          return parser(text, name, error);
        },
        true);
  }
  if (type == "cidr") {
    return open_file_table(
        name,
        [name](std::string_view text, std::string* error) -> std::unique_ptr<Table> {
          return CidrTable::parse(text, name, error);
        },
        true);
  }
  if (type == "static") {
    std::string_view value = name;
    if (value.size() >= 2 && value.front() == '{' && value.back() == '}')
      value = trim(value.substr(1, value.size() - 2));
    return {std::make_unique<StaticTable>(std::string(value)), {}};
  }
  if (type == "inline") {
    std::string body = name;
    if (body.size() < 2 || body.front() != '{' || body.back() != '}') {
      return {nullptr,
              "inline table \"" + std::string(spec) + "\": need \"inline:{name=value...}\""};
    }
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
