#include "workflow/keys.h"

#include "absl/strings/str_format.h"
#include "google/protobuf/util/time_util.h"

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
