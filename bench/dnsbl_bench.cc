// DNSBL checks per second on one thread, against a real name server (NSD on
// loopback, started by bench/dnsbl_bench.py with five generated list zones).
//
// One "check" is smtpd_client_restrictions = reject_rbl_client Z1, ...,
// reject_rbl_client Z5 evaluated for one client address through the real
// restriction engine, as a session does it: Engine::prefetch_client starts
// the five A lookups at once, then Engine::check(kClient) runs in rounds,
// awaiting AnswerSet::fetch_needed() while it is pending (a listed client
// also needs the TXT record for the reply). Phases, in one invocation:
//
//   reference  what Postfix's smtpd does per client: one synchronous glibc
//              res_nquery() per lookup (A per zone in turn, TXT when listed,
//              stop at the first listing), one client at a time on this
//              thread; "vs ref" divides by its checks/s
//   cold       moat: one io_context, one dns::Resolver (c-ares), new clients
//              never looked up before, C of them in flight; one run per
//              --concurrency level, each on its own clients
//   cold, 1    the same with one client in flight (latency-bound, like one
//              smtpd process)
//   warm       the clients of the first cold run again, every answer in the
//              resolver cache, through the same coroutines (each check
//              starts from a posted handler, as a session's starts from a
//              read); no query, no suspension
//   decision   warm without the loop: one Engine::check with a fresh
//              AnswerSet answering from the resolver cache (aim: < 1 µs);
//              over all warm clients and over a small set that stays in the
//              CPU caches
//
// While a loop phase runs, a steady_timer on the same io_context ticks
// every millisecond and records how late each tick fires: the longest
// lateness is the loop's longest stall. It includes the time the OS ran
// something else (the "preempted" column counts involuntary context
// switches) and queueing behind other ready handlers.
//
// Also per phase: this thread's CPU time (checks per CPU-second is the rate
// one dedicated core would give, whatever else the machine runs), the CPU
// time of the NSD processes (--nsd-pids), and the machine's UDP
// receive-buffer drops.
//
// Client i is 127.(16 + i/65536).(i/256%256).(i%256); it is listed in zone j
// (0-based) when i % every == j (bench/dnsbl_bench.py writes the zones by
// the same rule), so the number of rejects is known and checked.
//
//   dnsbl_bench --dns-server 127.53.X.Y:53 [--zones a,b,c,d,e] [--clients N]
//               [--concurrency C,C...] [--serial-clients N]
//               [--blocking-clients N] [--every N] [--time-limit SECONDS]
//               [--warm-repeat N] [--hot-clients N] [--nsd-pids P,Q...]
//
// Prints a table, then one line "RESULT {json}" for the driver; exits 1
// when a phase saw DNS errors or a wrong number of rejects.
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include "config/config.h"
#include "deliver/destinations.h"
#include "dns/answer_set.h"
#include "dns/resolver.h"
#include "restrict/restrictions.h"

#include "measure.h"

