// moat's subcommands. Each returns the process exit status.
#pragma once

#include <string>
#include <vector>

namespace moat::app {

// Runs the server in the foreground until SIGTERM/SIGINT; SIGHUP reloads.
int serve(const std::string& config_path);

// Validates a config: problems as "FILE:LINE: parameter: message" on stderr,
// exit 1 on any error. With `print_non_default`, prints `postconf -n` style
// lines on stdout.
int check(const std::string& config_path, bool print_non_default);
// Asks every DNS list of the restrictions for its RFC 5782 test points
// (127.0.0.2 / "test" listed, 127.0.0.1 / "invalid" not) through the
// moat_dns_* resolver settings; one line per zone, exit 1 unless all are ok.
int check_dnsbl(const std::string& config_path);

// Looks `key` up in the table `table_spec` ("type:name"), like postmap -q:
// prints the value and returns 0, or prints nothing and returns 1 (an error
// opening the table goes to stderr, also with 1).
int query(const std::string& table_spec, const std::string& key);

// SPF check_host() for IP, MAILFROM ("" = null sender) and HELO, like
// spfquery: args are what follows "spf" on the command line. Prints
// "RESULT EXPLANATION-or-COMMENT" and returns 0; usage errors return 2.
int spf(const std::vector<std::string>& args);

}  // namespace moat::app
