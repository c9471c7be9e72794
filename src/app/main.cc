// moat: a hardened SMTP front door with Postfix's configuration language.
//   moat serve [-c FILE]        run the server in the foreground
//   moat check [-c FILE] [-n]   validate a config / print non-default parameters
//   moat check [-c FILE] --dnsbl   test the DNS lists the restrictions use
//   moat query [-c FILE] TYPE:NAME KEY   look KEY up in a table, like postmap -q
//   moat spf [--dns-server HOST:PORT] [--dns-timeout SECONDS] IP MAILFROM [HELO]
//                               an SPF check_host(), like spfquery
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "app/commands.h"

namespace {

constexpr const char* kDefaultConfig = "/etc/moat/main.cf";

int usage() {
  std::cerr
      << "usage: moat serve [-c FILE]\n"
         "       moat check [-c FILE] [-n]\n"
         "       moat check [-c FILE] --dnsbl\n"
         "       moat query [-c FILE] TYPE:NAME KEY\n"
         "       moat spf [--dns-server HOST:PORT] [--dns-timeout SECONDS] IP MAILFROM [HELO]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  const std::string command = argv[1];
  if (command == "spf") return moat::app::spf(std::vector<std::string>(argv + 2, argv + argc));
  std::string config_path = kDefaultConfig;
  bool non_default = false;
  bool dnsbl = false;
  std::vector<std::string> operands;  // query: TYPE:NAME KEY
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
      config_path = argv[++i];
    } else if (std::strcmp(argv[i], "-n") == 0 && command == "check") {
      non_default = true;
    } else if (std::strcmp(argv[i], "--dnsbl") == 0 && command == "check") {
      dnsbl = true;
    } else if (command == "query" && (argv[i][0] != '-' || operands.size() == 1)) {
      operands.push_back(argv[i]);
    } else {
      return usage();
    }
  }
  if (command == "serve") return moat::app::serve(config_path);
  if (command == "check" && dnsbl) return moat::app::check_dnsbl(config_path);
  if (command == "check") return moat::app::check(config_path, non_default);
  if (command == "query" && operands.size() == 2) return moat::app::query(operands[0], operands[1]);
  return usage();
}
