// parse_redis_address: the address forms of `moat_state_store = redis:...`.
#include "state/redis_options.h"

#include <gtest/gtest.h>

namespace moat::state {
namespace {

RedisOptions parsed(std::string_view text) {
  auto options = parse_redis_address(text);
  EXPECT_TRUE(options) << text << ": " << options.error();
  return options.value_or(RedisOptions{});
}

std::string error_of(std::string_view text) {
  auto options = parse_redis_address(text);
  EXPECT_FALSE(options) << text;
  return options ? "" : options.error();
}

TEST(ParseRedisAddress, HostAndPort) {
  auto options = parsed("127.0.0.1:6379");
  EXPECT_EQ(options.host, "127.0.0.1");
  EXPECT_EQ(options.port, 6379);
  EXPECT_EQ(options.db, 0);
  EXPECT_TRUE(options.unix_path.empty());
  EXPECT_EQ(options.address_text(), "127.0.0.1:6379");
  options = parsed("redis.example.net:7000/3");
  EXPECT_EQ(options.host, "redis.example.net");
  EXPECT_EQ(options.port, 7000);
  EXPECT_EQ(options.db, 3);
  EXPECT_EQ(options.timeout, std::chrono::milliseconds(1000));  // the rest is default
}

TEST(ParseRedisAddress, BracketedIpv6) {
  const auto options = parsed("[::1]:6380/15");
  EXPECT_EQ(options.host, "::1");
  EXPECT_EQ(options.port, 6380);
  EXPECT_EQ(options.db, 15);
  EXPECT_EQ(options.address_text(), "[::1]:6380");
  EXPECT_EQ(parsed("[2001:db8::7]:1").host, "2001:db8::7");
}

TEST(ParseRedisAddress, UnixSocket) {
  auto options = parsed("unix:/run/redis/redis-server.sock");
  EXPECT_EQ(options.unix_path, "/run/redis/redis-server.sock");
  EXPECT_EQ(options.db, 0);
  EXPECT_EQ(options.address_text(), "unix:/run/redis/redis-server.sock");
  options = parsed("unix:/run/redis/redis-server.sock/2");
  EXPECT_EQ(options.unix_path, "/run/redis/redis-server.sock");
  EXPECT_EQ(options.db, 2);
  EXPECT_EQ(parsed("unix:/2").unix_path, "/2");  // a path, not a database
}

TEST(ParseRedisAddress, ErrorsSayWhatIsWrong) {
  EXPECT_EQ(error_of(""), "redis address \"\": expected HOST:PORT or unix:/PATH");
  EXPECT_EQ(error_of("localhost"), "redis address \"localhost\": expected HOST:PORT or unix:/PATH");
  EXPECT_EQ(error_of(":6379"), "redis address \":6379\": missing host");
  EXPECT_EQ(error_of("host:"), "redis address \"host:\": bad port \"\"");
  EXPECT_EQ(error_of("host:0"), "redis address \"host:0\": bad port \"0\"");
  EXPECT_EQ(error_of("host:65536"), "redis address \"host:65536\": bad port \"65536\"");
  EXPECT_EQ(error_of("host:-1"), "redis address \"host:-1\": bad port \"-1\"");
  EXPECT_EQ(error_of("host:6379/x"), "redis address \"host:6379/x\": bad database number \"x\"");
  EXPECT_EQ(error_of("host:6379/"), "redis address \"host:6379/\": bad database number \"\"");
  EXPECT_EQ(error_of("host:6379/-1"), "redis address \"host:6379/-1\": bad database number \"-1\"");
  EXPECT_EQ(error_of("ho st:1"), "redis address \"ho st:1\": bad host name \"ho st\"");
  EXPECT_EQ(error_of("::1:6379"),
            "redis address \"::1:6379\": write an IPv6 address in brackets: [ADDRESS]:PORT");
  EXPECT_EQ(error_of("[::1:6379"),
            "redis address \"[::1:6379\": missing ']' after an IPv6 address");
  EXPECT_EQ(error_of("[nope]:6379"), "redis address \"[nope]:6379\": bad IPv6 address \"nope\"");
  EXPECT_EQ(error_of("unix:relative.sock"),
            "redis address \"unix:relative.sock\": a unix socket path must be absolute");
  EXPECT_EQ(error_of("unix:"), "redis address \"unix:\": a unix socket path must be absolute");
  EXPECT_EQ(error_of("unix:/" + std::string(200, 'x')).substr(0, 16), "redis address \"u");
}

}  // namespace
}  // namespace moat::state
