#include "tables/cidr_table.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "tables/if_blocks.h"
#include "tables/source_lines.h"

namespace moat::tables {
namespace {

constexpr std::size_t kNoRun = static_cast<std::size_t>(-1);

int address_bits(const IpAddress& address) {
  return address.v6 ? 128 : 32;
}

IpAddress masked(const IpAddress& address, int prefix) {
  IpAddress out = address;
  const int bytes = address_bits(address) / 8;
  for (int i = 0; i < bytes; ++i) {
    const int keep = std::clamp(prefix - i * 8, 0, 8);
    out.bytes[i] &= static_cast<unsigned char>(0xff00u >> keep);
  }
  return out;
}

std::string to_text(const IpAddress& address) {
  char buffer[INET6_ADDRSTRLEN] = {};
  inet_ntop(address.v6 ? AF_INET6 : AF_INET, address.bytes.data(), buffer, sizeof buffer);
  return buffer;
}

bool starts_with_word(std::string_view line, std::string_view word) {
  if (line.size() < word.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(line[i])) != word[i]) return false;
  }
  return line.size() == word.size() || is_blank(line[word.size()]) || line[word.size()] == '!';
}

// "[!]address[/prefix] rest" with the address optionally in brackets.
bool read_pattern(std::string_view line, CidrTable::Rule& rule, std::string_view& rest,
                  std::string& error) {
  if (!line.empty() && line.front() == '!') {
    rule.negated = true;
    line = trim(line.substr(1));
  }
  std::size_t end = 0;
  while (end < line.size() && !is_blank(line[end])) ++end;
  const std::string_view pattern = line.substr(0, end);
  rest = trim(line.substr(end));
  std::string_view address = pattern;
  std::string_view length;
  if (const auto slash = pattern.find('/'); slash != std::string_view::npos) {
    address = pattern.substr(0, slash);
    length = pattern.substr(slash + 1);
  }
  if (address.size() >= 2 && address.front() == '[' && address.back() == ']')
    address = address.substr(1, address.size() - 2);
  const auto parsed = parse_ip_address(address);
  if (!parsed) {
    error = "bad address pattern: \"" + std::string(pattern) + "\"";
    return false;
  }
  rule.network = *parsed;
  rule.prefix = address_bits(*parsed);
  if (pattern.find('/') != std::string_view::npos) {
    int prefix = 0;
    bool ok = !length.empty() && length.size() <= 3;
    for (char c : length) {
      if (!std::isdigit(static_cast<unsigned char>(c))) ok = false;
      if (ok) prefix = prefix * 10 + (c - '0');  // at most 3 digits
    }
    if (!ok || prefix > address_bits(*parsed)) {
      error = "bad mask length in \"" + std::string(pattern) + "\"";
      return false;
    }
    rule.prefix = prefix;
  }
  if (masked(rule.network, rule.prefix).bytes != rule.network.bytes) {
    error = "non-null host address bits in \"" + std::string(pattern) +
            "\", perhaps you should use \"" + to_text(masked(rule.network, rule.prefix)) + "/" +
            std::to_string(rule.prefix) + "\" instead";
    return false;
  }
  return true;
}

}  // namespace

std::optional<IpAddress> parse_ip_address(std::string_view text) {
  char buffer[64];
  if (text.empty() || text.size() >= sizeof buffer || text.find('\0') != std::string_view::npos)
    return std::nullopt;
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  IpAddress address;
  address.v6 = text.find(':') != std::string_view::npos;
  if (inet_pton(address.v6 ? AF_INET6 : AF_INET, buffer, address.bytes.data()) != 1)
    return std::nullopt;
  return address;
}

std::unique_ptr<CidrTable> CidrTable::parse(std::string_view text, std::string_view name,
                                            std::string* error) {
  auto table = std::make_unique<CidrTable>();
  auto read_rule = [](std::string_view line, Rule& rule) -> std::string {
    std::string_view rest;
    std::string message;
    if (!read_pattern(line, rule, rest, message)) return message;
    if (rule.is_if) return rest.empty() ? "" : extra_text_after_if(rest);
    if (rest.empty()) return "no lookup result";
    rule.result = rest;
    return "";
  };
  if (auto failed = parse_if_blocks(text, name, table->rules_, starts_with_word, read_rule);
      !failed.empty()) {
    if (error) *error = std::move(failed);
    return nullptr;
  }
  table->build_index();
  return table;
}

void CidrTable::build_index() {
  std::vector<bool> boundary(rules_.size() + 1, false);
  for (const Rule& rule : rules_) {
    if (rule.is_if) boundary[rule.after_endif] = true;
  }
  run_at_.assign(rules_.size(), kNoRun);
  for (std::size_t i = 0; i < rules_.size();) {
    auto plain = [&](std::size_t j) { return !rules_[j].is_if && !rules_[j].negated; };
    if (!plain(i)) {
      ++i;
      continue;
    }
    Run run;
    run.first = i;
    do {
      run_at_[i] = runs_.size();
      ++i;
    } while (i < rules_.size() && plain(i) && !boundary[i]);
    run.last = i;
    runs_.push_back(std::move(run));
  }
  // A map per (family, prefix) for runs worth indexing; short runs are scanned.
  for (Run& run : runs_) {
    if (run.last - run.first < 8) continue;
    for (std::size_t i = run.first; i < run.last; ++i) {
      const Rule& rule = rules_[i];
      auto level = std::find_if(run.levels.begin(), run.levels.end(), [&](const Run::Level& l) {
        return l.v6 == rule.network.v6 && l.prefix == rule.prefix;
      });
      if (level == run.levels.end()) {
        run.levels.push_back({rule.network.v6, rule.prefix, {}});
        level = run.levels.end() - 1;
      }
      level->networks.try_emplace(rule.network.bytes, i);
    }
  }
}

bool CidrTable::applies(const Rule& rule, const IpAddress& address) const {
  if (rule.network.v6 != address.v6) return false;
  return (masked(address, rule.prefix).bytes == rule.network.bytes) != rule.negated;
}

std::optional<std::string> CidrTable::find(std::string_view key) const {
  const auto address = parse_ip_address(key);
  if (!address) return std::nullopt;
  std::size_t i = 0;
  while (i < rules_.size()) {
    const std::size_t run_index = run_at_[i];
    if (run_index != kNoRun && runs_[run_index].first == i && !runs_[run_index].levels.empty()) {
      const Run& run = runs_[run_index];
      std::size_t best = run.last;
      for (const Run::Level& level : run.levels) {
        if (level.v6 != address->v6) continue;
        const IpAddress network = masked(*address, level.prefix);
        if (auto it = level.networks.find(network.bytes); it != level.networks.end())
          best = std::min(best, it->second);
      }
      if (best < run.last) return rules_[best].result;
      i = run.last;
      continue;
    }
    const Rule& rule = rules_[i];
    const bool match = applies(rule, *address);
    if (rule.is_if) {
      i = match ? i + 1 : rule.after_endif;
      continue;
    }
    if (match) return rule.result;
    ++i;
  }
  return std::nullopt;
}

}  // namespace moat::tables
