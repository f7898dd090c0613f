#include "workflow/command_runner.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "proto/error_reason.h"
#include "workflow/history.h"
#include "workflow/keys.h"

namespace motcua::workflow {
namespace {

constexpr size_t kMaxRequestIdLength = 128;

absl::Status ValidateRequestId(absl::string_view id) {
  if (id.empty()) {
    return WithReason(
        absl::InvalidArgumentError(
            "request_id is required: a unique id per operation (e.g. a UUID), reused on retry"),
        v1::FIELD_REQUIRED, "request_id");
  }
  if (id.size() > kMaxRequestIdLength) {
    return WithReason(absl::InvalidArgumentError(absl::StrCat(
                          "request_id is longer than ", kMaxRequestIdLength, " characters")),
                      v1::FIELD_INVALID, "request_id");
  }
  return absl::OkStatus();
}

}  // namespace

std::string DeterministicBytes(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  m.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

absl::Status CommandRunner::Prepare(const Principal& caller, absl::string_view method,
                                    const google::protobuf::Message& request,
                                    const std::string& request_id, Prepared* prepared) {
  if (absl::Status s = ValidateRequestId(request_id); !s.ok()) return s;
  prepared->key = IdempotencyKey(caller.subject, request_id);
  prepared->record.set_method(std::string(method));
  prepared->record.set_request_sha256(
      absl::HexStringToBytes(Sha256Hex(absl::StrCat(method, "\n", DeterministicBytes(request)))));
  prepared->record.set_recorded_at_unix_seconds(absl::ToUnixSeconds(clock_->Now()));
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> CommandRunner::FindAnswer(const Prepared& prepared) {
  auto found = store_->Get(storage::Family::kIdempotency, prepared.key);
  if (absl::IsNotFound(found.status())) return std::optional<std::string>();
  if (!found.ok()) return found.status();
  v1::IdempotencyRecord record;
  if (!record.ParseFromString(*found)) {
    return absl::DataLossError("the stored answer for this request_id cannot be read");
  }
  if (record.method() != prepared.record.method() ||
      record.request_sha256() != prepared.record.request_sha256()) {
    std::string id = prepared.key.substr(prepared.key.rfind('\0') + 1);
    return WithReason(absl::FailedPreconditionError(absl::StrCat(
                          "request_id \"", id,
                          "\" was already used for a different request; use a new id")),
                      v1::REQUEST_ID_REUSED, "request_id");
  }
  return std::optional<std::string>(std::move(*record.mutable_response()));
}

}  // namespace motcua::workflow
