// What restriction checks may wait for, and the asynchronous half of a
// check: DNS answers (dns::AnswerSet), SPF results (spf::ResultSet),
// greylisting decisions (greylist::DecisionSet) and policy server answers
// (policy::Queries), with the event loop's resolver, state store and policy
// client that answer them.
//
// The engine never waits (restrictions.h): a restriction whose answer is
// not here notes the question and the check ends pending. evaluate() runs a
// check in place; only a pending check goes through finish_pending(), which
// answers every noted question and runs the check again, until it decides.
// An SMTP session and a policy server connection each own one Answers.
#pragma once

#include <memory>
#include <string_view>

#include <asio/awaitable.hpp>

#include "dns/answer_set.h"
#include "greylist/decision.h"
#include "policy/queries.h"
#include "restrict/restrictions.h"
#include "spf/result_set.h"
#include "state/store.h"

namespace moat::restriction {

class Answers {
 public:
  Answers(std::shared_ptr<dns::Resolver> resolver, std::shared_ptr<state::Store> store,
          std::shared_ptr<policy::PolicyClient> policy_client);

  // Points the context at these answers.
  void attach(Context& context);
  // Forgets what belongs to one mail transaction (SPF results, greylisting
  // decisions, policy answers); DNS answers stay for the session.
  void end_transaction();

  dns::AnswerSet& dns() { return dns_; }

  // One check, evaluated in place; a pending verdict leaves `effects` as
  // they were.
  Verdict evaluate(const Engine& engine, Check check, const Context& context, Effects& effects);
  // Answers the noted questions and evaluates again until the check
  // decides (at most 64 rounds, then 451 4.3.5 with a warning). SPF checks
  // are made for `client_ip` with `receiver` as %{r}; log lines name `who`.
  asio::awaitable<Verdict> finish_pending(const Engine& engine, Check check, const Context& context,
                                          Effects& effects, std::string_view client_ip,
                                          std::string_view receiver, std::string_view who);

 private:
  bool has_needed() const;

  dns::AnswerSet dns_;
  spf::ResultSet spf_;
  greylist::DecisionSet greylist_;
  policy::Queries policy_;
  std::shared_ptr<state::Store> store_;
  std::shared_ptr<policy::PolicyClient> policy_client_;
};

}  // namespace moat::restriction
