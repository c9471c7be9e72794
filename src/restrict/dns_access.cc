// check_*_{a,mx,ns}_access (being written): recognised, DUNNO for now.
#include "restrict/evaluation.h"

namespace moat::restriction {

#define MOAT_NOT_YET(name)              \
  Verdict name(const Step&, Request&) { \
    return Verdict::dunno();            \
  }
MOAT_NOT_YET(check_client_a_access)
MOAT_NOT_YET(check_client_mx_access)
MOAT_NOT_YET(check_client_ns_access)
MOAT_NOT_YET(check_reverse_client_hostname_a_access)
MOAT_NOT_YET(check_reverse_client_hostname_mx_access)
MOAT_NOT_YET(check_reverse_client_hostname_ns_access)
MOAT_NOT_YET(check_helo_a_access)
MOAT_NOT_YET(check_helo_mx_access)
MOAT_NOT_YET(check_helo_ns_access)
MOAT_NOT_YET(check_sender_a_access)
MOAT_NOT_YET(check_sender_mx_access)
MOAT_NOT_YET(check_sender_ns_access)
MOAT_NOT_YET(check_recipient_a_access)
MOAT_NOT_YET(check_recipient_mx_access)
MOAT_NOT_YET(check_recipient_ns_access)

}  // namespace moat::restriction
