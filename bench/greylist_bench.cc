// Greylisting decisions per second on one thread, through the restriction
// engine as a session makes them, against a real state store: LMDB in a
// temporary file, or a local redis-server (bench/greylist_bench.py starts
// it on loopback). With --policy instead of --store, the same workload is
// sent to a policy server over the Postfix policy protocol: the real
// postgrey (the reference; bench/greylist_bench.py) or moat's own policy
// server (bench/policy_bench.py).
//
// One "decision" (moat) is one RCPT of one session: an Engine built from
// main.cf text with
//
//   smtpd_recipient_restrictions = check_greylist
//   moat_greylist_delay = DELAY s
//   moat_greylist_auto_allowlist_clients = N   (--auto-allowlist; default 5,
//                                               moat's and postgrey's default)
//
// and a Context at the RCPT stage for one (client, sender, recipient)
// triplet, run through restriction::Answers as a session runs a check
// (one Answers per session, the transaction ended after each decision):
// evaluate() (Engine::check(kRecipient)) ends pending; finish_pending()
// has the greylist::DecisionSet's decide_needed() ask the Store (with the
// auto allowlist on: a GET of the client's count, then the atomic greylist
// step, and on a first pass the count_event step) and runs Engine::check
// again; Engine::apply_defer_if_permit gives the RCPT reply. Each decision
// starts from a posted handler, as a session's starts from a command read;
// C sessions' coroutines are in flight together (--concurrency 1,10,50).
// Decisions log their postgrey-style line to --maillog (as a server does).
//
// Phases, in one invocation, for each concurrency level L (its own set of
// triplets: client 10.X.Y.Z, sender uGx@sG.sender.test, recipient
// rGx@example.test, G unique in the run):
//
//   new L    every triplet unknown: each decision writes the triplet and
//            answers 450 4.2.0 (greylisted)
//   known L  after waiting until DELAY seconds have passed since the last
//            "new" decision: the same triplets again, each decision must
//            pass with an X-Greylist header (the first pass)
//
// Decisions are real store operations with the real clock; only the delay
// is short (1 s by default). The counts are checked: a "new" phase must
// greylist every triplet, a "known" phase must pass every one (first pass);
// anything else is a problem (exit 1).
//
// --policy HOST:PORT: the same phases over persistent connections (one per
// "session", connected before the clock starts) to a policy server, one
// request per decision and one in flight per connection, as Postfix's
// smtpd sends them, with the attributes Postfix sends at RCPT. A "new"
// answer must be a 450-style greylisting ("action=DEFER_IF_PERMIT ..." or
// "action=450 ..."), a "known" one a first pass ("action=PREPEND
// X-Greylist: ..."). --name labels the server in the output (default
// "policy").
//
// Per phase: decisions/s, µs per decision, the latency of one decision as
// its session sees it (p50, p99: over the policy protocol, from the write
// of the request to the end of the answer; in process, from the posted
// handler to the verdict), decisions per CPU-second of this thread (the
// loop), of this process (with LMDB's writer thread), and of the
// --peer-pids processes (redis-server, postgrey or moat); for LMDB, the
// writer's jobs per commit (one fdatasync per commit: with C decisions in
// flight, at most C jobs can be waiting for one).
//
//   greylist_bench (--store lmdb:PATH | --store redis:127.0.0.1:PORT |
//                   --policy 127.0.0.1:PORT [--name NAME])
//                  [--concurrency 1,10,50] [--count N]
//                  [--time-limit SECONDS] [--delay SECONDS]
//                  [--auto-allowlist N] [--maillog FILE] [--peer-pids P,Q]
//
// Prints a table, then one line "RESULT {json}" for the driver.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <asio/buffer.hpp>
#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/read_until.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "config/config.h"
#include "deliver/destinations.h"
#include "dns/resolver.h"
#include "greylist/decision.h"
#include "log/log.h"
#include "restrict/answers.h"
#include "restrict/restrictions.h"
#include "state/backend.h"
#include "state/lmdb_database.h"

#include "measure.h"

