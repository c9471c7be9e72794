// What a restriction may look at: the session facts at the current stage.
// The engine is pure: it reads this, never a socket.
#pragma once

#include <string>

#include <asio/ip/address.hpp>

#include "deliver/destinations.h"

namespace moat::restriction {

enum class Stage { kConnect, kHelo, kMail, kRcpt, kData, kEndOfData };

struct Context {
  Stage stage = Stage::kConnect;
  asio::ip::address client_address;
  std::string client_name = "unknown";
  std::string helo;
  std::string sender;     // internal form; empty for <>
  std::string recipient;  // internal form, as the client wrote it
  const deliver::ResolvedAddress* resolved_recipient = nullptr;
  bool client_in_mynetworks = false;
  bool sasl_authenticated = false;
};

}  // namespace moat::restriction
