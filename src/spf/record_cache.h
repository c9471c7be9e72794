// Parsed SPF records, kept beside the DNS answers they were read from, so
// that an evaluation whose TXT answer comes from the resolver's cache does
// not select and parse the same record again (a big provider's include
// chain is several long records per evaluation).
//
// An entry is keyed by the identity of the answer object and holds it only
// by weak_ptr: it serves that very answer and nothing else, so a parse is
// never served past its answer's life. When the resolver's cache lets an
// expired answer go, the next lookup brings a new answer object, which
// misses here and is parsed anew; the old entry is dead and leaves in its
// turn (the cache never keeps an answer alive). An answer put together anew
// for each lookup (a CNAME chain split over several messages) simply
// misses every time, as without the cache.
//
// Bounded: at most max_entries records and max_directives directives in
// all (a record's memory grows with its directives), least recently used
// out first.
//
// Single-threaded, not locked: check_host() keeps one per thread, as moat
// keeps one resolver per worker thread.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <unordered_map>

#include "dns/message.h"
#include "spf/record.h"

namespace moat::spf {

class RecordCache {
 public:
  using AnswerPtr = std::shared_ptr<const dns::Answer>;
  using RecordPtr = std::shared_ptr<const RecordResult>;

  RecordCache(size_t max_entries, size_t max_directives)
      : max_entries_(max_entries), max_directives_(max_directives) {}

  // select_record() of the answer's TXT strings: kept from an earlier call
  // with the same answer, or worked out now and kept. Shared, so that a
  // caller may hold it while later calls evict it.
  RecordPtr get(const AnswerPtr& answer);

  size_t size() const { return entries_.size(); }
  size_t directives() const { return directives_; }

 private:
  struct Entry {
    const dns::Answer* key;
    std::weak_ptr<const dns::Answer> answer;
    RecordPtr record;
    size_t directives;
  };
  using Entries = std::list<Entry>;

  void drop(Entries::iterator entry);

  size_t max_entries_;
  size_t max_directives_;
  size_t directives_ = 0;  // over all entries
  Entries entries_;        // most recently used first
  std::unordered_map<const dns::Answer*, Entries::iterator> index_;
};

}  // namespace moat::spf
