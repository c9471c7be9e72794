// Durable delivery of one message into one Maildir: the file is written in
// tmp/ and made durable, renamed into new/, and the rename is made durable
// (new/ fsync()ed), so that once this returns success the message survives a
// crash and no reader ever sees a partial file in new/. Blocking: call it on
// the delivery thread pool, never on an event-loop thread.
#pragma once

#include <string>
#include <string_view>

namespace moat::deliver {

// How the file's data is made durable before the rename (moat_delivery_sync).
enum class SyncMethod {
  kFsync,   // fsync() of each file: one disk flush per message
  kSyncfs,  // a syncfs() shared by all deliveries in flight (group commit)
};

// `maildir` is the Maildir's path, with or without a trailing '/'; missing
// directories are created. `head` (delivery headers) and `body` are written
// one after the other. Returns an empty string on success, else the error.
std::string write_to_maildir(const std::string& maildir, std::string_view head,
                             std::string_view body, SyncMethod sync = SyncMethod::kFsync);

// Appends the message to an mbox file (virtual(8) mailbox without a trailing
// '/'), with a "From " line and >From quoting, and fsync()s it.
std::string append_to_mbox(const std::string& path, std::string_view from_line,
                           std::string_view head, std::string_view body);

}  // namespace moat::deliver
