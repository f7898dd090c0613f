#include "workflow/keys.h"

#include "absl/strings/str_format.h"
#include "google/protobuf/util/time_util.h"
#include "proto/proto_time.h"

namespace motcua::workflow {

using storage::JoinKey;
using storage::OrderedUint64;

std::string OrderedTime(const google::protobuf::Timestamp& t) {
  return OrderedUint64(
      static_cast<uint64_t>(google::protobuf::util::TimeUtil::TimestampToMicroseconds(t)));
}

std::string DefinitionKey(absl::string_view code, int version) {
  return JoinKey({code, OrderedUint64(static_cast<uint64_t>(version))});
}

std::string TimedKey(absl::Time due, absl::string_view code, absl::string_view id) {
  return OrderedUint64(static_cast<uint64_t>(absl::ToUnixMicros(due))) + JoinKey({code, id});
}

std::string TimerKey(const v1::Dossier& d, const v1::Timer& timer) {
  return TimedKey(FromProto(timer.due_at()), d.code(), timer.id());
}

bool ParseTimedKey(absl::string_view key, TimedRef* ref) {
  if (key.size() < 10) return false;
  const size_t zero = key.find('\0', 8);
  if (zero == absl::string_view::npos) return false;
  ref->due = absl::FromUnixMicros(static_cast<int64_t>(storage::DecodeCounter(key.substr(0, 8))));
  ref->dossier_code = std::string(key.substr(8, zero - 8));
  ref->id = std::string(key.substr(zero + 1));
  return true;
}

std::string TimedKeysAfter(absl::Time t) {
  return OrderedUint64(static_cast<uint64_t>(absl::ToUnixMicros(t) + 1));
}

std::string WorklistPrefix(absl::string_view unit, v1::Role role, absl::string_view position) {
  return JoinKey({unit, std::to_string(role), position, ""});
}

std::string WorklistKey(const v1::Task& task) {
  const auto& when = task.has_appointment_at() ? task.appointment_at() : task.created_at();
  return WorklistPrefix(task.unit_code(), task.role(), task.position()) +
         JoinKey({OrderedTime(when), task.dossier_code()});
}

std::string IndexPrefix(absl::string_view index, absl::string_view value) {
  return JoinKey({index, value, ""});
}

std::string IndexKey(absl::string_view index, absl::string_view value, const v1::Dossier& d) {
  return IndexPrefix(index, value) + JoinKey({OrderedTime(d.submitted_at()), d.code()});
}

std::string StatusValue(int status) { return absl::StrFormat("%02d", status); }

}  // namespace motcua::workflow
