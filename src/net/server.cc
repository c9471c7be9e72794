#include "net/server.h"

#include <sys/socket.h>

#include <iostream>
#include <thread>

#include <fmt/format.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/v6_only.hpp>
#include <asio/post.hpp>

#include "log/log.h"
#include "policy/responder.h"
#include "smtp/session.h"

namespace moat::net {

using asio::ip::tcp;

struct Server::Worker {
  asio::io_context io{1};  // one thread per loop: no internal locking needed
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::thread thread;
  // This loop's resolver, made anew when a reload changes the DNS settings
  // (sessions that started before keep the one they have).
  std::shared_ptr<dns::Resolver> resolver;

  std::shared_ptr<dns::Resolver> resolver_for(const dns::Options& options) {
    if (!resolver || resolver->options() != options) {
      try {
        resolver = std::make_shared<dns::Resolver>(io, options);
      } catch (const std::exception& e) {
        log::error("smtpd", "DNS resolver: {}", e.what());
        resolver.reset();
      }
    }
    return resolver;
  }

  // This loop's policy client: its connections serve every session here.
  std::shared_ptr<policy::PolicyClient> policy_client = std::make_shared<policy::PolicyClient>(io);

  // This loop's state store, made anew when the backend changes.
  std::shared_ptr<const state::Backend> backend;
  std::shared_ptr<state::Store> store;

  std::shared_ptr<state::Store> store_for(std::shared_ptr<const state::Backend> current) {
    if (current != backend) {
      backend = std::move(current);
      store = backend ? backend->make_store(io) : nullptr;
    }
    return store;
  }
};

Server::Server(std::vector<tcp::endpoint> endpoints, size_t workers,
               deliver::DeliveryService& delivery, std::shared_ptr<const smtp::SmtpdConfig> config)
    : endpoints_(std::move(endpoints)), delivery_(delivery), config_(std::move(config)) {
  for (size_t i = 0; i < std::max<size_t>(workers, 1); ++i)
    workers_.push_back(std::make_unique<Worker>());
}

Server::~Server() {
  for (auto& worker : workers_) {
    worker->io.stop();
    if (worker->thread.joinable()) worker->thread.join();
  }
}

std::string Server::bind() {
  for (auto endpoint : endpoints_) {
    for (auto& worker : workers_) {
      auto acceptor = std::make_unique<tcp::acceptor>(worker->io);
      asio::error_code ec;
      acceptor->open(endpoint.protocol(), ec);
      if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
      if (!ec) {
        int one = 1;
        ::setsockopt(acceptor->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
        if (endpoint.address().is_v6()) acceptor->set_option(asio::ip::v6_only(true), ec);
      }
      if (!ec) acceptor->bind(endpoint, ec);
      if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
      if (ec) return fmt::format("bind {}: {}", endpoint.address().to_string(), ec.message());
      // Port 0: the first worker's kernel-chosen port is shared by the others.
      endpoint = acceptor->local_endpoint();
      worker->acceptors.push_back(std::move(acceptor));
    }
    const auto host = endpoint.address().is_v6() ? "[" + endpoint.address().to_string() + "]"
                                                 : endpoint.address().to_string();
    std::cerr << fmt::format("moat: listening on {}:{}\n", host, endpoint.port()) << std::flush;
  }
  return {};
}

void Server::accept_on(Worker& worker, tcp::acceptor& acceptor) {
  acceptor.async_accept(worker.io, [this, &worker, &acceptor](asio::error_code ec,
                                                              tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (!ec) {
      ++active_sessions_;
      auto config = config_.load();
      smtp::LoopServices services{worker.resolver_for(config->dns),
                                  worker.store_for(store_backend_.load()), worker.policy_client};
      asio::co_spawn(
          worker.io,
          smtp::run_session(std::move(socket), std::move(config), delivery_, std::move(services)),
          [this](std::exception_ptr error) {
            --active_sessions_;
            if (error) {
              try {
                std::rethrow_exception(error);
              } catch (const std::exception& e) {
                log::error("smtpd", "session ended by exception: {}", e.what());
              }
            }
          });
    } else if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space) {
      log::warning("smtpd", "accept: {}", ec.message());
    }
    accept_on(worker, acceptor);
  });
}

namespace {

// (The Responder by shared_ptr: the coroutine may outlive the handler call.)
asio::awaitable<std::string> answer_policy(std::shared_ptr<policy::Responder> responder,
                                           const policy::Attributes& request) {
  co_return co_await responder->answer(request);
}

}  // namespace

std::string Server::serve_policy(policy::Server& policy) {
  for (auto& worker : workers_) {
    // Each connection gets a Responder (its answers last for one mail
    // transaction of its requests) with the configuration of its start,
    // as an SMTP session keeps the one it started with.
    auto error = policy.start_on(worker->io, [this, &worker = *worker] {
      auto config = config_.load();
      smtp::LoopServices services{worker.resolver_for(config->dns),
                                  worker.store_for(store_backend_.load()), worker.policy_client};
      auto responder = std::make_shared<policy::Responder>(std::move(config), std::move(services));
      return policy::Server::Handler([responder](const policy::Attributes& request) {
        return answer_policy(responder, request);
      });
    });
    if (!error.empty()) return error;
  }
  return {};
}

void Server::start() {
  for (auto& worker : workers_) {
    for (auto& acceptor : worker->acceptors) accept_on(*worker, *acceptor);
    worker->thread = std::thread([&io = worker->io] {
      // Keep running while sessions still finish after the acceptors close.
      auto guard = asio::make_work_guard(io);
      io.run();
    });
  }
}

void Server::replace_config(std::shared_ptr<const smtp::SmtpdConfig> config) {
  config_.store(std::move(config));
}

void Server::replace_store_backend(std::shared_ptr<const state::Backend> backend) {
  store_backend_.store(std::move(backend));
}

void Server::shutdown(std::chrono::seconds grace) {
  for (auto& worker : workers_) {
    asio::post(worker->io, [&worker] {
      for (auto& acceptor : worker->acceptors) {
        asio::error_code ignored;
        acceptor->close(ignored);
      }
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (active_sessions_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (active_sessions_.load() > 0) {
    log::warning("master", "stopping with {} sessions still open", active_sessions_.load());
  }
  for (auto& worker : workers_) worker->io.stop();
  for (auto& worker : workers_) {
    if (worker->thread.joinable()) worker->thread.join();
  }
}

}  // namespace moat::net
