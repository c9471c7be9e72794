// The listening side: one event loop per worker thread, each with its own
// acceptor per listen address (SO_REUSEPORT), so a session lives on one
// thread from accept to close and nothing mutable is shared on the hot path
// but the config snapshot pointer, swapped atomically on reload.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <asio/ip/tcp.hpp>

#include "deliver/delivery.h"
#include "policy/server.h"
#include "smtp/smtpd_config.h"
#include "state/backend.h"

namespace moat::net {

class Server {
 public:
  Server(std::vector<asio::ip::tcp::endpoint> endpoints, size_t workers,
         deliver::DeliveryService& delivery, std::shared_ptr<const smtp::SmtpdConfig> config);
  ~Server();

  // Binds every listener; returns an error text on failure. Prints
  // "moat: listening on HOST:PORT" to stderr for each bound address.
  std::string bind();
  // Starts the worker threads.
  void start();
  // Serves `policy` (bound) on every worker loop too: each request is
  // answered with moat_policy_restrictions of the current configuration
  // and that loop's resolver, state store and policy client.
  std::string serve_policy(policy::Server& policy);
  // New sessions get `config`; running ones keep theirs.
  void replace_config(std::shared_ptr<const smtp::SmtpdConfig> config);
  // New sessions use stores made from `backend` (null: none); each loop
  // makes its own Store from it when it changes.
  void replace_store_backend(std::shared_ptr<const state::Backend> backend);
  // Stops accepting, waits for sessions to end (at most `grace`), then stops.
  void shutdown(std::chrono::seconds grace);

  size_t active_sessions() const { return active_sessions_.load(); }

 private:
  struct Worker;
  void accept_on(Worker& worker, asio::ip::tcp::acceptor& acceptor);

  std::vector<asio::ip::tcp::endpoint> endpoints_;
  deliver::DeliveryService& delivery_;
  std::atomic<std::shared_ptr<const smtp::SmtpdConfig>> config_;
  std::atomic<std::shared_ptr<const state::Backend>> store_backend_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<size_t> active_sessions_{0};
};

}  // namespace moat::net
