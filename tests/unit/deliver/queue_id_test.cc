#include "deliver/queue_id.h"

#include <gtest/gtest.h>

#include <set>

namespace moat::deliver {
namespace {

TEST(QueueId, ShortIdsAreUppercaseHexAndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    const auto id = new_queue_id(false);
    EXPECT_GE(id.size(), 10u);
    EXPECT_EQ(id.find_first_not_of("0123456789ABCDEF"), std::string::npos) << id;
    EXPECT_TRUE(seen.insert(id).second) << id;
  }
}

TEST(QueueId, LongIdsHaveOneZSeparatorAndAreUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    const auto id = new_queue_id(true);
    EXPECT_EQ(id.find('z'), 10u) << id;
    EXPECT_EQ(id.find('z', 11), std::string::npos) << id;
    EXPECT_TRUE(seen.insert(id).second) << id;
  }
}

}  // namespace
}  // namespace moat::deliver
