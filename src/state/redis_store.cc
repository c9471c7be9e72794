// The Redis store (see redis_store.h): each Store call is one command or
// one script on the loop's pipelined connection.
#include "state/redis_store.h"

#include <algorithm>
#include <charconv>

#include "state/redis_connection.h"
#include "state/redis_scripts.h"

namespace moat::state {
namespace {

using Reply = resp::Reply;

// A command's words. (Not a braced list inside the coroutines: GCC 12
// miscompiles string literals in those, "array used as initializer".)
template <typename... Words>
std::vector<std::string> words(Words&&... word) {
  std::vector<std::string> all;
  all.reserve(sizeof...(word));
  (all.emplace_back(std::forward<Words>(word)), ...);
  return all;
}

enum ScriptId { kGreylist, kCountEvent, kGreylistDecision, kIncrement, kScripts };

// What the Store's coroutines share: they hold it, not the Store, so a
// Store destroyed while they wait leaves them nothing dangling.
struct Shared {
  Shared(asio::io_context& loop, RedisOptions options) : connection(loop, std::move(options)) {}

  RedisConnection connection;
  const std::string scripts[kScripts] = {redis_scripts::greylist(), redis_scripts::count_event(),
                                         redis_scripts::greylist_decision(),
                                         redis_scripts::increment()};
  std::string shas[kScripts];  // learnt from SCRIPT LOAD
};

std::unexpected<std::string> failure(const Shared& shared, std::string_view why) {
  return std::unexpected("redis " + shared.connection.options().address_text() + ": " +
                         std::string(why));
}

// The reply, with an error reply turned into an error text.
asio::awaitable<Result<Reply>> command(std::shared_ptr<Shared> shared,
                                       std::vector<std::string> args) {
  auto reply = co_await shared->connection.call(std::move(args));
  if (reply && reply->type == Reply::Type::kError) co_return failure(*shared, reply->text);
  co_return reply;
}

// Runs a script by its digest, loading it first when the digest is not
// known yet, and sending it whole when the server has forgotten it.
asio::awaitable<Result<Reply>> script(std::shared_ptr<Shared> shared, ScriptId id,
                                      std::vector<std::string> keys,
                                      std::vector<std::string> args) {
  if (shared->shas[id].empty()) {
    auto loaded = co_await command(shared, words("SCRIPT", "LOAD", shared->scripts[id]));
    if (!loaded) co_return loaded;
    if (loaded->type != Reply::Type::kBulk) co_return failure(*shared, "SCRIPT LOAD: no digest");
    shared->shas[id] = loaded->text;
  }
  auto call = words("EVALSHA", shared->shas[id], std::to_string(keys.size()));
  call.insert(call.end(), keys.begin(), keys.end());
  call.insert(call.end(), args.begin(), args.end());
  auto reply = co_await shared->connection.call(call);
  if (reply && reply->type == Reply::Type::kError && reply->text.starts_with("NOSCRIPT")) {
    call[0] = "EVAL";
    call[1] = shared->scripts[id];
    reply = co_await shared->connection.call(std::move(call));
  }
  if (reply && reply->type == Reply::Type::kError) co_return failure(*shared, reply->text);
  co_return reply;
}

bool parse_int(std::string_view text, int64_t& value) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return !text.empty() && error == std::errc() && end == text.data() + text.size();
}

std::unexpected<std::string> unexpected_reply(const Shared& shared, std::string_view what,
                                              const Reply& reply) {
  return failure(shared, std::string(what) + ": unexpected reply " + resp::describe(reply));
}

// A time to live for Redis: longer than a century is forever enough (and
// Redis refuses an EX that overflows its milliseconds).
std::string ttl_text(std::chrono::seconds ttl) {
  constexpr int64_t kCentury = 100LL * 365 * 86400;
  return std::to_string(std::min<int64_t>(ttl.count(), kCentury));
}

class RedisStore final : public Store {
 public:
  RedisStore(asio::io_context& loop, RedisOptions options)
      : shared_(std::make_shared<Shared>(loop, std::move(options))) {}
  ~RedisStore() override { shared_->connection.shutdown(); }

  std::string_view kind() const override { return "redis"; }

  asio::awaitable<Result<std::optional<std::string>>> get(std::string key) override {
    return get_(shared_, std::move(key));
  }
  asio::awaitable<Result<void>> set(std::string key, std::string value,
                                    std::chrono::seconds ttl) override {
    return set_(shared_, std::move(key), std::move(value), ttl);
  }
  asio::awaitable<Result<int64_t>> increment(std::string key, int64_t by,
                                             std::chrono::seconds ttl) override {
    return increment_(shared_, std::move(key), by, ttl);
  }
  asio::awaitable<Result<void>> remove(std::string key) override {
    return remove_(shared_, std::move(key));
  }
  asio::awaitable<Result<GreylistSeen>> greylist(std::string key, GreylistRule rule) override {
    return greylist_(shared_, std::move(key), rule);
  }
  asio::awaitable<Result<int64_t>> count_event(std::string key, int64_t now,
                                               std::chrono::seconds interval,
                                               std::chrono::seconds ttl) override {
    return count_event_(shared_, std::move(key), now, interval, ttl);
  }
  asio::awaitable<Result<GreylistAnswer>> greylist_decision(GreylistQuestion question) override {
    return greylist_decision_(shared_, std::move(question));
  }

