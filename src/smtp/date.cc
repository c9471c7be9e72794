#include "smtp/date.h"

namespace moat::smtp {

std::string rfc2822_date(std::time_t when) {
  tm local{};
  localtime_r(&when, &local);
  char buffer[64];
  std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S %z (%Z)", &local);
  return buffer;
}

}  // namespace moat::smtp
