#ifndef MOTCUA_ADAPTERS_BACKUP_SERVICE_H_
#define MOTCUA_ADAPTERS_BACKUP_SERVICE_H_

// motcua.v1.BackupService over a storage::BackupManager. Administrators
// drive backups; auditors read the status and catalog. Long operations
// stream their progress; the last message carries the result.

#include <memory>

#include <grpcpp/impl/codegen/service_type.h>

#include "adapters/identity.h"
#include "adapters/work_pool.h"
#include "storage/backup_manager.h"
#include "workflow/page_token.h"

namespace motcua::adapters {

// Unary calls run on `pool`; long operations each on a thread of their own;
// ListBackups pages with `page_tokens`. All must outlive the service.
std::unique_ptr<grpc::Service> MakeBackupService(storage::BackupManager* manager,
                                                 PrincipalResolver* identity, WorkPool* pool,
                                                 const workflow::PageTokens* page_tokens);

}  // namespace motcua::adapters

#endif  // MOTCUA_ADAPTERS_BACKUP_SERVICE_H_