namespace {

using namespace moat;
using bench::Clock;

struct Args {
  std::string store;            // lmdb:PATH or redis:HOST:PORT
  std::string policy;           // HOST:PORT
  std::string name = "policy";  // the policy server, in the output
  std::vector<size_t> concurrency = {1, 10, 50};
  size_t count = 100000;  // decisions per phase at most
  double time_limit = 3.0;
  int delay = 1;
  int auto_allowlist = 5;
  std::string maillog = "/dev/null";
  std::vector<int> peer_pids;
};

[[noreturn]] void usage(const std::string& why) {
  fmt::print(stderr, "greylist_bench: {}\n", why);
  fmt::print(stderr,
             "usage: greylist_bench (--store lmdb:PATH | --store redis:HOST:PORT | --policy "
             "HOST:PORT [--name NAME]) [--concurrency 1,10,50] [--count N] [--time-limit SECONDS] "
             "[--delay SECONDS] [--auto-allowlist N] [--maillog FILE] [--peer-pids P,Q]\n");
  std::exit(2);
}

std::vector<size_t> numbers(const std::string& value) {
  std::vector<size_t> out;
  for (const auto& item : bench::comma_items(value)) {
    if (!item.empty()) out.push_back(std::stoul(item));
  }
  return out;
}

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (i + 1 >= argc) usage("missing value after " + std::string(arg));
    const std::string value = argv[++i];
    if (arg == "--store") {
      a.store = value;
    } else if (arg == "--policy") {
      a.policy = value;
    } else if (arg == "--name") {
      a.name = value;
    } else if (arg == "--concurrency") {
      a.concurrency = numbers(value);
    } else if (arg == "--count") {
      a.count = std::stoul(value);
    } else if (arg == "--time-limit") {
      a.time_limit = std::stod(value);
    } else if (arg == "--delay") {
      a.delay = std::stoi(value);
    } else if (arg == "--auto-allowlist") {
      a.auto_allowlist = std::stoi(value);
    } else if (arg == "--maillog") {
      a.maillog = value;
    } else if (arg == "--peer-pids") {
      for (size_t pid : numbers(value)) a.peer_pids.push_back(static_cast<int>(pid));
    } else {
      usage("unknown option " + std::string(arg));
    }
  }
  if (a.store.empty() == a.policy.empty()) usage("one of --store or --policy");
  if (a.concurrency.empty() || std::ranges::count(a.concurrency, 0)) usage("bad --concurrency");
  if (a.delay < 1) usage("--delay must be 1 or more");
  return a;
}

// ---------------------------------------------------------------------------
// CPU time

struct Snapshot {
  Clock::time_point wall;
  double thread = 0;               // this thread (the loop)
  double process = 0;              // this process: with LMDB's writer thread
  double peer = 0;                 // --peer-pids
  long preempted = 0;              // involuntary context switches of this thread
  uint64_t commits = 0, jobs = 0;  // LMDB: write transactions, jobs in them

  static Snapshot take(const Args& a, state::LmdbDatabase* lmdb) {
    Snapshot s;
    s.wall = Clock::now();
    s.thread = bench::thread_cpu_seconds();
    s.process = bench::clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
    for (int pid : a.peer_pids) s.peer += bench::process_cpu_seconds(pid);
    s.preempted = bench::thread_preemptions();
    if (lmdb) {
      if (auto stats = lmdb->stats()) {
        s.commits = stats->commits;
        s.jobs = stats->jobs;
      }
    }
    return s;
  }
};

// ---------------------------------------------------------------------------
// The workload

struct Triplet {
  std::string ip, sender, recipient, who;
  asio::ip::address address;
  deliver::ResolvedAddress resolved;
};

// Triplet g of the run: unique client, sender and recipient.
Triplet make_triplet(size_t g, const deliver::Destinations* destinations) {
  Triplet t;
  const auto v4 = static_cast<uint32_t>((10u << 24) | (g & 0xffffff));
  t.address = asio::ip::address_v4(v4);
  t.ip = t.address.to_string();
  // Letters around the number: postgrey (and moat) turn a number standing
  // alone in a sender's local part into "#".
  t.sender = fmt::format("u{}x@s{}.sender.test", g, g % 1000);
  t.recipient = fmt::format("r{}x@example.test", g);
  t.who = fmt::format("unknown[{}]", t.ip);
  if (destinations) t.resolved = destinations->resolve(t.recipient);
  return t;
}

enum class Expect { kGreylisted, kFirstPass };

struct Tally {
  size_t decisions = 0;
  size_t greylisted = 0;            // 450 4.2.0 / DEFER_IF_PERMIT
  size_t first_pass = 0;            // passed with an X-Greylist header
  size_t passed = 0;                // passed without one
  size_t other = 0;                 // anything else (store failure, bad reply)
  size_t rounds = 0;                // checks that were pending (finish_pending calls)
  std::string sample;               // the first "other"
  std::vector<uint32_t> latencies;  // of each decision, ns

