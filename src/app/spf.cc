// moat spf: check_host() from the command line, like spfquery. Prints one
// line, "RESULT EXPLANATION" for fail and "RESULT COMMENT" otherwise.
#include <chrono>
#include <ctime>
#include <exception>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include "app/commands.h"
#include "dns/resolver.h"
#include "spf/check_host.h"

namespace moat::app {

namespace {

int spf_usage(const std::string& why) {
  std::cerr << "moat spf: " << why << "\n"
            << "usage: moat spf [--dns-server HOST:PORT] [--dns-timeout SECONDS] IP MAILFROM "
               "[HELO]\n";
  return 2;
}

// Stops the loop once the result is in: the resolver's timers would keep it
// running until their timeouts.
asio::awaitable<void> run_check(asio::io_context& io, dns::Resolver& resolver,
                                spf::CheckRequest request, std::optional<spf::SpfResult>& out) {
  spf::SpfResult result = co_await spf::check_host(resolver, request);
  out = std::move(result);
  io.stop();
}

// "--name VALUE" or "--name=VALUE" at args[i]; advances i past the value.
bool option(const std::vector<std::string>& args, size_t& i, const std::string& name,
            std::string& value, bool& missing) {
  const std::string& arg = args[i];
  if (arg == name) {
    if (i + 1 >= args.size()) {
      missing = true;
      return true;
    }
    value = args[++i];
    return true;
  }
  if (arg.starts_with(name + "=")) {
    value = arg.substr(name.size() + 1);
    return true;
  }
  return false;
}

}  // namespace

int spf(const std::vector<std::string>& args) {
  dns::Options options;
  std::vector<std::string> operands;
  bool only_operands = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (only_operands || arg.empty() || arg[0] != '-' || arg == "-") {
      operands.push_back(arg);
      continue;
    }
    if (arg == "--") {
      only_operands = true;
      continue;
    }
    std::string value;
    bool missing = false;
    if (option(args, i, "--dns-server", value, missing)) {
      if (missing) return spf_usage("--dns-server needs HOST:PORT");
      options.servers.push_back(value);
    } else if (option(args, i, "--dns-timeout", value, missing)) {
      if (missing) return spf_usage("--dns-timeout needs SECONDS");
      double seconds = 0;
      try {
        size_t used = 0;
        seconds = std::stod(value, &used);
        if (used != value.size()) seconds = -1;
      } catch (const std::exception&) {
        seconds = -1;
      }
      if (!(seconds > 0 && seconds <= 3600)) return spf_usage("bad --dns-timeout: " + value);
      options.timeout = std::chrono::milliseconds(static_cast<long>(seconds * 1000));
    } else {
      return spf_usage("unknown option " + arg);
    }
  }
  if (operands.size() < 2 || operands.size() > 3) return spf_usage("expected IP MAILFROM [HELO]");
  spf::CheckRequest request;
  request.client_ip = operands[0];
  request.ip = spf::parse_client_ip(operands[0]);
  if (!request.ip) return spf_usage("not an IP address: " + operands[0]);
  request.sender = operands[1];
  if (operands.size() == 3) request.helo = operands[2];
  request.timestamp = static_cast<uint64_t>(std::time(nullptr));
  if (!options.servers.empty()) {
    const std::string problem = dns::Resolver::check_servers(options.servers);
    if (!problem.empty()) return spf_usage("bad --dns-server: " + problem);
  }

  std::optional<spf::SpfResult> result;
  asio::io_context io;
  try {
    dns::Resolver resolver(io, options);
    asio::co_spawn(io, run_check(io, resolver, request, result), asio::detached);
    io.run();
  } catch (const std::exception& e) {
    std::cerr << "moat: DNS resolver: " << e.what() << '\n';
    return 1;
  }
  if (!result) {
    std::cerr << "moat: spf: the check did not finish\n";
    return 1;
  }
  const std::string& rest =
      result->result == spf::Result::kFail ? result->explanation : result->comment;
  std::cout << spf::result_name(result->result) << ' ' << rest << '\n';
  return 0;
}

}  // namespace moat::app
