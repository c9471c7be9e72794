#include "policy/listen_address.h"

#include <gtest/gtest.h>

namespace moat::policy {
namespace {

TEST(PolicyListenAddress, Inet) {
  const auto v4 = parse_policy_listen_address("inet:127.0.0.1:10040");
  ASSERT_TRUE(v4) << v4.error();
  EXPECT_EQ(v4->kind, ListenAddress::Kind::kInet);
  EXPECT_EQ(v4->inet, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 10040));
  EXPECT_EQ(v4->text(), "inet:127.0.0.1:10040");

  const auto v6 = parse_policy_listen_address("inet:[::1]:10040");
  ASSERT_TRUE(v6) << v6.error();
  EXPECT_EQ(v6->inet, asio::ip::tcp::endpoint(asio::ip::make_address("::1"), 10040));
  EXPECT_EQ(v6->text(), "inet:[::1]:10040");
}

TEST(PolicyListenAddress, Unix) {
  const auto address = parse_policy_listen_address("unix:/run/moat/policy");
  ASSERT_TRUE(address) << address.error();
  EXPECT_EQ(address->kind, ListenAddress::Kind::kUnix);
  EXPECT_EQ(address->path, "/run/moat/policy");
  EXPECT_EQ(address->text(), "unix:/run/moat/policy");
}

TEST(PolicyListenAddress, ErrorsNameTheTextAndTheReason) {
  const std::pair<std::string, std::string_view> cases[] = {
      {"127.0.0.1:10040", "expected inet:HOST:PORT or unix:/PATH"},
      {"tcp:127.0.0.1:10040", "expected inet:HOST:PORT or unix:/PATH"},
      {"inet:127.0.0.1", "missing :PORT"},
      {"inet::10040", "missing HOST"},
      {"inet:::1:10040", "an IPv6 address must be in brackets"},
      {"inet:localhost:10040", "HOST must be an IP address"},
      {"inet:127.0.0.1:0", "PORT must be a number from 1 to 65535"},
      {"inet:127.0.0.1:65536", "PORT must be a number from 1 to 65535"},
      {"inet:127.0.0.1:smtp", "PORT must be a number from 1 to 65535"},
      {"unix:", "missing socket path"},
      {"unix:private/policy", "the socket path must be absolute"},
      {"unix:/" + std::string(200, 'x'), "socket path longer than 107 bytes"},
  };
  for (const auto& [text, why] : cases) {
    const auto address = parse_policy_listen_address(text);
    ASSERT_FALSE(address) << text;
    EXPECT_NE(address.error().find("\"" + std::string(text) + "\""), std::string::npos)
        << address.error();
    EXPECT_NE(address.error().find(why), std::string::npos) << address.error();
  }
}

}  // namespace
}  // namespace moat::policy
