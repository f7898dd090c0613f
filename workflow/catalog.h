#ifndef MOTCUA_WORKFLOW_CATALOG_H_
#define MOTCUA_WORKFLOW_CATALOG_H_

// The deployed procedure definitions, compiled, in memory (private to
// workflow/). Thread-safe.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "storage/store.h"
#include "workflow/procedure.h"

namespace motcua::workflow {

class ProcedureCatalog {
 public:
  // Reads and compiles every stored definition.
  absl::Status Load(const storage::StoreReader& store);
  void Add(std::shared_ptr<const Procedure> procedure);

  // `version` 0: the latest. NOT_FOUND (PROCEDURE_NOT_FOUND) otherwise.
  absl::StatusOr<std::shared_ptr<const Procedure>> Find(absl::string_view code, int version) const;
  // The newest version already in effect on `day` ("YYYY-MM-DD"): a version
  // deployed ahead of its effective date waits for it.
  absl::StatusOr<std::shared_ptr<const Procedure>> FindEffective(absl::string_view code,
                                                                 const std::string& day) const;

  struct Entry {
    std::shared_ptr<const Procedure> latest;
    std::vector<int> versions;
  };
  // Up to `limit` procedures in code order, after code `after`.
  std::vector<Entry> List(absl::string_view after, int limit) const;

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, std::map<int, std::shared_ptr<const Procedure>>, std::less<>> procedures_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace motcua::workflow

#endif  // MOTCUA_WORKFLOW_CATALOG_H_
