// What a restriction may look at: the session facts at the current stage.
// The engine is pure: it reads this, never a socket. Strings are views into
// the session's own state, valid for one evaluation.
#pragma once

#include <string_view>

#include <asio/ip/address.hpp>

#include "deliver/destinations.h"

namespace moat::dns {
class AnswerSet;
}
namespace moat::spf {
class ResultSet;
}
namespace moat::greylist {
class DecisionSet;
}
namespace moat::policy {
class Queries;
}

namespace moat::restriction {

// How the client's names were found (Postfix's SMTPD_PEER_CODE_*): kTemp when
// DNS failed for now, kPerm when there is no name, kForged when the PTR name
// does not resolve back to the client's address.
enum class NameStatus { kOk, kTemp, kPerm, kForged };

// The SMTP stage a request is evaluated at (Postfix's "where").
enum class Stage { kConnect, kHelo, kMail, kRcpt, kData, kEndOfData };

struct Context {
  Stage stage = Stage::kConnect;
  asio::ip::address client_address;
  std::string_view client_ip;           // client_address as text
  std::string_view reversed_client_ip;  // "d.c.b.a" or IPv6 nibbles, for DNS lists; may be empty
  std::string_view client_name = "unknown";          // verified host name
  std::string_view reverse_client_name = "unknown";  // PTR name, unverified
  NameStatus client_name_status = NameStatus::kPerm;
  NameStatus reverse_client_name_status = NameStatus::kPerm;
  std::string_view helo;
  bool has_helo = false;
  std::string_view sender;  // internal form; empty for <>
  bool has_sender = false;
  std::string_view recipient;  // internal form, as the client wrote it
  const deliver::ResolvedAddress* resolved_recipient = nullptr;
  int recipient_count = 0;  // recipients accepted so far in this transaction
  bool client_in_mynetworks = false;
  bool sasl_authenticated = false;
  bool tls = false;
  // What a policy server is told besides (check_policy_service).
  std::string_view protocol_name;  // "SMTP", "ESMTP"
  std::string_view queue_id;       // empty before the first accepted recipient
  std::string_view instance;       // the same for every request of one transaction
  long long size = 0;              // MAIL FROM's SIZE=, else 0
  unsigned client_port = 0;
  std::string_view server_address;
  unsigned server_port = 0;
  // The client sent commands before the banner, or ahead of a reply without
  // having negotiated PIPELINING (reject_unauth_pipelining).
  bool improper_pipelining = false;
  // The session's DNS answers; null: every DNS question fails temporarily.
  dns::AnswerSet* dns = nullptr;
  // The session's SPF results (check_spf); null: every result is temperror.
  spf::ResultSet* spf = nullptr;
  // The session's greylisting decisions; null: the state store is missing.
  greylist::DecisionSet* greylist = nullptr;
  // The session's policy server queries; null: every query fails.
  policy::Queries* policy = nullptr;
};

}  // namespace moat::restriction
