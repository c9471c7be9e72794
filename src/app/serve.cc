#include <csignal>
#include <iostream>
#include <thread>

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>

#include "app/commands.h"
#include "app/loaded_config.h"
#include "deliver/delivery.h"
#include "log/log.h"
#include "net/server.h"

namespace moat::app {
namespace {

log::Destination log_destination(const config::Config& config) {
  return {config.get("maillog_file"), config.get("syslog_name"), config.get("syslog_facility")};
}

void report(const std::vector<config::Problem>& problems) {
  for (const auto& problem : problems) {
    std::cerr << "moat: " << problem.to_string() << '\n';
    if (problem.is_error()) {
      log::error("master", "{}", problem.to_string());
    } else {
      log::warning("master", "{}", problem.to_string());
    }
  }
}

// The state store backend the configuration needs: the running one when
// its settings are unchanged (LMDB allows one environment per file and
// process), a new one when they change, none when no restriction uses it.
// A backend that does not open is logged; greylisting then follows
// moat_state_store_failure_action.
std::shared_ptr<const state::Backend> store_backend(const smtp::SmtpdConfig& smtpd,
                                                    std::shared_ptr<const state::Backend> running) {
  if (!smtpd.restrictions.uses_state_store()) return running;
  // LMDB's timeout and password settings mean nothing: same path, same backend.
  const bool same_file = smtpd.store.spec.starts_with("lmdb:") && running &&
                         running->settings().spec == smtpd.store.spec;
  if (running && (running->settings() == smtpd.store || same_file)) return running;
  auto opened = state::Backend::open(smtpd.store);
  if (!opened) {
    log::error("master", "state store {}: {}", smtpd.store.spec, opened.error());
    return running;
  }
  return std::move(*opened);
}

}  // namespace

int serve(const std::string& config_path) {
  auto loaded = load_config(config_path);
  if (loaded.config) {
    if (auto error = log::configure(log_destination(*loaded.config)); !error.empty()) {
      std::cerr << "moat: maillog_file: " << error << '\n';
      return 1;
    }
  }
  report(loaded.problems);
  if (!loaded.ok()) {
    std::cerr << "moat: fatal: configuration " << config_path << " has errors\n";
    return 1;
  }
  const auto& config = *loaded.config;
  long long workers = config.get_integer("moat_workers");
  if (workers == 0) workers = std::max(1u, std::thread::hardware_concurrency());
  deliver::DeliveryService delivery(
      static_cast<size_t>(std::max<long long>(config.get_integer("moat_delivery_threads"), 1)));
  // Signals are caught from here on, before "listening" is announced: a
  // SIGHUP or SIGTERM that comes while moat starts waits for it instead of
  // killing it.
  asio::io_context control;
  asio::signal_set signals(control, SIGHUP, SIGTERM, SIGINT);
  net::Server server(loaded.listen, static_cast<size_t>(workers), delivery, loaded.smtpd);
  if (auto error = server.bind(); !error.empty()) {
    std::cerr << "moat: fatal: " << error << '\n';
    log::error("master", "fatal: {}", error);
    return 1;
  }
  // moat as Postfix's policy server, on the same loops.
  std::unique_ptr<policy::Server> policy_server;
  if (!loaded.smtpd->policy_listen.empty()) {
    policy_server = std::make_unique<policy::Server>(
        loaded.smtpd->policy_listen,
        policy::Server::Options{.idle_timeout = loaded.smtpd->policy_timeout});
    auto error = policy_server->bind();
    if (error.empty()) error = server.serve_policy(*policy_server);
    if (!error.empty()) {
      std::cerr << "moat: fatal: policy server: " << error << '\n';
      log::error("master", "fatal: policy server: {}", error);
      return 1;
    }
    for (const auto& address : policy_server->addresses()) {
      std::cerr << "moat: policy server listening on " << address.text() << '\n' << std::flush;
    }
  }
  // SIGPIPE on a closed client socket must not kill the server.
  std::signal(SIGPIPE, SIG_IGN);
  auto backend = store_backend(*loaded.smtpd, nullptr);
  server.replace_store_backend(backend);
  server.start();
  log::info("master", "daemon started -- version 0.1, configuration {}", config_path);

  auto shutdown_grace = config.get_time("moat_shutdown_timeout");
  std::function<void(std::error_code, int)> on_signal = [&](std::error_code ec, int signal) {
    if (ec) return;
    if (signal != SIGHUP) {
      log::info("master", "terminating on signal {}", signal);
      return;  // leaves control.run()
    }
    auto reloaded = load_config(config_path);
    if (!reloaded.ok()) {
      report(reloaded.problems);
      log::warning("master",
                   "reload of {} refused: configuration has errors; keeping the running one",
                   config_path);
    } else {
      if (auto error = log::configure(log_destination(*reloaded.config)); !error.empty()) {
        log::warning("master", "maillog_file: {}", error);
      }
      report(reloaded.problems);
      backend = store_backend(*reloaded.smtpd, backend);
      server.replace_store_backend(backend);
      server.replace_config(reloaded.smtpd);
      shutdown_grace = reloaded.config->get_time("moat_shutdown_timeout");
      log::info("master", "reload -- configuration {}", config_path);
    }
    signals.async_wait(on_signal);
  };
  signals.async_wait(on_signal);
  control.run();

  if (policy_server) policy_server->stop();
  server.shutdown(shutdown_grace);
  delivery.stop();
  log::info("master", "stopped");
  return 0;
}

}  // namespace moat::app
