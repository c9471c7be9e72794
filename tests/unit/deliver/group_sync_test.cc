#include "deliver/group_sync.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>
#include <vector>

namespace moat::deliver {
namespace {

namespace fs = std::filesystem;

TEST(GroupSync, ConcurrentCallersAllGetASuccessfulSync) {
  const auto dir = fs::temp_directory_path() / ("moat-group-sync-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::vector<std::thread> threads;
  std::vector<std::string> errors(32);
  for (size_t i = 0; i < errors.size(); ++i) {
    threads.emplace_back([&, i] {
      errors[i] = i % 2 ? sync_directory(dir.string()) : sync_filesystem(dir.string());
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& error : errors) EXPECT_EQ(error, "");
  fs::remove_all(dir);
}

TEST(GroupSync, MissingDirectoryIsAnErrorNotACrash) {
  EXPECT_NE(sync_directory("/nonexistent/moat/dir"), "");
  EXPECT_NE(sync_filesystem("/nonexistent/moat/dir"), "");
}

}  // namespace
}  // namespace moat::deliver
