#include "workflow/queries.h"

#include "absl/strings/str_cat.h"
#include "proto/error_reason.h"
#include "proto/proto_time.h"
#include "workflow/access.h"
#include "workflow/history.h"
#include "workflow/keys.h"
#include "workflow/records.h"
#include "workflow/validation.h"

namespace motcua::workflow {
namespace {

using storage::Family;
using storage::OrderedUint64;

constexpr int kDefaultPageSize = 50;
constexpr int kDefaultTaskPageSize = 100;
// A page of a filtered search stops after this many index entries, so one
// call never scans the whole store; the token continues from there.
constexpr int kMaxScannedPerPage = 20000;
// A unit watch replays at most this many stored events.
constexpr size_t kMaxReplay = 10000;

}  // namespace

absl::StatusOr<v1::Dossier> DossierQueries::LoadReadable(const Principal& caller,
                                                         const storage::StoreReader& store,
                                                         absl::string_view code) {
  auto d = LoadDossier(store, code);
  if (!d.ok()) return d.status();
  if (absl::Status s = CanRead(caller, *d); !s.ok()) return s;
  return d;
}

absl::StatusOr<v1::Dossier> DossierQueries::GetDossier(const Principal& caller,
                                                   const v1::GetDossierRequest& request) {
  return LoadReadable(caller, *ctx_.store, request.code());
}

absl::StatusOr<v1::ListDossiersResponse> DossierQueries::ListDossiers(
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
    auto position = ctx_.page_tokens.Unseal(request.page_token(), query);
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
  // One snapshot, so the index and the dossiers it points to agree.
  auto snapshot = ctx_.store->Snapshot();
  absl::Status s = snapshot->Scan(Family::kIndexes, prefix, start, true,
                                [&](absl::string_view key, absl::string_view) {
    if (key == resume_after) return true;
    if (!from_key.empty() && key < from_key) return false;
    if (response.dossiers_size() >= *page_size || ++scanned > kMaxScannedPerPage) {
      more = true;
      return false;
    }
    last_key = std::string(key);
    absl::string_view code = key.substr(key.rfind('\0') + 1);
    auto d = LoadDossier(*snapshot, code);
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
    *response.add_dossiers() = *std::move(d);
    return true;
  });
  if (!s.ok()) return s;
  if (!load_error.ok()) return load_error;
  if (more) response.set_next_page_token(ctx_.page_tokens.Seal(query, {0, last_key}));
  return response;
}

absl::StatusOr<v1::AttachmentContent> DossierQueries::GetAttachment(
    const Principal& caller, const v1::GetAttachmentRequest& request) {
  auto d = LoadReadable(caller, *ctx_.store, request.dossier_code());
  if (!d.ok()) return d.status();
  for (const auto& a : d->attachments()) {
    if (a.id() != request.attachment_id()) continue;
    auto bytes = ctx_.store->Get(Family::kDocuments, DocumentKey(d->code(), a.id()));
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

absl::StatusOr<v1::DocumentContent> DossierQueries::GetDocument(const Principal& caller,
                                                            const v1::GetDocumentRequest& request) {
  auto d = LoadReadable(caller, *ctx_.store, request.dossier_code());
  if (!d.ok()) return d.status();
  for (const auto& doc : d->documents()) {
    if (doc.id() != request.document_id()) continue;
    if (doc.pending()) {
      return WithReason(absl::FailedPreconditionError(absl::StrCat(
                            "Văn bản ", doc.id(), " của hồ sơ ", d->code(),
                            " đang được phát hành, vui lòng thử lại sau ít phút")),
                        v1::DOCUMENT_NOT_ISSUED, "document_id");
    }
    auto bytes = ctx_.store->Get(Family::kDocuments, DocumentKey(d->code(), doc.id()));
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

absl::StatusOr<std::unique_ptr<EventSubscription>> DossierQueries::Watch(
    const Principal& caller, const v1::WatchEventsRequest& request) {
  // The bus holds subscriptions weakly; the caller's handle keeps one alive.
  class Handle : public EventSubscription {
   public:
    explicit Handle(std::shared_ptr<EventBus::Queue> queue) : queue_(std::move(queue)) {}
    absl::StatusOr<bool> Next(v1::HistoryEvent* event, absl::Duration timeout) override {
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
    if (request.after_log_sequence() < 0) {
      return WithReason(absl::InvalidArgumentError("after_log_sequence must not be negative"),
                        v1::FIELD_INVALID, "after_log_sequence");
    }
    auto queue = ctx_.bus.Register("", request.unit_code());
    std::vector<v1::HistoryEvent> replay;
    if (request.after_log_sequence() > 0) {
      // Registered first: an event committed meanwhile is both read here and
      // pushed live, and Prepend drops the live copy.
      constexpr int kChunk = 10000;
      int64_t after = request.after_log_sequence();
      for (;;) {
        int64_t last = after;
        auto events = log_.Read(*ctx_.store, after, request.unit_code(), kChunk, &last);
        if (!events.ok()) return events.status();
        replay.insert(replay.end(), std::make_move_iterator(events->begin()),
                      std::make_move_iterator(events->end()));
        if (replay.size() > kMaxReplay) {
          return WithReason(
              absl::ResourceExhaustedError(absl::StrCat(
                  "more than ", kMaxReplay, " events of unit ", request.unit_code(),
                  " follow log sequence ", request.after_log_sequence(),
                  ": read them with ListLogEvents, then watch from the last one")),
              v1::FIELD_INVALID, "after_log_sequence");
        }
        if (last == after) break;
        after = last;
      }
    }
    queue->Prepend(std::move(replay));
    return std::make_unique<Handle>(std::move(queue));
  }
  if (request.target_case() != v1::WatchEventsRequest::kDossierCode) {
    return WithReason(absl::InvalidArgumentError("set dossier_code or unit_code to watch"),
                      v1::FIELD_REQUIRED, "target");
  }
  auto d = LoadReadable(caller, *ctx_.store, request.dossier_code());
  if (!d.ok()) return d.status();
  auto queue = ctx_.bus.Register(d->code(), "");
  auto history = LoadHistory(*ctx_.store, d->code());
  if (!history.ok()) return history.status();
  std::vector<v1::HistoryEvent> replay;
  for (v1::HistoryEvent& event : *history) {
    if (event.sequence() > request.after_sequence()) replay.push_back(std::move(event));
  }
  queue->Prepend(std::move(replay));
  return std::make_unique<Handle>(std::move(queue));
}

absl::StatusOr<v1::ListMyTasksResponse> DossierQueries::ListMyTasks(
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
    auto position = ctx_.page_tokens.Unseal(request.page_token(), query);
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
    absl::Status s = ctx_.store->Scan(Family::kWorklist, prefixes[part], resume_after, false,
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
      response.set_next_page_token(ctx_.page_tokens.Seal(query, {part, resume_after}));
      break;
    }
    resume_after.clear();
  }
  return response;
}

absl::StatusOr<v1::GetDossierHistoryResponse> DossierQueries::History(
    const Principal& caller, const v1::GetDossierHistoryRequest& request) {
  auto snapshot = ctx_.store->Snapshot();
  auto d = LoadReadable(caller, *snapshot, request.dossier_code());
  if (!d.ok()) return d.status();
  auto history = LoadHistory(*snapshot, d->code());
  if (!history.ok()) return history.status();
  v1::GetDossierHistoryResponse response;
  for (v1::HistoryEvent& event : *history) *response.add_events() = std::move(event);
  return response;
}

absl::StatusOr<v1::VerifyDossierHistoryResponse> DossierQueries::VerifyHistory(
    const Principal& caller, const v1::VerifyDossierHistoryRequest& request) {
  // One snapshot: the dossier's head and the events it chains must agree.
  auto snapshot = ctx_.store->Snapshot();
  auto d = LoadReadable(caller, *snapshot, request.dossier_code());
  if (!d.ok()) return d.status();
  auto stored = LoadStoredHistory(*snapshot, d->code());
  if (!stored.ok()) return stored.status();
  return VerifyChain(*stored, *d);
}

}  // namespace motcua::workflow
