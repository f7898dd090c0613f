#include "workflow/event_log.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "proto/error_reason.h"
#include "workflow/access.h"
#include "workflow/history.h"
#include "workflow/keys.h"
#include "workflow/validation.h"

namespace motcua::workflow {
namespace {

using storage::Family;

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;
// One VerifyEventLog call checks at most this many entries.
constexpr int64_t kMaxVerifiedRange = 1000000;

absl::StatusOr<v1::LogEntry> ParseEntry(absl::string_view value, int64_t number) {
  v1::LogEntry entry;
  if (!entry.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return absl::DataLossError(absl::StrCat("event log entry ", number, " cannot be parsed"));
  }
  return entry;
}

}  // namespace

absl::StatusOr<std::vector<v1::HistoryEvent>> EventLog::Read(const storage::StoreReader& store,
                                                             int64_t after,
                                                             absl::string_view unit, int limit,
                                                             int64_t* last) const {
  std::vector<v1::HistoryEvent> events;
  absl::Status error;
  int looked = 0;
  *last = after;
  absl::Status s = store.Scan(Family::kEventLog, "", LogKey(after + 1), false,
                              [&](absl::string_view key, absl::string_view value) {
    if (looked++ == limit) return false;
    const int64_t number = static_cast<int64_t>(storage::DecodeCounter(key));
    auto entry = ParseEntry(value, number);
    if (!entry.ok()) {
      error = entry.status();
      return false;
    }
    *last = number;
    if (!unit.empty() && entry->unit_code() != unit) return true;
    auto stored = store.Get(Family::kHistory, HistoryKey(entry->dossier_code(), entry->sequence()));
    if (!stored.ok()) {
      error = absl::DataLossError(absl::StrCat("event log entry ", number, " names event ",
                                               entry->sequence(), " of dossier ",
                                               entry->dossier_code(), ", which is missing"));
      return false;
    }
    auto event = OpenEvent(*stored);
    if (!event.ok()) {
      error = event.status();
      return false;
    }
    events.push_back(*std::move(event));
    return true;
  });
  if (!s.ok()) return s;
  if (!error.ok()) return error;
  return events;
}

absl::StatusOr<v1::ListLogEventsResponse> EventLog::List(
    const Principal& caller, const v1::ListLogEventsRequest& request) const {
  if (absl::Status s = RequireRole(caller, {v1::ROLE_OFFICER, v1::ROLE_CLERK, v1::ROLE_AUDITOR,
                                            v1::ROLE_ADMIN},
                                   "read the event log");
      !s.ok()) {
    return s;
  }
  std::string unit = request.unit_code();
  if (caller.role == v1::ROLE_OFFICER || caller.role == v1::ROLE_CLERK) {
    if (!unit.empty() && unit != caller.unit) {
      return WithReason(absl::PermissionDeniedError(absl::StrCat(
                            "you may read only your unit's events (", caller.unit, ")")),
                        v1::UNIT_NOT_ALLOWED, "unit_code");
    }
    unit = caller.unit;
  }
  if (request.after_log_sequence() < 0) {
    return WithReason(absl::InvalidArgumentError("after_log_sequence must not be negative"),
                      v1::FIELD_INVALID, "after_log_sequence");
  }
  auto page_size = PageSize(request.page_size(), kDefaultPageSize, kMaxPageSize);
  if (!page_size.ok()) return page_size.status();
  v1::ListLogEventsResponse response;
  response.set_head_log_sequence(ctx_.journal->Head().log_sequence);
  int64_t last = 0;
  auto snapshot = ctx_.store->Snapshot();
  auto events = Read(*snapshot, request.after_log_sequence(), unit, *page_size, &last);
  if (!events.ok()) return events.status();
  for (auto& e : *events) *response.add_events() = std::move(e);
  response.set_last_log_sequence(last);
  return response;
}

absl::StatusOr<v1::VerifyEventLogResponse> EventLog::Verify(
    const Principal& caller, const v1::VerifyEventLogRequest& request) const {
  if (absl::Status s = RequireRole(caller, {v1::ROLE_AUDITOR, v1::ROLE_ADMIN},
                                   "verify the event log");
      !s.ok()) {
    return s;
  }
  const int64_t head = ctx_.journal->Head().log_sequence;
  const int64_t from = request.from_log_sequence() == 0 ? 1 : request.from_log_sequence();
  const int64_t to = request.to_log_sequence() == 0 ? head : request.to_log_sequence();
  if (from < 1 || to < from || to > head) {
    return WithReason(absl::InvalidArgumentError(absl::StrCat(
                          "the range ", from, "..", to, " is not within the log (1..", head, ")")),
                      v1::FIELD_INVALID, "from_log_sequence");
  }
  if (to - from + 1 > kMaxVerifiedRange) {
    return WithReason(absl::InvalidArgumentError(absl::StrCat(
                          "check at most ", kMaxVerifiedRange, " entries per call")),
                      v1::FIELD_INVALID, "to_log_sequence");
  }
  auto snapshot = ctx_.store->Snapshot();
  std::string chain(32, '\0');
  if (from > 1) {
    auto before = snapshot->Get(Family::kEventLog, LogKey(from - 1));
    if (!before.ok()) return absl::DataLossError(absl::StrCat("event log entry ", from - 1, " is missing"));
    auto entry = ParseEntry(*before, from - 1);
    if (!entry.ok()) return entry.status();
    chain = entry->chain_sha256();
  }
  v1::VerifyEventLogResponse response;
  response.set_from_log_sequence(from);
  response.set_to_log_sequence(to);
  response.set_chain_before(absl::BytesToHexString(chain));
  int64_t expected = from;
  auto broken = [&](int64_t number, std::string problem) {
    response.set_first_broken_log_sequence(number);
    response.set_problem(std::move(problem));
    return false;
  };
  absl::Status s = snapshot->Scan(Family::kEventLog, "", LogKey(from), false,
                                  [&](absl::string_view key, absl::string_view value) {
    const int64_t number = static_cast<int64_t>(storage::DecodeCounter(key));
    if (number > to) return false;
    if (number != expected) {
      return broken(expected, absl::StrCat("entry ", expected, " is missing"));
    }
    ++expected;
    auto entry = ParseEntry(value, number);
    if (!entry.ok()) return broken(number, std::string(entry.status().message()));
    chain = ChainLog(chain, entry->event_sha256());
    if (chain != entry->chain_sha256()) {
      return broken(number, "its running hash does not follow from the entry before");
    }
    auto stored = snapshot->Get(Family::kHistory, HistoryKey(entry->dossier_code(), entry->sequence()));
    if (!stored.ok()) {
      return broken(number, absl::StrCat("event ", entry->sequence(), " of dossier ",
                                         entry->dossier_code(), " is missing"));
    }
    auto event = OpenEvent(*stored);
    if (!event.ok() || absl::HexStringToBytes(event->hash()) != entry->event_sha256() ||
        event->log_sequence() != number) {
      return broken(number, absl::StrCat("event ", entry->sequence(), " of dossier ",
                                         entry->dossier_code(),
                                         " is not the event the log recorded"));
    }
    return true;
  });
  if (!s.ok()) return s;
  if (response.problem().empty() && expected != to + 1) {
    broken(expected, absl::StrCat("entry ", expected, " is missing"));
  }
  response.set_intact(response.problem().empty());
  response.set_chain_at_end(absl::BytesToHexString(chain));
  return response;
}

}  // namespace motcua::workflow