namespace {

using namespace moat;
using bench::Clock;

struct Args {
  std::string dns_server;
  std::vector<std::string> zones = {"dnsbl1.bench.test", "dnsbl2.bench.test", "dnsbl3.bench.test",
                                    "dnsbl4.bench.test", "dnsbl5.bench.test"};
  size_t clients = 20000;                       // per cold run
  std::vector<size_t> concurrency = {50, 200};  // cold runs, one per level
  size_t serial_clients = 2000;
  size_t blocking_clients = 5000;
  size_t every = 50;
  double time_limit = 4.0;  // per phase
  int warm_repeat = 5;
  size_t hot_clients = 1000;  // warm decisions over a set that fits the CPU caches
  std::vector<int> nsd_pids;  // NSD processes, for their CPU time per phase
};

[[noreturn]] void usage(const std::string& why) {
  fmt::print(stderr, "dnsbl_bench: {}\n", why);
  fmt::print(stderr,
             "usage: dnsbl_bench --dns-server HOST:PORT [--zones a,b,c,d,e] [--clients N] "
             "[--concurrency C,C...] [--serial-clients N] [--blocking-clients N] [--every N] "
             "[--time-limit SECONDS] [--warm-repeat N] [--hot-clients N] [--nsd-pids P,Q]\n");
  std::exit(2);
}

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (i + 1 >= argc) usage("missing value after " + std::string(arg));
    const std::string value = argv[++i];
    auto number = [&] {
      char* end = nullptr;
      const unsigned long long n = std::strtoull(value.c_str(), &end, 10);
      if (end == value.c_str() || *end != '\0') usage("not a number: " + value);
      return static_cast<size_t>(n);
    };
    if (arg == "--dns-server") {
      a.dns_server = value;
    } else if (arg == "--zones") {
      a.zones.clear();
      for (auto& zone : bench::comma_items(value)) {
        if (!zone.empty()) a.zones.push_back(std::move(zone));
      }
    } else if (arg == "--clients") {
      a.clients = number();
    } else if (arg == "--concurrency") {
      a.concurrency.clear();
      for (const auto& level : bench::comma_items(value)) {
        const long n = std::atol(level.c_str());
        if (n < 1) usage("bad --concurrency " + value);
        a.concurrency.push_back(static_cast<size_t>(n));
      }
    } else if (arg == "--serial-clients") {
      a.serial_clients = number();
    } else if (arg == "--blocking-clients") {
      a.blocking_clients = number();
    } else if (arg == "--every") {
      a.every = std::max<size_t>(1, number());
    } else if (arg == "--time-limit") {
      a.time_limit = std::atof(value.c_str());
    } else if (arg == "--hot-clients") {
      a.hot_clients = std::max<size_t>(1, number());
    } else if (arg == "--nsd-pids") {
      for (const auto& pid : bench::comma_items(value)) {
        if (!pid.empty()) a.nsd_pids.push_back(std::atoi(pid.c_str()));
      }
    } else if (arg == "--warm-repeat") {
      a.warm_repeat = std::max(1, static_cast<int>(number()));
    } else {
      usage("unknown option " + std::string(arg));
    }
  }
  if (a.dns_server.empty()) usage("--dns-server is required");
  if (a.zones.empty()) usage("no zones");
  if (a.concurrency.empty()) usage("no --concurrency level");
  return a;
}

std::string client_ip(size_t i) {
  return fmt::format("127.{}.{}.{}", 16 + i / 65536, i / 256 % 256, i % 256);
}

// The zone (0-based) that lists client i first, or -1.
int listing_zone(const Args& a, size_t i) {
  const size_t r = i % a.every;
  return r < a.zones.size() ? static_cast<int>(r) : -1;
}

// ---------------------------------------------------------------------------
// What a phase cost besides wall time: this thread's CPU, NSD's CPU, the
// times the OS took the CPU away, UDP datagrams the kernel dropped.

uint64_t udp_receive_buffer_errors() {
  std::ifstream in("/proc/net/snmp");
  std::string header, values;
  while (std::getline(in, header) && std::getline(in, values)) {
    if (!header.starts_with("Udp:")) continue;
    std::istringstream names(header), numbers(values);
    std::string name, number;
    while (names >> name && numbers >> number) {
      if (name == "RcvbufErrors") return std::strtoull(number.c_str(), nullptr, 10);
    }
  }
  return 0;
}

struct Snapshot {
  Clock::time_point wall;
  double cpu = 0;      // this thread
  double nsd_cpu = 0;  // the NSD processes
  long preempted = 0;  // involuntary context switches of this thread
  uint64_t udp_drops = 0;

  static Snapshot take(const std::vector<int>& nsd_pids) {
    Snapshot s;
    s.wall = Clock::now();
    s.cpu = bench::thread_cpu_seconds();
    s.preempted = bench::thread_preemptions();
    for (int pid : nsd_pids) s.nsd_cpu += bench::process_cpu_seconds(pid);
    s.udp_drops = udp_receive_buffer_errors();
    return s;
  }
};

struct Usage {
  double wall = 0, cpu = 0, nsd_cpu = 0;
  long preempted = 0;
  // The machine's UDP RcvbufErrors: datagrams dropped because a socket's
  // receive buffer was full (here: c-ares's socket, when answers arrive
  // faster than the loop reads them; per-socket counts vanish when c-ares
  // closes its idle socket, so the machine-wide counter is used).
  uint64_t udp_drops = 0;

