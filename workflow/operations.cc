#include "workflow/operations.h"

#include <openssl/rand.h>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "proto/error_reason.h"
#include "proto/proto_time.h"
#include "signing/documents.h"
#include "signing/long_term.h"
#include "workflow/access.h"
#include "workflow/applier.h"
#include "workflow/events.h"
#include "workflow/history.h"
#include "workflow/keys.h"
#include "workflow/result_documents.h"
#include "workflow/records.h"
#include "workflow/validation.h"

namespace motcua::workflow {
namespace {

using storage::Family;
using storage::JoinKey;

constexpr char kNamePrefix[] = "operations/";
constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 200;
// Items done at once: enough to fill the Journal's group commits.
constexpr int kParallelItems = 16;
constexpr int kPlanBatch = 1000;
constexpr int kMaxProblems = 100;

std::string RecordPrefix() { return JoinKey({"op", ""}); }
std::string RecordKey(absl::string_view id) { return JoinKey({"op", id}); }
std::string ItemPrefix(absl::string_view id) { return JoinKey({"item", id, ""}); }
std::string ItemKey(absl::string_view id, absl::string_view item) {
  return JoinKey({"item", id, item});
}
std::string IdOf(const v1::OperationRecord& record) {
  return record.operation().name().substr(sizeof(kNamePrefix) - 1);
}

const Principal& System() {
  static const Principal* system = new Principal{"system", v1::ROLE_UNSPECIFIED, "", ""};
  return *system;
}

// Ids sort by creation time, so a reverse scan lists the newest first.
std::string NewId(absl::Time now) {
  unsigned char random[4];
  RAND_bytes(random, sizeof(random));
  return absl::StrFormat(
      "%016d-%s", absl::ToUnixMicros(now),
      absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(random), 4)));
}

absl::Status SaveItem(storage::Store& store, absl::string_view id, absl::string_view item,
                      v1::OperationItem::Status status, absl::string_view reason) {
  v1::OperationItem value;
  value.set_status(status);
  value.set_reason(std::string(reason));
  storage::WriteSet w;
  w.Put(Family::kOperations, ItemKey(id, item), value.SerializeAsString());
  return store.Commit(w);
}

// An operation of items, one per dossier (not a job).
bool OverDossiers(const v1::OperationRecord& record) {
  return record.has_transition() || record.has_renew();
}

void Count(v1::OperationItem::Status status, v1::OperationMetadata* m) {
  switch (status) {
    case v1::OperationItem::STATUS_DONE: m->set_done_items(m->done_items() + 1); break;
    case v1::OperationItem::STATUS_SKIPPED: m->set_skipped_items(m->skipped_items() + 1); break;
    case v1::OperationItem::STATUS_FAILED: m->set_failed_items(m->failed_items() + 1); break;
    default: break;
  }
}

}  // namespace

