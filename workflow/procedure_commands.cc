#include "workflow/procedure_commands.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/text_format.h"
#include "proto/error_reason.h"
#include "proto/proto_time.h"
#include "workflow/access.h"
#include "workflow/builtin_data.h"
#include "workflow/history.h"
#include "workflow/keys.h"
#include "workflow/validation.h"

namespace motcua::workflow {
namespace {

constexpr int kDefaultPageSize = 50;

}  // namespace

absl::StatusOr<v1::ProcedureDefinition> ProcedureCommands::Deploy(
    const Principal& caller, const v1::DeployProcedureRequest& request) {
  if (absl::Status s = RequireRole(caller, {v1::ROLE_ADMIN}, "deploy procedures"); !s.ok()) return s;
  absl::MutexLock deploy_lock(&deploy_mu_);
  v1::ProcedureDefinition deployed;
  return ctx_.runner->Run<v1::ProcedureDefinition>(
      caller, "DeployProcedure", request, request.request_id(), "",
      [&]() -> absl::StatusOr<Change> {
        v1::ProcedureDefinition def = request.definition();
        auto latest = ctx_.catalog.Find(def.code(), 0);
        def.set_version(latest.ok() ? (*latest)->definition().version() + 1 : 1);
        *def.mutable_deployed_at() = ToProto(ctx_.clock->Now());
        def.set_deployed_by(caller.subject);
        auto compiled = Procedure::Compile(def);
        if (!compiled.ok()) {
          return WithReason(compiled.status(), v1::DEFINITION_INVALID, "definition");
        }
        Change change;
        change.writes.Put(storage::Family::kDefinitions, DefinitionKey(def.code(), def.version()),
                          def.SerializeAsString());
        change.after_commit.push_back(
            [this, proc = *std::move(compiled)] { ctx_.catalog.Add(proc); });
        deployed = std::move(def);
        return change;
      },
      [&](const v1::Dossier&) { return deployed; });
}

absl::StatusOr<v1::ProcedureDefinition> ProcedureCommands::Get(
    const v1::GetProcedureRequest& request) {
  if (request.code().empty()) {
    return WithReason(absl::InvalidArgumentError("code is required, e.g. \"2.001914\""),
                      v1::FIELD_REQUIRED, "code");
  }
  if (request.version() < 0) {
    return WithReason(absl::InvalidArgumentError("version must not be negative"),
                      v1::FIELD_INVALID, "version");
  }
  auto proc = ctx_.catalog.Find(request.code(), request.version());
  if (!proc.ok()) return proc.status();
  return (*proc)->definition();
}

absl::StatusOr<v1::ListProceduresResponse> ProcedureCommands::List(
    const Principal& caller, const v1::ListProceduresRequest& request) {
  auto page_size = PageSize(request.page_size(), kDefaultPageSize);
  if (!page_size.ok()) return page_size.status();
  const std::string query = absl::StrCat("ListProcedures\n", caller.subject);
  std::string after;
  if (!request.page_token().empty()) {
    auto position = ctx_.page_tokens.Unseal(request.page_token(), query);
    if (!position.ok()) return position.status();
    after = std::move(position->key);
  }
  v1::ListProceduresResponse response;
  // One more than the page, to know whether another page follows.
  std::vector<ProcedureCatalog::Entry> entries = ctx_.catalog.List(after, *page_size + 1);
  for (size_t i = 0; i < entries.size() && static_cast<int>(i) < *page_size; ++i) {
    auto* entry = response.add_procedures();
    *entry->mutable_latest() = entries[i].latest->definition();
    for (int version : entries[i].versions) entry->add_versions(version);
  }
  if (static_cast<int>(entries.size()) > *page_size) {
    response.set_next_page_token(
        ctx_.page_tokens.Seal(query, {0, response.procedures().rbegin()->latest().code()}));
  }
  return response;
}

absl::Status ProcedureCommands::InstallBuiltins() {
  Principal system{"motcua (built-in)", v1::ROLE_ADMIN, "", ""};
  for (const BuiltinFile& file : BuiltinFiles()) {
    if (!file.path.starts_with("procedures/")) continue;
    v1::ProcedureDefinition def;
    if (!google::protobuf::TextFormat::ParseFromString(std::string(file.content), &def)) {
      return absl::InternalError(
          absl::StrCat("built-in ", std::string(file.path), " does not parse"));
    }
    auto latest = ctx_.catalog.Find(def.code(), 0);
    if (latest.ok() && SameDefinition((*latest)->definition(), def)) continue;
    v1::DeployProcedureRequest request;
    *request.mutable_definition() = def;
    // Same content, same id: two servers starting on one store deploy once.
    request.set_request_id(absl::StrCat("builtin:", Sha256Hex(DeterministicBytes(def))));
    if (auto deployed = Deploy(system, request); !deployed.ok()) {
      return absl::InternalError(absl::StrCat("built-in ", std::string(file.path), ": ",
                                              deployed.status().message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace motcua::workflow