  static Usage between(const Snapshot& a, const Snapshot& b) {
    return {bench::seconds(b.wall - a.wall), b.cpu - a.cpu, b.nsd_cpu - a.nsd_cpu,
            b.preempted - a.preempted, b.udp_drops - a.udp_drops};
  }
};

// ---------------------------------------------------------------------------
// The engine

struct Setup {
  std::shared_ptr<const config::Config> config;
  deliver::Destinations destinations;
  restriction::Engine engine;

  explicit Setup(const Args& a) {
    std::string list;
    for (const auto& zone : a.zones) {
      if (!list.empty()) list += ", ";
      list += "reject_rbl_client " + zone;
    }
    const std::string text = fmt::format(
        "myhostname = mx.bench.test\nmydestination = $myhostname\nmynetworks = 192.0.2.0/24\n"
        "alias_maps =\nsmtpd_client_restrictions = {}\n",
        list);
    config = bench::load_engine(text, "dnsbl_bench.cf", destinations, engine);
  }
};

struct Tally {
  size_t checks = 0;
  size_t rejects = 0;
  size_t expected_rejects = 0;
  size_t dns_warnings = 0;  // "RBL lookup error": temporary DNS failures
  size_t rounds = 0;        // fetch_needed() awaits
  size_t other = 0;         // anything but dunno / reject (a bug)

  void count(const Args& a, size_t i, const restriction::Verdict& v,
             const restriction::Effects& effects) {
    ++checks;
    if (listing_zone(a, i) >= 0) ++expected_rejects;
    if (v.is_reject()) {
      ++rejects;
    } else if (!v.is_dunno()) {
      ++other;
    }
    dns_warnings += effects.warnings.size();
  }
};

// `reversed` is the reversed address the session works out once at connect.
restriction::Context make_context(const std::string& ip, const std::string& reversed,
                                  const asio::ip::address& address, dns::AnswerSet& answers) {
  restriction::Context c;
  c.stage = restriction::Stage::kConnect;
  c.client_address = address;
  c.client_ip = ip;
  c.reversed_client_ip = reversed;
  c.dns = &answers;
  return c;
}

// ---------------------------------------------------------------------------
// The event-loop phases

// Ticks every millisecond; the largest lateness is the loop's longest
// stall. Wall-clock lateness includes the time the OS ran something else;
// the CPU time this thread used between two ticks does not: the longest
// such stretch is the most work the loop did without coming back to its
// timers (a blocking call would not show there, a long computation would).
class StallMeter {
 public:
  explicit StallMeter(asio::io_context& io) : timer_(io) {}

  void start() {
    running_ = true;
    expected_ = Clock::now() + kTick;
    cpu_at_tick_ = bench::thread_cpu_seconds();
    arm();
  }
  void stop() {
    // A tick that is due and has not run yet counts too.
    if (running_) {
      longest_ = std::max(longest_, Clock::now() - expected_);
      longest_cpu_ = std::max(longest_cpu_, bench::thread_cpu_seconds() - cpu_at_tick_);
    }
    running_ = false;
    timer_.cancel();
  }
  Clock::duration longest() const { return longest_; }
  double longest_cpu_seconds() const { return longest_cpu_; }
  size_t ticks() const { return ticks_; }
  size_t late_over_1ms() const { return late_over_1ms_; }

 private:
  static constexpr auto kTick = std::chrono::milliseconds(1);

  void arm() {
    timer_.expires_at(expected_);
    timer_.async_wait([this](const asio::error_code& ec) {
      if (ec || !running_) return;
      const auto now = Clock::now();
      const auto late = now - expected_;
      longest_ = std::max(longest_, late);
      if (late > std::chrono::milliseconds(1)) ++late_over_1ms_;
      const double cpu = bench::thread_cpu_seconds();
      longest_cpu_ = std::max(longest_cpu_, cpu - cpu_at_tick_);
      cpu_at_tick_ = cpu;
      ++ticks_;
      expected_ = now + kTick;
      arm();
    });
  }

