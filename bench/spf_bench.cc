// SPF evaluations per second on one thread, against a real name server (NSD
// on loopback, started by bench/spf_bench.py with a generated zone that
// reproduces a big provider's include chain).
//
// One "evaluation" is spf::check_host() (RFC 7208 check_host() over moat's
// dns::Resolver) for one (client IP, MAIL FROM, HELO) of a workload file
// written by the driver, one line per evaluation: "IP SENDER EXPECTED".
// The typical sender's record is
//   v=spf1 include:_spf.cK.provider.test ~all
// and _spf.cK.provider.test includes three netblock records of 15 ip4:/ip6:
// networks each (like Google's _spf.google.com chain): 5 TXT lookups per
// evaluation. One line in ten is a domain with "v=spf1 a mx -all" (TXT, A,
// MX, then A of the MX host). Phases, in one invocation:
//
//   cold   one io_context, one dns::Resolver (c-ares) with an empty cache;
//          every line of the cold file names its own copy K of the chain,
//          never looked up before, so every include is a query to NSD;
//          --concurrency evaluations in flight
//   warm   one copy of the chain for many client IPs (some matching the
//          first netblock, the last one or the IPv6 one, some matching
//          nothing: softfail); every record in the resolver cache; through
//          the loop (each evaluation starts from a posted handler, as a
//          session's starts from a read), repeated over the warm file until
//          --warm-count evaluations or the time limit
//
// Per phase: evaluations/s, µs per evaluation, this thread's CPU time,
// queries sent, and how many of each result; a result other than the
// driver's EXPECTED is a problem (exit 1), as is a query in the warm phase.
//
//   spf_bench --dns-server 127.53.X.Y:53 --cold FILE --warm FILE
//             [--concurrency N] [--warm-count N] [--time-limit SECONDS]
//
// Prints a table, then one line "RESULT {json}" for the driver.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

#include "dns/resolver.h"
#include "spf/check_host.h"

#include "measure.h"

namespace {

using namespace moat;
using bench::Clock;

struct Args {
  std::string dns_server;
  std::string cold_file;
  std::string warm_file;
  size_t concurrency = 50;
  size_t warm_count = 500000;
  double time_limit = 5.0;
};

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--dns-server") {
      a.dns_server = value();
    } else if (arg == "--cold") {
      a.cold_file = value();
    } else if (arg == "--warm") {
      a.warm_file = value();
    } else if (arg == "--concurrency") {
      a.concurrency = std::max<size_t>(1, std::stoul(value()));
    } else if (arg == "--warm-count") {
      a.warm_count = std::stoul(value());
    } else if (arg == "--time-limit") {
      a.time_limit = std::stod(value());
    } else {
      throw std::runtime_error("unknown argument " + arg);
    }
  }
  if (a.dns_server.empty() || a.cold_file.empty() || a.warm_file.empty()) {
    throw std::runtime_error("usage: spf_bench --dns-server HOST:PORT --cold FILE --warm FILE");
  }
  return a;
}

struct Line {
  spf::CheckRequest request;
  spf::Result expected = spf::Result::kNone;
};

spf::Result result_from_name(const std::string& name) {
  for (auto r : {spf::Result::kNone, spf::Result::kNeutral, spf::Result::kPass, spf::Result::kFail,
                 spf::Result::kSoftFail, spf::Result::kTempError, spf::Result::kPermError}) {
    if (spf::result_name(r) == name) return r;
  }
  throw std::runtime_error("unknown result " + name);
}

std::vector<Line> read_workload(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<Line> lines;
  std::string ip, sender, expected;
  while (in >> ip >> sender >> expected) {
    Line line;
    line.request.client_ip = ip;
    line.request.ip = spf::parse_client_ip(ip);
    line.request.sender = sender;
    line.request.helo = "mta.client.test";
    line.request.receiver = "mx.bench.test";
    line.expected = result_from_name(expected);
    lines.push_back(std::move(line));
  }
  return lines;
}

struct Phase {
  std::string name;
  size_t evaluations = 0;
  size_t wrong = 0;  // result other than the expected one
  std::array<size_t, 7> results{};
  double seconds = 0;
  double cpu = 0;
  uint64_t queries = 0;
  uint64_t lookups = 0;

  double rate() const { return bench::per(static_cast<double>(evaluations), seconds); }
};

