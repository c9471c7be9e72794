#include "deliver/maildir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace moat::deliver {
namespace {

namespace fs = std::filesystem;

class MaildirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("moat-maildir-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  static std::string slurp(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  fs::path root_;
};

TEST_F(MaildirTest, CreatesTheMaildirAndPutsTheMessageInNew) {
  const auto maildir = (root_ / "user").string() + "/";
  ASSERT_EQ(write_to_maildir(maildir, "Delivered-To: u@x\n", "Subject: hi\n\nbody\n"), "");
  for (const char* sub : {"tmp", "new", "cur"}) EXPECT_TRUE(fs::is_directory(root_ / "user" / sub));
  std::vector<fs::path> files(fs::directory_iterator(root_ / "user" / "new"), {});
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(slurp(files[0]), "Delivered-To: u@x\nSubject: hi\n\nbody\n");
  EXPECT_TRUE(fs::is_empty(root_ / "user" / "tmp"));
}

TEST_F(MaildirTest, EveryDeliveryGetsItsOwnFile) {
  const auto maildir = (root_ / "u").string();
  for (int i = 0; i < 50; ++i) ASSERT_EQ(write_to_maildir(maildir, "", "x\n"), "");
  EXPECT_EQ(std::distance(fs::directory_iterator(root_ / "u" / "new"), {}), 50);
}

TEST_F(MaildirTest, ReportsAnUnwritableLocation) {
  fs::create_directories(root_);
  std::ofstream(root_ / "file") << "not a directory";
  EXPECT_NE(write_to_maildir((root_ / "file" / "sub").string(), "", "x\n"), "");
}

TEST_F(MaildirTest, MboxAppendsWithFromLineAndQuoting) {
  fs::create_directories(root_);
  const auto mbox = (root_ / "mbox").string();
  ASSERT_EQ(append_to_mbox(mbox, "From a@b  Sat Nov 21 00:00:00 2026\n", "X: 1\n",
                           "From here\n>From there\n"),
            "");
  ASSERT_EQ(append_to_mbox(mbox, "From c@d  Sat Nov 21 00:00:00 2026\n", "", "second\n"), "");
  EXPECT_EQ(slurp(mbox),
            "From a@b  Sat Nov 21 00:00:00 2026\nX: 1\n>From here\n>>From there\n\n"
            "From c@d  Sat Nov 21 00:00:00 2026\nsecond\n\n");
}

}  // namespace
}  // namespace moat::deliver

namespace moat::deliver {
namespace {

TEST(MaildirSync, BothSyncMethodsDeliverIntoNew) {
  const auto root =
      std::filesystem::temp_directory_path() / ("moat-sync-" + std::to_string(::getpid()));
  for (const auto method : {SyncMethod::kFsync, SyncMethod::kSyncfs}) {
    ASSERT_EQ(write_to_maildir((root / "m").string(), "", "x\n", method), "");
  }
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(root / "m" / "new"), {}), 2);
  EXPECT_TRUE(std::filesystem::is_empty(root / "m" / "tmp"));
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace moat::deliver
