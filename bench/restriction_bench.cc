// The restriction engine's cost per decision: a 15-entry
// smtpd_recipient_restrictions chain with four 1,000-entry texthash: access
// tables and no DNS, evaluated for a RCPT that passes every restriction (the
// whole chain runs) and for one refused by a table on the way. Aim: one RCPT
// decision under 2 µs. The reference in the same invocation is a one-entry
// chain (permit_mynetworks), so the ratio shows what the chain itself costs.
//
//   build/release/restriction_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "config/config.h"
#include "deliver/destinations.h"
#include "restrict/restrictions.h"

#include "measure.h"

namespace {

using namespace moat;

struct Setup {
  std::filesystem::path dir;
  std::shared_ptr<const config::Config> config;
  deliver::Destinations destinations;
  restriction::Engine engine;
  deliver::ResolvedAddress resolved;
  std::string recipient = "user+tag@mx.bench.test";

  explicit Setup(const std::string& recipient_restrictions) {
    dir =
        std::filesystem::temp_directory_path() / fmt::format("moat-restriction-bench-{}", getpid());
    std::filesystem::create_directories(dir);
    auto write = [&](const std::string& name, const std::string& format) {
      std::ofstream out(dir / name);
      for (int i = 0; i < 1000; ++i) out << fmt::format(fmt::runtime(format), i) << "\n";
      return "texthash:" + (dir / name).string();
    };
    const auto clients = write("clients", "10.{}.0 REJECT");
    const auto helos = write("helos", "spammer{}.example REJECT");
    const auto senders = write("senders", "user{}@spam.example REJECT");
    const auto recipients = write("recipients", "blocked{}@mx.bench.test REJECT");
    std::string text = fmt::format(
        "myhostname = mx.bench.test\nmydestination = $myhostname\nmynetworks = 192.0.2.0/24\n"
        "recipient_delimiter = +\nlocal_recipient_maps = inline:{{user=x}}\nalias_maps =\n"
        "smtpd_relay_restrictions =\nsmtpd_recipient_restrictions = {}\n",
        recipient_restrictions);
    for (const auto& [from, to] : {std::pair{"$CLIENTS", clients},
                                   {"$HELOS", helos},
                                   {"$SENDERS", senders},
                                   {"$RECIPIENTS", recipients}}) {
      for (auto at = text.find(from); at != std::string::npos; at = text.find(from)) {
        text.replace(at, std::string_view(from).size(), to);
      }
    }
    config = bench::load_engine(text, "bench.cf", destinations, engine);
    resolved = destinations.resolve(recipient);
  }
  ~Setup() { std::filesystem::remove_all(dir); }

  restriction::Context context(std::string_view sender) const {
    restriction::Context c;
    c.stage = restriction::Stage::kRcpt;
    c.client_address = asio::ip::make_address("198.51.100.7");
    c.client_ip = "198.51.100.7";
    c.helo = "client.example.org";
    c.has_helo = true;
    c.sender = sender;
    c.has_sender = true;
    c.recipient = recipient;
    c.resolved_recipient = &resolved;
    return c;
  }
};

constexpr const char* kChain =
    "reject_unauth_pipelining, reject_non_fqdn_sender, reject_non_fqdn_recipient, "
    "reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname, "
    "check_client_access $CLIENTS, check_helo_access $HELOS, check_sender_access $SENDERS, "
    "check_recipient_access $RECIPIENTS, reject_multi_recipient_bounce, "
    "permit_sasl_authenticated, permit_mynetworks, reject_unauth_destination, "
    "reject_unlisted_recipient, permit";

void run(benchmark::State& state, const Setup& setup, std::string_view sender, bool rejected) {
  const auto context = setup.context(sender);
  restriction::Effects effects;
  for (auto _ : state) {
    effects.clear();
    auto verdict = setup.engine.check(restriction::Check::kRecipient, context, effects);
    if (verdict.is_reject() != rejected) state.SkipWithError("unexpected decision");
    benchmark::DoNotOptimize(verdict);
  }
  state.counters["decisions/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void BM_Reference_OneRestriction(benchmark::State& state) {
  static const Setup setup("permit_mynetworks, reject_unauth_destination");
  run(state, setup, "sender@client.example.org", false);
}

void BM_Chain15_Accepted(benchmark::State& state) {
  static const Setup setup(kChain);
  run(state, setup, "sender@client.example.org", false);
}

void BM_Chain15_RejectedBySenderTable(benchmark::State& state) {
  static const Setup setup(kChain);
  run(state, setup, "user500@spam.example", true);
}

BENCHMARK(BM_Reference_OneRestriction);
BENCHMARK(BM_Chain15_Accepted);
BENCHMARK(BM_Chain15_RejectedBySenderTable);

}  // namespace

BENCHMARK_MAIN();
