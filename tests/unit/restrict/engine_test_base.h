// The part every restriction-engine test fixture shares: a temporary
// directory for table files, an Engine built from main.cf text, and the
// problems that building reported.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "deliver/destinations.h"
#include "restrict/restrictions.h"

namespace moat::restriction::testing {

class EngineTestBase : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/moat-engine-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes `text` to the file `name` in the test directory; its path.
  std::string write_file(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }

  // Builds destinations and engine from `base` + `text` as main.cf.
  void build(const std::string& base, const std::string& text) {
    auto loaded = config::Config::load_text(base + text, "main.cf");
    problems_ = loaded.problems;
    ASSERT_TRUE(loaded.config);
    config_ = loaded.config;
    destinations_ = deliver::Destinations::build(*config_, problems_);
    engine_ = Engine::build(*config_, &destinations_, problems_);
  }

  bool has_error() const {
    for (const auto& p : problems_) {
      if (p.is_error()) return true;
    }
    return false;
  }
  std::string problem_text() const {
    std::string out;
    for (const auto& p : problems_) out += p.to_string() + "\n";
    return out;
  }

  // A RCPT-stage context of the fields below (set them first): the client
  // ip_ named name_ (verified and PTR), HELO helo_, sender_, recipient_.
  // The strings stay here while the context is used.
  Context rcpt_context() {
    resolved_ = destinations_.resolve(recipient_);
    Context c;
    c.stage = Stage::kRcpt;
    c.client_address = asio::ip::make_address(ip_);
    c.client_ip = ip_;
    c.client_name = name_;
    c.reverse_client_name = name_;
    c.helo = helo_;
    c.has_helo = !helo_.empty();
    c.sender = sender_;
    c.has_sender = true;
    c.recipient = recipient_;
    c.resolved_recipient = &resolved_;
    return c;
  }

  std::string recipient_ = "bob@mx.here.test", sender_, helo_, ip_, name_ = "unknown";
  deliver::ResolvedAddress resolved_;
  std::filesystem::path dir_;
  std::vector<config::Problem> problems_;
  std::shared_ptr<const config::Config> config_;
  deliver::Destinations destinations_;
  Engine engine_;
};

}  // namespace moat::restriction::testing