// Evaluates lines [0, count) (line i is lines[i % size]) with `concurrency`
// in flight, until done or the time limit.
Phase run(std::string name, const Args& a, asio::io_context& io, dns::Resolver& resolver,
          const std::vector<Line>& lines, size_t count, size_t concurrency) {
  Phase phase;
  phase.name = std::move(name);
  const auto stats_before = resolver.stats();
  size_t next = 0;
  size_t workers = std::min(concurrency, count);
  const double cpu_before = bench::thread_cpu_seconds();
  const auto start = Clock::now();
  const auto deadline = bench::deadline_after(start, a.time_limit);
  Clock::time_point end = start;
  for (size_t w = 0, n = workers; w < n; ++w) {
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          // The clock is read every 64 evaluations: it is not free next to
          // a warm evaluation.
          while (next < count && ((next & 63) != 0 || Clock::now() < deadline)) {
            const Line& line = lines[next++ % lines.size()];
            co_await asio::post(io, asio::use_awaitable);
            const spf::SpfResult r = co_await spf::check_host(resolver, line.request);
            ++phase.evaluations;
            ++phase.results[static_cast<size_t>(r.result)];
            if (r.result != line.expected) {
              if (phase.wrong++ < 5) {
                fmt::print(stderr, "{}: {} {}: {} ({}), expected {}\n", phase.name,
                           line.request.client_ip, line.request.sender, spf::result_name(r.result),
                           r.comment, spf::result_name(line.expected));
              }
            }
          }
          if (--workers == 0) end = Clock::now();
        },
        asio::detached);
  }
  io.restart();
  io.run();
  phase.seconds = bench::seconds(end - start);
  phase.cpu = bench::thread_cpu_seconds() - cpu_before;
  phase.queries = resolver.stats().queries - stats_before.queries;
  phase.lookups = resolver.stats().lookups - stats_before.lookups;
  return phase;
}

std::string phase_json(const Phase& p) {
  std::string results;
  for (size_t r = 0; r < p.results.size(); ++r) {
    if (!p.results[r]) continue;
    results += fmt::format("{}\"{}\": {}", results.empty() ? "" : ", ",
                           spf::result_name(static_cast<spf::Result>(r)), p.results[r]);
  }
  return fmt::format(
      "{{\"name\": \"{}\", \"evaluations\": {}, \"seconds\": {:.4f}, \"rate\": {:.1f}, "
      "\"cpu\": {:.4f}, \"queries\": {}, \"lookups\": {}, \"wrong\": {}, \"results\": {{{}}}}}",
      p.name, p.evaluations, p.seconds, p.rate(), p.cpu, p.queries, p.lookups, p.wrong, results);
}

}  // namespace

int main(int argc, char** argv) try {
  const Args a = parse_args(argc, argv);
  const auto cold = read_workload(a.cold_file);
  const auto warm = read_workload(a.warm_file);
  if (cold.empty() || warm.empty()) throw std::runtime_error("empty workload");

  asio::io_context io;
  dns::Options options;
  options.servers = {a.dns_server};
  options.timeout = std::chrono::milliseconds(2000);
  options.tries = 2;
  options.cache_entries = cold.size() * 8 + 1024;
  dns::Resolver resolver(io, options);

  std::vector<Phase> phases;
  phases.push_back(run(fmt::format("moat cold, {} in flight", a.concurrency), a, io, resolver, cold,
                       cold.size(), a.concurrency));
  // Fill the cache with the warm chain (one evaluation of each line), then
  // measure.
  run("fill", a, io, resolver, warm, warm.size(), 1);
  phases.push_back(run("moat warm (cache)", a, io, resolver, warm, a.warm_count, 1));

  std::string problems;
  for (const Phase& p : phases) {
    if (p.wrong) problems += fmt::format("{}: {} unexpected results; ", p.name, p.wrong);
  }
  if (phases.back().queries) {
    problems += fmt::format("warm: {} queries sent; ", phases.back().queries);
  }

  fmt::print("{:<28} {:>8} {:>10} {:>8} {:>12} {:>8}  results\n", "phase", "evals", "evals/s",
             "µs/eval", "evals/CPU-s", "queries");
  for (const Phase& p : phases) {
    std::string results;
    for (size_t r = 0; r < p.results.size(); ++r) {
      if (p.results[r]) {
        results +=
            fmt::format("{} {} ", spf::result_name(static_cast<spf::Result>(r)), p.results[r]);
      }
    }
    fmt::print("{:<28} {:>8} {:>10.0f} {:>8.2f} {:>12.0f} {:>8}  {}\n", p.name, p.evaluations,
               p.rate(), bench::per(1e6, p.rate()),
               bench::per(static_cast<double>(p.evaluations), p.cpu), p.queries, results);
  }
  if (!problems.empty()) fmt::print("PROBLEMS: {}\n", problems);

  std::string json;
  for (const Phase& p : phases) json += (json.empty() ? "" : ", ") + phase_json(p);
  fmt::print("RESULT {{\"phases\": [{}], \"problems\": \"{}\"}}\n", json, problems);
  return problems.empty() ? 0 : 1;
} catch (const std::exception& e) {
  fmt::print(stderr, "spf_bench: {}\n", e.what());
  return 2;
}
