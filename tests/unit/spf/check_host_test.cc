#include "spf/check_host.h"

#include <gtest/gtest.h>

#include <string>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

namespace moat::spf {
namespace {

TEST(SpfCheckHost, ResultNames) {
  EXPECT_EQ(result_name(Result::kNone), "none");
  EXPECT_EQ(result_name(Result::kNeutral), "neutral");
  EXPECT_EQ(result_name(Result::kPass), "pass");
  EXPECT_EQ(result_name(Result::kFail), "fail");
  EXPECT_EQ(result_name(Result::kSoftFail), "softfail");
  EXPECT_EQ(result_name(Result::kTempError), "temperror");
  EXPECT_EQ(result_name(Result::kPermError), "permerror");
}

TEST(SpfCheckHost, PresentationName) {
  EXPECT_EQ(presentation_name("mail.example.com"), "mail.example.com");
  EXPECT_EQ(presentation_name("a b.example"), "a\\032b.example");
  EXPECT_EQ(presentation_name("a\\b.example"), "a\\092b.example");
  EXPECT_EQ(presentation_name(std::string("x\0y", 3)), "x\\000y");
  EXPECT_EQ(presentation_name("\xef.example"), "\\239.example");
  EXPECT_EQ(presentation_name("%:/.example"), "%:/.example");
}

TEST(SpfCheckHost, QueryableName) {
  EXPECT_TRUE(queryable_name("example.com"));
  EXPECT_TRUE(queryable_name("example.com."));
  EXPECT_TRUE(queryable_name("localhost"));
  EXPECT_FALSE(queryable_name(""));
  EXPECT_FALSE(queryable_name("."));
  EXPECT_FALSE(queryable_name("a..example.com"));
  EXPECT_FALSE(queryable_name(".example.com"));
  EXPECT_TRUE(queryable_name(std::string(63, 'a') + ".example.com"));
  EXPECT_FALSE(queryable_name(std::string(64, 'a') + ".example.com"));
}

// Cases decided before any DNS work: the resolver points at a port where
// nothing answers, and none of these may wait for it.
SpfResult run(const CheckRequest& request) {
  asio::io_context io;
  dns::Options options;
  options.servers = {"127.0.0.1:9"};
  options.timeout = std::chrono::milliseconds(200);
  options.tries = 1;
  SpfResult out;
  bool done = false;
  {
    dns::Resolver resolver(io, options);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          out = co_await check_host(resolver, request);
          done = true;
        },
        asio::detached);
    io.run();
  }
  EXPECT_TRUE(done);
  return out;
}

TEST(SpfCheckHost, InvalidDomainsAreNone) {
  CheckRequest request;
  request.client_ip = "192.0.2.1";
  request.helo = "[192.0.2.1]";
  EXPECT_EQ(run(request).result, Result::kNone);  // null sender, literal HELO
  request.sender = "foo@[192.0.2.1]";
  EXPECT_EQ(run(request).result, Result::kNone);
  request.sender = "foo@localhost";
  EXPECT_EQ(run(request).result, Result::kNone);
  request.sender = "foo@a..example.com";
  EXPECT_EQ(run(request).result, Result::kNone);
  request.sender = "foo@" + std::string(64, 'a') + ".example.com";
  EXPECT_EQ(run(request).result, Result::kNone);
}

TEST(SpfCheckHost, BadClientAddressIsPermError) {
  CheckRequest request;
  request.client_ip = "not-an-address";
  request.sender = "foo@example.com";
  EXPECT_EQ(run(request).result, Result::kPermError);
}

TEST(SpfCheckHost, UnreachableServerIsTempError) {
  CheckRequest request;
  request.client_ip = "::ffff:192.0.2.1";
  request.sender = "foo@example.com";
  EXPECT_EQ(run(request).result, Result::kTempError);
}

}  // namespace
}  // namespace moat::spf
