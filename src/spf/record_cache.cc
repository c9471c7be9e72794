#include "spf/record_cache.h"

#include <string>
#include <vector>

namespace moat::spf {

namespace {

RecordCache::RecordPtr select(const dns::Answer& answer) {
  std::vector<std::string> texts;
  texts.reserve(answer.records.size());
  for (const auto& record : answer.records) texts.push_back(record.text);
  return std::make_shared<const RecordResult>(select_record(texts));
}

}  // namespace

RecordCache::RecordPtr RecordCache::get(const AnswerPtr& answer) {
  if (const auto found = index_.find(answer.get()); found != index_.end()) {
    // While the entry's answer is alive, no other object can sit at its
    // address: a live entry is this very answer. A dead one is an earlier
    // answer whose memory was reused.
    if (!found->second->answer.expired()) {
      entries_.splice(entries_.begin(), entries_, found->second);
      return found->second->record;
    }
    drop(found->second);
  }

  RecordPtr record = select(*answer);
  const size_t directives = record->record.directives.size();
  if (max_entries_ == 0 || directives > max_directives_) return record;
  while (entries_.size() >= max_entries_ || directives_ + directives > max_directives_) {
    drop(std::prev(entries_.end()));
  }
  entries_.push_front(Entry{answer.get(), answer, record, directives});
  index_.emplace(answer.get(), entries_.begin());
  directives_ += directives;
  return record;
}

void RecordCache::drop(Entries::iterator entry) {
  directives_ -= entry->directives;
  index_.erase(entry->key);
  entries_.erase(entry);
}

}  // namespace moat::spf
