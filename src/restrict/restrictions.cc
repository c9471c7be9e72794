#include "restrict/restrictions.h"

#include <map>

namespace moat::restriction {
namespace {

smtp::Reply relay_denied(const Context& context, int code) {
  const char* enhanced = code < 500 ? "4.7.1" : "5.7.1";
  // Postfix shows the address in its internal (unquoted) form here.
  return {code, enhanced, "<" + context.recipient + ">: Relay access denied"};
}

// reject_unauth_destination and friends: the recipient must be a domain this
// server is the final destination or relay for.
Verdict unauth_destination(const Context& context, const Environment& environment, int code) {
  if (context.stage != Stage::kRcpt || !context.resolved_recipient) return Verdict::dunno();
  if (environment.destinations->is_authorized_destination(*context.resolved_recipient)) {
    return Verdict::dunno();
  }
  return Verdict::reject(relay_denied(context, code));
}

const std::map<std::string, Evaluator, std::less<>>& registry() {
  static const std::map<std::string, Evaluator, std::less<>> table = {
      {"permit", [](const Context&, const Environment&) { return Verdict::permit(); }},
      {"reject",
       [](const Context&, const Environment& e) {
         const int code = e.codes.reject_code;
         return Verdict::reject({code, code < 500 ? "4.7.1" : "5.7.1", "Access denied"});
       }},
      {"defer",
       [](const Context&, const Environment& e) {
         return Verdict::reject({e.codes.defer_code, "4.7.1", "Try again later"});
       }},
      {"permit_mynetworks",
       [](const Context& c, const Environment&) {
         return c.client_in_mynetworks ? Verdict::permit() : Verdict::dunno();
       }},
      {"permit_sasl_authenticated",
       [](const Context& c, const Environment&) {
         return c.sasl_authenticated ? Verdict::permit() : Verdict::dunno();
       }},
      {"permit_auth_destination",
       [](const Context& c, const Environment& e) {
         if (c.stage == Stage::kRcpt && c.resolved_recipient &&
             e.destinations->is_authorized_destination(*c.resolved_recipient)) {
           return Verdict::permit();
         }
         return Verdict::dunno();
       }},
      {"reject_unauth_destination",
       [](const Context& c, const Environment& e) {
         return unauth_destination(c, e, e.codes.relay_domains_reject_code);
       }},
      // Postfix answers 454 here whatever defer_code says.
      {"defer_unauth_destination",
       [](const Context& c, const Environment& e) { return unauth_destination(c, e, 454); }},
  };
  return table;
}

}  // namespace

RestrictionList RestrictionList::compile(const std::vector<std::string>& names,
                                         std::vector<std::string>& errors) {
  RestrictionList list;
  for (const auto& name : names) {
    if (auto it = registry().find(name); it != registry().end()) {
      list.steps_.push_back(it->second);
    } else {
      errors.push_back("unknown restriction: \"" + name + "\"");
    }
  }
  return list;
}

Verdict RestrictionList::evaluate(const Context& context, const Environment& environment) const {
  for (const auto& step : steps_) {
    auto verdict = step(context, environment);
    if (!verdict.is_dunno()) return verdict;
  }
  return Verdict::dunno();
}

}  // namespace moat::restriction
