// Which state store moat_state_store names, opened once per process, and
// the per-loop Store fronts made from it (see store.h).
//
//   lmdb:/var/lib/moat/state.lmdb       this host only (the default; a
//                                       relative path is from the working directory)
//   redis:HOST:PORT[/DB], redis:[IPv6]:PORT[/DB], redis:unix:/path[/DB]
//
// Settings are checked when the configuration loads (moat check); the
// backend itself (LMDB's environment and writer thread) opens only when the
// server starts, once: a reload that keeps the settings keeps the backend.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <asio/io_context.hpp>

#include "state/store.h"

namespace moat::state {

struct BackendSettings {
  std::string spec;  // moat_state_store
  std::string password;
  std::chrono::milliseconds timeout{1000};
  bool operator==(const BackendSettings&) const = default;
};

// Empty when `settings.spec` is well formed, else what is wrong with it.
std::string check_backend_settings(const BackendSettings& settings);

class Backend {
 public:
  virtual ~Backend() = default;
  // Opens what the settings name (LMDB: creates the database directory's
  // files); an error text when it cannot.
  static Result<std::shared_ptr<Backend>> open(const BackendSettings& settings);
  // A Store for the event loop `loop` (one per loop; destroy it before the loop).
  virtual std::shared_ptr<Store> make_store(asio::io_context& loop) const = 0;
  const BackendSettings& settings() const { return settings_; }

 protected:
  explicit Backend(BackendSettings settings) : settings_(std::move(settings)) {}

 private:
  BackendSettings settings_;
};

}  // namespace moat::state
