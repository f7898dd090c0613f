#ifndef MOTCUA_WORKFLOW_KEYS_H_
#define MOTCUA_WORKFLOW_KEYS_H_

// Key layouts of the workflow's records in the store (private to workflow/).
// Dossiers are stored under their code.

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "motcua/v1/dossier.pb.h"
#include "storage/store.h"

namespace motcua::workflow {

// Microseconds since the epoch, in key order.
std::string OrderedTime(const google::protobuf::Timestamp& t);

// Procedure definitions, by code then version.
std::string DefinitionKey(absl::string_view code, int version);

// History events of a dossier, in sequence order.
inline std::string HistoryPrefix(absl::string_view code) { return storage::JoinKey({code, ""}); }
inline std::string HistoryKey(absl::string_view code, int64_t sequence) {
  return storage::JoinKey({code, storage::OrderedUint64(static_cast<uint64_t>(sequence))});
}

// The global event log, by log sequence.
inline std::string LogKey(int64_t log_sequence) {
  return storage::OrderedUint64(static_cast<uint64_t>(log_sequence));
}

// Bytes of a dossier's attachment or document `id`.
inline std::string DocumentKey(absl::string_view code, absl::string_view id) {
  return storage::JoinKey({code, id});
}

// Work due at a time on one dossier (armed timers, documents to issue),
// soonest first: "<due micros><code>\0<id>".
std::string TimedKey(absl::Time due, absl::string_view code, absl::string_view id);
struct TimedRef {
  absl::Time due;
  std::string dossier_code;
  std::string id;
};
// False for a key TimedKey did not make.
bool ParseTimedKey(absl::string_view key, TimedRef* ref);
// The first key due after `t`.
std::string TimedKeysAfter(absl::Time t);
std::string TimerKey(const v1::Dossier& d, const v1::Timer& timer);

// Open tasks by unit, role and position, most urgent first.
std::string WorklistPrefix(absl::string_view unit, v1::Role role, absl::string_view position);
std::string WorklistKey(const v1::Task& task);

// Search indexes: "<index>\0<value>\0<submitted time>\0<code>"; newest first
// is a reverse scan. Indexes: "all", "unit", "applicant", "portal", "status".
std::string IndexPrefix(absl::string_view index, absl::string_view value);
std::string IndexKey(absl::string_view index, absl::string_view value, const v1::Dossier& d);
std::string StatusValue(int status);

// First answers of mutating calls, by caller and request id.
inline std::string IdempotencyKey(absl::string_view subject, absl::string_view request_id) {
  return storage::JoinKey({subject, request_id});
}

}  // namespace motcua::workflow

#endif  // MOTCUA_WORKFLOW_KEYS_H_
