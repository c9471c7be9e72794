// Group commit for the syncs that make deliveries durable. A caller needs "a
// sync that started after I got here"; concurrent callers share one, so the
// disk sees one flush for a whole batch of messages instead of one each.
// Blocking and thread-safe: called from the delivery pool's threads.
#pragma once

#include <string>

namespace moat::deliver {

// fsync() of `directory` (makes renames into it durable).
std::string sync_directory(const std::string& directory);

// syncfs() of the file system that holds `directory` (makes every write and
// rename on it durable).
std::string sync_filesystem(const std::string& directory);

}  // namespace moat::deliver
