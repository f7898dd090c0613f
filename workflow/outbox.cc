#include "workflow/outbox.h"

#include <sys/resource.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "motcua/v1/store.pb.h"
#include "proto/proto_time.h"
#include "workflow/applier.h"
#include "workflow/events.h"
#include "workflow/history.h"
#include "workflow/records.h"

namespace motcua::workflow {
namespace {

using storage::Family;

constexpr absl::Duration kIdlePoll = absl::Milliseconds(500);
constexpr absl::Duration kMaxBackoff = absl::Minutes(5);
// GetStatus counts at most this much of the backlog.
constexpr int64_t kMaxCounted = 1000000;

const Principal& System() {
  static const Principal* system = new Principal{"system", v1::ROLE_UNSPECIFIED, "", ""};
  return *system;
}

}  // namespace

Outbox::~Outbox() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (auto& t : workers_) t.join();
}

void Outbox::Start(int workers) {
  for (int i = 0; i < workers; ++i) workers_.emplace_back([this] { Work(); });
}

void Outbox::Wake() {
  absl::MutexLock lock(&mu_);
  ++wakeups_;
}

void Outbox::Work() {
  // Steps people wait for come first; receipts catch up when the CPU is
  // free (nice 10 for this thread only).
  setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 10);
  for (;;) {
    std::string key;
    TimedRef ref;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    if (!Claim(&key, &ref)) {
      absl::MutexLock lock(&mu_);
      struct Waiting {
        Outbox* outbox;
        int seen;
      } waiting{this, wakeups_};
      mu_.AwaitWithTimeout(absl::Condition(
                               +[](Waiting* w) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                                 return w->outbox->stopping_ || w->outbox->wakeups_ != w->seen;
                               },
                               &waiting),
                           kIdlePoll);
      continue;
    }
    Done(key, Issue(key, ref));
  }
}

bool Outbox::Claim(std::string* key, TimedRef* ref) {
  const absl::Time now = ctx_.clock->Now();
  absl::MutexLock lock(&mu_);
  bool found = false;
  ctx_.store->Scan(Family::kOutbox, "", "", false,
                   [&](absl::string_view k, absl::string_view) {
    std::string candidate(k);
    if (in_flight_.contains(candidate)) return true;
    auto b = backoff_.find(candidate);
    if (b != backoff_.end() && b->second.next > now) return true;
    if (!ParseTimedKey(k, ref)) return true;
    *key = std::move(candidate);
    found = true;
    return false;
  }).IgnoreError();  // a failed scan finds nothing; the next round retries
  if (found) in_flight_.insert(*key);
  return found;
}

void Outbox::Done(const std::string& key, const absl::Status& result) {
  absl::MutexLock lock(&mu_);
  in_flight_.erase(key);
  if (result.ok()) {
    backoff_.erase(key);
    ++issued_;
    if (backoff_.empty()) last_error_.clear();
    return;
  }
  ++failures_;
  last_error_ = std::string(result.message());
  Backoff& b = backoff_[key];
  ++b.attempts;
  b.next = ctx_.clock->Now() + std::min(kMaxBackoff, absl::Seconds(1 << std::min(b.attempts, 9)));
}

absl::StatusOr<int> Outbox::IssueAll() {
  std::vector<std::pair<std::string, TimedRef>> queued;
  absl::Status s = ctx_.store->Scan(Family::kOutbox, "", "", false,
                                    [&](absl::string_view k, absl::string_view) {
    TimedRef ref;
    if (ParseTimedKey(k, &ref)) queued.emplace_back(std::string(k), std::move(ref));
    return true;
  });
  if (!s.ok()) return s;
  int issued = 0;
  for (const auto& [key, ref] : queued) {
    {
      absl::MutexLock lock(&mu_);
      if (!in_flight_.insert(key).second) continue;  // a worker has it
    }
    absl::Status result = Issue(key, ref);
    Done(key, result);
    if (!result.ok()) return result;
    ++issued;
  }
  return issued;
}

