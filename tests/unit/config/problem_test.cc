#include "config/problem.h"

#include <gtest/gtest.h>

namespace moat::config {
namespace {

TEST(ProblemTest, ErrorReadsFileLineParameterMessage) {
  Problem problem{"main.cf", 12, "smtpd_timeout", "bad time value \"5x\""};
  EXPECT_EQ(problem.to_string(), "main.cf:12: smtpd_timeout: bad time value \"5x\"");
  EXPECT_TRUE(problem.is_error());
}

TEST(ProblemTest, WarningPutsWarningBeforeMessage) {
  Problem problem{"main.cf", 3, "foo", "unused parameter", Problem::Severity::kWarning};
  EXPECT_EQ(problem.to_string(), "main.cf:3: foo: warning: unused parameter");
  EXPECT_FALSE(problem.is_error());
}

TEST(ProblemTest, LineZeroIsLeftOut) {
  Problem problem{"main.cf", 0, "myorigin", "reference loop"};
  EXPECT_EQ(problem.to_string(), "main.cf: myorigin: reference loop");
}

TEST(ProblemTest, EmptyParameterIsLeftOut) {
  Problem problem{"/etc/moat/main.cf", 0, "", "cannot read file: No such file or directory"};
  EXPECT_EQ(problem.to_string(), "/etc/moat/main.cf: cannot read file: No such file or directory");
}

TEST(ProblemTest, QuotedCutsLongTextShort) {
  EXPECT_EQ(quoted_excerpt("5x"), "\"5x\"");
  std::string shown = quoted_excerpt(std::string(1000, 'a'));
  EXPECT_LT(shown.size(), 100u);
  EXPECT_TRUE(shown.ends_with("...\""));
}

}  // namespace
}  // namespace moat::config
