// The embedded state store: Store fronts on one LMDB database
// (lmdb_database.h), one front per event loop.
//
// A front reads on its own loop (under a microsecond with the pages in
// memory; through the writer a read would wait behind a batch's fsync, a
// fraction of a millisecond at best) and hands every write to the
// database's writer thread, resuming the waiting coroutine on its own loop
// when the batch holding the write has committed. The loop never blocks on
// the writer, except when a front is destroyed: it waits for the writer to
// finish what is queued, so no result is ever posted to a loop that is gone.
#pragma once

#include <memory>

#include <asio/io_context.hpp>

#include "state/lmdb_database.h"
#include "state/store.h"

namespace moat::state {

std::unique_ptr<Store> make_lmdb_store(std::shared_ptr<LmdbDatabase> database,
                                       asio::io_context& loop);

}  // namespace moat::state
