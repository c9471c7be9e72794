#include "deliver/maildir.h"

#include "deliver/group_sync.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <fmt/format.h>

namespace moat::deliver {
namespace {

std::atomic<unsigned long> delivery_counter{0};

std::string errno_text(std::string_view what, const std::string& path) {
  return fmt::format("{} {}: {}", what, path, std::strerror(errno));
}

// mkdir -p for the Maildir and its three subdirectories.
std::string make_maildir(const std::string& root) {
  std::string path;
  for (size_t pos = 0; pos != std::string::npos;) {
    pos = root.find('/', pos + 1);
    path = root.substr(0, pos);
    if (!path.empty() && ::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
      return errno_text("mkdir", path);
    }
  }
  for (const char* sub : {"/tmp", "/new", "/cur"}) {
    const std::string dir = root + sub;
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return errno_text("mkdir", dir);
  }
  return {};
}

std::string host_name() {
  char buffer[256] = {};
  gethostname(buffer, sizeof buffer - 1);
  std::string name(buffer);
  // '/' and ':' are not allowed in Maildir file names.
  for (auto& c : name) {
    if (c == '/' || c == ':') c = '_';
  }
  return name;
}

std::string write_all(int fd, const std::string& path, std::string_view head,
                      std::string_view body) {
  iovec parts[2] = {{const_cast<char*>(head.data()), head.size()},
                    {const_cast<char*>(body.data()), body.size()}};
  int first = 0;
  while (first < 2) {
    const ssize_t written = ::writev(fd, parts + first, 2 - first);
    if (written < 0) {
      if (errno == EINTR) continue;
      return errno_text("write", path);
    }
    size_t left = static_cast<size_t>(written);
    while (first < 2 && left >= parts[first].iov_len) left -= parts[first++].iov_len;
    if (first < 2) {
      parts[first].iov_base = static_cast<char*>(parts[first].iov_base) + left;
      parts[first].iov_len -= left;
    }
  }
  return {};
}

}  // namespace

std::string write_to_maildir(const std::string& maildir, std::string_view head,
                             std::string_view body, SyncMethod sync) {
  std::string root = maildir;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  static const std::string host = host_name();
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
  const std::string name = fmt::format("{}.M{}P{}Q{}.{}", micros / 1000000, micros % 1000000,
                                       getpid(), delivery_counter.fetch_add(1), host);
  const std::string tmp_path = root + "/tmp/" + name;
  const std::string new_path = root + "/new/" + name;

  int fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 && errno == ENOENT) {
    if (auto error = make_maildir(root); !error.empty()) return error;
    fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  }
  if (fd < 0) return errno_text("create", tmp_path);
  std::string error = write_all(fd, tmp_path, head, body);
  if (error.empty() && sync == SyncMethod::kFsync && ::fsync(fd) != 0) {
    error = errno_text("fsync", tmp_path);
  }
  if (::close(fd) != 0 && error.empty()) error = errno_text("close", tmp_path);
  if (error.empty() && sync == SyncMethod::kSyncfs) error = sync_filesystem(root + "/tmp");
  if (error.empty() && ::rename(tmp_path.c_str(), new_path.c_str()) != 0) {
    error = errno_text("rename", tmp_path);
  }
  if (!error.empty()) {
    ::unlink(tmp_path.c_str());
    return error;
  }
  return sync_directory(root + "/new");
}

std::string append_to_mbox(const std::string& path, std::string_view from_line,
                           std::string_view head, std::string_view body) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return errno_text("open", path);
  if (::flock(fd, LOCK_EX) != 0) {
    ::close(fd);
    return errno_text("lock", path);
  }
  struct stat before {};
  ::fstat(fd, &before);
  // mboxrd quoting: a line starting with (>*)From gets one more '>'.
  std::string text(from_line);
  text += head;
  size_t start = 0;
  while (start < body.size()) {
    size_t end = body.find('\n', start);
    end = end == std::string_view::npos ? body.size() : end + 1;
    std::string_view line = body.substr(start, end - start);
    if (line.find_first_not_of('>') != std::string_view::npos &&
        line.substr(line.find_first_not_of('>')).starts_with("From ")) {
      text += '>';
    }
    text += line;
    start = end;
  }
  if (text.back() != '\n') text += '\n';
  text += '\n';
  std::string error = write_all(fd, path, text, {});
  if (error.empty() && ::fsync(fd) != 0) error = errno_text("fsync", path);
  if (!error.empty()) {
    // Leave the mailbox as it was: a half-written message must not appear.
    [[maybe_unused]] int rc = ::ftruncate(fd, before.st_size);
  }
  ::close(fd);
  return error;
}

}  // namespace moat::deliver