  void note_latency(Clock::duration d) {
    latencies.push_back(
        static_cast<uint32_t>(std::min<int64_t>(std::chrono::nanoseconds(d).count(), UINT32_MAX)));
  }

  void note_other(std::string what) {
    if (other++ == 0) sample = std::move(what);
  }
};

struct Phase {
  std::string name;
  Expect expect = Expect::kGreylisted;
  size_t concurrency = 1;
  Tally tally;
  double seconds = 0;
  double thread_cpu = 0, process_cpu = 0, peer_cpu = 0;
  long preempted = 0;
  uint64_t commits = 0, jobs = 0;  // LMDB

  double p50_us = 0, p99_us = 0, max_us = 0;  // latency of one decision

  double rate() const { return bench::per(static_cast<double>(tally.decisions), seconds); }
  size_t expected_count() const {
    return expect == Expect::kGreylisted ? tally.greylisted : tally.first_pass;
  }
};

// ---------------------------------------------------------------------------
// moat: the engine and the store

struct Moat {
  std::shared_ptr<const config::Config> config;
  deliver::Destinations destinations;
  restriction::Engine engine;

  explicit Moat(const Args& a) {
    const std::string text = fmt::format(
        "myhostname = mx.bench.test\n"
        "mydestination = example.test\n"
        "mynetworks = 127.0.0.0/8\n"
        "alias_maps =\n"
        "smtpd_recipient_restrictions = check_greylist\n"
        "moat_greylist_delay = {}s\n"
        "moat_greylist_auto_allowlist_clients = {}\n"
        "moat_state_store = {}\n",
        a.delay, a.auto_allowlist, a.store);
    config = bench::load_engine(text, "greylist_bench.cf", destinations, engine);
    if (!engine.uses_state_store()) throw std::runtime_error("engine does not use the store");
  }
};

// One RCPT, as a session checks it (Session::check): the session's
// restriction::Answers evaluates in place and, the check being pending,
// finish_pending() has the DecisionSet ask the store and evaluates again.
// The mail transaction ends with the decision.
asio::awaitable<void> moat_decision(const Moat& m, restriction::Answers& answers, const Triplet& t,
                                    Tally& tally) {
  restriction::Context c;
  c.stage = restriction::Stage::kRcpt;
  c.client_address = t.address;
  c.client_ip = t.ip;
  c.helo = "mta.client.test";
  c.has_helo = true;
  c.sender = t.sender;
  c.has_sender = true;
  c.recipient = t.recipient;
  c.resolved_recipient = &t.resolved;
  answers.attach(c);
  restriction::Effects effects;
  auto verdict = answers.evaluate(m.engine, restriction::Check::kRecipient, c, effects);
  if (verdict.is_pending()) {
    ++tally.rounds;
    verdict = co_await answers.finish_pending(m.engine, restriction::Check::kRecipient, c, effects,
                                              t.ip, "mx.bench.test", t.who);
  }
  answers.end_transaction();
  verdict = restriction::Engine::apply_defer_if_permit(std::move(verdict), effects);
  ++tally.decisions;
  if (verdict.is_reject()) {
    if (verdict.reply.code == 450 && verdict.reply.enhanced == "4.2.0") {
      ++tally.greylisted;
    } else {
      tally.note_other(
          fmt::format("{} {} {}", verdict.reply.code, verdict.reply.enhanced, verdict.reply.text));
    }
  } else if (verdict.is_dunno() || verdict.is_permit()) {
    const bool header = std::ranges::any_of(
        effects.prepend, [](const std::string& h) { return h.starts_with("X-Greylist:"); });
    ++(header ? tally.first_pass : tally.passed);
  } else {
    tally.note_other("unexpected verdict");
  }
}

// ---------------------------------------------------------------------------
// A policy server: Postfix's policy protocol

