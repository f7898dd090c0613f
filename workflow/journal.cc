#include "workflow/journal.h"

#include <openssl/sha.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/notification.h"
#include "workflow/applier.h"
#include "workflow/history.h"
#include "workflow/keys.h"

namespace motcua::workflow {
namespace {

using storage::Family;

// A group commit stops growing at either bound.
constexpr size_t kMaxGroupChanges = 512;
constexpr size_t kMaxGroupBytes = 16u << 20;
constexpr size_t kMaxCachedCounters = 100000;

const std::string& ZeroChain() {
  static const std::string* zero = new std::string(SHA256_DIGEST_LENGTH, '\0');
  return *zero;
}

// The worklist and search indexes follow the dossier's state.
void StageProjections(const v1::Dossier& before, const v1::Dossier& after, bool is_new,
                      storage::WriteSet& w) {
  if (before.has_task()) w.Delete(Family::kWorklist, WorklistKey(before.task()));
  if (after.has_task()) {
    w.Put(Family::kWorklist, WorklistKey(after.task()), after.task().SerializeAsString());
  }
  if (before.national_status() != after.national_status()) {
    if (before.national_status() != 0) {
      w.Delete(Family::kIndexes, IndexKey("status", StatusValue(before.national_status()), after));
    }
    w.Put(Family::kIndexes, IndexKey("status", StatusValue(after.national_status()), after), "");
  }
  for (const v1::Timer& timer : before.timers()) {
    w.Delete(Family::kTimers, TimerKey(before, timer));
  }
  for (const v1::Timer& timer : after.timers()) w.Put(Family::kTimers, TimerKey(after, timer), "");
  if (!is_new) return;
  for (const auto& [index, value] : {std::pair<absl::string_view, absl::string_view>{"all", ""},
                                     {"unit", after.unit_code()},
                                     {"applicant", after.applicant().id_number()},
                                     {"portal", after.submitted_by()}}) {
    w.Put(Family::kIndexes, IndexKey(index, value, after), "");
  }
}

size_t BytesOf(const Change& c) {
  size_t bytes = c.writes.bytes();
  for (const auto& [id, content] : c.files) bytes += content.size();
  return bytes;
}

}  // namespace

std::string ChainLog(absl::string_view chain, absl::string_view event_sha256) {
  std::string joined = absl::StrCat(chain, event_sha256);
  std::string out(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(joined.data()), joined.size(),
         reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

struct Journal::Pending {
  Change change;
  size_t bytes = 0;
  absl::StatusOr<Committed> result;
  absl::Notification done;
};

absl::StatusOr<std::unique_ptr<Journal>> Journal::Open(storage::Store* store, EventBus* bus) {
  LogHead head{0, ZeroChain()};
  absl::Status parse_error;
  absl::Status s = store->Scan(Family::kEventLog, "", "", /*reverse=*/true,
                               [&](absl::string_view key, absl::string_view value) {
    v1::LogEntry entry;
    if (!entry.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      parse_error = absl::DataLossError("the last event log entry cannot be parsed");
      return false;
    }
    head = {static_cast<int64_t>(storage::DecodeCounter(key)), entry.chain_sha256()};
    return false;
  });
  if (!s.ok()) return s;
  if (!parse_error.ok()) return parse_error;
  return std::unique_ptr<Journal>(new Journal(store, bus, std::move(head)));
}

Journal::Journal(storage::Store* store, EventBus* bus, LogHead head)
    : store_(store), bus_(bus), committed_head_(head), head_(std::move(head)) {
  thread_ = std::thread([this] { Run(); });
}

Journal::~Journal() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

LogHead Journal::Head() const {
  absl::MutexLock lock(&mu_);
  return committed_head_;
}

absl::StatusOr<Committed> Journal::Commit(Change change) {
  Pending pending;
  pending.bytes = BytesOf(change);
  pending.change = std::move(change);
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::UnavailableError("the server is stopping");
    queue_.push_back(&pending);
  }
  pending.done.WaitForNotification();
  return std::move(pending.result);
}

absl::StatusOr<uint64_t> Journal::NextCounterValue(const std::string& key) {
  auto it = counters_.find(key);
  if (it == counters_.end()) {
    auto stored = store_->Get(Family::kSequences, key);
    if (!stored.ok() && !absl::IsNotFound(stored.status())) return stored.status();
    it = counters_.emplace(key, stored.ok() ? storage::DecodeCounter(*stored) : 0).first;
  }
  counters_before_group_.try_emplace(key, it->second);
  return ++it->second;
}

absl::Status Journal::Stage(Pending& p, storage::WriteSet& batch) {
  Change& c = p.change;
  const LogHead head_before = head_;
  std::string counter_taken;
  auto undo = [&] {
    head_ = head_before;
    if (!counter_taken.empty()) --counters_[counter_taken];
  };

  v1::Dossier d = c.dossier;
  const bool is_new = d.code().empty() && !c.code_counter.empty();
  storage::WriteSet w;
  std::string code = d.code();
  if (is_new) {
    auto number = NextCounterValue(c.code_counter);
    if (!number.ok()) return number.status();
    counter_taken = c.code_counter;
    code = absl::StrFormat("%s%04d", c.code_prefix, *number);
    w.RaiseCounter(Family::kSequences, c.code_counter, *number);
  }
  for (v1::HistoryEvent& e : c.events) {
    e.set_dossier_code(code);
    e.set_sequence(d.history_length() + 1);
    e.set_previous_hash(d.history_head());
    e.set_from_state(d.state());
    e.set_log_sequence(head_.log_sequence + 1);
    e.clear_hash();
    if (absl::Status s = ApplyEvent(*c.procedure, e, &d); !s.ok()) {
      undo();
      return s;
    }
    e.set_to_state(d.state());
    e.set_national_status(d.national_status());
    e.set_dossier_version(d.version());
    v1::StoredEvent stored = SealEvent(&e);
    d.set_history_head(e.hash());
    w.Put(Family::kHistory, HistoryKey(code, e.sequence()), stored.SerializeAsString());

    v1::LogEntry entry;
    entry.set_dossier_code(code);
    entry.set_sequence(e.sequence());
    entry.set_unit_code(d.unit_code());
    entry.set_event_sha256(stored.sha256());
    entry.set_chain_sha256(ChainLog(head_.chain_sha256, stored.sha256()));
    head_ = {e.log_sequence(), entry.chain_sha256()};
    w.Put(Family::kEventLog, LogKey(e.log_sequence()), entry.SerializeAsString());
  }
  if (c.procedure != nullptr) {
    StageProjections(c.dossier, d, is_new, w);
    w.Put(Family::kDossiers, code, d.SerializeAsString());
    for (const auto& [id, content] : c.files) {
      w.Put(Family::kDocuments, DocumentKey(code, id), content);
    }
  }
  w.Append(std::move(c.writes));
  Committed committed;
  if (c.respond) committed.response = c.respond(d);
  if (!c.idempotency_key.empty()) {
    c.idempotency.set_response(committed.response);
    w.Put(Family::kIdempotency, c.idempotency_key, c.idempotency.SerializeAsString());
  }
  committed.dossier = std::move(d);
  p.result = std::move(committed);
  batch.Append(std::move(w));
  return absl::OkStatus();
}

void Journal::Run() {
  for (;;) {
    std::vector<Pending*> group;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](Journal* j) ABSL_EXCLUSIVE_LOCKS_REQUIRED(j->mu_) {
            return !j->queue_.empty() || j->stopping_;
          },
          this));
      if (queue_.empty()) return;  // stopping, and nothing left to commit
      size_t bytes = 0;
      while (!queue_.empty() && group.size() < kMaxGroupChanges &&
             (group.empty() || bytes + queue_.front()->bytes <= kMaxGroupBytes)) {
        bytes += queue_.front()->bytes;
        group.push_back(queue_.front());
        queue_.pop_front();
      }
    }

    const LogHead group_start = head_;
    counters_before_group_.clear();
    // The cache holds a counter per unit and day: forget old days now and then.
    if (counters_.size() > kMaxCachedCounters) counters_.clear();
    storage::WriteSet batch;
    std::vector<Pending*> staged;
    for (Pending* p : group) {
      if (absl::Status s = Stage(*p, batch); !s.ok()) {
        p->result = s;
        p->done.Notify();
      } else {
        staged.push_back(p);
      }
    }
    if (staged.empty()) continue;
    if (absl::Status s = store_->Commit(batch); !s.ok()) {
      head_ = group_start;
      for (const auto& [key, value] : counters_before_group_) counters_[key] = value;
      for (Pending* p : staged) {
        p->result = s;
        p->done.Notify();
      }
      continue;
    }
    {
      absl::MutexLock lock(&mu_);
      committed_head_ = head_;
    }
    for (Pending* p : staged) {
      for (const auto& apply : p->change.after_commit) apply();
      for (const v1::HistoryEvent& e : p->change.events) bus_->Publish(e, p->result->dossier.unit_code());
      p->done.Notify();
    }
  }
}

}  // namespace motcua::workflow