Operations::~Operations() {
  stopping_ = true;
  std::vector<std::thread> threads;
  {
    absl::MutexLock lock(&mu_);
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
}

absl::Status Operations::Resume() {
  std::vector<std::string> unfinished;
  std::vector<v1::OperationRecord> interrupted_jobs;
  absl::Status parse_error;
  absl::Status s = ctx_.store->Scan(Family::kOperations, RecordPrefix(), "", false,
                                    [&](absl::string_view, absl::string_view value) {
    v1::OperationRecord record;
    if (!record.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      parse_error = absl::DataLossError("a stored operation cannot be parsed");
      return false;
    }
    if (record.operation().done()) return true;
    if (OverDossiers(record)) {
      unfinished.push_back(IdOf(record));
    } else {
      interrupted_jobs.push_back(std::move(record));
    }
    return true;
  });
  if (!s.ok()) return s;
  if (!parse_error.ok()) return parse_error;
  // A job is not run again by itself: the medium it wrote to may be gone,
  // or this store restored from a copy taken while the job ran.
  for (v1::OperationRecord& record : interrupted_jobs) {
    Running ended;
    absl::Status recorded = End(record, ended, [](v1::Operation& op) {
      op.mutable_error()->set_code(static_cast<int>(absl::StatusCode::kAborted));
      op.mutable_error()->set_message(
          "interrupted by a restart of the server before it finished; it is not run again by "
          "itself: see what it left (e.g. the backup catalog) and start it again if still "
          "needed");
    });
    if (!recorded.ok()) return recorded;
  }
  for (const std::string& id : unfinished) Launch(id);
  return absl::OkStatus();
}

absl::StatusOr<v1::Operation> Operations::StartTransition(
    const Principal& caller, const v1::TransitionDossiersRequest& request) {
  if (absl::Status s = RequireRole(caller, {v1::ROLE_ADMIN}, "start operations"); !s.ok()) return s;
  auto proc = ctx_.catalog.Find(request.procedure_code(), 0);
  if (!proc.ok()) {
    return WithReason(absl::InvalidArgumentError(absl::StrCat(
                          "procedure_code \"", request.procedure_code(), "\": ",
                          proc.status().message())),
                      v1::FIELD_INVALID, "procedure_code");
  }
  const v1::TransitionDefinition* t = (*proc)->TransitionById(request.transition());
  if (t == nullptr || t->trigger() != v1::TRIGGER_SYSTEM) {
    return WithReason(absl::InvalidArgumentError(absl::StrCat(
                          "transition \"", request.transition(), "\" is not a TRIGGER_SYSTEM "
                          "transition of procedure ", request.procedure_code())),
                      v1::FIELD_INVALID, "transition");
  }
  if (!request.unit_code().empty()) {
    if (absl::Status s = ValidateUnitCode(request.unit_code()); !s.ok()) return s;
  }
  return Start(caller, "TransitionDossiers", request, request.request_id(),
               [&](v1::OperationRecord& record) {
                 *record.mutable_transition() = request;
                 record.mutable_transition()->clear_request_id();
                 v1::OperationMetadata* m = record.mutable_operation()->mutable_metadata();
                 m->set_kind("transition_dossiers");
                 m->set_description(absl::StrCat(
                     "Fire \"", t->id(), "\" on ", request.procedure_code(), " dossiers in \"",
                     t->from_state(), "\"", request.unit_code().empty() ? "" : " of ",
                     request.unit_code()));
                 m->set_phase(v1::OperationMetadata::PHASE_PLANNING);
               });
}

absl::StatusOr<v1::Operation> Operations::StartRenewal(const Principal& caller,
                                                       const v1::RenewDocumentsRequest& request) {
  if (absl::Status s = RequireRole(caller, {v1::ROLE_ADMIN}, "start operations"); !s.ok()) return s;
  if (!request.has_renew_before()) {
    return WithReason(absl::InvalidArgumentError(
                          "renew_before: required (documents whose evidence lapses before it "
                          "are renewed)"),
                      v1::FIELD_REQUIRED, "renew_before");
  }
  if (ctx_.options.documents == nullptr) {
    return absl::FailedPreconditionError("this server issues no signed documents");
  }
  if (!request.unit_code().empty()) {
    if (absl::Status s = ValidateUnitCode(request.unit_code()); !s.ok()) return s;
  }
  const absl::Time before = FromProto(request.renew_before());
  return Start(caller, "RenewDocuments", request, request.request_id(),
               [&](v1::OperationRecord& record) {
                 *record.mutable_renew() = request;
                 record.mutable_renew()->clear_request_id();
                 v1::OperationMetadata* m = record.mutable_operation()->mutable_metadata();
                 m->set_kind("renew_documents");
                 m->set_description(absl::StrCat(
                     "Renew the evidence of documents lapsing before ",
                     absl::FormatTime("%Y-%m-%d %H:%M UTC", before, absl::UTCTimeZone()),
                     request.unit_code().empty() ? "" : " of ", request.unit_code()));
                 m->set_phase(v1::OperationMetadata::PHASE_PLANNING);
               });
}

absl::StatusOr<v1::Operation> Operations::StartJob(const Principal& caller, absl::string_view kind,
                                                   const std::string& description,
                                                   const google::protobuf::Message& request,
                                                   const std::string& request_id) {
  if (absl::Status s = RequireRole(caller, {v1::ROLE_ADMIN}, "start operations"); !s.ok()) return s;
  if (!ctx_.options.jobs.contains(std::string(kind))) {
    return absl::InternalError(absl::StrCat("no job of kind \"", kind, "\" is registered"));
  }
  return Start(caller, kind, request, request_id, [&](v1::OperationRecord& record) {
    record.set_job_request(request.SerializeAsString());
    v1::OperationMetadata* m = record.mutable_operation()->mutable_metadata();
    m->set_kind(std::string(kind));
    m->set_description(description);
    m->set_phase(v1::OperationMetadata::PHASE_RUNNING);
  });
}

absl::StatusOr<v1::Operation> Operations::Start(
    const Principal& caller, absl::string_view method, const google::protobuf::Message& request,
    const std::string& request_id, const std::function<void(v1::OperationRecord&)>& fill) {
  v1::Operation started;
  return ctx_.runner->Run<v1::Operation>(
      caller, method, request, request_id, "",
      [&]() -> absl::StatusOr<Change> {
        const absl::Time now = ctx_.clock->Now();
        const std::string id = NewId(now);
        v1::OperationRecord record;
        v1::Operation* op = record.mutable_operation();
        op->set_name(absl::StrCat(kNamePrefix, id));
        v1::OperationMetadata* m = op->mutable_metadata();
        m->set_created_by(caller.subject);
        *m->mutable_create_time() = ToProto(now);
        *m->mutable_update_time() = ToProto(now);
        fill(record);
        Change change;
        change.writes.Put(Family::kOperations, RecordKey(id), record.SerializeAsString());
        change.after_commit.push_back([this, id] { Launch(id); });
        started = record.operation();
        return change;
      },
      [&](const v1::Dossier&) { return started; });
}

void Operations::Launch(const std::string& id) {
  auto running = std::make_shared<Running>();
  absl::MutexLock lock(&mu_);
  if (stopping_ || running_.contains(id)) return;
  running_[id] = running;
  threads_.emplace_back([this, id, running] { Run(id, running); });
}

void Operations::Run(const std::string& id, const std::shared_ptr<Running>& running) {
  auto record = Load(id);
  absl::Status s = record.status();
  if (s.ok()) {
    {
      absl::MutexLock lock(&running->mu);
      running->metadata = record->operation().metadata();
    }
    running->cancel = record->operation().metadata().cancel_requested();
    if (!OverDossiers(*record)) {
      s = RunJob(*record, *running);
    } else {
      if (record->operation().metadata().phase() == v1::OperationMetadata::PHASE_PLANNING &&
          !running->cancel) {
        s = Plan(*record, *running);
      }
      if (s.ok()) s = Execute(*record, *running);
      // Stopped by shutdown: resumes at the next start, unfinished.
      if (s.ok() && !stopping_) s = Finish(*record, *running);
    }
  }
  absl::MutexLock lock(&running->mu);
  running->finished = true;
  // A failure (the store refused a write) leaves the operation unfinished;
  // the next start resumes it.
}

absl::Status Operations::Plan(v1::OperationRecord& record, Running& running) {
  const std::string id = IdOf(record);
  auto snapshot = ctx_.store->Snapshot();
  storage::WriteSet batch;
  int staged = 0;
  absl::Status error;
  v1::OperationItem pending;
  pending.set_status(v1::OperationItem::STATUS_PENDING);
  const std::string pending_bytes = pending.SerializeAsString();
  absl::Status s = snapshot->Scan(Family::kDossiers, "", "", false,
                                  [&](absl::string_view code, absl::string_view value) {
    if (stopping_) return false;
    v1::Dossier d;
    if (!d.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      error = absl::DataLossError(absl::StrCat("dossier ", code, " is unreadable"));
      return false;
    }
    if (!Chosen(record, d)) return true;
    batch.Put(Family::kOperations, ItemKey(id, code), pending_bytes);
    if (++staged == kPlanBatch) {
      error = ctx_.store->Commit(batch);
      batch = storage::WriteSet();
      staged = 0;
    }
    return error.ok();
  });
  if (!s.ok()) return s;
  if (!error.ok()) return error;
  if (stopping_) return absl::CancelledError("stopping");
  if (absl::Status c = ctx_.store->Commit(batch); !c.ok()) return c;

  // A plan begun before a crash may hold items this one did not choose:
  // count what is stored.
  int64_t total = 0;
  s = ctx_.store->Scan(Family::kOperations, ItemPrefix(id), "", false,
                       [&](absl::string_view, absl::string_view) {
    ++total;
    return true;
  });
  if (!s.ok()) return s;
  const absl::Time now = ctx_.clock->Now();
  auto updated = Update(id, [&](v1::OperationRecord& r) {
    v1::OperationMetadata* m = r.mutable_operation()->mutable_metadata();
    m->set_phase(v1::OperationMetadata::PHASE_RUNNING);
    m->set_total_items(total);
    *m->mutable_update_time() = ToProto(now);
  });
  if (!updated.ok()) return updated.status();
  record = *std::move(updated);
  absl::MutexLock lock(&running.mu);
  running.metadata = record.operation().metadata();
  return absl::OkStatus();
}

absl::Status Operations::Execute(const v1::OperationRecord& record, Running& running) {
  const std::string id = IdOf(record);
  const std::string prefix = ItemPrefix(id);
  std::vector<std::string> pending;
  v1::OperationMetadata counts;
  absl::Status s = ctx_.store->Scan(Family::kOperations, prefix, "", false,
                                    [&](absl::string_view key, absl::string_view value) {
    v1::OperationItem item;
    item.ParseFromArray(value.data(), static_cast<int>(value.size()));
    if (item.status() == v1::OperationItem::STATUS_PENDING) {
      pending.emplace_back(key.substr(prefix.size()));
    } else {
      Count(item.status(), &counts);
    }
    return true;
  });
  if (!s.ok()) return s;
  {
    absl::MutexLock lock(&running.mu);
    running.metadata.set_done_items(counts.done_items());
    running.metadata.set_skipped_items(counts.skipped_items());
    running.metadata.set_failed_items(counts.failed_items());
  }
  std::atomic<size_t> next{0};
  absl::Mutex error_mu;
  absl::Status first_error;
  auto work = [&] {
    for (size_t i = next++; i < pending.size(); i = next++) {
      if (running.cancel || stopping_) return;
      v1::OperationItem::Status outcome = v1::OperationItem::STATUS_PENDING;
      if (absl::Status done = DoItem(record, pending[i], &outcome); !done.ok()) {
        absl::MutexLock lock(&error_mu);
        if (first_error.ok()) first_error = done;
        running.cancel = true;  // stop here; the next start resumes
        return;
      }
      absl::MutexLock lock(&running.mu);
      Count(outcome, &running.metadata);
      *running.metadata.mutable_update_time() = ToProto(ctx_.clock->Now());
    }
  };
  std::vector<std::thread> threads;
  for (int t = 1; t < kParallelItems; ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  return first_error;
}

bool Operations::Chosen(const v1::OperationRecord& record, const v1::Dossier& d) {
  if (record.has_renew()) {
    const v1::RenewDocumentsRequest& request = record.renew();
    if (!request.unit_code().empty() && d.unit_code() != request.unit_code()) return false;
    for (const v1::Document& doc : d.documents()) {
      if (!doc.pending()) return true;
    }
    return false;
  }
  const v1::TransitionDossiersRequest& request = record.transition();
  if (d.procedure_code() != request.procedure_code()) return false;
  if (!request.unit_code().empty() && d.unit_code() != request.unit_code()) return false;
  auto proc = ctx_.catalog.Find(d.procedure_code(), d.procedure_version());
  if (!proc.ok()) return false;
  const v1::TransitionDefinition* t = (*proc)->TransitionById(request.transition());
  return t != nullptr && t->trigger() == v1::TRIGGER_SYSTEM && t->from_state() == d.state();
}

absl::Status Operations::DoItem(const v1::OperationRecord& record, const std::string& code,
                                v1::OperationItem::Status* outcome) {
  absl::MutexLock lock(&ctx_.runner->DossierLock(code));
  auto d = LoadDossier(*ctx_.store, code);
  if (absl::IsNotFound(d.status())) {
    return Settle(IdOf(record), code, v1::OperationItem::STATUS_SKIPPED, "no such dossier",
                  outcome);
  }
  if (!d.ok()) return d.status();
  auto proc = ctx_.catalog.Find(d->procedure_code(), d->procedure_version());
  if (!proc.ok()) return proc.status();
  Change change;
  change.procedure = *std::move(proc);
  change.dossier = *std::move(d);
  return record.has_renew() ? DoRenewal(record, std::move(change), outcome)
                            : DoTransition(record, std::move(change), outcome);
}

absl::Status Operations::Settle(const std::string& id, const std::string& code,
                                v1::OperationItem::Status status, absl::string_view reason,
                                v1::OperationItem::Status* outcome) {
  *outcome = status;
  return SaveItem(*ctx_.store, id, code, status, reason);
}

absl::Status Operations::DoRenewal(const v1::OperationRecord& record, Change change,
                                   v1::OperationItem::Status* outcome) {
  const std::string id = IdOf(record);
  const std::string code = change.dossier.code();
  const absl::Time before = FromProto(record.renew().renew_before());
  auto finish = [&](v1::OperationItem::Status status, absl::string_view reason) {
    return Settle(id, code, status, reason, outcome);
  };
  std::vector<std::string> not_renewed;
  for (const v1::Document& doc : change.dossier.documents()) {
    if (doc.pending()) continue;
    auto pdf = ctx_.store->Get(Family::kDocuments, DocumentKey(code, doc.id()));
    if (!pdf.ok()) return pdf.status();
    auto renew_by = signing::RenewBy(*pdf);
    if (absl::IsNotFound(renew_by.status())) {
      not_renewed.push_back(absl::StrCat(doc.id(), ": issued before B-LTA, nothing to renew"));
      continue;
    }
    if (!renew_by.ok()) {
      return finish(v1::OperationItem::STATUS_FAILED,
                    absl::StrCat(doc.id(), ": ", renew_by.status().message()));
    }
    if (*renew_by >= before) continue;
    auto renewed = ctx_.options.documents->RenewTimestamp(*pdf);
    if (!renewed.ok()) {
      // Nothing of this dossier is stored: its other documents wait too.
      return finish(v1::OperationItem::STATUS_FAILED,
                    absl::StrCat(doc.id(), ": ", renewed.status().message()));
    }
    const absl::Time now = ctx_.clock->Now();
    v1::HistoryEvent event =
        EventBy(System(), kActionDocumentRenewed, absl::StrCat("op:", id, ":", doc.id()), now);
    event.set_comment(absl::StrCat(
        record.operation().name(), ", started by ", record.operation().metadata().created_by(),
        "; its evidence lapsed on ", signing::FormatVietnamTime(*renew_by)));
    v1::Document* document = event.mutable_document();
    *document = doc;
    document->set_sha256(Sha256Hex(*renewed));
    document->set_size_bytes(static_cast<int64_t>(renewed->size()));
    event.set_document_id(doc.id());
    event.set_document_sha256(document->sha256());
    for (const v1::DocumentSigner& signer : doc.signers()) {
      event.add_signer_certificate_sha256(signer.certificate_sha256());
    }
    change.events.push_back(std::move(event));
    change.files.emplace_back(doc.id(), *std::move(renewed));
  }
  if (change.events.empty()) {
    return finish(v1::OperationItem::STATUS_SKIPPED,
                  not_renewed.empty() ? "no document due" : absl::StrJoin(not_renewed, "; "));
  }
  return CommitDone(id, code, std::move(change), outcome);
}

absl::Status Operations::DoTransition(const v1::OperationRecord& record, Change change,
                                      v1::OperationItem::Status* outcome) {
  const std::string id = IdOf(record);
  const std::string code = change.dossier.code();
  const v1::Dossier& d = change.dossier;
  const v1::TransitionDefinition* t =
      change.procedure->TransitionById(record.transition().transition());
  if (t == nullptr || t->from_state() != d.state()) {
    return Settle(id, code, v1::OperationItem::STATUS_SKIPPED,
                  absl::StrCat("in state \"", d.state(), "\" by then"), outcome);
  }
  auto event = TransitionEvent(System(), *t, absl::StrCat("op:", id), *change.procedure, d,
                               *ctx_.calendar, ctx_.clock->Now());
  if (!event.ok()) {
    return Settle(id, code, v1::OperationItem::STATUS_FAILED, event.status().message(), outcome);
  }
  event->set_comment(absl::StrCat(record.operation().name(), ", started by ",
                                  record.operation().metadata().created_by()));
  change.events.push_back(*std::move(event));
  return CommitDone(id, code, std::move(change), outcome);
}

absl::Status Operations::CommitDone(const std::string& id, const std::string& code,
                                    Change change, v1::OperationItem::Status* outcome) {
  v1::OperationItem done;
  done.set_status(v1::OperationItem::STATUS_DONE);
  change.writes.Put(Family::kOperations, ItemKey(id, code), done.SerializeAsString());
  auto committed = ctx_.journal->Commit(std::move(change));
  if (!committed.ok()) return committed.status();
  *outcome = v1::OperationItem::STATUS_DONE;
  return absl::OkStatus();
}

absl::Status Operations::Finish(v1::OperationRecord& record, Running& running) {
  v1::OperationResult result;
  const std::string prefix = ItemPrefix(IdOf(record));
  v1::OperationMetadata counts;
  absl::Status s = ctx_.store->Scan(Family::kOperations, prefix, "", false,
                                    [&](absl::string_view key, absl::string_view value) {
    v1::OperationItem item;
    item.ParseFromArray(value.data(), static_cast<int>(value.size()));
    Count(item.status(), &counts);
    if ((item.status() == v1::OperationItem::STATUS_SKIPPED ||
         item.status() == v1::OperationItem::STATUS_FAILED) &&
        result.problems_size() < kMaxProblems) {
      v1::ItemProblem* p = result.add_problems();
      p->set_item(std::string(key.substr(prefix.size())));
      p->set_reason(item.reason());
    }
    return true;
  });
  if (!s.ok()) return s;
  return End(record, running, [&](v1::Operation& op) {
    v1::OperationMetadata* m = op.mutable_metadata();
    m->set_done_items(counts.done_items());
    m->set_skipped_items(counts.skipped_items());
    m->set_failed_items(counts.failed_items());
    // Cancellation is durable before it is obeyed, so the stored flag says.
    if (m->cancel_requested()) {
      op.mutable_error()->set_code(static_cast<int>(absl::StatusCode::kCancelled));
      op.mutable_error()->set_message(absl::StrCat("cancelled: ", counts.done_items(), " of ",
                                                   m->total_items(),
                                                   " items done, the others untouched"));
    } else {
      result.set_done_items(counts.done_items());
      result.set_skipped_items(counts.skipped_items());
      result.set_failed_items(counts.failed_items());
      *op.mutable_response() = std::move(result);
    }
  });
}

// What a job sees of its operation: progress goes to the live metadata.
class Operations::Control : public JobControl {
 public:
  Control(Running& running, const std::atomic<bool>& stopping, Clock& clock)
      : running_(running), stopping_(stopping), clock_(clock) {}
  bool Report(absl::string_view stage, int64_t done, int64_t total) override {
    {
      absl::MutexLock lock(&running_.mu);
      v1::OperationMetadata& m = running_.metadata;
      m.set_stage(std::string(stage));
      m.set_done_items(done);
      m.set_total_items(total);
      *m.mutable_update_time() = ToProto(clock_.Now());
    }
    return !running_.cancel && !stopping_;
  }

 private:
  Running& running_;
  const std::atomic<bool>& stopping_;
  Clock& clock_;
};

absl::Status Operations::RunJob(v1::OperationRecord& record, Running& running) {
  const v1::OperationMetadata& m = record.operation().metadata();
  absl::StatusOr<v1::OperationResult> result;
  auto runner = ctx_.options.jobs.find(m.kind());  // StartJob checked it is there
  if (running.cancel) {
    result = absl::CancelledError("cancelled before it started");
  } else {
    Control control(running, stopping_, *ctx_.clock);
    result = runner->second(Job{record.operation().name(), m.created_by(), record.job_request()},
                            control);
    // Stopped by shutdown: the next start ends it as interrupted.
    if (!result.ok() && stopping_) return absl::CancelledError("stopping");
  }
  return End(record, running, [&](v1::Operation& op) {
    {
      absl::MutexLock lock(&running.mu);
      op.mutable_metadata()->set_stage(running.metadata.stage());
      op.mutable_metadata()->set_done_items(running.metadata.done_items());
      op.mutable_metadata()->set_total_items(running.metadata.total_items());
    }
    if (result.ok()) {
      *op.mutable_response() = *std::move(result);
    } else {
      op.mutable_error()->set_code(static_cast<int>(result.status().code()));
      op.mutable_error()->set_message(std::string(result.status().message()));
    }
  });
}

absl::Status Operations::End(v1::OperationRecord& record, Running& running,
                             const std::function<void(v1::Operation&)>& set) {
  const absl::Time now = ctx_.clock->Now();
  auto updated = Update(IdOf(record), [&](v1::OperationRecord& r) {
    v1::Operation* op = r.mutable_operation();
    set(*op);
    v1::OperationMetadata* m = op->mutable_metadata();
    m->set_phase(v1::OperationMetadata::PHASE_DONE);
    *m->mutable_update_time() = ToProto(now);
    *m->mutable_end_time() = ToProto(now);
    op->set_done(true);
  });
  if (!updated.ok()) return updated.status();
  record = *std::move(updated);
  absl::MutexLock lock(&running.mu);
  running.metadata = record.operation().metadata();
  return absl::OkStatus();
}

absl::StatusOr<v1::OperationRecord> Operations::Load(absl::string_view id) {
  auto bytes = ctx_.store->Get(Family::kOperations, RecordKey(id));
  if (absl::IsNotFound(bytes.status())) {
    return WithReason(absl::NotFoundError(absl::StrCat("no operation ", kNamePrefix, id)),
                      v1::OPERATION_NOT_FOUND, "name");
  }
  if (!bytes.ok()) return bytes.status();
  v1::OperationRecord record;
  if (!record.ParseFromString(*bytes)) {
    return absl::DataLossError(absl::StrCat("operation ", id, " cannot be parsed"));
  }
  return record;
}

absl::StatusOr<v1::OperationRecord> Operations::Update(
    absl::string_view id, const std::function<void(v1::OperationRecord&)>& change) {
  absl::MutexLock lock(&records_mu_);
  auto record = Load(id);
  if (!record.ok()) return record.status();
  change(*record);
  storage::WriteSet w;
  w.Put(Family::kOperations, RecordKey(id), record->SerializeAsString());
  if (absl::Status s = ctx_.store->Commit(w); !s.ok()) return s;
  return record;
}

absl::StatusOr<v1::OperationRecord> Operations::LoadVisible(const Principal& caller,
                                                            absl::string_view name) {
  if (!absl::StartsWith(name, kNamePrefix) || name.size() == sizeof(kNamePrefix) - 1) {
    return WithReason(absl::InvalidArgumentError(absl::StrCat(
                          "name must be \"operations/<id>\", got \"", name, "\"")),
                      name.empty() ? v1::FIELD_REQUIRED : v1::FIELD_INVALID, "name");
  }
  auto record = Load(name.substr(sizeof(kNamePrefix) - 1));
  if (!record.ok()) return record.status();
  if (caller.role != v1::ROLE_ADMIN &&
      record->operation().metadata().created_by() != caller.subject) {
    return WithReason(absl::PermissionDeniedError(
                          "only administrators and whoever started it may see this operation"),
                      v1::ROLE_NOT_ALLOWED);
  }
  return record;
}

v1::Operation Operations::View(const v1::OperationRecord& record) {
  v1::Operation op = record.operation();
  std::shared_ptr<Running> running;
  {
    absl::MutexLock lock(&mu_);
    auto it = running_.find(IdOf(record));
    if (it != running_.end()) running = it->second;
  }
  if (running != nullptr && !op.done()) {
    absl::MutexLock lock(&running->mu);
    *op.mutable_metadata() = running->metadata;
    op.mutable_metadata()->set_cancel_requested(record.operation().metadata().cancel_requested());
  }
  return op;
}

absl::StatusOr<v1::Operation> Operations::Get(const Principal& caller,
                                              const v1::GetOperationRequest& request) {
  auto record = LoadVisible(caller, request.name());
  if (!record.ok()) return record.status();
  return View(*record);
}

absl::StatusOr<v1::ListOperationsResponse> Operations::List(
    const Principal& caller, const v1::ListOperationsRequest& request) {
  auto page_size = PageSize(request.page_size(), kDefaultPageSize, kMaxPageSize);
  if (!page_size.ok()) return page_size.status();
  const std::string query = absl::StrCat("ListOperations\n", caller.subject);
  std::string start;
  if (!request.page_token().empty()) {
    auto position = ctx_.page_tokens.Unseal(request.page_token(), query);
    if (!position.ok()) return position.status();
    start = std::move(position->key);
  }
  v1::ListOperationsResponse response;
  std::vector<v1::OperationRecord> records;
  std::string last_key;
  bool more = false;
  absl::Status s = ctx_.store->Scan(Family::kOperations, RecordPrefix(), start, true,
                                    [&](absl::string_view key, absl::string_view value) {
    if (key == start) return true;
    v1::OperationRecord record;
    if (!record.ParseFromArray(value.data(), static_cast<int>(value.size()))) return true;
    if (caller.role != v1::ROLE_ADMIN &&
        record.operation().metadata().created_by() != caller.subject) {
      return true;
    }
    if (static_cast<int>(records.size()) == *page_size) {
      more = true;
      return false;
    }
    last_key = std::string(key);
    records.push_back(std::move(record));
    return true;
  });
  if (!s.ok()) return s;
  for (const auto& record : records) *response.add_operations() = View(record);
  if (more) response.set_next_page_token(ctx_.page_tokens.Seal(query, {0, last_key}));
  return response;
}

absl::StatusOr<v1::Operation> Operations::Cancel(const Principal& caller,
                                                 const v1::CancelOperationRequest& request) {
  auto record = LoadVisible(caller, request.name());
  if (!record.ok()) return record.status();
  record = Update(IdOf(*record), [](v1::OperationRecord& r) {
    if (!r.operation().done()) r.mutable_operation()->mutable_metadata()->set_cancel_requested(true);
  });
  if (!record.ok()) return record.status();
  if (record->operation().done()) return record->operation();
  {
    absl::MutexLock lock(&mu_);
    auto it = running_.find(IdOf(*record));
    if (it != running_.end()) it->second->cancel = true;
  }
  return View(*record);
}

int Operations::RunningCount() {
  std::vector<std::shared_ptr<Running>> all;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, running] : running_) all.push_back(running);
  }
  int count = 0;
  for (const auto& running : all) {
    absl::MutexLock lock(&running->mu);
    count += !running->finished;
  }
  return count;
}

absl::StatusOr<v1::Operation> Operations::Wait(const Principal& caller,
                                               const v1::WaitOperationRequest& request) {
  if (request.timeout_seconds() < 0 || request.timeout_seconds() > 60) {
    return WithReason(absl::InvalidArgumentError("timeout_seconds must be 0..60"),
                      v1::FIELD_INVALID, "timeout_seconds");
  }
  auto record = LoadVisible(caller, request.name());
  if (!record.ok()) return record.status();
  std::shared_ptr<Running> running;
  {
    absl::MutexLock lock(&mu_);
    auto it = running_.find(IdOf(*record));
    if (it != running_.end()) running = it->second;
  }
  if (running != nullptr) {
    const absl::Duration timeout =
        absl::Seconds(request.timeout_seconds() == 0 ? 60 : request.timeout_seconds());
    absl::MutexLock lock(&running->mu);
    running->mu.AwaitWithTimeout(
        absl::Condition(+[](Running* r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(r->mu) {
          return r->finished;
        }, running.get()),
        timeout);
  }
  record = Load(IdOf(*record));
  if (!record.ok()) return record.status();
  return View(*record);
}

}  // namespace motcua::workflow
