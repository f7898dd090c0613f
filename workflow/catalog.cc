#include "workflow/catalog.h"

#include "absl/strings/str_cat.h"
#include "proto/error_reason.h"

namespace motcua::workflow {

absl::Status ProcedureCatalog::Load(const storage::StoreReader& store) {
  absl::Status scan_error;
  absl::Status s = store.Scan(storage::Family::kDefinitions, "", "", false,
                              [&](absl::string_view, absl::string_view value) {
    v1::ProcedureDefinition def;
    if (!def.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      scan_error = absl::DataLossError("a stored procedure definition cannot be parsed");
      return false;
    }
    auto proc = Procedure::Compile(def);
    if (!proc.ok()) {
      scan_error = proc.status();
      return false;
    }
    Add(*std::move(proc));
    return true;
  });
  return s.ok() ? scan_error : s;
}

void ProcedureCatalog::Add(std::shared_ptr<const Procedure> procedure) {
  const v1::ProcedureDefinition& def = procedure->definition();
  absl::MutexLock lock(&mu_);
  procedures_[def.code()][def.version()] = std::move(procedure);
}

absl::StatusOr<std::shared_ptr<const Procedure>> ProcedureCatalog::Find(absl::string_view code,
                                                                        int version) const {
  absl::MutexLock lock(&mu_);
  auto it = procedures_.find(code);
  if (it == procedures_.end() || it->second.empty()) {
    return WithReason(
        absl::NotFoundError(absl::StrCat("Không tìm thấy thủ tục có mã \"", code, "\"")),
        v1::PROCEDURE_NOT_FOUND);
  }
  if (version == 0) return it->second.rbegin()->second;
  auto v = it->second.find(version);
  if (v == it->second.end()) {
    return WithReason(
        absl::NotFoundError(absl::StrCat("procedure ", code, " has no version ", version)),
        v1::PROCEDURE_NOT_FOUND, "version");
  }
  return v->second;
}

absl::StatusOr<std::shared_ptr<const Procedure>> ProcedureCatalog::FindEffective(
    absl::string_view code, const std::string& day) const {
  auto latest = Find(code, 0);
  if (!latest.ok()) return latest.status();
  absl::MutexLock lock(&mu_);
  const auto& versions = procedures_.find(code)->second;
  for (auto it = versions.rbegin(); it != versions.rend(); ++it) {
    const std::string& from = it->second->definition().effective_from();
    if (from.empty() || from <= day) return it->second;
  }
  return WithReason(
      absl::FailedPreconditionError(
          absl::StrCat("Thủ tục ", code, " chưa có hiệu lực (áp dụng từ ngày ",
                       versions.begin()->second->definition().effective_from(), ")")),
      v1::STATE_NOT_ALLOWED, "procedure_code");
}

std::vector<ProcedureCatalog::Entry> ProcedureCatalog::List(absl::string_view after,
                                                            int limit) const {
  std::vector<Entry> entries;
  absl::MutexLock lock(&mu_);
  for (auto it = after.empty() ? procedures_.begin() : procedures_.upper_bound(after);
       it != procedures_.end() && static_cast<int>(entries.size()) < limit; ++it) {
    if (it->second.empty()) continue;
    Entry entry{it->second.rbegin()->second, {}};
    for (const auto& [version, unused] : it->second) entry.versions.push_back(version);
    entries.push_back(std::move(entry));
  }
  return entries;
}

}  // namespace motcua::workflow
