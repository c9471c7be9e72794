// Dates as mail headers write them (RFC 5322 3.3), in local time.
#pragma once

#include <ctime>
#include <string>

namespace moat::smtp {

// "Sun, 22 Nov 2026 04:05:06 +0000 (UTC)", as Postfix writes Received: dates.
std::string rfc2822_date(std::time_t when = std::time(nullptr));

}  // namespace moat::smtp
