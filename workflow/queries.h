#ifndef MOTCUA_WORKFLOW_QUERIES_H_
#define MOTCUA_WORKFLOW_QUERIES_H_

// Reading dossiers, worklists and histories, and watching them (private to
// workflow/). Changes nothing.

#include <memory>

#include "absl/status/statusor.h"
#include "motcua/v1/service.pb.h"
#include "workflow/engine_context.h"
#include "workflow/event_log.h"

namespace motcua::workflow {

class DossierQueries {
 public:
  DossierQueries(EngineContext& ctx, const EventLog& log) : ctx_(ctx), log_(log) {}

  absl::StatusOr<v1::Dossier> GetDossier(const Principal& caller,
                                         const v1::GetDossierRequest& request);
  absl::StatusOr<v1::ListDossiersResponse> ListDossiers(const Principal& caller,
                                                        const v1::ListDossiersRequest& request);
  absl::StatusOr<v1::AttachmentContent> GetAttachment(const Principal& caller,
                                                      const v1::GetAttachmentRequest& request);
  absl::StatusOr<v1::DocumentContent> GetDocument(const Principal& caller,
                                                  const v1::GetDocumentRequest& request);
  absl::StatusOr<std::unique_ptr<EventSubscription>> Watch(const Principal& caller,
                                                           const v1::WatchEventsRequest& request);
  absl::StatusOr<v1::ListMyTasksResponse> ListMyTasks(const Principal& caller,
                                                      const v1::ListMyTasksRequest& request);
  absl::StatusOr<v1::GetDossierHistoryResponse> History(
      const Principal& caller, const v1::GetDossierHistoryRequest& request);
  absl::StatusOr<v1::VerifyDossierHistoryResponse> VerifyHistory(
      const Principal& caller, const v1::VerifyDossierHistoryRequest& request);

 private:
  absl::StatusOr<v1::Dossier> LoadReadable(const Principal& caller,
                                           const storage::StoreReader& store,
                                           absl::string_view code);

  EngineContext& ctx_;
  const EventLog& log_;
};

}  // namespace motcua::workflow

#endif  // MOTCUA_WORKFLOW_QUERIES_H_