 private:
  // The coroutines are static and hold `shared`: see Shared.
  static asio::awaitable<Result<std::optional<std::string>>> get_(std::shared_ptr<Shared> shared,
                                                                  std::string key) {
    auto reply = co_await command(shared, words("GET", std::move(key)));
    if (!reply) co_return std::unexpected(reply.error());
    if (reply->type == Reply::Type::kNull) co_return std::nullopt;
    if (reply->type != Reply::Type::kBulk) co_return unexpected_reply(*shared, "GET", *reply);
    co_return std::move(reply->text);
  }

  static asio::awaitable<Result<void>> set_(std::shared_ptr<Shared> shared, std::string key,
                                            std::string value, std::chrono::seconds ttl) {
    // A time to live of 0 or less: written and expired at once, as in LMDB
    // (SET refuses such an EX).
    auto args = ttl.count() > 0
                    ? words("SET", std::move(key), std::move(value), "EX", ttl_text(ttl))
                    : words("DEL", std::move(key));
    auto reply = co_await command(shared, std::move(args));
    if (!reply) co_return std::unexpected(reply.error());
    if (reply->type != Reply::Type::kSimple && reply->type != Reply::Type::kInteger) {
      co_return unexpected_reply(*shared, "SET", *reply);
    }
    co_return Result<void>();
  }

  static asio::awaitable<Result<int64_t>> increment_(std::shared_ptr<Shared> shared,
                                                     std::string key, int64_t by,
                                                     std::chrono::seconds ttl) {
    auto reply = co_await script(shared, kIncrement, words(std::move(key)),
                                 words(std::to_string(by), ttl_text(ttl)));
    if (!reply) co_return std::unexpected(reply.error());
    if (reply->type != Reply::Type::kInteger) {
      co_return unexpected_reply(*shared, "increment", *reply);
    }
    co_return reply->integer;
  }

  static asio::awaitable<Result<void>> remove_(std::shared_ptr<Shared> shared, std::string key) {
    auto reply = co_await command(shared, words("DEL", std::move(key)));
    if (!reply) co_return std::unexpected(reply.error());
    if (reply->type != Reply::Type::kInteger) co_return unexpected_reply(*shared, "DEL", *reply);
    co_return Result<void>();
  }

  static asio::awaitable<Result<GreylistSeen>> greylist_(std::shared_ptr<Shared> shared,
                                                         std::string key, GreylistRule rule) {
    auto reply = co_await script(
        shared, kGreylist, words(std::move(key)),
        words(std::to_string(rule.now), std::to_string(rule.delay),
              std::to_string(rule.retry_window), ttl_text(std::chrono::seconds(rule.max_age))));
    if (!reply) co_return std::unexpected(reply.error());
    GreylistSeen seen;
    const bool ok = reply->type == Reply::Type::kArray && reply->elements.size() == 2 &&
                    reply->elements[0].type == Reply::Type::kBulk &&
                    parse_int(reply->elements[0].text, seen.first_seen) &&
                    reply->elements[1].type == Reply::Type::kInteger;
    if (!ok) co_return unexpected_reply(*shared, "greylist", *reply);
    seen.was_passed = reply->elements[1].integer != 0;
    co_return seen;
  }

  static asio::awaitable<Result<int64_t>> count_event_(std::shared_ptr<Shared> shared,
                                                       std::string key, int64_t now,
                                                       std::chrono::seconds interval,
                                                       std::chrono::seconds ttl) {
    auto reply = co_await script(shared, kCountEvent, words(std::move(key)),
                                 words(std::to_string(now), ttl_text(interval), ttl_text(ttl)));
    if (!reply) co_return std::unexpected(reply.error());
    int64_t count = 0;
    if (reply->type != Reply::Type::kBulk || !parse_int(reply->text, count)) {
      co_return unexpected_reply(*shared, "count_event", *reply);
    }
    co_return count;
  }

  static asio::awaitable<Result<GreylistAnswer>> greylist_decision_(std::shared_ptr<Shared> shared,
                                                                    GreylistQuestion q) {
    const int64_t allowlist_after = q.client.empty() ? 0 : q.allowlist_after;
    const GreylistRule& rule = q.rule;
    auto reply = co_await script(
        shared, kGreylistDecision, words(std::move(q.triplet), std::move(q.client)),
        words(std::to_string(rule.now), std::to_string(rule.delay),
              std::to_string(rule.retry_window), ttl_text(std::chrono::seconds(rule.max_age)),
              std::to_string(allowlist_after), ttl_text(q.count_interval)));
    if (!reply) co_return std::unexpected(reply.error());
    GreylistAnswer answer;
    const auto& e = reply->elements;
    bool ok = reply->type == Reply::Type::kArray && e.size() == 4 &&
              e[0].type == Reply::Type::kInteger && e[1].type == Reply::Type::kBulk &&
              e[2].type == Reply::Type::kInteger && e[3].type == Reply::Type::kBulk;
    if (ok) {
      answer.allowlisted = e[0].integer != 0;
      answer.seen.was_passed = e[2].integer != 0;
      ok = answer.allowlisted || parse_int(e[1].text, answer.seen.first_seen);
      if (ok && !e[3].text.empty()) {
        int64_t count = 0;
        ok = parse_int(e[3].text, count);
        answer.count = count;
      }
    }
    if (!ok) co_return unexpected_reply(*shared, "greylist_decision", *reply);
    co_return answer;
  }

  std::shared_ptr<Shared> shared_;
};

}  // namespace

std::unique_ptr<Store> make_redis_store(asio::io_context& loop, RedisOptions options) {
  return std::make_unique<RedisStore>(loop, std::move(options));
}

}  // namespace moat::state
