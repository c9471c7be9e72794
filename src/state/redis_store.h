// The Redis state store: greylisting and other state shared by several MX
// hosts through one Redis server (`moat_state_store = redis:ADDRESS`).
//
// One Store per event loop, over one pipelined connection
// (redis_connection.h: AUTH, SELECT, timeouts, reconnects). get, set and
// remove are GET, SET EX and DEL. increment, greylist and count_event are
// Lua scripts, so each is one atomic step on the server however many moat
// processes race on a key; greylist and count_event run exactly the rules
// of greylist_step and count_event_step (store.h). Scripts go by EVALSHA,
// with EVAL when the server has forgotten them (NOSCRIPT: a restart or
// SCRIPT FLUSH).
//
// Failures are error texts: no connection, timeouts, error replies
// (NOAUTH, WRONGTYPE ...), replies of an unexpected shape; as in LMDB,
// increment of a value that is not an integer, or that would overflow, is
// an error. Also as in LMDB, a time to live of 0 or less leaves nothing
// behind, and one over a century lasts a century.
//
// Numbers in the scripts are Lua's doubles: exact up to 2^53, far beyond
// any time in seconds or count moat stores (stored text is kept digit for
// digit).
#pragma once

#include <memory>

#include <asio/io_context.hpp>

#include "state/redis_options.h"
#include "state/store.h"

namespace moat::state {

// Starts connecting at once; never fails here (an unreachable server shows
// as errors from the calls). Destroy it before its io_context.
std::unique_ptr<Store> make_redis_store(asio::io_context& loop, RedisOptions options);

}  // namespace moat::state
