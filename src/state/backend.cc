#include "state/backend.h"

#include "state/lmdb_store.h"
#include "state/redis_options.h"
#include "state/redis_store.h"

namespace moat::state {
namespace {

constexpr std::string_view kLmdb = "lmdb:";
constexpr std::string_view kRedis = "redis:";

class LmdbBackend final : public Backend {
 public:
  LmdbBackend(BackendSettings settings, std::shared_ptr<LmdbDatabase> database)
      : Backend(std::move(settings)), database_(std::move(database)) {}
  std::shared_ptr<Store> make_store(asio::io_context& loop) const override {
    return make_lmdb_store(database_, loop);
  }

 private:
  std::shared_ptr<LmdbDatabase> database_;
};

class RedisBackend final : public Backend {
 public:
  RedisBackend(BackendSettings settings, RedisOptions options)
      : Backend(std::move(settings)), options_(std::move(options)) {}
  std::shared_ptr<Store> make_store(asio::io_context& loop) const override {
    return make_redis_store(loop, options_);
  }

 private:
  RedisOptions options_;
};

std::expected<RedisOptions, std::string> redis_options(const BackendSettings& settings) {
  auto options = parse_redis_address(std::string_view(settings.spec).substr(kRedis.size()));
  if (!options) return options;
  options->password = settings.password;
  options->timeout = settings.timeout;
  return options;
}

}  // namespace

std::string check_backend_settings(const BackendSettings& settings) {
  const std::string_view spec = settings.spec;
  if (spec.starts_with(kLmdb)) {
    return spec.size() > kLmdb.size() ? std::string()
                                      : "lmdb: needs a path, as in lmdb:/var/lib/moat/state.lmdb";
  }
  if (spec.starts_with(kRedis)) {
    auto options = redis_options(settings);
    return options ? std::string() : options.error();
  }
  return "expected lmdb:PATH or redis:HOST:PORT[/DB], not \"" + settings.spec + "\"";
}

Result<std::shared_ptr<Backend>> Backend::open(const BackendSettings& settings) {
  if (auto error = check_backend_settings(settings); !error.empty()) {
    return std::unexpected(std::move(error));
  }
  if (settings.spec.starts_with(kLmdb)) {
    auto database = LmdbDatabase::open(settings.spec.substr(kLmdb.size()));
    if (!database) return std::unexpected(database.error());
    return std::make_shared<LmdbBackend>(settings, std::move(*database));
  }
  return std::make_shared<RedisBackend>(settings, *redis_options(settings));
}

}  // namespace moat::state
