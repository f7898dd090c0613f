#include "workflow/engine.h"

#include <openssl/rand.h>

#include <array>
#include <functional>
#include <map>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/time_util.h"
#include "proto/error_reason.h"
#include "proto/proto_time.h"
#include "workflow/access.h"
#include "workflow/builtin_data.h"
#include "workflow/event_bus.h"
#include "workflow/history.h"
#include "workflow/keys.h"
#include "workflow/page_token.h"
#include "workflow/procedure.h"

namespace motcua::workflow {
namespace {

using storage::Family;
using storage::JoinKey;
using storage::OrderedUint64;
using TimeUtil = google::protobuf::util::TimeUtil;

constexpr int kDefaultPageSize = 50;
constexpr int kDefaultTaskPageSize = 100;
constexpr int kMaxPageSize = 500;
// A page of a filtered search stops after this many index entries, so one
// call never scans the whole store; the token continues from there.
constexpr int kMaxScannedPerPage = 20000;
constexpr size_t kMaxRequestIdLength = 128;
constexpr int kMaxAttachments = 20;

std::string OrderedTime(const google::protobuf::Timestamp& t) {
  return OrderedUint64(static_cast<uint64_t>(TimeUtil::TimestampToMicroseconds(t)));
}

// Serialises with a fixed field order so equal requests hash equally.
std::string DeterministicBytes(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  m.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

// ---- key layouts -----------------------------------------------------------

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
// Search indexes: "<index>\0<value>\0<submitted time>\0<code>"; newest first
// is a reverse scan.
std::string IndexPrefix(absl::string_view index, absl::string_view value) {
  return JoinKey({index, value, ""});
}
std::string IndexKey(absl::string_view index, absl::string_view value, const v1::Dossier& d) {
  return IndexPrefix(index, value) + JoinKey({OrderedTime(d.submitted_at()), d.code()});
}
std::string StatusValue(int status) { return absl::StrFormat("%02d", status); }

// ---- mutations -------------------------------------------------------------

// Everything one command changes, committed as one write.
struct Mutation {
  storage::WriteSet writes;
  std::vector<std::pair<v1::HistoryEvent, std::string>> events;  // event, unit
  // In-memory effects, applied only once the write is durable.
  std::vector<std::function<void()>> after_commit;
};

// Striped locks: serialise commands on the same dossier (or request id)
// from read to commit, so optimistic version checks cannot both pass.
class StripedLocks {
 public:
  absl::Mutex& For(absl::string_view key) { return stripes_[absl::Hash<absl::string_view>{}(key) % kStripes]; }

 private:
  static constexpr size_t kStripes = 1024;
  std::array<absl::Mutex, kStripes> stripes_;
};

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

absl::Status CheckVersion(const v1::Dossier& d, int64_t expected) {
  if (expected != d.version()) {
    return WithMetadata(
        WithReason(absl::AbortedError(absl::StrCat(
                       "dossier ", d.code(), " is at version ", d.version(), ", not ", expected,
                       ": someone changed it; read it again and retry")),
                   v1::DOSSIER_VERSION_STALE, "expected_version"),
        "current_version", absl::StrCat(d.version()));
  }
  return absl::OkStatus();
}

v1::Trigger TriggerOf(v1::Decision d) {
  switch (d) {
    case v1::DECISION_APPROVE: return v1::TRIGGER_APPROVE;
    case v1::DECISION_REJECT: return v1::TRIGGER_REJECT;
    case v1::DECISION_REQUEST_SUPPLEMENT: return v1::TRIGGER_REQUEST_SUPPLEMENT;
    default: return v1::TRIGGER_UNSPECIFIED;
  }
}

v1::Decision DecisionOf(v1::Trigger t) {
  switch (t) {
    case v1::TRIGGER_APPROVE: return v1::DECISION_APPROVE;
    case v1::TRIGGER_REJECT: return v1::DECISION_REJECT;
    case v1::TRIGGER_REQUEST_SUPPLEMENT: return v1::DECISION_REQUEST_SUPPLEMENT;
    default: return v1::DECISION_UNSPECIFIED;
  }
}

bool NeedsActorSignature(const v1::TransitionDefinition& t) {
  for (const auto& r : t.signatures()) {
    if (r.signer() == v1::SignatureRequirement::SIGNER_ACTOR) return true;
  }
  return false;
}

// A history event caused by `caller` through the call with `request_id`.
v1::HistoryEvent EventBy(const Principal& caller, std::string action,
                         const std::string& request_id) {
  v1::HistoryEvent event;
  event.set_actor(caller.subject);
  event.set_actor_role(caller.role);
  event.set_action(std::move(action));
  event.set_request_id(request_id);
  return event;
}

bool AllNonBlank(const google::protobuf::RepeatedPtrField<std::string>& items) {
  if (items.empty()) return false;
  for (const auto& s : items) {
    if (absl::StripAsciiWhitespace(s).empty()) return false;
  }
  return true;
}

absl::Status ValidateUnitCode(absl::string_view unit) {
  if (unit.empty() || unit.size() > 32) {
    return WithReason(
        absl::InvalidArgumentError("unit_code (mã đơn vị) là bắt buộc, tối đa 32 ký tự"),
        unit.empty() ? v1::FIELD_REQUIRED : v1::FIELD_INVALID, "unit_code");
  }
  for (char c : unit) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_') {
      return WithReason(absl::InvalidArgumentError(absl::StrCat(
                            "unit_code \"", unit, "\" chỉ được gồm chữ, số và các ký tự - . _")),
                        v1::FIELD_INVALID, "unit_code");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateApplicant(const v1::Applicant& a) {
  const std::string& id = a.id_number();
  if (id.size() != 12 || !std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return WithReason(absl::InvalidArgumentError(
                          "Số định danh cá nhân (applicant.id_number) phải gồm đúng 12 chữ số"),
                      id.empty() ? v1::FIELD_REQUIRED : v1::FIELD_INVALID,
                      "applicant.id_number");
  }
  if (absl::StripAsciiWhitespace(a.full_name()).empty()) {
    return WithReason(
        absl::InvalidArgumentError("Thiếu họ và tên người nộp hồ sơ (applicant.full_name)"),
        v1::FIELD_REQUIRED, "applicant.full_name");
  }
  const struct {
    const std::string& value;
    size_t limit;
    const char* field;
  } kLimits[] = {{a.full_name(), 200, "applicant.full_name"},
                 {a.address(), 500, "applicant.address"},
                 {a.email(), 200, "applicant.email"},
                 {a.phone(), 32, "applicant.phone"}};
  for (const auto& limit : kLimits) {
    if (limit.value.size() > limit.limit) {
      return WithReason(
          absl::InvalidArgumentError(absl::StrCat("Thông tin người nộp hồ sơ quá dài (",
                                                  limit.field, ": tối đa ", limit.limit, " byte)")),
          v1::FIELD_INVALID, limit.field);
    }
  }
  return absl::OkStatus();
}

// Form fields must be those the procedure declares; required ones present.
absl::Status ValidateForm(const v1::ProcedureDefinition& def,
                          const google::protobuf::Map<std::string, std::string>& form,
                          bool check_required) {
  for (const auto& [name, value] : form) {
    bool known = false;
    for (const auto& f : def.form_fields()) known |= f.name() == name;
    if (!known) {
      return WithReason(absl::InvalidArgumentError(absl::StrCat(
                            "Trường \"", name, "\" không thuộc biểu mẫu của thủ tục ", def.code())),
                        v1::FORM_FIELD_INVALID, absl::StrCat("form.", name));
    }
    if (value.size() > 2000) {
      return WithReason(absl::InvalidArgumentError(absl::StrCat("Trường \"", name, "\" quá dài")),
                        v1::FORM_FIELD_INVALID, absl::StrCat("form.", name));
    }
  }
  if (!check_required) return absl::OkStatus();
  for (const auto& f : def.form_fields()) {
    auto it = form.find(f.name());
    if (f.required() && (it == form.end() || absl::StripAsciiWhitespace(it->second).empty())) {
      return WithReason(absl::InvalidArgumentError(absl::StrCat(
                            "Thiếu thông tin bắt buộc: ", f.title(), " (", f.name(), ")")),
                        v1::FORM_FIELD_REQUIRED, absl::StrCat("form.", f.name()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<int> PageSize(int requested, int default_size) {
  if (requested < 0) {
    return WithReason(absl::InvalidArgumentError("page_size must not be negative"),
                      v1::FIELD_INVALID, "page_size");
  }
  if (requested == 0) return default_size;
  return std::min(requested, kMaxPageSize);
}

absl::StatusOr<std::optional<absl::Time>> ParseDay(absl::string_view text, absl::string_view field,
                                                   bool end_of_day) {
  if (text.empty()) return std::optional<absl::Time>();
  absl::CivilDay day;
  if (!ParseIsoDate(std::string_view(text.data(), text.size()), &day)) {
    return WithReason(absl::InvalidArgumentError(absl::StrCat(
                          field, " must be a date YYYY-MM-DD, got \"", text, "\"")),
                      v1::FIELD_INVALID, field);
  }
  absl::Time t = absl::FromCivil(end_of_day ? day + 1 : day, WorkCalendar::VietnamTime());
  return std::optional<absl::Time>(end_of_day ? t - absl::Microseconds(1) : t);
}

// ---- the engine ------------------------------------------------------------

class EngineImpl : public Engine {
 public:
  EngineImpl(storage::Store* store, Clock* clock, const WorkCalendar* calendar,
             EngineOptions options, PageTokens page_tokens)
      : store_(store),
        clock_(clock),
        calendar_(calendar),
        options_(options),
        page_tokens_(std::move(page_tokens)) {}

  // Reads stored definitions into memory.
  absl::Status Load();
  // Deploys each built-in procedure that differs from its latest version.
  absl::Status InstallBuiltinProcedures();

  absl::StatusOr<v1::ProcedureDefinition> DeployProcedure(
      const Principal& caller, const v1::DeployProcedureRequest& request) override;
  absl::StatusOr<v1::ProcedureDefinition> GetProcedure(
      const Principal& caller, const v1::GetProcedureRequest& request) override;
  absl::StatusOr<v1::ListProceduresResponse> ListProcedures(
      const Principal& caller, const v1::ListProceduresRequest& request) override;
  absl::StatusOr<v1::Dossier> SubmitDossier(const Principal& caller,
                                            const v1::SubmitDossierRequest& request) override;
  absl::StatusOr<v1::Dossier> GetDossier(const Principal& caller,
                                         const v1::GetDossierRequest& request) override;
  absl::StatusOr<v1::ListDossiersResponse> ListDossiers(
      const Principal& caller, const v1::ListDossiersRequest& request) override;
  absl::StatusOr<v1::Dossier> WithdrawDossier(const Principal& caller,
                                              const v1::WithdrawDossierRequest& request) override;
  absl::StatusOr<v1::Dossier> AddSupplement(const Principal& caller,
                                            const v1::AddSupplementRequest& request) override;
  absl::StatusOr<v1::AttachmentContent> GetAttachment(
      const Principal& caller, const v1::GetAttachmentRequest& request) override;
  absl::StatusOr<v1::DocumentContent> GetDocument(
      const Principal& caller, const v1::GetDocumentRequest& request) override;
  absl::StatusOr<std::unique_ptr<EventSubscription>> WatchEvents(
      const Principal& caller, const v1::WatchEventsRequest& request) override;
  absl::StatusOr<v1::ListMyTasksResponse> ListMyTasks(
      const Principal& caller, const v1::ListMyTasksRequest& request) override;
  absl::StatusOr<v1::Task> ClaimTask(const Principal& caller,
                                     const v1::ClaimTaskRequest& request) override;
  absl::StatusOr<v1::Dossier> CompleteTask(const Principal& caller,
                                           const v1::CompleteTaskRequest& request) override;
  absl::StatusOr<v1::SignatureChallenge> PrepareSignature(
      const Principal& caller, const v1::PrepareSignatureRequest& request) override;
  absl::StatusOr<v1::GetDossierHistoryResponse> GetDossierHistory(
      const Principal& caller, const v1::GetDossierHistoryRequest& request) override;
  absl::StatusOr<v1::VerifyDossierHistoryResponse> VerifyDossierHistory(
      const Principal& caller, const v1::VerifyDossierHistoryRequest& request) override;

 private:
  // Runs `body` at most once per (caller, request_id): a retry gets the
  // stored first answer. Holds the request's lock, and the dossier's when
  // `dossier_code` is set, until the mutation is durable.
  template <typename Response>
  absl::StatusOr<Response> Idempotent(
      const Principal& caller, absl::string_view method, const google::protobuf::Message& request,
      const std::string& request_id, absl::string_view dossier_code,
      const std::function<absl::StatusOr<Response>(Mutation&)>& body);

  absl::StatusOr<std::shared_ptr<const Procedure>> FindProcedure(absl::string_view code,
                                                                 int version);
  // The newest version already in effect on `day` ("YYYY-MM-DD"): a version
  // deployed ahead of its effective date waits for it.
  absl::StatusOr<std::shared_ptr<const Procedure>> FindEffectiveProcedure(absl::string_view code,
                                                                          const std::string& day);
  absl::StatusOr<v1::Dossier> LoadDossier(absl::string_view code);
  absl::StatusOr<v1::Dossier> LoadReadable(const Principal& caller, absl::string_view code);
  absl::StatusOr<std::vector<std::string>> LoadStoredHistory(absl::string_view code);
  absl::Status AddAttachments(Mutation& m, v1::Dossier& d,
                              const google::protobuf::RepeatedPtrField<v1::AttachmentUpload>& uploads,
                              v1::HistoryEvent& event, absl::Time now);
  absl::Status CheckSeparationOfDuty(const Principal& caller, const v1::Dossier& d,
                                     const v1::TransitionDefinition& t);
  uint64_t NextDossierNumber(const std::string& counter_key);

  // A task's dossier, procedure and the transition `decision` fires, once
  // the caller may fire it at `expected_version`.
  struct Step {
    v1::Dossier dossier;
    std::shared_ptr<const Procedure> procedure;
    const v1::TransitionDefinition* transition = nullptr;
  };
  absl::StatusOr<Step> LoadStep(const Principal& caller, const std::string& code,
                                const std::string& task_id, int64_t expected_version,
                                v1::Decision decision);
  // Gets the document `step`'s transition requires signed (from the
  // caller's challenge, or by the server alone) and stages it with the
  // dossier and `event`.
  absl::Status AddSignedDocument(Mutation& m, const Principal& caller,
                                 const v1::CompleteTaskRequest& request, Step& step,
                                 v1::HistoryEvent& event, absl::Time now);
  void Fill(v1::Dossier& d);

  // Moves `d` along `t` (or records `event` without a state change when t is
  // null) and stages the dossier, event, worklist and index changes in `m`.
  void Record(Mutation& m, const Procedure& proc, v1::Dossier& d,
              const v1::TransitionDefinition* t, v1::HistoryEvent event, absl::Time now);

  storage::Store* store_;
  Clock* clock_;
  const WorkCalendar* calendar_;
  const EngineOptions options_;
  EventBus bus_;
  StripedLocks request_locks_;
  StripedLocks dossier_locks_;

  absl::Mutex procedures_mu_;
  std::map<std::string, std::map<int, std::shared_ptr<const Procedure>>> procedures_
      ABSL_GUARDED_BY(procedures_mu_);
  absl::Mutex deploy_mu_;

  absl::Mutex sequence_mu_;
  absl::flat_hash_map<std::string, uint64_t> sequences_ ABSL_GUARDED_BY(sequence_mu_);

  // Officers' signatures prepared and not yet completed, by challenge id.
  struct Challenge {
    std::string subject;
    std::string task_id;
    v1::Decision decision = v1::DECISION_UNSPECIFIED;
    int64_t version = 0;
    std::string document_id;
    absl::Time expires;
    std::shared_ptr<const PendingSignature> pending;
  };
  absl::Mutex challenges_mu_;
  absl::flat_hash_map<std::string, Challenge> challenges_ ABSL_GUARDED_BY(challenges_mu_);
  const PageTokens page_tokens_;
};

template <typename Response>
absl::StatusOr<Response> EngineImpl::Idempotent(
    const Principal& caller, absl::string_view method, const google::protobuf::Message& request,
    const std::string& request_id, absl::string_view dossier_code,
    const std::function<absl::StatusOr<Response>(Mutation&)>& body) {
  if (absl::Status s = ValidateRequestId(request_id); !s.ok()) return s;
  const std::string key = JoinKey({caller.subject, request_id});
  const std::string fingerprint =
      Sha256Hex(absl::StrCat(method, "\n", DeterministicBytes(request)));

  absl::MutexLock request_lock(&request_locks_.For(key));
  if (auto found = store_->Get(Family::kIdempotency, key); found.ok()) {
    v1::IdempotencyRecord record;
    Response response;
    if (!record.ParseFromString(*found) || !response.ParseFromString(record.response())) {
      return absl::DataLossError("stored answer for this request_id cannot be read");
    }
    if (record.method() != method || absl::BytesToHexString(record.request_sha256()) != fingerprint) {
      return WithReason(
          absl::FailedPreconditionError(absl::StrCat(
              "request_id \"", request_id,
              "\" was already used for a different request; use a new id")),
          v1::REQUEST_ID_REUSED, "request_id");
    }
    return response;
  } else if (!absl::IsNotFound(found.status())) {
    return found.status();
  }

  std::optional<absl::MutexLock> dossier_lock;
  if (!dossier_code.empty()) dossier_lock.emplace(&dossier_locks_.For(dossier_code));

  Mutation m;
  absl::StatusOr<Response> response = body(m);
  if (!response.ok()) return response.status();
  v1::IdempotencyRecord record;
  record.set_method(std::string(method));
  record.set_request_sha256(absl::HexStringToBytes(fingerprint));
  response->SerializeToString(record.mutable_response());
  m.writes.Put(Family::kIdempotency, key, record.SerializeAsString());
  if (absl::Status s = store_->Commit(m.writes); !s.ok()) return s;
  for (const auto& apply : m.after_commit) apply();
  for (const auto& [event, unit] : m.events) bus_.Publish(event, unit);
  return response;
}

absl::Status EngineImpl::Load() {
  absl::MutexLock lock(&procedures_mu_);
  absl::Status scan_error;
  absl::Status s = store_->Scan(Family::kDefinitions, "", "", false,
                                [&](absl::string_view, absl::string_view value) {
    v1::ProcedureDefinition def;
    if (!def.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      scan_error = absl::DataLossError("a stored procedure definition cannot be parsed");
      return false;
    }
    auto proc = Procedure::Compile(def);
    if (!proc.ok()) {
      scan_error = proc.status();
      return false;
    }
    procedures_[def.code()][def.version()] = *std::move(proc);
    return true;
  });
  return s.ok() ? scan_error : s;
}

absl::Status EngineImpl::InstallBuiltinProcedures() {
  Principal system{"motcua (built-in)", v1::ROLE_ADMIN, "", ""};
  for (const BuiltinFile& file : BuiltinFiles()) {
    if (!file.path.starts_with("procedures/")) continue;
    v1::ProcedureDefinition def;
    if (!google::protobuf::TextFormat::ParseFromString(std::string(file.content), &def)) {
      return absl::InternalError(absl::StrCat("built-in ", std::string(file.path), " does not parse"));
    }
    auto latest = FindProcedure(def.code(), 0);
    if (latest.ok() && SameDefinition((*latest)->definition(), def)) continue;
    v1::DeployProcedureRequest request;
    *request.mutable_definition() = def;
    // Same content, same id: two servers starting on one store deploy once.
    request.set_request_id(absl::StrCat("builtin:", Sha256Hex(DeterministicBytes(def))));
    if (auto deployed = DeployProcedure(system, request); !deployed.ok()) {
      return absl::InternalError(absl::StrCat("built-in ", std::string(file.path), ": ", deployed.status().message()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const Procedure>> EngineImpl::FindProcedure(absl::string_view code,
                                                                           int version) {
  absl::MutexLock lock(&procedures_mu_);
  auto it = procedures_.find(std::string(code));
  if (it == procedures_.end() || it->second.empty()) {
    return WithReason(
        absl::NotFoundError(absl::StrCat("Không tìm thấy thủ tục có mã \"", code, "\"")),
        v1::PROCEDURE_NOT_FOUND);
  }
  if (version == 0) return it->second.rbegin()->second;
  auto v = it->second.find(version);
  if (v == it->second.end()) {
    return WithReason(
        absl::NotFoundError(absl::StrCat("procedure ", code, " has no version ", version)),
        v1::PROCEDURE_NOT_FOUND, "version");
  }
  return v->second;
}

absl::StatusOr<std::shared_ptr<const Procedure>> EngineImpl::FindEffectiveProcedure(
    absl::string_view code, const std::string& day) {
  auto latest = FindProcedure(code, 0);
  if (!latest.ok()) return latest.status();
  absl::MutexLock lock(&procedures_mu_);
  const auto& versions = procedures_[std::string(code)];
  for (auto it = versions.rbegin(); it != versions.rend(); ++it) {
    const std::string& from = it->second->definition().effective_from();
    if (from.empty() || from <= day) return it->second;
  }
  return WithReason(
      absl::FailedPreconditionError(
          absl::StrCat("Thủ tục ", std::string(code), " chưa có hiệu lực (áp dụng từ ngày ",
                       versions.begin()->second->definition().effective_from(), ")")),
      v1::STATE_NOT_ALLOWED, "procedure_code");
}

// ---- procedures ------------------------------------------------------------

absl::StatusOr<v1::ProcedureDefinition> EngineImpl::DeployProcedure(
    const Principal& caller, const v1::DeployProcedureRequest& request) {
  if (absl::Status s = RequireRole(caller, {v1::ROLE_ADMIN}, "deploy procedures"); !s.ok()) return s;
  absl::MutexLock deploy_lock(&deploy_mu_);
  return Idempotent<v1::ProcedureDefinition>(
      caller, "DeployProcedure", request, request.request_id(), "",
      [&](Mutation& m) -> absl::StatusOr<v1::ProcedureDefinition> {
        v1::ProcedureDefinition def = request.definition();
        auto latest = FindProcedure(def.code(), 0);
        def.set_version(latest.ok() ? (*latest)->definition().version() + 1 : 1);
        *def.mutable_deployed_at() = ToProto(clock_->Now());
        def.set_deployed_by(caller.subject);
        auto compiled = Procedure::Compile(def);
        if (!compiled.ok()) {
          return WithReason(compiled.status(), v1::DEFINITION_INVALID, "definition");
        }
        if (options_.documents != nullptr) {
          for (const auto& t : def.transitions()) {
            if (absl::Status s = options_.documents->CheckTransition(t); !s.ok()) {
              return WithReason(s, v1::DEFINITION_INVALID, "definition");
            }
          }
        }
        m.writes.Put(Family::kDefinitions, DefinitionKey(def.code(), def.version()),
                     def.SerializeAsString());
        m.after_commit.push_back([this, code = def.code(), version = def.version(),
                                  proc = *std::move(compiled)] {
          absl::MutexLock lock(&procedures_mu_);
          procedures_[code][version] = proc;
        });
        return def;
      });
}

absl::StatusOr<v1::ProcedureDefinition> EngineImpl::GetProcedure(
    const Principal&, const v1::GetProcedureRequest& request) {
  if (request.code().empty()) {
    return WithReason(absl::InvalidArgumentError("code is required, e.g. \"2.001914\""),
                      v1::FIELD_REQUIRED, "code");
  }
  if (request.version() < 0) {
    return WithReason(absl::InvalidArgumentError("version must not be negative"),
                      v1::FIELD_INVALID, "version");
  }
  auto proc = FindProcedure(request.code(), request.version());
  if (!proc.ok()) return proc.status();
  return (*proc)->definition();
}

absl::StatusOr<v1::ListProceduresResponse> EngineImpl::ListProcedures(
    const Principal& caller, const v1::ListProceduresRequest& request) {
  auto page_size = PageSize(request.page_size(), kDefaultPageSize);
  if (!page_size.ok()) return page_size.status();
  const std::string query = absl::StrCat("ListProcedures\n", caller.subject);
  std::string after;
  if (!request.page_token().empty()) {
    auto position = page_tokens_.Unseal(request.page_token(), query);
    if (!position.ok()) return position.status();
    after = std::move(position->key);
  }
  v1::ListProceduresResponse response;
  absl::MutexLock lock(&procedures_mu_);
  for (auto it = after.empty() ? procedures_.begin() : procedures_.upper_bound(after);
       it != procedures_.end(); ++it) {
    const auto& [code, versions] = *it;
    if (versions.empty()) continue;
    if (response.procedures_size() == *page_size) {
      response.set_next_page_token(
          page_tokens_.Seal(query, {0, response.procedures().rbegin()->latest().code()}));
      break;
    }
    auto* entry = response.add_procedures();
    *entry->mutable_latest() = versions.rbegin()->second->definition();
    for (const auto& [version, unused] : versions) entry->add_versions(version);
  }
  return response;
}

// ---- dossiers --------------------------------------------------------------

uint64_t EngineImpl::NextDossierNumber(const std::string& counter_key) {
  absl::MutexLock lock(&sequence_mu_);
  auto [it, inserted] = sequences_.try_emplace(counter_key, 0);
  if (inserted) {
    auto stored = store_->Get(Family::kSequences, counter_key);
    it->second = stored.ok() ? storage::DecodeCounter(*stored) : 0;
  }
  return ++it->second;
}

absl::Status EngineImpl::AddAttachments(
    Mutation& m, v1::Dossier& d, const google::protobuf::RepeatedPtrField<v1::AttachmentUpload>& uploads,
    v1::HistoryEvent& event, absl::Time now) {
  if (d.attachments_size() + uploads.size() > kMaxAttachments) {
    return WithReason(absl::InvalidArgumentError(absl::StrCat(
                          "Hồ sơ chỉ được có tối đa ", kMaxAttachments, " tệp đính kèm")),
                      v1::ATTACHMENT_INVALID, "attachments");
  }
  int64_t total = 0;
  for (int i = 0; i < uploads.size(); ++i) {
    const v1::AttachmentUpload& up = uploads[i];
    const std::string field = absl::StrCat("attachments[", i, "]");
    total += static_cast<int64_t>(up.content().size());
    if (up.name().empty() || up.name().size() > 255) {
      return WithReason(
          absl::InvalidArgumentError("Tệp đính kèm phải có tên (tối đa 255 ký tự)"),
          v1::ATTACHMENT_INVALID, field + ".name");
    }
    if (up.content().empty()) {
      return WithReason(absl::InvalidArgumentError(absl::StrCat("Tệp \"", up.name(), "\" rỗng")),
                        v1::ATTACHMENT_INVALID, field + ".content");
    }
    if (static_cast<int64_t>(up.content().size()) > options_.max_attachment_bytes) {
      return WithReason(absl::InvalidArgumentError(absl::StrCat(
                            "Tệp \"", up.name(), "\" vượt quá dung lượng cho phép ",
                            options_.max_attachment_bytes >> 20, " MB")),
                        v1::ATTACHMENT_INVALID, field + ".content");
    }
  }
  if (total > options_.max_request_attachment_bytes) {
    return WithReason(
        absl::InvalidArgumentError(absl::StrCat("Tổng dung lượng tệp đính kèm vượt quá ",
                                                options_.max_request_attachment_bytes >> 20,
                                                " MB")),
        v1::ATTACHMENT_INVALID, "attachments");
  }
  for (const auto& up : uploads) {
    v1::Attachment* a = d.add_attachments();
    a->set_id(absl::StrCat("a", d.attachments_size()));
    a->set_name(up.name());
    a->set_media_type(up.media_type().empty() ? "application/octet-stream" : up.media_type());
    a->set_size_bytes(static_cast<int64_t>(up.content().size()));
    a->set_sha256(Sha256Hex(up.content()));
    *a->mutable_added_at() = ToProto(now);
    event.add_attachment_sha256(a->sha256());
    m.writes.Put(Family::kDocuments, DocumentKey(d.code(), a->id()), up.content());
  }
  return absl::OkStatus();
}

void EngineImpl::Record(Mutation& m, const Procedure& proc, v1::Dossier& d,
                        const v1::TransitionDefinition* t, v1::HistoryEvent event, absl::Time now) {
  const std::optional<v1::Task> old_task =
      d.has_task() ? std::optional<v1::Task>(d.task()) : std::nullopt;
  const int old_status = d.national_status();
  const int64_t sequence = d.history_length() + 1;

  event.set_from_state(d.state());
  if (t != nullptr) {
    const v1::TimeLimit& limit = proc.definition().time_limit();
    v1::Clock* clock = d.mutable_clock();
    switch (t->clock()) {
      case v1::CLOCK_ACTION_START:
        if (!clock->started()) {
          clock->set_started(true);
          v1::Receipt* r = d.mutable_receipt();
          *r->mutable_received_at() = ToProto(now);
          *r->mutable_appointment_at() = ToProto(
              calendar_->Appointment(now, limit.working_days(), limit.after_15h_next_day()));
          r->set_received_by(event.actor());
        }
        break;
      case v1::CLOCK_ACTION_PAUSE:
        if (clock->started() && !clock->paused()) {
          absl::Time due = FromProto(d.receipt().appointment_at());
          absl::Duration left = now <= due ? calendar_->WorkingTimeBetween(now, due)
                                           : -calendar_->WorkingTimeBetween(due, now);
          clock->set_paused(true);
          *clock->mutable_paused_at() = ToProto(now);
          clock->set_remaining_working_seconds_at_pause(absl::ToInt64Seconds(left));
        }
        break;
      case v1::CLOCK_ACTION_RESUME:
        if (clock->paused()) {
          int64_t left = clock->remaining_working_seconds_at_pause();
          if (left > 0) {
            *d.mutable_receipt()->mutable_appointment_at() =
                ToProto(calendar_->AddWorkingTime(now, absl::Seconds(left)));
          }
          clock->set_paused(false);
          clock->clear_paused_at();
        }
        break;
      case v1::CLOCK_ACTION_STOP:
        if (clock->started() && !clock->has_stopped_at()) {
          *clock->mutable_stopped_at() = ToProto(now);
          bool on_time = clock->paused() ? clock->remaining_working_seconds_at_pause() >= 0
                                         : now <= FromProto(d.receipt().appointment_at());
          clock->set_finished_on_time(on_time);
          clock->set_paused(false);
        }
        break;
      default:
        break;
    }
    switch (t->trigger()) {
      case v1::TRIGGER_REQUEST_SUPPLEMENT: {
        d.set_supplement_request_count(d.supplement_request_count() + 1);
        v1::SupplementRequest* sr = d.mutable_pending_supplement();
        sr->Clear();
        *sr->mutable_missing_items() = event.missing_items();
        sr->set_note(event.comment());
        *sr->mutable_requested_at() = ToProto(now);
        sr->set_requested_by(event.actor());
        break;
      }
      case v1::TRIGGER_SUPPLEMENT:
        d.clear_pending_supplement();
        break;
      case v1::TRIGGER_REJECT:
        *d.mutable_rejection_reasons() = event.reasons();
        break;
      default:
        break;
    }
    const v1::StateDefinition* to = proc.State(t->to_state());
    d.set_state(to->id());
    d.set_national_status(to->national_status());
    d.set_closed(to->terminal());
    d.clear_task();
    if (const TaskSpec* spec = proc.Task(to->id())) {
      v1::Task* task = d.mutable_task();
      task->set_id(absl::StrCat(d.code(), "/", sequence));
      task->set_dossier_code(d.code());
      task->set_procedure_code(d.procedure_code());
      task->set_state(to->id());
      task->set_title(spec->title);
      task->set_unit_code(d.unit_code());
      task->set_role(spec->role);
      task->set_position(spec->position);
      for (v1::Trigger trig : {v1::TRIGGER_APPROVE, v1::TRIGGER_REJECT, v1::TRIGGER_REQUEST_SUPPLEMENT}) {
        if (proc.Transition(to->id(), trig) != nullptr) task->add_decisions(DecisionOf(trig));
      }
      *task->mutable_created_at() = ToProto(now);
    }
  }
  d.set_version(d.version() + 1);
  *d.mutable_updated_at() = ToProto(now);
  if (d.has_task()) {
    d.mutable_task()->set_dossier_version(d.version());
    if (d.has_receipt()) *d.mutable_task()->mutable_appointment_at() = d.receipt().appointment_at();
  }

  event.set_dossier_code(d.code());
  event.set_sequence(sequence);
  *event.mutable_time() = ToProto(now);
  event.set_to_state(d.state());
  event.set_national_status(d.national_status());
  event.set_dossier_version(d.version());
  event.set_previous_hash(d.history_head());
  v1::StoredEvent stored = SealEvent(&event);
  m.writes.Put(Family::kHistory, HistoryKey(d.code(), sequence), stored.SerializeAsString());
  d.set_history_length(sequence);
  d.set_history_head(event.hash());

  if (old_task) m.writes.Delete(Family::kWorklist, WorklistKey(*old_task));
  if (d.has_task()) m.writes.Put(Family::kWorklist, WorklistKey(d.task()), d.task().SerializeAsString());
  if (old_status != d.national_status()) {
    if (old_status != 0) m.writes.Delete(Family::kIndexes, IndexKey("status", StatusValue(old_status), d));
    m.writes.Put(Family::kIndexes, IndexKey("status", StatusValue(d.national_status()), d), "");
  }
  m.writes.Put(Family::kDossiers, d.code(), d.SerializeAsString());
  m.events.emplace_back(std::move(event), d.unit_code());
}

absl::StatusOr<v1::Dossier> EngineImpl::SubmitDossier(const Principal& caller,
                                                      const v1::SubmitDossierRequest& request) {
  if (absl::Status s = RequireRole(caller, {v1::ROLE_PORTAL}, "submit dossiers"); !s.ok()) return s;
  return Idempotent<v1::Dossier>(
      caller, "SubmitDossier", request, request.request_id(), "",
      [&](Mutation& m) -> absl::StatusOr<v1::Dossier> {
        const absl::Time now = clock_->Now();
        if (request.procedure_code().empty()) {
          return WithReason(absl::InvalidArgumentError(
                                "Thiếu mã thủ tục (procedure_code), ví dụ \"2.001914\""),
                            v1::FIELD_REQUIRED, "procedure_code");
        }
        auto proc = FindEffectiveProcedure(
            request.procedure_code(), absl::FormatTime("%Y-%m-%d", now, WorkCalendar::VietnamTime()));
        if (!proc.ok()) return proc.status();
        const v1::ProcedureDefinition& def = (*proc)->definition();
        if (absl::Status s = ValidateUnitCode(request.unit_code()); !s.ok()) return s;
        if (request.channel() < v1::CHANNEL_IN_PERSON || request.channel() > v1::CHANNEL_POST) {
          return WithReason(absl::InvalidArgumentError(
                                "channel must be CHANNEL_IN_PERSON, CHANNEL_ONLINE or CHANNEL_POST"),
                            request.channel() == v1::CHANNEL_UNSPECIFIED ? v1::FIELD_REQUIRED
                                                                         : v1::FIELD_INVALID,
                            "channel");
        }
        if (absl::Status s = ValidateApplicant(request.applicant()); !s.ok()) return s;
        if (absl::Status s = ValidateForm(def, request.form(), true); !s.ok()) return s;

        const std::string day = absl::FormatTime("%y%m%d", now, WorkCalendar::VietnamTime());
        const std::string counter_key = JoinKey({request.unit_code(), day});
        const uint64_t number = NextDossierNumber(counter_key);
        m.writes.RaiseCounter(Family::kSequences, counter_key, number);

        v1::Dossier d;
        d.set_code(absl::StrFormat("%s-%s-%04d", request.unit_code(), day, number));
        d.set_procedure_code(def.code());
        d.set_procedure_version(def.version());
        d.set_unit_code(request.unit_code());
        d.set_channel(request.channel());
        *d.mutable_applicant() = request.applicant();
        *d.mutable_form() = request.form();
        *d.mutable_submitted_at() = ToProto(now);
        d.set_submitted_by(caller.subject);

        v1::HistoryEvent event = EventBy(caller, "submitted", request.request_id());
        if (absl::Status s = AddAttachments(m, d, request.attachments(), event, now); !s.ok()) return s;

        // Enter the initial state as if by a transition, so its task is created.
        v1::TransitionDefinition enter;
        enter.set_to_state(def.initial_state());
        Record(m, **proc, d, &enter, std::move(event), now);
        for (const auto& [index, value] :
             {std::pair<absl::string_view, absl::string_view>{"all", ""},
              {"unit", d.unit_code()},
              {"applicant", d.applicant().id_number()},
              {"portal", d.submitted_by()}}) {
          m.writes.Put(Family::kIndexes, IndexKey(index, value, d), "");
        }
        return d;
      });
}

absl::StatusOr<v1::Dossier> EngineImpl::LoadDossier(absl::string_view code) {
  if (code.empty()) {
    return WithReason(absl::InvalidArgumentError("dossier code is required"), v1::FIELD_REQUIRED,
                      "code");
  }
  auto bytes = store_->Get(Family::kDossiers, code);
  if (absl::IsNotFound(bytes.status())) {
    return WithReason(absl::NotFoundError(absl::StrCat("Không tìm thấy hồ sơ \"", code, "\"")),
                      v1::DOSSIER_NOT_FOUND);
  }
  if (!bytes.ok()) return bytes.status();
  v1::Dossier d;
  if (!d.ParseFromString(*bytes)) return absl::DataLossError(absl::StrCat("dossier ", code, " is unreadable"));
  return d;
}

void EngineImpl::Fill(v1::Dossier& d) {
  const v1::Clock& c = d.clock();
  d.set_overdue(c.started() && !c.paused() && !c.has_stopped_at() &&
                clock_->Now() > FromProto(d.receipt().appointment_at()));
}

absl::StatusOr<v1::Dossier> EngineImpl::LoadReadable(const Principal& caller, absl::string_view code) {
  auto d = LoadDossier(code);
  if (!d.ok()) return d.status();
  if (absl::Status s = CanRead(caller, *d); !s.ok()) return s;
  Fill(*d);
  return d;
}

absl::StatusOr<v1::Dossier> EngineImpl::GetDossier(const Principal& caller,
                                                   const v1::GetDossierRequest& request) {
  return LoadReadable(caller, request.code());
}

absl::StatusOr<v1::ListDossiersResponse> EngineImpl::ListDossiers(
    const Principal& caller, const v1::ListDossiersRequest& request) {
  if (absl::Status s = RequireRole(caller, {v1::ROLE_PORTAL, v1::ROLE_OFFICER, v1::ROLE_CLERK,
                                            v1::ROLE_AUDITOR, v1::ROLE_ADMIN},
                                   "list dossiers");
      !s.ok()) {
    return s;
  }
  if (request.national_status() < 0 || request.national_status() > 10) {
    return WithReason(absl::InvalidArgumentError(absl::StrCat(
                          "national_status must be 0 (any) or 1..10, got ",
                          request.national_status())),
                      v1::FIELD_INVALID, "national_status");
  }
  auto page_size = PageSize(request.page_size(), kDefaultPageSize);
  if (!page_size.ok()) return page_size.status();
  auto from = ParseDay(request.submitted_from(), "submitted_from", false);
  if (!from.ok()) return from.status();
  auto to = ParseDay(request.submitted_to(), "submitted_to", true);
  if (!to.ok()) return to.status();

  std::string unit = request.unit_code();
  std::string portal;
  if (caller.role == v1::ROLE_PORTAL) portal = caller.subject;
  if (caller.role == v1::ROLE_OFFICER || caller.role == v1::ROLE_CLERK) {
    if (!unit.empty() && unit != caller.unit) {
      return WithReason(absl::PermissionDeniedError(absl::StrCat(
                            "you may list only your unit's dossiers (", caller.unit, ")")),
                        v1::UNIT_NOT_ALLOWED, "unit_code");
    }
    unit = caller.unit;
  }

  // The most selective index that applies; other filters are checked on
  // each dossier.
  std::string prefix;
  if (!request.applicant_id_number().empty()) {
    prefix = IndexPrefix("applicant", request.applicant_id_number());
  } else if (request.national_status() != 0) {
    prefix = IndexPrefix("status", StatusValue(request.national_status()));
  } else if (!unit.empty()) {
    prefix = IndexPrefix("unit", unit);
  } else if (!portal.empty()) {
    prefix = IndexPrefix("portal", portal);
  } else {
    prefix = IndexPrefix("all", "");
  }

  // A token fits only the query (caller and filters) it came from.
  v1::ListDossiersRequest query_request = request;
  query_request.clear_page_token();
  query_request.clear_page_size();
  const std::string query =
      absl::StrCat("ListDossiers\n", caller.subject, "\n", DeterministicBytes(query_request));
  std::string start;
  if (!request.page_token().empty()) {
    auto position = page_tokens_.Unseal(request.page_token(), query);
    if (!position.ok()) return position.status();
    start = std::move(position->key);
  } else if (*to) {
    start = prefix + OrderedUint64(static_cast<uint64_t>(absl::ToUnixMicros(**to))) + '\xff';
  }
  const std::string resume_after = request.page_token().empty() ? "" : start;
  const std::string from_key =
      *from ? prefix + OrderedUint64(static_cast<uint64_t>(absl::ToUnixMicros(**from))) : "";

  v1::ListDossiersResponse response;
  absl::Status load_error;
  int scanned = 0;
  std::string last_key;
  bool more = false;
  absl::Status s = store_->Scan(Family::kIndexes, prefix, start, true,
                                [&](absl::string_view key, absl::string_view) {
    if (key == resume_after) return true;
    if (!from_key.empty() && key < from_key) return false;
    if (response.dossiers_size() >= *page_size || ++scanned > kMaxScannedPerPage) {
      more = true;
      return false;
    }
    last_key = std::string(key);
    absl::string_view code = key.substr(key.rfind('\0') + 1);
    auto d = LoadDossier(code);
    if (!d.ok()) {
      load_error = d.status();
      return false;
    }
    if ((!portal.empty() && d->submitted_by() != portal) || (!unit.empty() && d->unit_code() != unit) ||
        (request.national_status() != 0 && d->national_status() != request.national_status()) ||
        (!request.applicant_id_number().empty() &&
         d->applicant().id_number() != request.applicant_id_number()) ||
        (*to && FromProto(d->submitted_at()) > **to)) {
      return true;
    }
    Fill(*d);
    *response.add_dossiers() = *std::move(d);
    return true;
  });
  if (!s.ok()) return s;
  if (!load_error.ok()) return load_error;
  if (more) response.set_next_page_token(page_tokens_.Seal(query, {0, last_key}));
  return response;
}

absl::StatusOr<v1::Dossier> EngineImpl::WithdrawDossier(const Principal& caller,
                                                        const v1::WithdrawDossierRequest& request) {
  if (absl::Status s = RequireRole(caller, {v1::ROLE_PORTAL}, "withdraw dossiers"); !s.ok()) return s;
  return Idempotent<v1::Dossier>(
      caller, "WithdrawDossier", request, request.request_id(), request.code(),
      [&](Mutation& m) -> absl::StatusOr<v1::Dossier> {
        auto d = LoadDossier(request.code());
        if (!d.ok()) return d.status();
        if (absl::Status s = CanActForApplicant(caller, *d); !s.ok()) return s;
        if (absl::Status s = CheckVersion(*d, request.expected_version()); !s.ok()) return s;
        auto proc = FindProcedure(d->procedure_code(), d->procedure_version());
        if (!proc.ok()) return proc.status();
        const v1::TransitionDefinition* t = (*proc)->Transition(d->state(), v1::TRIGGER_WITHDRAW);
        if (t == nullptr) {
          return WithMetadata(
              WithReason(absl::FailedPreconditionError(absl::StrCat(
                             "Hồ sơ ", d->code(), " đang ở trạng thái \"",
                             (*proc)->State(d->state())->title(), "\", không thể rút")),
                         v1::STATE_NOT_ALLOWED),
              "state", d->state());
        }
        v1::HistoryEvent event = EventBy(caller, t->id(), request.request_id());
        event.set_comment(request.reason());
        Record(m, **proc, *d, t, std::move(event), clock_->Now());
        return *d;
      });
}

absl::StatusOr<v1::Dossier> EngineImpl::AddSupplement(const Principal& caller,
                                                      const v1::AddSupplementRequest& request) {
  if (absl::Status s = RequireRole(caller, {v1::ROLE_PORTAL}, "add supplements"); !s.ok()) return s;
  return Idempotent<v1::Dossier>(
      caller, "AddSupplement", request, request.request_id(), request.code(),
      [&](Mutation& m) -> absl::StatusOr<v1::Dossier> {
        auto d = LoadDossier(request.code());
        if (!d.ok()) return d.status();
        if (absl::Status s = CanActForApplicant(caller, *d); !s.ok()) return s;
        if (absl::Status s = CheckVersion(*d, request.expected_version()); !s.ok()) return s;
        auto proc = FindProcedure(d->procedure_code(), d->procedure_version());
        if (!proc.ok()) return proc.status();
        const v1::TransitionDefinition* t = (*proc)->Transition(d->state(), v1::TRIGGER_SUPPLEMENT);
        if (t == nullptr) {
          return WithMetadata(
              WithReason(absl::FailedPreconditionError(
                             absl::StrCat("Hồ sơ ", d->code(), " không ở trạng thái chờ bổ sung")),
                         v1::STATE_NOT_ALLOWED),
              "state", d->state());
        }
        if (request.form().empty() && request.attachments().empty()) {
          return WithReason(absl::InvalidArgumentError(
                                "Bổ sung hồ sơ cần ít nhất một thông tin hoặc tệp đính kèm"),
                            v1::FIELD_REQUIRED, "form");
        }
        if (absl::Status s = ValidateForm((*proc)->definition(), request.form(), false); !s.ok()) return s;
        const absl::Time now = clock_->Now();
        v1::HistoryEvent event = EventBy(caller, t->id(), request.request_id());
        event.set_comment(request.note());
        if (absl::Status s = AddAttachments(m, *d, request.attachments(), event, now); !s.ok()) return s;
        for (const auto& [k, v] : request.form()) (*d->mutable_form())[k] = v;
        Record(m, **proc, *d, t, std::move(event), now);
        return *d;
      });
}

absl::StatusOr<v1::AttachmentContent> EngineImpl::GetAttachment(
    const Principal& caller, const v1::GetAttachmentRequest& request) {
  auto d = LoadReadable(caller, request.dossier_code());
  if (!d.ok()) return d.status();
  for (const auto& a : d->attachments()) {
    if (a.id() != request.attachment_id()) continue;
    auto bytes = store_->Get(Family::kDocuments, DocumentKey(d->code(), a.id()));
    if (!bytes.ok()) return bytes.status();
    v1::AttachmentContent content;
    *content.mutable_attachment() = a;
    content.set_content(*std::move(bytes));
    return content;
  }
  return WithReason(absl::NotFoundError(absl::StrCat("dossier ", d->code(),
                                                     " has no attachment \"",
                                                     request.attachment_id(), "\"")),
                    v1::ATTACHMENT_NOT_FOUND, "attachment_id");
}

absl::StatusOr<v1::DocumentContent> EngineImpl::GetDocument(const Principal& caller,
                                                            const v1::GetDocumentRequest& request) {
  auto d = LoadReadable(caller, request.dossier_code());
  if (!d.ok()) return d.status();
  for (const auto& doc : d->documents()) {
    if (doc.id() != request.document_id()) continue;
    auto bytes = store_->Get(Family::kDocuments, DocumentKey(d->code(), doc.id()));
    if (!bytes.ok()) return bytes.status();
    v1::DocumentContent content;
    *content.mutable_document() = doc;
    content.set_content(*std::move(bytes));
    return content;
  }
  return WithReason(absl::NotFoundError(absl::StrCat("dossier ", d->code(), " has no document \"",
                                                     request.document_id(), "\"")),
                    v1::DOCUMENT_NOT_FOUND, "document_id");
}

absl::StatusOr<std::unique_ptr<EventSubscription>> EngineImpl::WatchEvents(
    const Principal& caller, const v1::WatchEventsRequest& request) {
  // The bus holds subscriptions weakly; the caller's handle keeps one alive.
  class Handle : public EventSubscription {
   public:
    explicit Handle(std::shared_ptr<EventBus::Queue> queue) : queue_(std::move(queue)) {}
    bool Next(v1::HistoryEvent* event, absl::Duration timeout) override {
      return queue_->Next(event, timeout);
    }

   private:
    std::shared_ptr<EventBus::Queue> queue_;
  };

  if (request.target_case() == v1::WatchEventsRequest::kUnitCode) {
    if (absl::Status s = RequireRole(caller, {v1::ROLE_OFFICER, v1::ROLE_CLERK, v1::ROLE_AUDITOR,
                                              v1::ROLE_ADMIN},
                                     "watch a unit");
        !s.ok()) {
      return s;
    }
    if ((caller.role == v1::ROLE_OFFICER || caller.role == v1::ROLE_CLERK) &&
        caller.unit != request.unit_code()) {
      return WithReason(absl::PermissionDeniedError("you may watch only your own unit"),
                        v1::UNIT_NOT_ALLOWED, "unit_code");
    }
    return std::make_unique<Handle>(bus_.Register("", request.unit_code()));
  }
  if (request.target_case() != v1::WatchEventsRequest::kDossierCode) {
    return WithReason(absl::InvalidArgumentError("set dossier_code or unit_code to watch"),
                      v1::FIELD_REQUIRED, "target");
  }
  auto d = LoadReadable(caller, request.dossier_code());
  if (!d.ok()) return d.status();
  auto queue = bus_.Register(d->code(), "");
  auto stored = LoadStoredHistory(d->code());
  if (!stored.ok()) return stored.status();
  std::vector<v1::HistoryEvent> replay;
  for (const std::string& bytes : *stored) {
    auto event = OpenEvent(bytes);
    if (!event.ok()) return event.status();
    if (event->sequence() > request.after_sequence()) replay.push_back(*std::move(event));
  }
  queue->Prepend(std::move(replay), request.after_sequence());
  return std::make_unique<Handle>(std::move(queue));
}

// ---- tasks -----------------------------------------------------------------

absl::StatusOr<v1::ListMyTasksResponse> EngineImpl::ListMyTasks(
    const Principal& caller, const v1::ListMyTasksRequest& request) {
  if (absl::Status s = RequireRole(caller, {v1::ROLE_OFFICER, v1::ROLE_CLERK}, "have a worklist");
      !s.ok()) {
    return s;
  }
  auto page_size = PageSize(request.page_size(), kDefaultTaskPageSize);
  if (!page_size.ok()) return page_size.status();
  // Tasks for the caller's position, then tasks open to any position.
  std::vector<std::string> prefixes = {WorklistPrefix(caller.unit, caller.role, caller.position)};
  if (!caller.position.empty()) prefixes.push_back(WorklistPrefix(caller.unit, caller.role, ""));

  const std::string query = absl::StrCat("ListMyTasks\n", caller.subject, "\n", caller.unit,
                                         "\n", caller.position);
  int part = 0;
  std::string resume_after;
  if (!request.page_token().empty()) {
    auto position = page_tokens_.Unseal(request.page_token(), query);
    if (!position.ok()) return position.status();
    part = position->part;
    resume_after = std::move(position->key);
    if (part >= static_cast<int>(prefixes.size()) || !resume_after.starts_with(prefixes[part])) {
      return WithReason(absl::InvalidArgumentError("page_token belongs to a different worklist"),
                        v1::PAGE_TOKEN_INVALID, "page_token");
    }
  }
  v1::ListMyTasksResponse response;
  absl::Status parse_error;
  for (; part < static_cast<int>(prefixes.size()); ++part) {
    bool full = false;
    absl::Status s = store_->Scan(Family::kWorklist, prefixes[part], resume_after, false,
                                  [&](absl::string_view key, absl::string_view value) {
      if (key == resume_after) return true;
      if (response.tasks_size() >= *page_size) {
        full = true;
        return false;
      }
      if (!response.add_tasks()->ParseFromArray(value.data(), static_cast<int>(value.size()))) {
        parse_error = absl::DataLossError("a worklist entry cannot be parsed");
        return false;
      }
      resume_after = std::string(key);
      return true;
    });
    if (!s.ok()) return s;
    if (!parse_error.ok()) return parse_error;
    if (full) {
      response.set_next_page_token(page_tokens_.Seal(query, {part, resume_after}));
      break;
    }
    resume_after.clear();
  }
  return response;
}

absl::StatusOr<std::string> DossierOfTask(absl::string_view task_id) {
  size_t slash = task_id.rfind('/');
  if (task_id.empty() || slash == absl::string_view::npos || slash == 0) {
    return WithReason(absl::InvalidArgumentError(absl::StrCat(
                          "task_id \"", task_id, "\" is not of the form <dossier code>/<step>")),
                      task_id.empty() ? v1::FIELD_REQUIRED : v1::FIELD_INVALID, "task_id");
  }
  return std::string(task_id.substr(0, slash));
}

absl::StatusOr<v1::Task> EngineImpl::ClaimTask(const Principal& caller,
                                               const v1::ClaimTaskRequest& request) {
  if (absl::Status s = RequireRole(caller, {v1::ROLE_OFFICER, v1::ROLE_CLERK}, "claim tasks"); !s.ok()) {
    return s;
  }
  auto code = DossierOfTask(request.task_id());
  if (!code.ok()) return code.status();
  return Idempotent<v1::Task>(
      caller, "ClaimTask", request, request.request_id(), *code,
      [&](Mutation& m) -> absl::StatusOr<v1::Task> {
        auto d = LoadDossier(*code);
        if (!d.ok()) return d.status();
        if (!d->has_task() || d->task().id() != request.task_id()) {
          return WithReason(
              absl::NotFoundError(absl::StrCat("task ", request.task_id(), " is not open")),
              v1::TASK_NOT_FOUND, "task_id");
        }
        if (absl::Status s = CanWork(caller, d->task()); !s.ok()) return s;
        if (absl::Status s = CheckVersion(*d, request.expected_version()); !s.ok()) return s;
        if (!d->task().claimed_by().empty() && d->task().claimed_by() != caller.subject) {
          return WithReason(absl::FailedPreconditionError(absl::StrCat(
                                "task ", request.task_id(), " is claimed by another officer")),
                            v1::TASK_CLAIMED, "task_id");
        }
        auto proc = FindProcedure(d->procedure_code(), d->procedure_version());
        if (!proc.ok()) return proc.status();
        v1::HistoryEvent event = EventBy(caller, "claim_task", request.request_id());
        d->mutable_task()->set_claimed_by(caller.subject);
        Record(m, **proc, *d, nullptr, std::move(event), clock_->Now());
        return d->task();
      });
}

absl::Status EngineImpl::CheckSeparationOfDuty(const Principal& caller, const v1::Dossier& d,
                                               const v1::TransitionDefinition& t) {
  if (t.actor_differs_from().empty()) return absl::OkStatus();
  auto stored = LoadStoredHistory(d.code());
  if (!stored.ok()) return stored.status();
  for (const std::string& bytes : *stored) {
    auto event = OpenEvent(bytes);
    if (!event.ok()) return event.status();
    if (event->actor() != caller.subject) continue;
    for (const auto& other : t.actor_differs_from()) {
      if (event->action() == other) {
        return WithReason(
            absl::PermissionDeniedError(absl::StrCat(
                "separation of duty: ", caller.subject, " fired \"", other, "\" on dossier ",
                d.code(), " and so may not fire \"", t.id(), "\"")),
            v1::POSITION_NOT_ALLOWED);
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Dossier> EngineImpl::CompleteTask(const Principal& caller,
                                                     const v1::CompleteTaskRequest& request) {
  if (absl::Status s = RequireRole(caller, {v1::ROLE_OFFICER, v1::ROLE_CLERK}, "complete tasks");
      !s.ok()) {
    return s;
  }
  auto code = DossierOfTask(request.task_id());
  if (!code.ok()) return code.status();
  const v1::Trigger trigger = TriggerOf(request.decision());
  if (trigger == v1::TRIGGER_UNSPECIFIED) {
    return WithReason(absl::InvalidArgumentError("decision must be DECISION_APPROVE, "
                                                 "DECISION_REJECT or DECISION_REQUEST_SUPPLEMENT"),
                      request.decision() == v1::DECISION_UNSPECIFIED ? v1::FIELD_REQUIRED
                                                                     : v1::FIELD_INVALID,
                      "decision");
  }
  if (trigger == v1::TRIGGER_REJECT && !AllNonBlank(request.reasons())) {
    return WithReason(
        absl::InvalidArgumentError("Từ chối phải nêu rõ lý do bằng văn bản (reasons)"),
        v1::FIELD_REQUIRED, "reasons");
  }
  if (trigger == v1::TRIGGER_REQUEST_SUPPLEMENT && !AllNonBlank(request.missing_items())) {
    return WithReason(
        absl::InvalidArgumentError(
            "Yêu cầu bổ sung phải nêu cụ thể các giấy tờ, thông tin còn thiếu (missing_items)"),
        v1::FIELD_REQUIRED, "missing_items");
  }
  return Idempotent<v1::Dossier>(
      caller, "CompleteTask", request, request.request_id(), *code,
      [&](Mutation& m) -> absl::StatusOr<v1::Dossier> {
        auto step = LoadStep(caller, *code, request.task_id(), request.expected_version(),
                             request.decision());
        if (!step.ok()) return step.status();
        const v1::TransitionDefinition* t = step->transition;
        v1::HistoryEvent event = EventBy(caller, t->id(), request.request_id());
        event.set_decision(request.decision());
        event.set_comment(request.comment());
        *event.mutable_reasons() = request.reasons();
        *event.mutable_missing_items() = request.missing_items();
        const absl::Time now = clock_->Now();
        const bool signs = options_.documents != nullptr && !t->signatures().empty();
        if (request.has_signature() && !(signs && NeedsActorSignature(*t))) {
          return WithReason(
              absl::InvalidArgumentError(absl::StrCat(
                  "transition \"", t->id(), "\" needs no signature of yours; leave signature unset")),
              v1::FIELD_INVALID, "signature");
        }
        if (signs) {
          if (absl::Status s = AddSignedDocument(m, caller, request, *step, event, now); !s.ok()) {
            return s;
          }
        }
        Record(m, *step->procedure, step->dossier, t, std::move(event), now);
        return step->dossier;
      });
}

absl::StatusOr<EngineImpl::Step> EngineImpl::LoadStep(const Principal& caller,
                                                      const std::string& code,
                                                      const std::string& task_id,
                                                      int64_t expected_version,
                                                      v1::Decision decision) {
  Step step;
  auto d = LoadDossier(code);
  if (!d.ok()) return d.status();
  step.dossier = *std::move(d);
  if (absl::Status s = CheckVersion(step.dossier, expected_version); !s.ok()) return s;
  const v1::Dossier& dossier = step.dossier;
  if (!dossier.has_task() || dossier.task().id() != task_id) {
    return WithReason(absl::NotFoundError(absl::StrCat("task ", task_id, " is not open")),
                      v1::TASK_NOT_FOUND, "task_id");
  }
  if (absl::Status s = CanWork(caller, dossier.task()); !s.ok()) return s;
  if (!dossier.task().claimed_by().empty() && dossier.task().claimed_by() != caller.subject) {
    return WithReason(absl::FailedPreconditionError(
                          absl::StrCat("task ", task_id, " is claimed by another officer")),
                      v1::TASK_CLAIMED, "task_id");
  }
  auto proc = FindProcedure(dossier.procedure_code(), dossier.procedure_version());
  if (!proc.ok()) return proc.status();
  step.procedure = *std::move(proc);
  step.transition = step.procedure->Transition(dossier.state(), TriggerOf(decision));
  if (step.transition == nullptr) {
    return WithMetadata(
        WithReason(absl::FailedPreconditionError(absl::StrCat(
                       "decision ", v1::Decision_Name(decision), " is not possible in state \"",
                       dossier.state(), "\"")),
                   v1::DECISION_NOT_ALLOWED, "decision"),
        "state", dossier.state());
  }
  if (absl::Status s = CheckSeparationOfDuty(caller, dossier, *step.transition); !s.ok()) return s;
  return step;
}

// Errors of ResultDocuments, with the reasons a client sees for them.
absl::Status DocumentError(const absl::Status& status, absl::string_view invalid_field,
                           v1::ErrorReason invalid_reason) {
  google::rpc::ErrorInfo tagged;
  if (GetErrorInfo(status, &tagged)) return status;
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return WithReason(status, invalid_reason, invalid_field);
    case absl::StatusCode::kPermissionDenied:
      return WithReason(status, v1::SIGNER_CERTIFICATE_REFUSED, "signer_certificate_pem");
    case absl::StatusCode::kFailedPrecondition:
      return WithReason(status, v1::DOCUMENT_NOT_ISSUED);
    default:
      return status;  // UNAVAILABLE, INTERNAL: as ErrorInfoOf says by code
  }
}

std::string NextDocumentId(const v1::Dossier& d) {
  return absl::StrCat("d", d.documents_size() + 1);
}

absl::Status EngineImpl::AddSignedDocument(Mutation& m, const Principal& caller,
                                           const v1::CompleteTaskRequest& request, Step& step,
                                           v1::HistoryEvent& event, absl::Time now) {
  const v1::TransitionDefinition& t = *step.transition;
  v1::Dossier& d = step.dossier;
  const std::string id = NextDocumentId(d);
  absl::StatusOr<SignedDocument> signed_document;
  if (NeedsActorSignature(t)) {
    if (!request.has_signature() || request.signature().challenge_id().empty()) {
      return WithReason(
          absl::FailedPreconditionError(absl::StrCat(
              "transition \"", t.id(), "\" needs your signature on the ", t.produces_document(),
              ": call PrepareSignature first, sign its to_be_signed with your key, and pass "
              "challenge_id and signature_value in CompleteTask.signature")),
          v1::SIGNATURE_REQUIRED, "signature");
    }
    const std::string& challenge_id = request.signature().challenge_id();
    std::shared_ptr<const PendingSignature> pending;
    {
      absl::MutexLock lock(&challenges_mu_);
      auto it = challenges_.find(challenge_id);
      if (it == challenges_.end() || it->second.expires < now) {
        return WithReason(absl::FailedPreconditionError(absl::StrCat(
                              "signature challenge \"", challenge_id,
                              "\" is unknown or has expired: call PrepareSignature again")),
                          v1::SIGNATURE_CHALLENGE_INVALID, "signature.challenge_id");
      }
      const Challenge& c = it->second;
      if (c.subject != caller.subject) {
        return WithReason(
            absl::PermissionDeniedError("this signature challenge was issued to another officer"),
            v1::SIGNATURE_CHALLENGE_INVALID, "signature.challenge_id");
      }
      if (c.task_id != request.task_id() || c.decision != request.decision() ||
          c.version != request.expected_version() || c.document_id != id) {
        return WithReason(
            absl::FailedPreconditionError(absl::StrCat(
                "signature challenge \"", challenge_id, "\" was prepared for task ", c.task_id,
                ", decision ", v1::Decision_Name(c.decision), " at version ", c.version,
                ": call PrepareSignature again for this completion")),
            v1::SIGNATURE_CHALLENGE_INVALID, "signature.challenge_id");
      }
      pending = c.pending;
    }
    signed_document = options_.documents->Complete(*pending, request.signature().signature_value());
    m.after_commit.push_back([this, challenge_id] {
      absl::MutexLock lock(&challenges_mu_);
      challenges_.erase(challenge_id);
    });
  } else {
    // The document shows what the step does (a receipt its appointment):
    // render it from the dossier as the step will leave it.
    v1::Dossier after = d;
    Mutation scratch;
    Record(scratch, *step.procedure, after, &t, event, now);
    DocumentRequest document{&step.procedure->definition(), &t, &after, id, now};
    signed_document = options_.documents->SignByServer(document);
  }
  if (!signed_document.ok()) {
    return DocumentError(signed_document.status(), "signature.signature_value",
                         v1::SIGNATURE_INVALID);
  }

  v1::Document* entry = d.add_documents();
  entry->set_id(id);
  entry->set_kind(t.produces_document());
  entry->set_transition(t.id());
  entry->set_sha256(Sha256Hex(signed_document->pdf));
  entry->set_size_bytes(static_cast<int64_t>(signed_document->pdf.size()));
  *entry->mutable_signed_at() = ToProto(now);
  event.set_document_id(id);
  event.set_document_sha256(entry->sha256());
  for (const v1::DocumentSigner& signer : signed_document->signers) {
    *entry->add_signers() = signer;
    event.add_signer_certificate_sha256(signer.certificate_sha256());
  }
  m.writes.Put(Family::kDocuments, DocumentKey(d.code(), id), signed_document->pdf);
  return absl::OkStatus();
}

absl::StatusOr<v1::SignatureChallenge> EngineImpl::PrepareSignature(
    const Principal& caller, const v1::PrepareSignatureRequest& request) {
  if (absl::Status s = RequireRole(caller, {v1::ROLE_OFFICER, v1::ROLE_CLERK}, "sign documents");
      !s.ok()) {
    return s;
  }
  auto code = DossierOfTask(request.task_id());
  if (!code.ok()) return code.status();
  if (TriggerOf(request.decision()) == v1::TRIGGER_UNSPECIFIED) {
    return WithReason(absl::InvalidArgumentError("decision must be DECISION_APPROVE, "
                                                 "DECISION_REJECT or DECISION_REQUEST_SUPPLEMENT"),
                      request.decision() == v1::DECISION_UNSPECIFIED ? v1::FIELD_REQUIRED
                                                                     : v1::FIELD_INVALID,
                      "decision");
  }
  auto step = LoadStep(caller, *code, request.task_id(), request.expected_version(),
                       request.decision());
  if (!step.ok()) return step.status();
  const v1::TransitionDefinition& t = *step->transition;
  if (options_.documents == nullptr || !NeedsActorSignature(t)) {
    return WithReason(absl::FailedPreconditionError(absl::StrCat(
                          "transition \"", t.id(),
                          "\" needs no signature of yours: complete the task directly")),
                      v1::DECISION_NOT_ALLOWED, "decision");
  }
  const absl::Time now = clock_->Now();
  const std::string id = NextDocumentId(step->dossier);
  DocumentRequest document{&step->procedure->definition(), &t, &step->dossier, id, now};
  auto pending = options_.documents->Prepare(document, caller, request.signer_certificate_pem());
  if (!pending.ok()) {
    return DocumentError(pending.status(), "signer_certificate_pem", v1::FIELD_INVALID);
  }

  unsigned char random[16];
  if (RAND_bytes(random, sizeof(random)) != 1) return absl::InternalError("RAND_bytes failed");
  const std::string challenge_id =
      absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(random), sizeof(random)));
  v1::SignatureChallenge challenge;
  challenge.set_challenge_id(challenge_id);
  challenge.set_to_be_signed((*pending)->to_be_signed());
  challenge.set_document_sha256((*pending)->document_sha256());
  challenge.set_document_kind(t.produces_document());
  const absl::Time expires = now + options_.signature_challenge_ttl;
  *challenge.mutable_expires_at() = ToProto(expires);

  // Each holds a prepared PDF (~100 KB): bound the memory they take.
  constexpr size_t kMaxChallenges = 1000;
  absl::MutexLock lock(&challenges_mu_);
  absl::erase_if(challenges_, [now](const auto& entry) { return entry.second.expires < now; });
  if (challenges_.size() >= kMaxChallenges) {
    return WithReason(
        absl::ResourceExhaustedError("too many signatures are being prepared; retry shortly"),
        v1::SERVER_BUSY);
  }
  challenges_[challenge_id] = Challenge{caller.subject,
                                        request.task_id(),
                                        request.decision(),
                                        request.expected_version(),
                                        id,
                                        expires,
                                        std::shared_ptr<const PendingSignature>(*std::move(pending))};
  return challenge;
}

// ---- audit -----------------------------------------------------------------

absl::StatusOr<std::vector<std::string>> EngineImpl::LoadStoredHistory(absl::string_view code) {
  std::vector<std::string> stored;
  absl::Status s = store_->Scan(Family::kHistory, HistoryPrefix(code), "", false,
                                [&](absl::string_view, absl::string_view value) {
    stored.emplace_back(value);
    return true;
  });
  if (!s.ok()) return s;
  return stored;
}

absl::StatusOr<v1::GetDossierHistoryResponse> EngineImpl::GetDossierHistory(
    const Principal& caller, const v1::GetDossierHistoryRequest& request) {
  auto d = LoadReadable(caller, request.dossier_code());
  if (!d.ok()) return d.status();
  auto stored = LoadStoredHistory(d->code());
  if (!stored.ok()) return stored.status();
  v1::GetDossierHistoryResponse response;
  for (const std::string& bytes : *stored) {
    auto event = OpenEvent(bytes);
    if (!event.ok()) return event.status();
    *response.add_events() = *std::move(event);
  }
  return response;
}

absl::StatusOr<v1::VerifyDossierHistoryResponse> EngineImpl::VerifyDossierHistory(
    const Principal& caller, const v1::VerifyDossierHistoryRequest& request) {
  auto d = LoadReadable(caller, request.dossier_code());
  if (!d.ok()) return d.status();
  auto stored = LoadStoredHistory(d->code());
  if (!stored.ok()) return stored.status();
  return VerifyChain(*stored, *d);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Engine>> Engine::Open(storage::Store* store, Clock* clock,
                                                     const WorkCalendar* calendar,
                                                     const EngineOptions& options) {
  // Only a serving engine (one that installs its procedures) writes at Open.
  auto tokens = PageTokens::Open(store, options.install_builtin_procedures);
  if (!tokens.ok()) return tokens.status();
  auto engine = std::make_unique<EngineImpl>(store, clock, calendar, options, *std::move(tokens));
  if (absl::Status s = engine->Load(); !s.ok()) return s;
  if (options.install_builtin_procedures) {
    if (absl::Status s = engine->InstallBuiltinProcedures(); !s.ok()) return s;
  }
  return std::unique_ptr<Engine>(std::move(engine));
}

}  // namespace motcua::workflow
