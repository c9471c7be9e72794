// The embedded state store: Store fronts on one LMDB database
// (lmdb_database.h), one front per event loop.
//
// A front reads on its own loop (under a microsecond with the pages in
// memory; through the writer a read would wait behind a batch's fsync, a
// fraction of a millisecond at best) and hands every write to the
// database's writer thread. set, increment and remove resume the waiting
// coroutine on its own loop when the batch holding the write has committed.
//
// greylist and count_event are written behind: the front answers at once
// from what this process knows (writes answered and not yet committed, on
// any loop: lmdb_unwritten.h; else the last commit) and queues the write,
// which the writer applies to what is stored by the same rule, atomically
// as ever. So a decision never waits for a disk sync (milliseconds on most
// disks, which would cap decisions at sessions ÷ sync time), and the
// stored state is what it would have been. Within the process the
// read-decide-queue step is atomic (under the unwritten values' lock).
// The price: a write reaches the disk with the next commit (within
// LmdbOptions::behind_delay, 5 ms, plus a sync), so a crash can lose the
// last few (their senders are greylisted once more); and an answer may not
// yet see a write made in those milliseconds by another moat process
// sharing the file (two first attempts of one triplet both answered "new";
// the entry records the first). When the writer falls far behind (a
// stalled disk), answers wait for their commits again, which bounds memory
// and slows the sessions.
//
// The loop never blocks on the writer, except when a front is destroyed:
// it waits for the writer to finish what is queued, so no result is ever
// posted to a loop that is gone.
#pragma once

#include <memory>

#include <asio/io_context.hpp>

#include "state/lmdb_database.h"
#include "state/store.h"

namespace moat::state {

std::unique_ptr<Store> make_lmdb_store(std::shared_ptr<LmdbDatabase> database,
                                       asio::io_context& loop);

}  // namespace moat::state
