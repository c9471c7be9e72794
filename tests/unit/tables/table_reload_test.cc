// File-backed tables follow their file: changes are picked up within about
// a second, and a change that does not parse leaves the old contents serving.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tables/table.h"

namespace moat::tables {
namespace {

class TableReload : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("moat-table-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    // Write a new file and rename it over the old one, as editors and
    // configuration tools do; the inode changes even within one mtime tick.
    const auto temporary = dir_ / (name + ".new");
    std::ofstream(temporary) << text;
    std::filesystem::rename(temporary, path);
    return path.string();
  }

  // Polls until `table` answers `expected` for `key` (at most 5 s).
  static bool eventually(const Table& table, std::string_view key,
                         std::optional<std::string> expected) {
    for (int i = 0; i < 100; ++i) {
      if (table.find(key) == expected) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  std::filesystem::path dir_;
};

TEST_F(TableReload, TexthashFollowsItsFile) {
  const auto path = write("access", "example.com OK\n");
  auto opened = open_table("texthash:" + path, SourceFormat::kPostmap);
  ASSERT_TRUE(opened.table) << opened.error;
  EXPECT_EQ(opened.table->find("example.com"), "OK");
  write("access", "example.com REJECT\nexample.net OK\n");
  EXPECT_TRUE(eventually(*opened.table, "example.com", "REJECT"));
  EXPECT_EQ(opened.table->find("example.net"), "OK");
}

TEST_F(TableReload, BrokenNewContentsKeepTheOldInService) {
  const auto path = write("clients.cidr", "192.0.2.0/24 REJECT\n");
  auto opened = open_table("cidr:" + path, SourceFormat::kPostmap);
  ASSERT_TRUE(opened.table) << opened.error;
  EXPECT_TRUE(opened.table->matches_patterns());
  write("clients.cidr", "192.0.2.0/24 REJECT\n198.51.100.7/24 OK\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  EXPECT_EQ(opened.table->find("192.0.2.9"), "REJECT");
  EXPECT_EQ(opened.table->find("198.51.100.7"), std::nullopt);
  // A good version later is picked up again.
  write("clients.cidr", "192.0.2.0/24 OK\n");
  EXPECT_TRUE(eventually(*opened.table, "192.0.2.9", "OK"));
}

TEST_F(TableReload, ConcurrentReadersDuringReloads) {
  const auto path = write("senders.regexp", "/^a/ ONE\n");
  auto opened = open_table("regexp:" + path, SourceFormat::kPostmap);
  ASSERT_TRUE(opened.table) << opened.error;
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      while (!stop) {
        const auto value = opened.table->find("abc");
        if (value != "ONE" && value != "TWO") ++bad;
      }
    });
  }
  write("senders.regexp", "/^a/ TWO\n");
  const bool reloaded = eventually(*opened.table, "abc", "TWO");
  stop = true;
  for (auto& reader : readers) reader.join();
  EXPECT_TRUE(reloaded);
  EXPECT_EQ(bad, 0);
}

TEST_F(TableReload, OpenErrorsNameFileAndLine) {
  const auto path = write("bad.regexp", "/ok/ x\n\n/(a/ y\n");
  EXPECT_EQ(open_table("regexp:" + path, SourceFormat::kPostmap).error,
            path + ", line 3: Unmatched ( or \\(");
  const auto aliases = write("aliases", "root: x\nbroken line\n");
  EXPECT_EQ(open_table("hash:" + aliases, SourceFormat::kAliases).error,
            aliases + ", line 2: missing ':'");
  const auto pcre = write("x.pcre", "/(?<n>a)/ $1\n");
  EXPECT_EQ(open_table("pcre:" + pcre, SourceFormat::kPostmap).table->find("A"), "A");
}

}  // namespace
}  // namespace moat::tables
