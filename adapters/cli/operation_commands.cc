// `motcua operations ...`, `motcua transition-all`, `motcua renew-documents`
// and `motcua status`: the
// engine's long work from the operator's chair, with a progress bar (rate
// and time left) while an operation runs.

#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "adapters/cli/commands.h"
#include "adapters/cli/format.h"
#include "proto/proto_time.h"

namespace motcua::cli {
namespace {

std::string Progress(const v1::OperationMetadata& m) {
  const int64_t handled = m.done_items() + m.skipped_items() + m.failed_items();
  std::string text = absl::StrCat(handled, "/", m.total_items());
  if (m.skipped_items() + m.failed_items() > 0) {
    absl::StrAppend(&text, " (", m.skipped_items(), " skipped, ", m.failed_items(), " failed)");
  }
  return text;
}

std::string PhaseName(v1::OperationMetadata::Phase phase) {
  switch (phase) {
    case v1::OperationMetadata::PHASE_PLANNING: return "planning";
    case v1::OperationMetadata::PHASE_RUNNING: return "running";
    case v1::OperationMetadata::PHASE_DONE: return "done";
    default: return "?";
  }
}

std::string Outcome(const v1::Operation& op) {
  if (!op.done()) return PhaseName(op.metadata().phase());
  if (op.has_error()) return absl::StrCat("FAILED: ", op.error().message());
  return "done";
}

std::string FormatOperation(const v1::Operation& op) {
  Fields f;
  f.Add("operation", op.name());
  f.Add("what", op.metadata().description());
  f.Add("started by", op.metadata().created_by());
  f.Add("created", FormatTime(op.metadata().create_time()));
  f.Add("state", Outcome(op));
  f.Add("items", Progress(op.metadata()));
  if (op.metadata().cancel_requested()) f.Add("cancel", "requested");
  if (op.done()) f.Add("ended", FormatTime(op.metadata().end_time()));
  std::string text = f.Render();
  for (const v1::ItemProblem& p : op.response().problems()) {
    absl::StrAppend(&text, "  ", p.item(), ": ", p.reason(), "\n");
  }
  return text;
}

// One line, redrawn: [#####.....] 1200/20000  6%  850/s  22 s left
void DrawBar(const v1::OperationMetadata& m, double rate) {
  constexpr int kWidth = 30;
  const int64_t handled = m.done_items() + m.skipped_items() + m.failed_items();
  const double fraction =
      m.total_items() > 0 ? static_cast<double>(handled) / static_cast<double>(m.total_items()) : 0;
  const int filled = static_cast<int>(fraction * kWidth);
  std::string line = absl::StrCat("\r[", std::string(filled, '#'),
                                   std::string(kWidth - filled, '.'), "] ");
  if (!m.stage().empty()) absl::StrAppend(&line, m.stage(), " ");
  absl::StrAppend(&line, Progress(m));
  if (m.phase() == v1::OperationMetadata::PHASE_PLANNING) {
    absl::StrAppend(&line, "  planning");
  } else {
    absl::StrAppend(&line, absl::StrFormat("  %3.0f%%  %.0f/s", fraction * 100, rate));
    if (rate > 0 && m.total_items() > handled) {
      absl::StrAppend(&line, absl::StrFormat("  %.0f s left  ",
                                             (m.total_items() - handled) / rate));
    }
  }
  std::cerr << line << std::flush;
}

// Follows the operation to its end with a progress bar; exit 1 if it failed.
absl::StatusOr<int> Follow(Context& context, Client& client, const std::string& name) {
  auto op = FollowOperation(context, client, name);
  if (!op.ok()) return op.status();
  std::cout << (context.json() ? ToJson(*op) : FormatOperation(*op));
  return op->has_error() ? kExitCheckFailed : kExitOk;
}

}  // namespace

absl::StatusOr<v1::Operation> FollowOperation(Context& context, Client& client,
                                              const std::string& name) {
  absl::Time last_time = absl::Now();
  int64_t last_handled = 0;
  double rate = 0;
  for (;;) {
    auto op = client.WaitOperation(name, 1);
    if (!op.ok()) return op.status();
    const v1::OperationMetadata& m = op->metadata();
    const int64_t handled = m.done_items() + m.skipped_items() + m.failed_items();
    const absl::Time now = absl::Now();
    if (now > last_time && handled >= last_handled) {
      const double instant = (handled - last_handled) / absl::ToDoubleSeconds(now - last_time);
      rate = rate == 0 ? instant : 0.7 * rate + 0.3 * instant;  // smooth the estimate
    }
    last_time = now;
    last_handled = handled;
    if (!context.json()) DrawBar(m, rate);
    if (op->done()) {
      if (!context.json()) std::cerr << "\n";
      return op;
    }
  }
}

namespace operations {

absl::StatusOr<int> List(Context& context, const Args&) {
  auto client = context.client();
  if (!client.ok()) return client.status();
  auto all = (*client)->ListOperations();
  if (!all.ok()) return all.status();
  if (context.json()) {
    v1::ListOperationsResponse response;
    for (const auto& op : *all) *response.add_operations() = op;
    std::cout << ToJson(response);
    return kExitOk;
  }
  Table table({"OPERATION", "WHAT", "STATE", "ITEMS", "STARTED BY"});
  for (const auto& op : *all) {
    table.AddRow({op.name(), op.metadata().description(), Outcome(op), Progress(op.metadata()),
                  op.metadata().created_by()});
  }
  std::cout << table.Render();
  return kExitOk;
}

absl::StatusOr<int> Show(Context& context, const Args& args) {
  auto client = context.client();
  if (!client.ok()) return client.status();
  auto op = (*client)->GetOperation(args.code);
  if (!op.ok()) return op.status();
  std::cout << (context.json() ? ToJson(*op) : FormatOperation(*op));
  return kExitOk;
}

absl::StatusOr<int> Cancel(Context& context, const Args& args) {
  auto client = context.client();
  if (!client.ok()) return client.status();
  auto op = (*client)->CancelOperation(args.code);
  if (!op.ok()) return op.status();
  if (op->done()) {
    std::cout << (context.json() ? ToJson(*op) : FormatOperation(*op));
    return kExitOk;
  }
  // Items in flight finish; wait for the operation to say it stopped.
  return Follow(context, **client, args.code);
}

absl::StatusOr<int> Wait(Context& context, const Args& args) {
  auto client = context.client();
  if (!client.ok()) return client.status();
  return Follow(context, **client, args.code);
}

// An operation just started: its name with --no-wait, else followed to
// its end.
absl::StatusOr<int> Started(Context& context, Client& client, absl::StatusOr<v1::Operation> op,
                            const Args& args) {
  if (!op.ok()) return op.status();
  if (args.no_wait) {
    std::cout << (context.json() ? ToJson(*op) : absl::StrCat(op->name(), "\n"));
    return kExitOk;
  }
  std::cerr << op->name() << "\n";
  return Follow(context, client, op->name());
}

absl::StatusOr<int> TransitionAll(Context& context, const Args& args) {
  auto client = context.client();
  if (!client.ok()) return client.status();
  v1::TransitionDossiersRequest request;
  request.set_procedure_code(args.code);
  request.set_transition(args.transition);
  request.set_unit_code(args.unit);
  request.set_request_id(RequestIdFrom(args));
  return Started(context, **client, (*client)->TransitionDossiers(request), args);
}

absl::StatusOr<int> RenewDocuments(Context& context, const Args& args) {
  absl::CivilDay day;
  if (!absl::ParseCivilTime(args.before, &day)) {
    return UsageError(absl::StrCat("--before must be YYYY-MM-DD, got ", args.before));
  }
  auto client = context.client();
  if (!client.ok()) return client.status();
  v1::RenewDocumentsRequest request;
  // The day begins in Vietnam (UTC+7), where the documents are used.
  *request.mutable_renew_before() =
      ToProto(absl::FromCivil(day, absl::FixedTimeZone(7 * 3600)));
  request.set_unit_code(args.unit);
  request.set_request_id(RequestIdFrom(args));
  return Started(context, **client, (*client)->RenewDocuments(request), args);
}

absl::StatusOr<int> EngineStatus(Context& context, const Args&) {
  auto client = context.client();
  if (!client.ok()) return client.status();
  auto status = (*client)->GetEngineStatus();
  if (!status.ok()) return status.status();
  if (context.json()) {
    std::cout << ToJson(*status);
    return kExitOk;
  }
  Fields f;
  f.Add("event log", absl::StrCat(status->log_head(), " events"));
  f.Add("timers due", absl::StrCat(status->timers_due()));
  f.Add("documents pending", absl::StrFormat("%d (oldest %.1f s)", status->documents_pending(),
                                             status->oldest_pending_seconds()));
  f.Add("documents issued", absl::StrCat(status->documents_issued(), " since start, ",
                                         status->document_failures(), " failed attempts"));
  if (!status->document_last_error().empty()) {
    f.Add("issuing fails", status->document_last_error());
  }
  f.Add("operations running", absl::StrCat(status->operations_running()));
  std::cout << f.Render();
  return status->document_last_error().empty() ? kExitOk : kExitCheckFailed;
}

}  // namespace operations
}  // namespace motcua::cli
