#include "restrict/answers.h"

#include "log/log.h"

namespace moat::restriction {

Answers::Answers(std::shared_ptr<dns::Resolver> resolver, std::shared_ptr<state::Store> store,
                 std::shared_ptr<policy::PolicyClient> policy_client)
    : dns_(std::move(resolver)),
      store_(std::move(store)),
      policy_client_(std::move(policy_client)) {}

void Answers::attach(Context& context) {
  context.dns = &dns_;
  context.spf = &spf_;
  context.greylist = &greylist_;
  context.policy = &policy_;
}

void Answers::end_transaction() {
  spf_.clear();
  greylist_.clear();
  policy_.clear();
}

bool Answers::has_needed() const {
  return dns_.has_needed() || spf_.has_needed() || greylist_.has_needed() || policy_.has_needed();
}

Verdict Answers::evaluate(const Engine& engine, Check check, const Context& context,
                          Effects& effects) {
  dns_.trim();
  const auto mark = effects.mark();
  auto verdict = engine.check(check, context, effects);
  if (verdict.is_pending()) effects.roll_back(mark);
  return verdict;
}

asio::awaitable<Verdict> Answers::finish_pending(const Engine& engine, Check check,
                                                 const Context& context, Effects& effects,
                                                 std::string_view client_ip,
                                                 std::string_view receiver, std::string_view who) {
  // Each round answers at least one more question; the bound is a safety
  // net against a restriction that keeps asking.
  constexpr int kMaxRounds = 64;
  const auto mark = effects.mark();
  for (int round = 1;; ++round) {
    if (round > kMaxRounds || !has_needed()) {
      log::warning("smtpd", "{}: restriction check still waits for DNS after {} rounds", who,
                   round);
      co_return Verdict::reject({451, "4.3.5", "Server configuration error"});
    }
    co_await dns_.fetch_needed();
    if (spf_.has_needed()) co_await spf_.evaluate_needed(dns_.resolver(), client_ip, receiver, who);
    if (greylist_.has_needed()) co_await greylist_.decide_needed(store_.get(), who);
    if (policy_.has_needed()) co_await policy_.query_needed(policy_client_.get());
    auto verdict = engine.check(check, context, effects);
    if (!verdict.is_pending()) co_return verdict;
    effects.roll_back(mark);
  }
}

}  // namespace moat::restriction
