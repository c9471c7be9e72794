// Queue IDs in Postfix's two formats, unique within this process and very
// unlikely to repeat across restarts: short hexadecimal IDs ("3F1A02C0B41")
// and, with enable_long_queue_ids = yes, long ones ("4Fg3YL1nKVzA9sWZ").
#pragma once

#include <string>

namespace moat::deliver {

std::string new_queue_id(bool long_format);

}  // namespace moat::deliver
