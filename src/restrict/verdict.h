// The outcome of a restriction or of a whole check: keep going (dunno),
// accept, refuse with a reply, or "pending": a DNS answer it needs is not
// known yet (the session looks it up and evaluates the check again, see
// restrictions.h); and the side effects Postfix attaches to a
// decision (log lines, headers to prepend, discard, a pending
// defer_if_permit, a sleep). Expected failures travel as verdicts, never as
// exceptions.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "smtp/reply.h"

namespace moat::restriction {

struct Verdict {
  enum class Kind { kDunno, kPermit, kReject, kPending };
  Kind kind = Kind::kDunno;
  smtp::Reply reply;  // for kReject: the 4xx/5xx reply the client gets

  static Verdict dunno() { return {}; }
  static Verdict permit() { return {Kind::kPermit, {}}; }
  static Verdict reject(smtp::Reply reply) { return {Kind::kReject, std::move(reply)}; }
  static Verdict pending() { return {Kind::kPending, {}}; }

  bool is_dunno() const { return kind == Kind::kDunno; }
  bool is_permit() const { return kind == Kind::kPermit; }
  bool is_reject() const { return kind == Kind::kReject; }
  bool is_pending() const { return kind == Kind::kPending; }
};

// A line the session logs in Postfix's reject format with another action
// word: "warn", "hold", "discard", "filter", "redirect", "reject_warning".
struct Event {
  std::string action;
  std::string text;
};

// What evaluating restrictions asks of the session beside the verdict.
// One Effects lives as long as what it applies to: a request, or the mail
// transaction for `prepend` and `discard`.
struct Effects {
  std::vector<Event> events;                   // to log, in order, before any reject line
  std::vector<std::string> warnings;           // "warning: ..." lines (DNS trouble)
  std::vector<std::string> prepend;            // "Header: text" lines for the accepted message
  bool discard = false;                        // accept the message, then drop it
  std::optional<smtp::Reply> defer_if_permit;  // turns a later permit into this reply
  std::chrono::seconds sleep{0};               // pause before the reply (restriction "sleep N")

  void clear() { *this = Effects{}; }

  // What an evaluation that ends pending must undo before it runs again.
  struct Mark {
    size_t events = 0;
    size_t warnings = 0;
    size_t prepend = 0;
    bool discard = false;
    bool defer_if_permit = false;
    std::chrono::seconds sleep{0};
  };
  Mark mark() const {
    return {events.size(), warnings.size(), prepend.size(), discard, defer_if_permit.has_value(),
            sleep};
  }
  void roll_back(const Mark& mark) {
    events.resize(mark.events);
    warnings.resize(mark.warnings);
    prepend.resize(mark.prepend);
    discard = mark.discard;
    if (!mark.defer_if_permit) defer_if_permit.reset();
    sleep = mark.sleep;
  }
};

}  // namespace moat::restriction