  asio::steady_timer timer_;
  bool running_ = false;
  Clock::time_point expected_;
  Clock::duration longest_{};
  double cpu_at_tick_ = 0;
  double longest_cpu_ = 0;
  size_t ticks_ = 0;
  size_t late_over_1ms_ = 0;
};

// What one phase did and cost.
struct Phase {
  std::string name;
  Tally tally;
  double seconds = 0;        // from the first check started to the last one done
  double stall_ms = -1;      // the loop's longest stall; -1: no loop in this phase
  double stall_cpu_ms = -1;  // the most CPU time between two timer ticks
  size_t late_ticks = 0;     // ticks more than 1 ms late
  size_t ticks = 0;
  uint64_t queries = 0;  // sent to the name server
  uint64_t lookups = 0;  // Resolver::lookup calls
  Usage usage;

  double rate() const { return bench::per(static_cast<double>(tally.checks), seconds); }
};

// One client, as a session checks it at connect time.
asio::awaitable<void> check_client(const Args& a, const restriction::Engine& engine,
                                   std::shared_ptr<dns::Resolver> resolver, size_t i,
                                   Tally& tally) {
  const std::string ip = client_ip(i);
  const auto address = asio::ip::make_address(ip);
  dns::AnswerSet answers(resolver);
  engine.prefetch_client(ip, answers);
  const std::string reversed = dns::reversed_address(ip);
  const auto context = make_context(ip, reversed, address, answers);
  restriction::Effects effects;
  const auto mark = effects.mark();
  for (int round = 0;; ++round) {
    auto verdict = engine.check(restriction::Check::kClient, context, effects);
    if (!verdict.is_pending()) {
      tally.count(a, i, verdict, effects);
      co_return;
    }
    effects.roll_back(mark);
    if (round == 64 || !answers.has_needed()) {
      ++tally.other;
      co_return;
    }
    ++tally.rounds;
    co_await answers.fetch_needed();
  }
}

// Checks clients [first, last) with `concurrency` of them in flight, until
// done or the time limit; the stall meter runs meanwhile.
Phase run_loop(std::string name, const Args& a, asio::io_context& io,
               const restriction::Engine& engine, const std::shared_ptr<dns::Resolver>& resolver,
               size_t first, size_t last, size_t concurrency) {
  Phase phase;
  phase.name = std::move(name);
  const auto stats_before = resolver->stats();
  StallMeter meter(io);
  size_t next = first;
  size_t workers = std::min(concurrency, last - first);
  const auto before = Snapshot::take(a.nsd_pids);
  const auto start = Clock::now();
  const auto deadline = bench::deadline_after(start, a.time_limit);
  Clock::time_point end = start;
  meter.start();
  for (size_t w = 0, n = workers; w < n; ++w) {
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          while (next < last && Clock::now() < deadline) {
            const size_t i = next++;
            // A session's check starts from an event of its own (a command
            // read): back to the loop between clients, even when the answers
            // are all cached and nothing suspends.
            co_await asio::post(io, asio::use_awaitable);
            co_await check_client(a, engine, resolver, i, phase.tally);
          }
          if (--workers == 0) {
            end = Clock::now();
            meter.stop();
          }
        },
        asio::detached);
  }
  if (workers == 0) meter.stop();
  io.restart();
  io.run();
  phase.usage = Usage::between(before, Snapshot::take(a.nsd_pids));
  phase.seconds = bench::seconds(end - start);
  phase.stall_ms = std::chrono::duration<double, std::milli>(meter.longest()).count();
  phase.stall_cpu_ms = meter.longest_cpu_seconds() * 1000;
  phase.ticks = meter.ticks();
  phase.late_ticks = meter.late_over_1ms();
  phase.queries = resolver->stats().queries - stats_before.queries;
  phase.lookups = resolver->stats().lookups - stats_before.lookups;
  return phase;
}

// ---------------------------------------------------------------------------
// Warm decisions without the loop

struct Decisions {
  Phase phase;  // the best pass
  double best_ns = 0;
  double median_ns = 0;
};

