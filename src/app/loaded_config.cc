#include "app/loaded_config.h"

#include <algorithm>

#include "net/listen_address.h"

namespace moat::app {

bool LoadedConfig::ok() const {
  return config && smtpd &&
         std::ranges::none_of(problems, [](const auto& p) { return p.is_error(); });
}

LoadedConfig load_config(const std::string& path) {
  LoadedConfig loaded;
  auto result = config::Config::load_file(path);
  loaded.problems = std::move(result.problems);
  if (!result.config) return loaded;
  loaded.config = result.config;
  const auto& config = *loaded.config;
  for (const auto& element : config.get_list("moat_smtp_listen")) {
    if (auto endpoint = net::parse_listen_address(element)) {
      loaded.listen.push_back(*endpoint);
    } else {
      loaded.problems.push_back(config.problem_at(
          "moat_smtp_listen",
          "bad listen address \"" + element + "\": expected HOST:PORT or [IPV6]:PORT"));
    }
  }
  if (loaded.listen.empty()) {
    loaded.problems.push_back(config.problem_at("moat_smtp_listen", "no listen address"));
  }
  if (config.get_integer("moat_workers") < 0) {
    loaded.problems.push_back(
        config.problem_at("moat_workers", "must be 0 (one per core) or more"));
  }
  auto smtpd = smtp::build_smtpd_config(loaded.config);
  for (auto& problem : smtpd.problems) loaded.problems.push_back(std::move(problem));
  loaded.smtpd = std::move(smtpd.smtpd);
  std::ranges::stable_sort(loaded.problems, {}, &config::Problem::line);
  return loaded;
}

}  // namespace moat::app
