#include "net/cidr.h"

#include <gtest/gtest.h>

#include "net/listen_address.h"

namespace moat::net {
namespace {

asio::ip::address ip(const char* text) {
  return asio::ip::make_address(text);
}

TEST(Cidr, Ipv4NetworksMatchByPrefix) {
  const auto network = parse_network("127.0.0.0/8");
  ASSERT_TRUE(network);
  EXPECT_TRUE(network->contains(ip("127.1.2.3")));
  EXPECT_FALSE(network->contains(ip("128.0.0.1")));
}

TEST(Cidr, Ipv4NetworksMatchIpv4MappedClients) {
  EXPECT_TRUE(parse_network("192.0.2.0/24")->contains(ip("::ffff:192.0.2.7")));
}

TEST(Cidr, BracketedIpv6WithPrefix) {
  const auto network = parse_network("[::1]/128");
  ASSERT_TRUE(network);
  EXPECT_TRUE(network->contains(ip("::1")));
  EXPECT_FALSE(network->contains(ip("::2")));
  EXPECT_TRUE(parse_network("2001:db8::/32")->contains(ip("2001:db8:ffff::1")));
}

TEST(Cidr, BareAddressIsAHostRoute) {
  EXPECT_TRUE(parse_network("10.1.2.3")->contains(ip("10.1.2.3")));
  EXPECT_FALSE(parse_network("10.1.2.3")->contains(ip("10.1.2.4")));
}

TEST(Cidr, OddPrefixLengths) {
  EXPECT_TRUE(parse_network("10.0.0.0/9")->contains(ip("10.127.0.1")));
  EXPECT_FALSE(parse_network("10.0.0.0/9")->contains(ip("10.128.0.1")));
  EXPECT_TRUE(parse_network("0.0.0.0/0")->contains(ip("203.0.113.9")));
}

TEST(Cidr, RejectsGarbage) {
  for (const char* bad :
       {"", "127.0.0.0/33", "::1/129", "300.1.1.1", "1.2.3.4/", "1.2.3.4/x", "hash:/x"}) {
    EXPECT_FALSE(parse_network(bad)) << bad;
  }
}

TEST(Cidr, ListReportsBadElements) {
  std::vector<std::string> bad;
  const auto list = NetworkList::parse({"127.0.0.0/8", "nonsense", "[::1]/128"}, &bad);
  EXPECT_EQ(bad, std::vector<std::string>{"nonsense"});
  EXPECT_TRUE(list.contains(ip("::1")));
  EXPECT_FALSE(list.contains(ip("192.0.2.1")));
}

TEST(ListenAddress, ParsesIpv4AndBracketedIpv6) {
  EXPECT_EQ(parse_listen_address("127.0.0.1:2525")->port(), 2525);
  EXPECT_EQ(parse_listen_address("[::1]:25")->address(), ip("::1"));
  EXPECT_EQ(parse_listen_address("127.0.0.1:0")->port(), 0);
}

TEST(ListenAddress, RejectsMalformed) {
  for (const char* bad :
       {"127.0.0.1", "::1:25", "localhost:25", "127.0.0.1:65536", "127.0.0.1:", "[::1]"}) {
    EXPECT_FALSE(parse_listen_address(bad)) << bad;
  }
}

}  // namespace
}  // namespace moat::net
