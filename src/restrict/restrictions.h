// Restriction lists (smtpd_relay_restrictions, smtpd_recipient_restrictions,
// ...): compiled once per config snapshot from their names, evaluated per
// request. Each restriction is one small evaluator registered by name in
// restrictions.cc; an unknown name is a configuration error.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "restrict/context.h"
#include "restrict/verdict.h"

namespace moat::restriction {

// The reply-code parameters restrictions answer with.
struct ReplyCodes {
  int reject_code = 554;
  int defer_code = 450;
  int relay_domains_reject_code = 554;
};

struct Environment {
  const deliver::Destinations* destinations = nullptr;
  ReplyCodes codes;
};

using Evaluator = std::function<Verdict(const Context&, const Environment&)>;

class RestrictionList {
 public:
  // Unknown names are reported through `errors` ("unknown restriction: foo").
  static RestrictionList compile(const std::vector<std::string>& names,
                                 std::vector<std::string>& errors);
  // The first restriction that permits or rejects decides; dunno otherwise.
  Verdict evaluate(const Context& context, const Environment& environment) const;
  bool empty() const { return steps_.empty(); }

 private:
  std::vector<Evaluator> steps_;
};

}  // namespace moat::restriction
