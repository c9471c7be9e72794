// Loads a main.cf into everything moat runs on — the config, the SMTP
// snapshot (tables opened, restrictions compiled) and the listen addresses —
// collecting every problem. Shared by `moat serve`, SIGHUP reloads and
// `moat check`, so all three judge a file the same way.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <asio/ip/tcp.hpp>

#include "config/config.h"
#include "smtp/smtpd_config.h"

namespace moat::app {

struct LoadedConfig {
  std::shared_ptr<const config::Config> config;
  std::shared_ptr<const smtp::SmtpdConfig> smtpd;
  std::vector<asio::ip::tcp::endpoint> listen;
  std::vector<config::Problem> problems;

  bool ok() const;  // loaded, and no problem is an error
};

LoadedConfig load_config(const std::string& path);

}  // namespace moat::app
