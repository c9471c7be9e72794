#include "state/lmdb_store.h"

#include <charconv>

#include <fmt/format.h>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

namespace moat::state {
namespace {

// A write on its way through the writer thread. Holding `work_` keeps the
// caller's loop from running out of work while the write is queued.
template <typename T, typename Body, typename Handler>
class Job final : public LmdbJob {
 public:
  Job(Body body, Handler handler, const asio::any_io_executor& fallback)
      : body_(std::move(body)),
        handler_(std::move(handler)),
        work_(asio::make_work_guard(handler_, fallback)) {}

  void apply(LmdbWrite& write) override { result_ = body_(write); }

  void finish(const std::string* commit_error) override {
    if (commit_error) result_ = std::unexpected(*commit_error);
    asio::post(work_.get_executor(),
               [handler = std::move(handler_), result = std::move(result_)]() mutable {
                 std::move(handler)(std::move(result));
               });
    work_.reset();
  }

 private:
  Body body_;
  Handler handler_;
  asio::executor_work_guard<asio::associated_executor_t<Handler, asio::any_io_executor>> work_;
  Result<T> result_;
};

std::optional<int64_t> parse_integer(std::string_view text) {
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

class LmdbStore final : public Store {
 public:
  LmdbStore(std::shared_ptr<LmdbDatabase> database, asio::io_context& loop)
      : database_(std::move(database)), loop_(loop), reader_(*database_) {}

  ~LmdbStore() override { database_->wait_idle(); }

  std::string_view kind() const override { return "lmdb"; }

  asio::awaitable<Result<std::optional<std::string>>> get(std::string key) override {
    co_return reader_.get(key);
  }

  asio::awaitable<Result<void>> set(std::string key, std::string value,
                                    std::chrono::seconds ttl) override {
    return write<void>([key = std::move(key), value = std::move(value), ttl](LmdbWrite& w) {
      return w.put(key, value, ttl);
    });
  }

  asio::awaitable<Result<int64_t>> increment(std::string key, int64_t by,
                                             std::chrono::seconds ttl) override {
    return write<int64_t>([key = std::move(key), by, ttl](LmdbWrite& w) -> Result<int64_t> {
      const auto stored = w.get(key);
      if (!stored) return std::unexpected(stored.error());
      int64_t value = 0;
      if (*stored) {
        const auto parsed = parse_integer(**stored);
        if (!parsed) return std::unexpected(fmt::format("lmdb: {} is not an integer", key));
        value = *parsed;
      }
      if (__builtin_add_overflow(value, by, &value)) {
        return std::unexpected(fmt::format("lmdb: {} would overflow", key));
      }
      if (auto put = w.put(key, std::to_string(value), ttl); !put) {
        return std::unexpected(put.error());
      }
      return value;
    });
  }

  asio::awaitable<Result<void>> remove(std::string key) override {
    return write<void>([key = std::move(key)](LmdbWrite& w) { return w.remove(key); });
  }

  asio::awaitable<Result<GreylistSeen>> greylist(std::string key, GreylistRule rule) override {
    return write<GreylistSeen>([key = std::move(key), rule](LmdbWrite& w) -> Result<GreylistSeen> {
      const auto stored = w.get(key);
      if (!stored) return std::unexpected(stored.error());
      const auto step = greylist_step(*stored, rule);
      if (auto put = w.put(key, step.value, std::chrono::seconds(rule.max_age)); !put) {
        return std::unexpected(put.error());
      }
      return step.seen;
    });
  }

  asio::awaitable<Result<int64_t>> count_event(std::string key, int64_t now,
                                               std::chrono::seconds interval,
                                               std::chrono::seconds ttl) override {
    return write<int64_t>(
        [key = std::move(key), now, interval, ttl](LmdbWrite& w) -> Result<int64_t> {
          const auto stored = w.get(key);
          if (!stored) return std::unexpected(stored.error());
          const auto step = count_event_step(*stored, now, interval);
          if (step.value) {
            if (auto put = w.put(key, *step.value, ttl); !put) return std::unexpected(put.error());
          }
          return step.count;
        });
  }

 private:
  // Queues `body` for the writer; the awaiting coroutine resumes on its own
  // loop with what the body returned (or the commit's error).
  template <typename T, typename Body>
  asio::awaitable<Result<T>> write(Body body) {
    return asio::async_initiate<const asio::use_awaitable_t<>&, void(Result<T>)>(
        [database = database_, fallback = asio::any_io_executor(loop_.get_executor())](auto handler,
                                                                                       Body body) {
          using Handler = decltype(handler);
          database->submit(std::make_unique<Job<T, Body, Handler>>(std::move(body),
                                                                   std::move(handler), fallback));
        },
        asio::use_awaitable, std::move(body));
  }

  std::shared_ptr<LmdbDatabase> database_;
  asio::io_context& loop_;
  LmdbReader reader_;
};

}  // namespace

std::unique_ptr<Store> make_lmdb_store(std::shared_ptr<LmdbDatabase> database,
                                       asio::io_context& loop) {
  return std::make_unique<LmdbStore>(std::move(database), loop);
}

}  // namespace moat::state
