#ifndef MOTCUA_ADAPTERS_BACKUP_SERVICE_H_
#define MOTCUA_ADAPTERS_BACKUP_SERVICE_H_

// motcua.v1.BackupService over a storage::BackupManager. Administrators
// drive backups; auditors read the status and catalog. A backup, a
// verification, an export and a drill each run as one of the engine's
// operations (jobs), so they outlive the call that started them.

#include <map>
#include <memory>
#include <string>

#include <grpcpp/impl/codegen/service_type.h>

#include "adapters/identity.h"
#include "adapters/work_pool.h"
#include "storage/backup_manager.h"
#include "workflow/engine.h"
#include "workflow/page_token.h"

namespace motcua::adapters {

// The jobs the service starts, by kind, for EngineOptions::jobs. `manager`
// must outlive the engine.
std::map<std::string, workflow::JobRunner> BackupJobs(storage::BackupManager* manager);

// Calls run on `pool`; ListBackups pages with `page_tokens`. `engine` runs
// the jobs (opened with BackupJobs). All must outlive the service.
std::unique_ptr<grpc::Service> MakeBackupService(storage::BackupManager* manager,
                                                 workflow::Engine* engine,
                                                 PrincipalResolver* identity, WorkPool* pool,
                                                 const workflow::PageTokens* page_tokens);

}  // namespace motcua::adapters

#endif  // MOTCUA_ADAPTERS_BACKUP_SERVICE_H_