// The request Postfix's smtpd sends at RCPT, into `out` (reused).
void policy_request(const Triplet& t, size_t g, std::string& out) {
  out.clear();
  fmt::format_to(
      std::back_inserter(out),
      "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
      "client_address={}\nclient_name=unknown\nclient_port=40000\nreverse_client_name=unknown\n"
      "server_address=127.0.0.1\nserver_port=25\nhelo_name=mta.client.test\nsender={}\n"
      "recipient={}\nrecipient_count=0\nqueue_id=\ninstance=bench.{:x}.0\nsize=0\n"
      "etrn_domain=\nstress=\nsasl_method=\nsasl_username=\nsasl_sender=\nccert_subject=\n"
      "ccert_issuer=\nccert_fingerprint=\nccert_pubkey_fingerprint=\nencryption_protocol=\n"
      "encryption_cipher=\nencryption_keysize=0\npolicy_context=\n\n",
      t.ip, t.sender, t.recipient, g);
}

void count_action(std::string_view answer, Tally& tally) {
  ++tally.decisions;
  if (answer.starts_with("action=DEFER_IF_PERMIT ") || answer.starts_with("action=450 ")) {
    ++tally.greylisted;
  } else if (answer.starts_with("action=PREPEND X-Greylist:")) {
    ++tally.first_pass;
  } else if (answer.starts_with("action=DUNNO")) {
    ++tally.passed;
  } else {
    tally.note_other(std::string(answer.substr(0, answer.find('\n'))));
  }
}

// ---------------------------------------------------------------------------
// A phase

Phase run_phase(const Args& a, asio::io_context& io, const Moat* moat,
                const std::shared_ptr<dns::Resolver>& resolver,
                const std::shared_ptr<state::Store>& store, state::LmdbDatabase* lmdb,
                std::string name, Expect expect, const std::vector<Triplet>& triplets,
                size_t first_g, size_t concurrency, size_t count) {
  Phase phase;
  phase.name = std::move(name);
  phase.expect = expect;
  phase.concurrency = concurrency;
  count = std::min(count, triplets.size());
  size_t next = 0;
  size_t workers = std::min(concurrency, count);
  Clock::time_point start, end;
  Clock::time_point deadline;
  bool failed = false;

  // A policy server: one persistent connection per session, made before the
  // clock starts.
  std::vector<std::unique_ptr<asio::ip::tcp::socket>> sockets;
  if (!moat) {
    const auto colon = a.policy.rfind(':');
    const asio::ip::tcp::endpoint endpoint(
        asio::ip::make_address(a.policy.substr(0, colon)),
        static_cast<uint16_t>(std::stoi(a.policy.substr(colon + 1))));
    for (size_t w = 0; w < workers; ++w) {
      auto socket = std::make_unique<asio::ip::tcp::socket>(io);
      socket->connect(endpoint);
      socket->set_option(asio::ip::tcp::no_delay(true));
      sockets.push_back(std::move(socket));
    }
  }

  phase.tally.latencies.reserve(count);
  const auto before = Snapshot::take(a, lmdb);
  start = Clock::now();
  end = start;
  deadline = bench::deadline_after(start, a.time_limit);
  for (size_t w = 0, n = workers; w < n; ++w) {
    asio::co_spawn(
        io,
        [&, w]() -> asio::awaitable<void> {
          std::string buffer;   // the policy server's answers
          std::string request;  // the one in flight
          // A session's own: its answers, for all its transactions.
          restriction::Answers answers(resolver, store, nullptr);
          // The clock is read every 16 decisions.
          while (next < count && !failed && ((next & 15) != 0 || Clock::now() < deadline)) {
            const size_t i = next++;
            if (moat) {
              // A session's RCPT starts from an event of its own (a command read).
              const auto sent = Clock::now();
              co_await asio::post(io, asio::use_awaitable);
              co_await moat_decision(*moat, answers, triplets[i], phase.tally);
              phase.tally.note_latency(Clock::now() - sent);
            } else {
              auto& socket = *sockets[w];
              policy_request(triplets[i], first_g + i, request);
              try {
                const auto sent = Clock::now();
                co_await asio::async_write(socket, asio::buffer(request), asio::use_awaitable);
                const size_t n = co_await asio::async_read_until(
                    socket, asio::dynamic_buffer(buffer), "\n\n", asio::use_awaitable);
                phase.tally.note_latency(Clock::now() - sent);
                count_action(std::string_view(buffer).substr(0, n), phase.tally);
                buffer.erase(0, n);
              } catch (const std::exception& e) {
                phase.tally.note_other(a.name + " connection: " + e.what());
                failed = true;
              }
            }
          }
          if (--workers == 0) {
            end = Clock::now();
            // The Redis connection keeps the loop busy for good: stop it here.
            io.stop();
          }
        },
        asio::detached);
  }
  io.restart();
  if (workers > 0) io.run();
  const auto after = Snapshot::take(a, lmdb);
  phase.seconds = bench::seconds(end - start);
  phase.thread_cpu = after.thread - before.thread;
  phase.process_cpu = after.process - before.process;
  phase.peer_cpu = after.peer - before.peer;
  phase.preempted = after.preempted - before.preempted;
  phase.commits = after.commits - before.commits;
  phase.jobs = after.jobs - before.jobs;
  auto& latencies = phase.tally.latencies;
  if (!latencies.empty()) {
    // The nearest-rank percentiles.
    std::ranges::sort(latencies);
    const auto rank = [&](double q) {
      const auto r = static_cast<size_t>(std::ceil(q * static_cast<double>(latencies.size())));
      return static_cast<double>(latencies[std::clamp<size_t>(r, 1, latencies.size()) - 1]) / 1e3;
    };
    phase.p50_us = rank(0.50);
    phase.p99_us = rank(0.99);
    phase.max_us = static_cast<double>(latencies.back()) / 1e3;
  }
  return phase;
}

