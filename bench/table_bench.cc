// Lookup tables at the size of a large site's access lists: a 100,000-entry
// texthash: table and a 100,000-entry cidr: table. Measures load time (open,
// read and parse the file; aim < 1 s) and lookups per second, hits and
// misses. As a reference in the same invocation, Postfix's `postmap -q`
// on the same texthash file (which reads the whole file too) is timed when
// postmap is installed; its time is mostly the load.
//
//   build/release/table_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tables/table.h"

namespace {

constexpr int kEntries = 100'000;

struct Fixture {
  std::filesystem::path dir;
  std::string texthash_path;
  std::string cidr_path;
  std::vector<std::string> texthash_keys;  // present
  std::vector<std::string> cidr_keys;      // addresses inside listed networks
  std::vector<std::string> miss_keys;

  Fixture() {
    dir = std::filesystem::temp_directory_path() / fmt::format("moat-table-bench-{}", ::getpid());
    std::filesystem::create_directories(dir);
    std::mt19937 random(42);
    texthash_path = (dir / "access").string();
    std::ofstream texthash(texthash_path);
    for (int i = 0; i < kEntries; ++i) {
      const std::string key = fmt::format("user{}@domain{}.example", random(), i % 5000);
      texthash << key << (i % 3 ? " REJECT spam source" : " OK") << '\n';
      if (i % 100 == 0) texthash_keys.push_back(key);
    }
    cidr_path = (dir / "clients.cidr").string();
    std::ofstream cidr(cidr_path);
    for (int i = 0; i < kEntries; ++i) {
      const unsigned a = 1 + random() % 223, b = random() % 256, c = random() % 256;
      const unsigned d = random() % 256;
      switch (i % 4) {
        case 0:
          cidr << fmt::format("{}.{}.{}.0/24 REJECT\n", a, b, c);
          if (i % 100 == 0) cidr_keys.push_back(fmt::format("{}.{}.{}.{}", a, b, c, d));
          break;
        case 1:
        case 2:
          cidr << fmt::format("{}.{}.{}.{} REJECT\n", a, b, c, d);
          if (i % 100 == 1) cidr_keys.push_back(fmt::format("{}.{}.{}.{}", a, b, c, d));
          break;
        default:
          cidr << fmt::format("2001:db8:{:x}:{:x}::/64 REJECT\n", b * 256 + c, d);
          if (i % 100 == 3)
            cidr_keys.push_back(fmt::format("2001:db8:{:x}:{:x}::1", b * 256 + c, d));
      }
    }
    for (int i = 0; i < 1000; ++i)
      miss_keys.push_back(fmt::format("224.{}.{}.1", i % 256, i / 256));
  }
  ~Fixture() { std::filesystem::remove_all(dir); }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

std::unique_ptr<moat::tables::Table> open(const std::string& spec) {
  auto opened = moat::tables::open_table(spec, moat::tables::SourceFormat::kPostmap);
  if (!opened.table) {
    std::fprintf(stderr, "%s\n", opened.error.c_str());
    std::exit(1);
  }
  return std::move(opened.table);
}

// The two tables differ only in their type, their file and the keys that
// hit: one set of benchmarks serves both, registered under each table's
// names (BM_TexthashLoad100k, ..., BM_CidrLookupMiss).
struct TableUnderTest {
  std::string name;  // in the benchmark names
  std::string spec;  // type:path
  const std::vector<std::string>* hits;
  const char* missing;  // the error when a hit is not found
};

void load(benchmark::State& state, const TableUnderTest& t) {
  for (auto _ : state) benchmark::DoNotOptimize(open(t.spec));
}

void lookup_hit(benchmark::State& state, const TableUnderTest& t) {
  auto table = open(t.spec);
  const auto& keys = *t.hits;
  std::size_t i = 0;
  for (auto _ : state) {
    auto value = table->find(keys[i++ % keys.size()]);
    if (!value) state.SkipWithError(t.missing);
    benchmark::DoNotOptimize(value);
  }
  state.SetItemsProcessed(state.iterations());
}

void lookup_miss(benchmark::State& state, const TableUnderTest& t) {
  auto table = open(t.spec);
  const auto& keys = fixture().miss_keys;
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(table->find(keys[i++ % keys.size()]));
  state.SetItemsProcessed(state.iterations());
}

// Registered at run time, not with BENCHMARK(): the specs name the
// fixture's files. The order is the one the output has always had.
void register_benchmarks() {
  const Fixture& f = fixture();
  for (const TableUnderTest& t :
       {TableUnderTest{"Texthash", "texthash:" + f.texthash_path, &f.texthash_keys, "missing key"},
        TableUnderTest{"Cidr", "cidr:" + f.cidr_path, &f.cidr_keys, "address not matched"}}) {
    benchmark::RegisterBenchmark(("BM_" + t.name + "Load100k").c_str(), load, t)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("BM_" + t.name + "LookupHit").c_str(), lookup_hit, t);
    benchmark::RegisterBenchmark(("BM_" + t.name + "LookupMiss").c_str(), lookup_miss, t);
  }
}

// Postfix's postmap -q on the same 100k texthash file, wall time per run.
void print_postmap_reference() {
  if (std::system("command -v postmap >/dev/null 2>&1") != 0) {
    std::printf("reference: postmap not installed, skipped\n");
    return;
  }
  const auto config = fixture().dir / "postfix";
  std::filesystem::create_directories(config);
  std::ofstream(config / "main.cf").flush();
  const std::string command =
      fmt::format("postmap -c {} -q '{}' texthash:{} >/dev/null 2>&1", config.string(),
                  fixture().texthash_keys[0], fixture().texthash_path);
  constexpr int kRuns = 5;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kRuns; ++i) {
    if (std::system(command.c_str()) != 0) {
      std::printf("reference: postmap -q failed\n");
      return;
    }
  }
  const std::chrono::duration<double, std::milli> elapsed =
      std::chrono::steady_clock::now() - start;
  std::printf(
      "reference: postmap -q KEY texthash:FILE (100k entries, load + one lookup): %.1f ms\n",
      elapsed.count() / kRuns);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  register_benchmarks();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  print_postmap_reference();
  return 0;
}
