#include "workflow/task_commands.h"

#include <openssl/rand.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "proto/error_reason.h"
#include "proto/proto_time.h"
#include "workflow/access.h"
#include "workflow/applier.h"
#include "workflow/events.h"
#include "workflow/history.h"
#include "workflow/keys.h"
#include "workflow/records.h"
#include "workflow/validation.h"

namespace motcua::workflow {
namespace {

// Items in one PrepareSignatures or CompleteTasks.
constexpr int kMaxBatchItems = 1000;

absl::StatusOr<std::string> DossierOfTask(absl::string_view task_id) {
  size_t slash = task_id.rfind('/');
  if (task_id.empty() || slash == absl::string_view::npos || slash == 0) {
    return WithReason(absl::InvalidArgumentError(absl::StrCat(
                          "task_id \"", task_id, "\" is not of the form <dossier code>/<step>")),
                      task_id.empty() ? v1::FIELD_REQUIRED : v1::FIELD_INVALID, "task_id");
  }
  return std::string(task_id.substr(0, slash));
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

}  // namespace

absl::StatusOr<v1::Task> TaskCommands::Claim(const Principal& caller,
                                               const v1::ClaimTaskRequest& request) {
  if (absl::Status s = RequireRole(caller, {v1::ROLE_OFFICER, v1::ROLE_CLERK}, "claim tasks"); !s.ok()) {
    return s;
  }
  auto code = DossierOfTask(request.task_id());
  if (!code.ok()) return code.status();
  return ctx_.runner->Run<v1::Task>(
      caller, "ClaimTask", request, request.request_id(), *code,
      [&]() -> absl::StatusOr<Change> {
        auto d = LoadDossier(*ctx_.store, *code);
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
        auto proc = ctx_.catalog.Find(d->procedure_code(), d->procedure_version());
        if (!proc.ok()) return proc.status();
        Change change;
        change.procedure = *std::move(proc);
        change.dossier = *std::move(d);
        change.events.push_back(
            EventBy(caller, kActionClaimTask, request.request_id(), ctx_.clock->Now()));
        return change;
      },
      [](const v1::Dossier& d) { return d.task(); });
}

absl::Status TaskCommands::CheckSeparationOfDuty(const Principal& caller, const v1::Dossier& d,
                                               const v1::TransitionDefinition& t) {
  if (t.actor_differs_from().empty()) return absl::OkStatus();
  auto history = LoadHistory(*ctx_.store, d.code());
  if (!history.ok()) return history.status();
  for (const v1::HistoryEvent& event : *history) {
    if (event.actor() != caller.subject) continue;
    for (const auto& other : t.actor_differs_from()) {
      if (event.action() == other) {
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

absl::StatusOr<v1::Dossier> TaskCommands::Complete(const Principal& caller,
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
  return ctx_.runner->Run<v1::Dossier>(
      caller, "CompleteTask", request, request.request_id(), *code,
      [&]() -> absl::StatusOr<Change> {
        auto step = LoadStep(caller, *code, request.task_id(), request.expected_version(),
                             request.decision());
        if (!step.ok()) return step.status();
        const v1::TransitionDefinition* t = step->transition;
        auto made = TransitionEvent(caller, *t, request.request_id(), *step->procedure,
                                    step->dossier, *ctx_.calendar, ctx_.clock->Now());
        if (!made.ok()) return made.status();
        v1::HistoryEvent event = *std::move(made);
        event.set_decision(request.decision());
        event.set_comment(request.comment());
        *event.mutable_reasons() = request.reasons();
        *event.mutable_missing_items() = request.missing_items();
        const bool signs = ctx_.options.documents != nullptr && !t->signatures().empty();
        if (request.has_signature() && !(signs && NeedsActorSignature(*t))) {
          return WithReason(
              absl::InvalidArgumentError(absl::StrCat(
                  "transition \"", t->id(), "\" needs no signature of yours; leave signature unset")),
              v1::FIELD_INVALID, "signature");
        }
        Change change;
        if (signs && t->issue_after_commit()) {
          AddPendingDocument(*step, event, change);
        } else if (signs) {
          if (absl::Status s = AddSignedDocument(caller, request, *step, event, change); !s.ok()) {
            return s;
          }
        }
        change.procedure = std::move(step->procedure);
        change.dossier = std::move(step->dossier);
        change.events.push_back(std::move(event));
        return change;
      },
      [](const v1::Dossier& d) { return d; });
}

absl::StatusOr<TaskCommands::Step> TaskCommands::LoadStep(const Principal& caller,
                                                      const std::string& code,
                                                      const std::string& task_id,
                                                      int64_t expected_version,
                                                      v1::Decision decision) {
  Step step;
  auto d = LoadDossier(*ctx_.store, code);
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
  auto proc = ctx_.catalog.Find(dossier.procedure_code(), dossier.procedure_version());
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
  step.document_id = NextDocumentId(step.dossier);
  if (const std::string& kind = step.transition->signs_document(); !kind.empty()) {
    for (int i = 0; i < dossier.documents_size(); ++i) {
      if (dossier.documents(i).kind() == kind) step.document_so_far = i;
    }
    if (step.document_so_far >= 0 && !dossier.documents(step.document_so_far).pending()) {
      step.document_id = dossier.documents(step.document_so_far).id();
    }
  }
  return step;
}

// Read only where the document is signed here: a completion carrying the
// officer's signature finds it in the prepared challenge.
absl::StatusOr<std::string> TaskCommands::PdfSoFar(const Step& step) {
  if (step.document_so_far < 0 || step.dossier.documents(step.document_so_far).pending()) {
    return "";
  }
  return ctx_.store->Get(storage::Family::kDocuments,
                         DocumentKey(step.dossier.code(), step.document_id));
}

DocumentRequest TaskCommands::Step::DocumentFor(const v1::Dossier& as, absl::Time time,
                                                absl::string_view pdf_so_far) const {
  DocumentRequest request;
  request.procedure = procedure.get();
  request.transition = transition;
  request.dossier = &as;
  request.document_id = document_id;
  request.time = time;
  if (document_so_far >= 0) request.document_so_far = &dossier.documents(document_so_far);
  request.pdf_so_far = pdf_so_far;
  return request;
}

absl::Status TaskCommands::AddSignedDocument(const Principal& caller,
                                             const v1::CompleteTaskRequest& request,
                                             const Step& step, v1::HistoryEvent& event,
                                             Change& change) {
  const absl::Time now = FromProto(event.time());
  const v1::TransitionDefinition& t = *step.transition;
  const v1::Dossier& d = step.dossier;
  const std::string& id = step.document_id;
  absl::StatusOr<SignedDocument> signed_document;
  if (NeedsActorSignature(t)) {
    if (!request.has_signature() || request.signature().challenge_id().empty()) {
      return WithReason(
          absl::FailedPreconditionError(absl::StrCat(
              "transition \"", t.id(), "\" needs your signature on the ", DocumentKindOf(t),
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
    signed_document =
        ctx_.options.documents->Complete(*pending, request.signature().signature_value());
    change.after_commit.push_back([this, challenge_id] {
      absl::MutexLock lock(&challenges_mu_);
      challenges_.erase(challenge_id);
    });
  } else {
    // The document shows what the step does (a receipt its appointment):
    // render it from the dossier as the step will leave it.
    v1::Dossier after = d;
    v1::HistoryEvent provisional = event;
    provisional.set_dossier_code(d.code());
    provisional.set_sequence(d.history_length() + 1);
    if (absl::Status s = ApplyEvent(*step.procedure, provisional, &after); !s.ok()) return s;
    auto pdf_so_far = PdfSoFar(step);
    if (!pdf_so_far.ok()) return pdf_so_far.status();
    signed_document =
        ctx_.options.documents->SignByServer(step.DocumentFor(after, now, *pdf_so_far));
  }
  if (!signed_document.ok()) {
    return DocumentError(signed_document.status(), "signature.signature_value",
                         v1::SIGNATURE_INVALID);
  }

  v1::Document* entry = event.mutable_document();
  entry->set_id(id);
  entry->set_kind(DocumentKindOf(t));
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
  change.files.emplace_back(id, std::move(signed_document->pdf));
  return absl::OkStatus();
}

void TaskCommands::AddPendingDocument(const Step& step, v1::HistoryEvent& event,
                                      Change& change) {
  const v1::Dossier& d = step.dossier;
  v1::Document* pending = event.mutable_document();
  pending->set_id(NextDocumentId(d));
  pending->set_kind(step.transition->produces_document());
  pending->set_transition(step.transition->id());
  pending->set_pending(true);
  v1::OutboxEntry entry;
  entry.set_dossier_code(d.code());
  entry.set_document_id(pending->id());
  entry.set_event_sequence(d.history_length() + 1);  // this step's event
  change.writes.Put(storage::Family::kOutbox,
                    TimedKey(FromProto(event.time()), d.code(), pending->id()),
                    entry.SerializeAsString());
  change.after_commit.push_back([this] {
    if (ctx_.outbox_ready) ctx_.outbox_ready();
  });
}

absl::StatusOr<v1::SignatureChallenge> TaskCommands::PrepareSignature(
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
  if (ctx_.options.documents == nullptr || !NeedsActorSignature(t)) {
    return WithReason(absl::FailedPreconditionError(absl::StrCat(
                          "transition \"", t.id(),
                          "\" needs no signature of yours: complete the task directly")),
                      v1::DECISION_NOT_ALLOWED, "decision");
  }
  const absl::Time now = ctx_.clock->Now();
  const std::string& id = step->document_id;
  auto pdf_so_far = PdfSoFar(*step);
  if (!pdf_so_far.ok()) return pdf_so_far.status();
  auto pending = ctx_.options.documents->Prepare(step->DocumentFor(step->dossier, now, *pdf_so_far),
                                                 caller, request.signer_certificate_pem());
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
  challenge.set_document_kind(DocumentKindOf(t));
  const absl::Time expires = now + ctx_.options.signature_challenge_ttl;
  *challenge.mutable_expires_at() = ToProto(expires);

  // Each holds a prepared PDF (~100 KB): bound the memory they take, with
  // room for two officers' full batches at once.
  constexpr size_t kMaxChallenges = 2 * kMaxBatchItems;
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
                                        DocumentKindOf(t),
                                        expires,
                                        std::shared_ptr<const PendingSignature>(*std::move(pending))};
  return challenge;
}

absl::StatusOr<v1::SignaturePreview> TaskCommands::GetSignaturePreview(
    const Principal& caller, const v1::GetSignaturePreviewRequest& request) {
  if (absl::Status s = RequireRole(caller, {v1::ROLE_OFFICER, v1::ROLE_CLERK}, "sign documents");
      !s.ok()) {
    return s;
  }
  std::shared_ptr<const PendingSignature> pending;
  v1::SignaturePreview preview;
  {
    absl::MutexLock lock(&challenges_mu_);
    auto it = challenges_.find(request.challenge_id());
    if (it == challenges_.end() || it->second.expires < ctx_.clock->Now()) {
      return WithReason(absl::NotFoundError(absl::StrCat(
                            "no live signature challenge \"", request.challenge_id(),
                            "\": it expired or was used; prepare the signature again")),
                        v1::SIGNATURE_CHALLENGE_INVALID, "challenge_id");
    }
    if (it->second.subject != caller.subject) {
      return absl::PermissionDeniedError(
          "this challenge was prepared by another officer: only they may see what it signs");
    }
    pending = it->second.pending;
    preview.set_document_kind(it->second.document_kind);
  }
  preview.set_challenge_id(request.challenge_id());
  preview.set_pdf(pending->prepared_pdf());
  for (int64_t n : pending->byte_range()) preview.add_byte_range(n);
  preview.set_document_sha256(pending->document_sha256());
  return preview;
}

namespace {

absl::Status CheckBatchSize(int items, absl::string_view field) {
  if (items < 1 || items > kMaxBatchItems) {
    return WithReason(absl::InvalidArgumentError(absl::StrCat(
                          "a batch holds 1 to ", kMaxBatchItems, " items; this one has ", items)),
                      v1::FIELD_INVALID, field);
  }
  return absl::OkStatus();
}

absl::Status DuplicateTask(const std::string& task_id) {
  return WithReason(absl::InvalidArgumentError(absl::StrCat(
                        "task ", task_id, " is in this batch twice; only its first item counts")),
                    v1::FIELD_INVALID, "task_id");
}

// One result per item, in order, each naming its task. `work(i, result)`
// fills those of the first item of each task, on one thread per core (each
// renders or signs a document: CPU-bound and independent); a task given
// again gets an error instead.
template <typename Response, typename Items, typename Work>
Response ForEachTask(const Items& items, Work work) {
  Response response;
  absl::flat_hash_set<std::string> seen;
  std::vector<int> firsts;
  for (int i = 0; i < items.size(); ++i) {
    const std::string& task_id = items[i].task_id();
    auto* result = response.add_results();
    result->set_task_id(task_id);
    if (seen.insert(task_id).second) {
      firsts.push_back(i);
    } else {
      *result->mutable_error() = ToRpcStatus(DuplicateTask(task_id));
    }
  }
  const size_t threads =
      std::min<size_t>(firsts.size(), std::max(1u, std::thread::hardware_concurrency()));
  std::atomic<size_t> next{0};
  auto run = [&] {
    for (size_t n = next++; n < firsts.size(); n = next++) {
      work(firsts[n], response.mutable_results(firsts[n]));
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(run);
  run();
  for (std::thread& thread : pool) thread.join();
  return response;
}

}  // namespace

absl::StatusOr<v1::PrepareSignaturesResponse> TaskCommands::PrepareSignatures(
    const Principal& caller, const v1::PrepareSignaturesRequest& request) {
  if (absl::Status s = RequireRole(caller, {v1::ROLE_OFFICER, v1::ROLE_CLERK}, "sign documents");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckBatchSize(request.items_size(), "items"); !s.ok()) return s;
  return ForEachTask<v1::PrepareSignaturesResponse>(
      request.items(), [&](int i, v1::PrepareSignaturesResponse::Result* result) {
        const auto& item = request.items(i);
        v1::PrepareSignatureRequest one;
        one.set_task_id(item.task_id());
        one.set_expected_version(item.expected_version());
        one.set_decision(item.decision());
        one.set_signer_certificate_pem(request.signer_certificate_pem());
        absl::StatusOr<v1::SignatureChallenge> challenge = PrepareSignature(caller, one);
        if (challenge.ok()) {
          *result->mutable_challenge() = *std::move(challenge);
        } else {
          *result->mutable_error() = ToRpcStatus(challenge.status());
        }
      });
}

absl::StatusOr<v1::CompleteTasksResponse> TaskCommands::CompleteTasks(
    const Principal& caller, const v1::CompleteTasksRequest& request) {
  if (absl::Status s = RequireRole(caller, {v1::ROLE_OFFICER, v1::ROLE_CLERK}, "complete tasks");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckBatchSize(request.tasks_size(), "tasks"); !s.ok()) return s;
  return ForEachTask<v1::CompleteTasksResponse>(
      request.tasks(), [&](int i, v1::CompleteTasksResponse::Result* result) {
        absl::StatusOr<v1::Dossier> dossier = Complete(caller, request.tasks(i));
        if (dossier.ok()) {
          *result->mutable_dossier() = *std::move(dossier);
        } else {
          *result->mutable_error() = ToRpcStatus(dossier.status());
        }
      });
}

}  // namespace motcua::workflow
