#include <iostream>

#include <fmt/format.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include "app/commands.h"
#include "app/loaded_config.h"
#include "dns/resolver.h"

namespace moat::app {
namespace {

// An A answer's first address in `bad` use: outside 127.0.0.0/8 or in
// 127.255.255.0/24 (a list's "query refused" codes); "" when none.
std::string refusal_code(const dns::Answer& answer) {
  for (const auto& record : answer.records) {
    const auto& a = record.address;
    if (a[0] != 127 || (a[1] == 255 && a[2] == 255)) return dns::address_text(record);
  }
  return {};
}

// One line about a list from its RFC 5782 test points: `listed` must be
// listed, `unlisted` must not.
std::string judge(const restriction::DnsListZone& zone, const dns::Answer& listed,
                  const dns::Answer& unlisted) {
  const char* must = zone.domains ? "test" : "127.0.0.2";
  const char* must_not = zone.domains ? "invalid" : "127.0.0.1";
  for (const auto* answer : {&listed, &unlisted}) {
    if (answer->status == dns::Status::kTempFail) {
      return fmt::format("{}: lookup error ({})", zone.zone, answer->error);
    }
  }
  if (listed.status != dns::Status::kOk)
    return fmt::format("{}: dead ({} not listed)", zone.zone, must);
  if (auto code = refusal_code(listed); !code.empty()) {
    return fmt::format("{}: refusing queries ({})", zone.zone, code);
  }
  if (unlisted.status == dns::Status::kOk) {
    return fmt::format("{}: lists everything ({} listed)", zone.zone, must_not);
  }
  return zone.zone + " ok";
}

asio::awaitable<void> check_lists(dns::Resolver& resolver,
                                  const std::vector<restriction::DnsListZone>& zones, int& bad) {
  for (const auto& zone : zones) {
    const std::string listed = (zone.domains ? "test." : "2.0.0.127.") + zone.zone;
    const std::string unlisted = (zone.domains ? "invalid." : "1.0.0.127.") + zone.zone;
    resolver.prefetch(unlisted, dns::Type::kA);
    const auto yes = co_await resolver.lookup(listed, dns::Type::kA);
    const auto no = co_await resolver.lookup(unlisted, dns::Type::kA);
    const std::string line = judge(zone, *yes, *no);
    if (!line.ends_with(" ok")) ++bad;
    std::cout << line << '\n';
  }
}

}  // namespace

int check(const std::string& config_path, bool print_non_default) {
  const auto loaded = load_config(config_path);
  for (const auto& problem : loaded.problems) std::cerr << problem.to_string() << '\n';
  if (print_non_default && loaded.config) {
    for (const auto& line : loaded.config->non_default_lines()) std::cout << line << '\n';
  }
  return loaded.ok() ? 0 : 1;
}

int check_dnsbl(const std::string& config_path) {
  const auto loaded = load_config(config_path);
  for (const auto& problem : loaded.problems) std::cerr << problem.to_string() << '\n';
  if (!loaded.ok() || !loaded.smtpd) return 1;
  const auto& zones = loaded.smtpd->restrictions.dns_list_zones();
  if (zones.empty()) {
    std::cout << "no DNS lists in the restrictions\n";
    return 0;
  }
  asio::io_context io;
  int bad = 0;
  try {
    dns::Resolver resolver(io, loaded.smtpd->dns);
    asio::co_spawn(io, check_lists(resolver, zones, bad), asio::detached);
    io.run();
  } catch (const std::exception& e) {
    std::cerr << "moat: DNS resolver: " << e.what() << '\n';
    return 1;
  }
  return bad == 0 ? 0 : 1;
}

}  // namespace moat::app
