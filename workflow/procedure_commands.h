#ifndef MOTCUA_WORKFLOW_PROCEDURE_COMMANDS_H_
#define MOTCUA_WORKFLOW_PROCEDURE_COMMANDS_H_

// Deploying and reading procedure definitions (private to workflow/).

#include "absl/status/statusor.h"
#include "motcua/v1/service.pb.h"
#include "workflow/engine_context.h"

namespace motcua::workflow {

class ProcedureCommands {
 public:
  explicit ProcedureCommands(EngineContext& ctx) : ctx_(ctx) {}

  absl::StatusOr<v1::ProcedureDefinition> Deploy(const Principal& caller,
                                                 const v1::DeployProcedureRequest& request);
  absl::StatusOr<v1::ProcedureDefinition> Get(const v1::GetProcedureRequest& request);
  absl::StatusOr<v1::ListProceduresResponse> List(const Principal& caller,
                                                  const v1::ListProceduresRequest& request);
  // Deploys each built-in procedure that differs from its latest version.
  absl::Status InstallBuiltins();

 private:
  EngineContext& ctx_;
  // One deploy at a time, so versions are numbered in order.
  absl::Mutex deploy_mu_;
};

}  // namespace motcua::workflow

#endif  // MOTCUA_WORKFLOW_PROCEDURE_COMMANDS_H_
