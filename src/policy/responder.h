// moat as Postfix's policy server: a request's attributes become the
// restriction context a session would have at that stage, the
// moat_policy_restrictions list is evaluated for it (SPF, greylisting,
// DNS lists, tables: everything a session's restrictions can do, with the
// same state), and the verdict goes back as one policy action.
//
//   refused      "550 5.7.23 Message rejected due to: ...", "450 4.2.0 ..."
//                (Postfix puts "<rcpt>: Recipient address rejected: " in
//                front, so moat leaves its own off)
//   greylisted   "DEFER_IF_PERMIT 4.2.0 Greylisted, see ..." (any pending
//                defer_if_permit)
//   accepted     "OK" for a permit; "PREPEND header" when a restriction adds
//                a header (the first: one action per answer); else "DUNNO"
//
// One Responder per policy connection: its SPF results and greylisting
// decisions last while the requests carry the same `instance` (one mail
// transaction), as a session's do.
#pragma once

#include <memory>
#include <string>

#include <asio/awaitable.hpp>

#include "policy/attributes.h"
#include "restrict/answers.h"
#include "smtp/session.h"
#include "smtp/smtpd_config.h"

namespace moat::policy {

class Responder {
 public:
  Responder(std::shared_ptr<const smtp::SmtpdConfig> config, smtp::LoopServices services);

  // The action for one request (the value of its "action=" line).
  asio::awaitable<std::string> answer(const Attributes& request);

 private:
  std::shared_ptr<const smtp::SmtpdConfig> config_;
  restriction::Answers answers_;
  std::string instance_;  // the transaction the answers belong to
};

// A reply's text as a policy action gives it: without the "<name>: Class
// rejected: " a restriction put in front (Postfix adds its own).
std::string action_text(std::string_view reply_text);

}  // namespace moat::policy
