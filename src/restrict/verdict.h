// The outcome of a restriction: keep going (dunno), accept, or refuse with a
// reply. Expected failures travel as verdicts, never as exceptions.
#pragma once

#include <string>

#include "smtp/reply.h"

namespace moat::restriction {

struct Verdict {
  enum class Kind { kDunno, kPermit, kReject };
  Kind kind = Kind::kDunno;
  smtp::Reply reply;  // for kReject: the 4xx/5xx reply the client gets

  static Verdict dunno() { return {}; }
  static Verdict permit() { return {Kind::kPermit, {}}; }
  static Verdict reject(smtp::Reply reply) { return {Kind::kReject, std::move(reply)}; }

  bool is_dunno() const { return kind == Kind::kDunno; }
  bool is_permit() const { return kind == Kind::kPermit; }
  bool is_reject() const { return kind == Kind::kReject; }
};

}  // namespace moat::restriction
