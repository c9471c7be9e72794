#include "deliver/group_sync.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace moat::deliver {
namespace {

// The sync rounds of one target: `started` and `completed` count rounds. A
// caller needs round started+1 as of its arrival, which is certain to begin
// after everything the caller wrote before arriving.
struct Rounds {
  std::mutex mutex;
  std::condition_variable done;
  uint64_t started = 0;
  uint64_t completed = 0;
  bool running = false;
  std::string error;  // of the last completed round
};

std::shared_ptr<Rounds> rounds_of(const std::string& key) {
  // One entry per Maildir or file system ever synced: bounded by the mailboxes.
  static std::mutex mutex;
  static std::unordered_map<std::string, std::shared_ptr<Rounds>> all;
  std::lock_guard lock(mutex);
  auto& entry = all[key];
  if (!entry) entry = std::make_shared<Rounds>();
  return entry;
}

std::string group_commit(const std::string& key, const std::function<std::string()>& sync) {
  const auto rounds = rounds_of(key);
  std::unique_lock lock(rounds->mutex);
  const uint64_t needed = rounds->started + 1;
  while (rounds->completed < needed) {
    if (rounds->running) {
      rounds->done.wait(lock);
      continue;
    }
    rounds->running = true;
    const uint64_t round = ++rounds->started;
    lock.unlock();
    std::string error = sync();
    lock.lock();
    rounds->completed = round;
    rounds->running = false;
    rounds->error = std::move(error);
    rounds->done.notify_all();
  }
  return rounds->error;
}

std::string sync_with(const std::string& directory, int (*sync)(int), const char* what) {
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return "open " + directory + ": " + std::strerror(errno);
  std::string error;
  if (sync(fd) != 0) error = std::string(what) + " " + directory + ": " + std::strerror(errno);
  ::close(fd);
  return error;
}

}  // namespace

std::string sync_directory(const std::string& directory) {
  return group_commit("dir:" + directory, [&] { return sync_with(directory, ::fsync, "fsync"); });
}

std::string sync_filesystem(const std::string& directory) {
  struct stat status {};
  if (::stat(directory.c_str(), &status) != 0) {
    return "stat " + directory + ": " + std::strerror(errno);
  }
  return group_commit("fs:" + std::to_string(status.st_dev),
                      [&] { return sync_with(directory, ::syncfs, "syncfs"); });
}

}  // namespace moat::deliver
