// postgrey's allowlist file formats, including Debian's own files.
#include <gtest/gtest.h>

#include <filesystem>

#include "greylist/allowlist.h"

namespace moat::greylist {
namespace {

asio::ip::address ip(const char* text) {
  return asio::ip::make_address(text);
}

TEST(ClientAllowlist, EveryForm) {
  ClientAllowlist list;
  std::vector<std::string> problems;
  list.add(
      "# comment\n"
      "  example.org   # trailing comment\n"
      "192.0.2.1\n198.51.100.0/24\n203.0.113\n10.20\n2001:db8::/32\n"
      "/^mail[0-9]+\\.big\\.example$/\n"
      "\n",
      "clients", problems);
  EXPECT_TRUE(problems.empty());
  const auto other = ip("100.64.0.1");
  EXPECT_EQ(list.match(other, "example.org"), "example.org");
  EXPECT_EQ(list.match(other, "MX.Example.ORG"), "example.org");
  EXPECT_EQ(list.match(other, "badexample.org"), "");
  EXPECT_EQ(list.match(ip("192.0.2.1"), "unknown"), "192.0.2.1");
  EXPECT_EQ(list.match(ip("192.0.2.2"), "unknown"), "");
  EXPECT_EQ(list.match(ip("198.51.100.9"), "unknown"), "198.51.100.0/24");
  EXPECT_EQ(list.match(ip("203.0.113.200"), "unknown"), "203.0.113");
  EXPECT_EQ(list.match(ip("10.20.30.40"), "unknown"), "10.20");
  EXPECT_EQ(list.match(ip("10.21.0.1"), "unknown"), "");
  EXPECT_EQ(list.match(ip("2001:db8:5::1"), "unknown"), "2001:db8::/32");
  EXPECT_EQ(list.match(ip("::ffff:192.0.2.1"), "unknown"), "192.0.2.1");
  EXPECT_EQ(list.match(other, "MAIL12.big.example"), "/^mail[0-9]+\\.big\\.example$/");
  EXPECT_EQ(list.match(other, "mail.big.example"), "");
}

TEST(ClientAllowlist, BadLinesAreNamedAndSkipped) {
  ClientAllowlist list;
  std::vector<std::string> problems;
  list.add("good.example\n1.2.3.4.5\nfoo bar\n/(unclosed/\n", "f", problems);
  ASSERT_EQ(problems.size(), 3u);
  EXPECT_TRUE(problems[0].starts_with("f:2: ")) << problems[0];
  EXPECT_TRUE(problems[1].starts_with("f:3: ")) << problems[1];
  EXPECT_TRUE(problems[2].starts_with("f:4: ")) << problems[2];
  EXPECT_EQ(list.match(ip("192.0.2.1"), "good.example"), "good.example");
}

TEST(RecipientAllowlist, EveryForm) {
  RecipientAllowlist list;
  std::vector<std::string> problems;
  list.add("postmaster@\nabuse@here.test\nopen.test\n/^list-.*@lists\\.test$/\n", "r", problems);
  EXPECT_TRUE(problems.empty());
  EXPECT_EQ(list.match("Postmaster@anything.test"), "postmaster@");
  EXPECT_EQ(list.match("postmaster+x@anything.test"), "postmaster@");
  EXPECT_EQ(list.match("abuse@here.test"), "abuse@here.test");
  EXPECT_EQ(list.match("abuse+tag@here.test"), "abuse@here.test");
  EXPECT_EQ(list.match("abuse@there.test"), "");
  EXPECT_EQ(list.match("anyone@open.test"), "open.test");
  EXPECT_EQ(list.match("anyone@sub.open.test"), "open.test");
  EXPECT_EQ(list.match("anyone@reopen.test"), "");
  EXPECT_EQ(list.match("list-dev@lists.test"), "/^list-.*@lists\\.test$/");
  EXPECT_EQ(list.match("bob@here.test"), "");
}

TEST(Allowlists, DebiansPostgreyFilesLoadWithoutProblems) {
  const std::string clients = "/etc/postgrey/whitelist_clients";
  const std::string recipients = "/etc/postgrey/whitelist_recipients";
  if (!std::filesystem::exists(clients) || !std::filesystem::exists(recipients)) {
    GTEST_SKIP() << "postgrey is not installed";
  }
  ClientAllowlist c;
  RecipientAllowlist r;
  std::vector<std::string> problems;
  load_allowlist(c, {clients, clients + ".local"}, problems, problems);
  load_allowlist(r, {recipients, recipients + ".local"}, problems, problems);
  EXPECT_TRUE(problems.empty()) << problems.front();
  EXPECT_FALSE(c.empty());
  EXPECT_EQ(c.match(ip("100.64.0.1"), "lists.debian.org"), "debian.org");
  EXPECT_EQ(r.match("postmaster@here.test"), "postmaster@");
}

TEST(Allowlists, MissingFileIsAProblemUnlessLocal) {
  ClientAllowlist c;
  std::vector<std::string> errors, warnings;
  load_allowlist(c, {"/nonexistent/clients.local"}, errors, warnings);
  EXPECT_TRUE(errors.empty());
  load_allowlist(c, {"/nonexistent/clients"}, errors, warnings);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "/nonexistent/clients: cannot be read");
  EXPECT_TRUE(warnings.empty());
}

}  // namespace
}  // namespace moat::greylist