absl::Status Outbox::Issue(const std::string& key, const TimedRef& ref) {
  auto entry_bytes = ctx_.store->Get(Family::kOutbox, key);
  if (absl::IsNotFound(entry_bytes.status())) return absl::OkStatus();  // issued meanwhile
  if (!entry_bytes.ok()) return entry_bytes.status();
  v1::OutboxEntry entry;
  if (!entry.ParseFromString(*entry_bytes)) return absl::DataLossError("an outbox entry is unreadable");

  // Render and sign without the dossier's lock: signing waits on the TSA
  // and revocation services, and officers may act on the dossier meanwhile.
  auto snapshot = ctx_.store->Snapshot();
  auto d = LoadDossier(*snapshot, ref.dossier_code);
  if (!d.ok()) return d.status();
  auto proc = ctx_.catalog.Find(d->procedure_code(), d->procedure_version());
  if (!proc.ok()) return proc.status();
  auto history = LoadHistory(*snapshot, d->code());
  if (!history.ok()) return history.status();
  if (entry.event_sequence() < 1 || entry.event_sequence() > static_cast<int64_t>(history->size())) {
    return absl::DataLossError(absl::StrCat("dossier ", d->code(), " has no event ",
                                            entry.event_sequence(), " to issue ",
                                            entry.document_id(), " for"));
  }
  history->resize(entry.event_sequence());
  auto as_step_left_it = ReplayHistory(**proc, *history);
  if (!as_step_left_it.ok()) return as_step_left_it.status();
  const v1::Document* pending = nullptr;
  for (const v1::Document& doc : as_step_left_it->documents()) {
    if (doc.id() == entry.document_id()) pending = &doc;
  }
  const v1::TransitionDefinition* t =
      pending == nullptr ? nullptr : (*proc)->TransitionById(pending->transition());
  if (t == nullptr) {
    return absl::DataLossError(absl::StrCat("dossier ", d->code(), " lists no document ",
                                            entry.document_id(), " at event ",
                                            entry.event_sequence()));
  }
  const absl::Time now = ctx_.clock->Now();
  DocumentRequest request;
  request.procedure = proc->get();
  request.transition = t;
  request.dossier = &*as_step_left_it;
  request.document_id = pending->id();
  request.time = now;
  auto signed_document = ctx_.options.documents->SignByServer(request);
  if (!signed_document.ok()) {
    return absl::Status(signed_document.status().code(),
                        absl::StrCat("issuing ", pending->kind(), " ", pending->id(), " of ",
                                     d->code(), ": ", signed_document.status().message()));
  }

  v1::HistoryEvent event =
      EventBy(System(), kActionDocumentIssued, absl::StrCat("issue:", pending->id()), now);
  v1::Document* issued = event.mutable_document();
  *issued = *pending;
  issued->set_pending(false);
  issued->set_sha256(Sha256Hex(signed_document->pdf));
  issued->set_size_bytes(static_cast<int64_t>(signed_document->pdf.size()));
  *issued->mutable_signed_at() = ToProto(now);
  event.set_document_id(issued->id());
  event.set_document_sha256(issued->sha256());
  for (const v1::DocumentSigner& signer : signed_document->signers) {
    *issued->add_signers() = signer;
    event.add_signer_certificate_sha256(signer.certificate_sha256());
  }

  absl::MutexLock lock(&ctx_.runner->DossierLock(ref.dossier_code));
  auto current = LoadDossier(*ctx_.store, ref.dossier_code);
  if (!current.ok()) return current.status();
  Change change;
  change.writes.Delete(Family::kOutbox, key);
  bool still_pending = false;
  for (const v1::Document& doc : current->documents()) {
    still_pending |= doc.id() == issued->id() && doc.pending();
  }
  if (still_pending) {
    change.procedure = *std::move(proc);
    change.dossier = *std::move(current);
    change.events.push_back(std::move(event));
    change.files.emplace_back(issued->id(), std::move(signed_document->pdf));
  }
  return ctx_.journal->Commit(std::move(change)).status();
}

Outbox::Status Outbox::GetStatus() const {
  Status status;
  status.oldest = absl::InfinitePast();
  ctx_.store->Scan(Family::kOutbox, "", "", false,
                   [&](absl::string_view k, absl::string_view) {
    if (status.backlog == 0) {
      TimedRef ref;
      if (ParseTimedKey(k, &ref)) status.oldest = ref.due;
    }
    return ++status.backlog < kMaxCounted;
  }).IgnoreError();
  absl::MutexLock lock(&mu_);
  status.issued = issued_;
  status.failures = failures_;
  status.last_error = last_error_;
  return status;
}

}  // namespace motcua::workflow
