// What the benchmark programs in bench/ measure and set up the same way:
// wall-clock intervals and deadlines, rates, CPU time (this thread's, this
// process's, another process's), preemptions; a comma-separated option's
// items; a restriction engine built from main.cf text as the server builds
// it. One definition each, so that a figure means the same in every
// program's table and RESULT line.
//
// Header-only: each program is one .cc file. Deliberately not a framework:
// each program keeps its own phases, tallies and output.
#pragma once

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/config.h"
#include "deliver/destinations.h"
#include "restrict/restrictions.h"

namespace moat::bench {

using Clock = std::chrono::steady_clock;

inline double seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// `start` plus a time limit given in (fractional) seconds on the command line.
inline Clock::time_point deadline_after(Clock::time_point start, double limit_seconds) {
  return start +
         std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(limit_seconds));
}

// n per unit (per second, per CPU-second, ...); 0 when no unit was measured,
// so that a table shows 0 rather than inf.
inline double per(double n, double units) {
  return units > 0 ? n / units : 0;
}

inline double clock_seconds(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// The calling thread's CPU time: a loop's cost whatever else the machine runs.
inline double thread_cpu_seconds() {
  return clock_seconds(CLOCK_THREAD_CPUTIME_ID);
}

// Another process's CPU time (user + system), e.g. the name server's or the
// store's; 0 when it cannot be read.
inline double process_cpu_seconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The command name (field 2) may hold spaces: count fields after its ')'.
  const auto close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int n = 3; fields >> field; ++n) {                       // field 3 is the state
    if (n == 14 || n == 15) ticks += std::atof(field.c_str());  // utime, stime
    if (n == 15) break;
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Involuntary context switches of the calling thread: the times the OS took
// the CPU away from the loop.
inline long thread_preemptions() {
  rusage ru{};
  getrusage(RUSAGE_THREAD, &ru);
  return ru.ru_nivcsw;
}

// The items of a comma-separated option value, empty ones included ("a,,b"
// has three) so that a caller can refuse them; a trailing comma adds none.
inline std::vector<std::string> comma_items(const std::string& value) {
  std::vector<std::string> items;
  for (size_t start = 0; start < value.size();) {
    const size_t comma = std::min(value.find(',', start), value.size());
    items.push_back(value.substr(start, comma - start));
    start = comma + 1;
  }
  return items;
}

// Builds `engine` (over `destinations`) from main.cf text as the server
// does; `file` names the text in messages. Throws on any configuration
// error: a bench measuring a half-built engine would measure nothing.
inline std::shared_ptr<const config::Config> load_engine(const std::string& text,
                                                         const std::string& file,
                                                         deliver::Destinations& destinations,
                                                         restriction::Engine& engine) {
  auto loaded = config::Config::load_text(text, file);
  if (!loaded.ok()) throw std::runtime_error("bad bench config");
  std::vector<config::Problem> problems;
  destinations = deliver::Destinations::build(*loaded.config, problems);
  engine = restriction::Engine::build(*loaded.config, &destinations, problems);
  for (const auto& p : problems) {
    if (p.is_error()) throw std::runtime_error(p.to_string());
  }
  return loaded.config;
}

}  // namespace moat::bench