Decisions run_decisions(std::string name, const Args& a, const restriction::Engine& engine,
                        const std::shared_ptr<dns::Resolver>& resolver, size_t count) {
  std::vector<std::string> ips, reversed;
  std::vector<asio::ip::address> addresses;
  for (size_t i = 0; i < count; ++i) {
    ips.push_back(client_ip(i));
    reversed.push_back(dns::reversed_address(ips.back()));
    addresses.push_back(asio::ip::make_address(ips.back()));
  }
  Decisions out;
  std::vector<double> per_pass;
  // Small sets are repeated so that each pass takes a measurable time.
  const size_t rounds = std::max<size_t>(1, 20000 / std::max<size_t>(count, 1));
  const auto queries_before = resolver->stats().queries;
  for (int pass = 0; pass < a.warm_repeat; ++pass) {
    Phase phase;
    phase.name = name;
    const auto before = Snapshot::take(a.nsd_pids);
    const auto start = Clock::now();
    for (size_t round = 0; round < rounds; ++round) {
      for (size_t i = 0; i < count; ++i) {
        dns::AnswerSet answers(resolver);
        const auto context = make_context(ips[i], reversed[i], addresses[i], answers);
        restriction::Effects effects;
        const auto verdict = engine.check(restriction::Check::kClient, context, effects);
        phase.tally.count(a, i, verdict, effects);
      }
    }
    phase.seconds = bench::seconds(Clock::now() - start);
    phase.usage = Usage::between(before, Snapshot::take(a.nsd_pids));
    const double ns = phase.seconds * 1e9 / static_cast<double>(phase.tally.checks);
    if (per_pass.empty() || ns < *std::min_element(per_pass.begin(), per_pass.end())) {
      out.phase = phase;
    }
    per_pass.push_back(ns);
  }
  out.phase.queries = resolver->stats().queries - queries_before;
  std::sort(per_pass.begin(), per_pass.end());
  out.best_ns = per_pass.front();
  out.median_ns = per_pass[per_pass.size() / 2];
  return out;
}

// ---------------------------------------------------------------------------
// The reference: blocking glibc lookups, one after the other

Phase run_blocking(const Args& a, size_t count, size_t& errors) {
  Phase phase;
  phase.name = "reference: blocking res_nquery, 1 at a time";
  struct __res_state state;
  std::memset(&state, 0, sizeof state);
  if (res_ninit(&state) != 0) throw std::runtime_error("res_ninit failed");
  const auto colon = a.dns_server.rfind(':');
  const std::string host = a.dns_server.substr(0, colon);
  const int port = colon == std::string::npos ? 53 : std::atoi(a.dns_server.c_str() + colon + 1);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &sin.sin_addr) != 1) {
    throw std::runtime_error("reference: --dns-server must be IPv4:PORT");
  }
  state.nsaddr_list[0] = sin;
  state.nscount = 1;
  state.retrans = 2;  // seconds per try, as moat's resolver here
  state.retry = 2;
  std::vector<unsigned char> buffer(4096);
  const auto before = Snapshot::take(a.nsd_pids);
  const auto start = Clock::now();
  const auto deadline = bench::deadline_after(start, a.time_limit);
  auto query = [&](const std::string& name, int type) {
    ++phase.queries;
    const int n = res_nquery(&state, name.c_str(), ns_c_in, type, buffer.data(),
                             static_cast<int>(buffer.size()));
    if (n >= 0) return true;
    if (h_errno != HOST_NOT_FOUND && h_errno != NO_DATA) ++errors;
    return false;
  };
  for (size_t i = 0; i < count && Clock::now() < deadline; ++i) {
    const std::string ip = client_ip(i);
    const std::string reversed = dns::reversed_address(ip);
    restriction::Verdict verdict;
    for (const auto& zone : a.zones) {
      const std::string name = reversed + "." + zone;
      if (query(name, ns_t_a)) {
        query(name, ns_t_txt);  // the reason, for the reply
        verdict = restriction::Verdict::reject({554, "5.7.1", "listed"});
        break;
      }
    }
    restriction::Effects none;
    phase.tally.count(a, i, verdict, none);
  }
  phase.seconds = bench::seconds(Clock::now() - start);
  phase.usage = Usage::between(before, Snapshot::take(a.nsd_pids));
  res_nclose(&state);
  return phase;
}