std::string phase_json(const Phase& p) {
  const auto& t = p.tally;
  return fmt::format(
      "{{\"name\": \"{}\", \"phase\": \"{}\", \"concurrency\": {}, \"decisions\": {}, "
      "\"seconds\": {:.4f}, \"rate\": {:.1f}, \"p50_us\": {:.1f}, \"p99_us\": {:.1f}, "
      "\"max_us\": {:.1f}, \"thread_cpu\": {:.4f}, \"process_cpu\": {:.4f}, "
      "\"peer_cpu\": {:.4f}, \"preempted\": {}, \"greylisted\": {}, \"first_pass\": {}, "
      "\"passed\": {}, \"other\": {}, \"rounds\": {}, \"commits\": {}, \"jobs\": {}}}",
      p.name, p.expect == Expect::kGreylisted ? "new" : "known", p.concurrency, t.decisions,
      p.seconds, p.rate(), p.p50_us, p.p99_us, p.max_us, p.thread_cpu, p.process_cpu, p.peer_cpu,
      p.preempted, t.greylisted, t.first_pass, t.passed, t.other, t.rounds, p.commits, p.jobs);
}

}  // namespace

int main(int argc, char** argv) try {
  const Args a = parse_args(argc, argv);
  if (auto error = log::configure({.maillog_file = a.maillog}); !error.empty()) {
    throw std::runtime_error(error);
  }
  const std::string target = a.policy.empty() ? a.store.substr(0, a.store.find(':')) : a.name;

  std::unique_ptr<Moat> moat;
  std::shared_ptr<state::Backend> backend;
  std::shared_ptr<state::LmdbDatabase> lmdb;
  if (!a.store.empty()) {
    moat = std::make_unique<Moat>(a);
    auto opened = state::Backend::open({.spec = a.store});
    if (!opened) throw std::runtime_error("cannot open " + a.store + ": " + opened.error());
    backend = std::move(*opened);
    if (a.store.starts_with("lmdb:")) {
      // The backend's own database (one per file in a process): for its
      // commit counts.
      auto database = state::LmdbDatabase::open(a.store.substr(5));
      if (!database) throw std::runtime_error(database.error());
      lmdb = std::move(*database);
    }
  }

  asio::io_context io;
  std::shared_ptr<state::Store> store;
  if (backend) store = backend->make_store(io);
  // The loop's resolver, as a server has one; the greylisting check asks
  // it nothing.
  dns::Options dns_options;
  dns_options.servers = {"127.0.0.1:53"};
  auto resolver = std::make_shared<dns::Resolver>(io, dns_options);

  // The triplets: set k (one per concurrency level) is g in [k * count,
  // (k + 1) * count); the warm-up set is apart, from kWarmUp.
  constexpr size_t kWarmUp = 15000000;
  if (a.count * a.concurrency.size() > kWarmUp) throw std::runtime_error("--count too large");
  std::vector<std::vector<Triplet>> sets;
  const deliver::Destinations* destinations = moat ? &moat->destinations : nullptr;
  for (size_t k = 0; k <= a.concurrency.size(); ++k) {
    const size_t n = k < a.concurrency.size() ? a.count : 64;
    std::vector<Triplet> set;
    set.reserve(n);
    const size_t base = k < a.concurrency.size() ? k * a.count : kWarmUp;
    for (size_t i = 0; i < n; ++i) set.push_back(make_triplet(base + i, destinations));
    sets.push_back(std::move(set));
  }

  // Warm-up, not measured: connects to Redis, loads its scripts, touches
  // the LMDB file; a policy server: opens its databases.
  {
    const auto warm = run_phase(a, io, moat.get(), resolver, store, lmdb.get(), "warm-up",
                                Expect::kGreylisted, sets.back(), kWarmUp, 8, 64);
    if (warm.tally.greylisted != warm.tally.decisions || warm.tally.decisions == 0) {
      throw std::runtime_error(fmt::format("warm-up failed: {} of {} greylisted; {}",
                                           warm.tally.greylisted, warm.tally.decisions,
                                           warm.tally.sample));
    }
  }

  std::vector<Phase> phases;
  std::vector<size_t> done(a.concurrency.size());
  for (size_t k = 0; k < a.concurrency.size(); ++k) {
    phases.push_back(run_phase(a, io, moat.get(), resolver, store, lmdb.get(),
                               fmt::format("{} new, {} in flight", target, a.concurrency[k]),
                               Expect::kGreylisted, sets[k], k * a.count, a.concurrency[k],
                               a.count));
    done[k] = phases.back().tally.decisions;
  }
  // Every triplet written so far must be at least `delay` seconds old.
  const std::time_t last_new = std::time(nullptr);
  while (std::time(nullptr) < last_new + a.delay) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (size_t k = 0; k < a.concurrency.size(); ++k) {
    phases.push_back(run_phase(a, io, moat.get(), resolver, store, lmdb.get(),
                               fmt::format("{} known, {} in flight", target, a.concurrency[k]),
                               Expect::kFirstPass, sets[k], k * a.count, a.concurrency[k],
                               done[k]));
  }

  std::string problems;
  for (const Phase& p : phases) {
    const auto& t = p.tally;
    if (t.decisions == 0) problems += fmt::format("{}: no decision; ", p.name);
    if (moat && t.rounds != t.decisions) {
      problems +=
          fmt::format("{}: {} checks pending for {} decisions; ", p.name, t.rounds, t.decisions);
    }
    if (p.expected_count() != t.decisions) {
      problems += fmt::format(
          "{}: {} decisions, {} greylisted, {} first passes, {} other passes, {} other ({}); ",
          p.name, t.decisions, t.greylisted, t.first_pass, t.passed, t.other, t.sample);
    }
  }

  fmt::print("{:<30} {:>7} {:>10} {:>8} {:>9} {:>9} {:>13} {:>14} {:>13} {:>11}  {}\n", "phase",
             "decs", "decs/s", "µs/dec", "p50 µs", "p99 µs", "decs/thr-CPUs", "decs/proc-CPUs",
             "decs/peerCPUs", "jobs/commit", "outcomes");
  for (const Phase& p : phases) {
    const auto n = static_cast<double>(p.tally.decisions);
    fmt::print(
        "{:<30} {:>7} {:>10.0f} {:>8.1f} {:>9.1f} {:>9.1f} {:>13.0f} {:>14.0f} {:>13.0f} "
        "{:>11.1f}  greylisted {} first-pass {} pass {} other {}\n",
        p.name, p.tally.decisions, p.rate(), bench::per(1e6, p.rate()), p.p50_us, p.p99_us,
        bench::per(n, p.thread_cpu), bench::per(n, p.process_cpu), bench::per(n, p.peer_cpu),
        bench::per(static_cast<double>(p.jobs), static_cast<double>(p.commits)), p.tally.greylisted,
        p.tally.first_pass, p.tally.passed, p.tally.other);
  }
  if (!problems.empty()) fmt::print("PROBLEMS: {}\n", problems);

  std::string json;
  for (const Phase& p : phases) json += (json.empty() ? "" : ", ") + phase_json(p);
  std::string escaped;
  for (char ch : problems) {
    if (ch == '"' || ch == '\\') escaped += '\\';
    escaped += ch;
  }
  fmt::print("RESULT {{\"target\": \"{}\", \"phases\": [{}], \"problems\": \"{}\"}}\n", target,
             json, escaped);
  std::fflush(stdout);
  store.reset();
  resolver.reset();
  return problems.empty() ? 0 : 1;
} catch (const std::exception& e) {
  fmt::print(stderr, "greylist_bench: {}\n", e.what());
  return 2;
}
