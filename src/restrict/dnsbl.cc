// DNS block and allow lists (being written): recognised, DUNNO for now.
#include "restrict/evaluation.h"

namespace moat::restriction {

void Engine::prefetch_client(std::string_view, dns::AnswerSet&) const {}

Verdict reject_rbl_client(const Step&, Request&) {
  return Verdict::dunno();
}
Verdict reject_rhsbl_client(const Step&, Request&) {
  return Verdict::dunno();
}
Verdict reject_rhsbl_reverse_client(const Step&, Request&) {
  return Verdict::dunno();
}
Verdict reject_rhsbl_helo(const Step&, Request&) {
  return Verdict::dunno();
}
Verdict reject_rhsbl_sender(const Step&, Request&) {
  return Verdict::dunno();
}
Verdict reject_rhsbl_recipient(const Step&, Request&) {
  return Verdict::dunno();
}
Verdict permit_dnswl_client(const Step&, Request&) {
  return Verdict::dunno();
}
Verdict permit_rhswl_client(const Step&, Request&) {
  return Verdict::dunno();
}

}  // namespace moat::restriction