// ---------------------------------------------------------------------------

std::string check_tally(const Phase& p) {
  const Tally& t = p.tally;
  std::string problems;
  if (t.rejects != t.expected_rejects) {
    problems += fmt::format("{}: {} rejects, expected {}; ", p.name, t.rejects, t.expected_rejects);
  }
  if (t.dns_warnings) problems += fmt::format("{}: {} DNS lookup errors; ", p.name, t.dns_warnings);
  if (t.other) problems += fmt::format("{}: {} unexpected verdicts; ", p.name, t.other);
  return problems;
}

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += (c >= 0 && c < ' ') ? ' ' : c;
  }
  return out + "\"";
}

std::string phase_json(const Phase& p) {
  return fmt::format(
      "{{\"name\": {}, \"checks\": {}, \"rejects\": {}, \"seconds\": {:.4f}, \"rate\": {:.1f}, "
      "\"stall_ms\": {:.3f}, \"stall_cpu_ms\": {:.3f}, \"late_ticks\": {}, \"ticks\": {}, "
      "\"queries\": {}, \"lookups\": {}, "
      "\"cpu\": {:.4f}, \"nsd_cpu\": {:.3f}, \"wall\": {:.4f}, \"preempted\": {}, "
      "\"udp_drops\": {}, \"dns_errors\": {}}}",
      json_string(p.name), p.tally.checks, p.tally.rejects, p.seconds, p.rate(), p.stall_ms,
      p.stall_cpu_ms, p.late_ticks, p.ticks, p.queries, p.lookups, p.usage.cpu, p.usage.nsd_cpu,
      p.usage.wall, p.usage.preempted, p.usage.udp_drops, p.tally.dns_warnings);
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse_args(argc, argv);
  Setup setup(a);
  const auto& engine = setup.engine;
  const size_t levels = a.concurrency.size();

  asio::io_context io;
  dns::Options options;
  options.servers = {a.dns_server};
  options.timeout = std::chrono::milliseconds(2000);
  options.tries = 2;
  options.cache_entries = (levels * a.clients + a.serial_clients) * (a.zones.size() + 2) + 1024;
  auto resolver = std::make_shared<dns::Resolver>(io, options);

  std::vector<Phase> phases;
  // 1. Reference: blocking, one client at a time.
  size_t blocking_errors = 0;
  phases.push_back(run_blocking(a, a.blocking_clients, blocking_errors));
  const double ref_rate = phases.front().rate();
  // 2. moat cold: each level of clients in flight on its own new clients,
  // then one client in flight.
  std::vector<size_t> cold_phases;
  for (size_t k = 0; k < levels; ++k) {
    cold_phases.push_back(phases.size());
    phases.push_back(run_loop(fmt::format("moat cold, {} clients in flight", a.concurrency[k]), a,
                              io, engine, resolver, k * a.clients, (k + 1) * a.clients,
                              a.concurrency[k]));
  }
  phases.push_back(run_loop("moat cold, 1 client in flight", a, io, engine, resolver,
                            levels * a.clients, levels * a.clients + a.serial_clients, 1));
  // 3. Warm: the clients of the first cold run again, through the loop, then
  // the bare decisions (all of them, and a few that stay in the CPU caches).
  const size_t warm_clients = phases[cold_phases.front()].tally.checks;
  const size_t warm_concurrency = *std::max_element(a.concurrency.begin(), a.concurrency.end());
  const auto queries_before_warm = resolver->stats().queries;
  phases.push_back(run_loop(fmt::format("moat warm (cache), {} in flight", warm_concurrency), a, io,
                            engine, resolver, 0, warm_clients, warm_concurrency));
  const auto decisions = run_decisions(fmt::format("moat warm decision, {} clients", warm_clients),
                                       a, engine, resolver, warm_clients);
  phases.push_back(decisions.phase);
  const size_t hot = std::min(a.hot_clients, warm_clients);
  const auto hot_decisions =
      run_decisions(fmt::format("moat warm decision, {} clients", hot), a, engine, resolver, hot);
  phases.push_back(hot_decisions.phase);
  const auto queries_in_warm = resolver->stats().queries - queries_before_warm;

  fmt::print("zones: {}; client i listed in zone i % {}; {} new clients per cold run\n",
             a.zones.size(), a.every, a.clients);
  fmt::print("{:<40} {:>7} {:>9} {:>9} {:>9} {:>9} {:>7} {:>9} {:>6} {:>6} {:>6} {:>6}\n", "phase",
             "checks", "checks/s", "µs/check", "stall ms", "stall ms", "vs ref", "checks/", "moat",
             "NSD", "pre-", "UDP");
  fmt::print("{:<40} {:>7} {:>9} {:>9} {:>9} {:>9} {:>7} {:>9} {:>6} {:>6} {:>6} {:>6}\n", "", "",
             "", "", "(wall)", "(CPU)", "", "CPU-s", "CPU%", "CPU%", "empted", "drops");
  for (const Phase& p : phases) {
    const double r = p.rate();
    const double wall = p.usage.wall > 0 ? p.usage.wall : 1;
    fmt::print(
        "{:<40} {:>7} {:>9.0f} {:>9.3f} {:>9} {:>9} {:>7.2f} {:>9.0f} {:>6.0f} {:>6.0f} {:>6} "
        "{:>6}\n",
        p.name, p.tally.checks, r, bench::per(1e6, r),
        p.stall_ms < 0 ? std::string("-") : fmt::format("{:.2f}", p.stall_ms),
        p.stall_cpu_ms < 0 ? std::string("-") : fmt::format("{:.2f}", p.stall_cpu_ms),
        bench::per(r, ref_rate), bench::per(static_cast<double>(p.tally.checks), p.usage.cpu),
        100 * p.usage.cpu / wall, 100 * p.usage.nsd_cpu / wall, p.usage.preempted,
        p.usage.udp_drops);
  }
  fmt::print(
      "warm decision: {:.0f} ns best, {:.0f} ns median ({} clients); {:.0f} ns best, {:.0f} ns "
      "median ({} clients); {} passes\n",
      decisions.best_ns, decisions.median_ns, warm_clients, hot_decisions.best_ns,
      hot_decisions.median_ns, hot, a.warm_repeat);
  for (size_t k : cold_phases) {
    const Phase& c = phases[k];
    fmt::print(
        "{}: {} queries for {} lookups, {} fetch rounds, {:.0f} queries/s; loop ticks {}, {} "
        "over 1 ms late\n",
        c.name, c.queries, c.lookups, c.tally.rounds, c.queries / std::max(c.seconds, 1e-9),
        c.ticks, c.late_ticks);
  }
  fmt::print("reference: {} queries, {:.0f} queries/s, {} errors\n", phases.front().queries,
             phases.front().queries / std::max(phases.front().seconds, 1e-9), blocking_errors);

  std::string problems;
  for (const Phase& p : phases) problems += check_tally(p);
  if (blocking_errors) problems += fmt::format("reference: {} DNS errors; ", blocking_errors);
  if (queries_in_warm) problems += fmt::format("warm: {} queries sent; ", queries_in_warm);
  if (!problems.empty()) fmt::print("PROBLEMS: {}\n", problems);

  std::string json;
  for (const Phase& p : phases) json += (json.empty() ? "" : ", ") + phase_json(p);
  fmt::print(
      "RESULT {{\"zones\": {}, \"every\": {}, \"clients\": {}, \"phases\": [{}], "
      "\"decision_ns\": [{:.1f}, {:.1f}], \"hot_decision_ns\": [{:.1f}, {:.1f}], "
      "\"hot_clients\": {}, \"problems\": {}}}\n",
      a.zones.size(), a.every, a.clients, json, decisions.best_ns, decisions.median_ns,
      hot_decisions.best_ns, hot_decisions.median_ns, hot, json_string(problems));
  return problems.empty() ? 0 : 1;
}
