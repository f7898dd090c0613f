#include "workflow/records.h"

#include "absl/strings/str_cat.h"
#include "proto/error_reason.h"
#include "workflow/history.h"
#include "workflow/keys.h"

namespace motcua::workflow {

absl::StatusOr<v1::Dossier> LoadDossier(const storage::StoreReader& store,
                                        absl::string_view code) {
  if (code.empty()) {
    return WithReason(absl::InvalidArgumentError("dossier code is required"), v1::FIELD_REQUIRED,
                      "code");
  }
  auto bytes = store.Get(storage::Family::kDossiers, code);
  if (absl::IsNotFound(bytes.status())) {
    return WithReason(absl::NotFoundError(absl::StrCat("Không tìm thấy hồ sơ \"", code, "\"")),
                      v1::DOSSIER_NOT_FOUND);
  }
  if (!bytes.ok()) return bytes.status();
  v1::Dossier d;
  if (!d.ParseFromString(*bytes)) {
    return absl::DataLossError(absl::StrCat("dossier ", code, " is unreadable"));
  }
  return d;
}

absl::StatusOr<std::vector<std::string>> LoadStoredHistory(const storage::StoreReader& store,
                                                           absl::string_view code) {
  std::vector<std::string> stored;
  absl::Status s = store.Scan(storage::Family::kHistory, HistoryPrefix(code), "", false,
                              [&](absl::string_view, absl::string_view value) {
    stored.emplace_back(value);
    return true;
  });
  if (!s.ok()) return s;
  return stored;
}

absl::StatusOr<std::vector<v1::HistoryEvent>> LoadHistory(const storage::StoreReader& store,
                                                          absl::string_view code) {
  auto stored = LoadStoredHistory(store, code);
  if (!stored.ok()) return stored.status();
  std::vector<v1::HistoryEvent> events;
  events.reserve(stored->size());
  for (const std::string& bytes : *stored) {
    auto event = OpenEvent(bytes);
    if (!event.ok()) return event.status();
    events.push_back(*std::move(event));
  }
  return events;
}

}  // namespace motcua::workflow
