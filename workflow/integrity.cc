#include "workflow/integrity.h"

#include <openssl/evp.h>

#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "motcua/v1/dossier.pb.h"
#include "workflow/clock.h"
#include "workflow/engine.h"
#include "workflow/history.h"
#include "workflow/keys.h"
#include "workflow/work_calendar.h"

namespace motcua::workflow {
namespace {

using storage::Family;

// Folds dossier heads into the audit-chain head.
class HeadFold {
 public:
  HeadFold() : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
    EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr);
  }
  void Add(absl::string_view code, int64_t length, absl::string_view head) {
    std::string line = absl::StrCat(code, " ", length, " ", head, "\n");
    EVP_DigestUpdate(ctx_.get(), line.data(), line.size());
  }
  std::string Finish() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_.get(), md, &len);
    return absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(md), len));
  }

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
};

// Visits every dossier; stops at the first error the visitor returns.
absl::Status ForEachDossier(storage::Store& store,
                            const std::function<absl::Status(const v1::Dossier&)>& visit) {
  absl::Status failure;
  absl::Status s = store.Scan(Family::kDossiers, "", "", false,
                              [&](absl::string_view key, absl::string_view value) {
    v1::Dossier d;
    if (!d.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      failure = absl::DataLossError(absl::StrCat("dossier ", key, " cannot be parsed"));
      return false;
    }
    failure = visit(d);
    return failure.ok();
  });
  return s.ok() ? failure : s;
}

}  // namespace

absl::StatusOr<storage::AppSummary> DossierIntegrity::Summarize(storage::Store& store) {
  storage::AppSummary summary;
  HeadFold fold;
  absl::Status s = ForEachDossier(store, [&](const v1::Dossier& d) {
    fold.Add(d.code(), d.history_length(), d.history_head());
    ++summary.dossiers;
    summary.documents += d.attachments_size() + d.documents_size();
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  summary.audit_head = fold.Finish();
  return summary;
}

absl::StatusOr<storage::AppSummary> DossierIntegrity::Verify(storage::Store& store,
                                                             const storage::Progress& progress) {
  storage::AppSummary summary;
  HeadFold fold;
  absl::Status s = ForEachDossier(store, [&](const v1::Dossier& d) -> absl::Status {
    std::vector<std::string> events;
    absl::Status scanned = store.Scan(Family::kHistory, HistoryPrefix(d.code()), "", false,
                                      [&](absl::string_view, absl::string_view value) {
                                        events.emplace_back(value);
                                        return true;
                                      });
    if (!scanned.ok()) return scanned;
    v1::VerifyDossierHistoryResponse chain = VerifyChain(events, d);
    if (!chain.intact()) {
      return absl::DataLossError(absl::StrCat("dossier ", d.code(), ": history broken at event ",
                                              chain.first_broken_sequence(), ": ", chain.detail()));
    }
    // Attachments and signed documents share the documents family.
    std::vector<std::pair<std::string, std::string>> blobs;  // id, sha256
    for (const auto& a : d.attachments()) blobs.emplace_back(a.id(), a.sha256());
    for (const auto& doc : d.documents()) blobs.emplace_back(doc.id(), doc.sha256());
    for (const auto& [id, sha256] : blobs) {
      auto bytes = store.Get(Family::kDocuments, DocumentKey(d.code(), id));
      if (!bytes.ok()) {
        return absl::DataLossError(absl::StrCat("dossier ", d.code(), ": document ", id,
                                                " is missing: ", bytes.status().message()));
      }
      if (Sha256Hex(*bytes) != sha256) {
        return absl::DataLossError(absl::StrCat("dossier ", d.code(), ": document ", id,
                                                " does not match its recorded SHA-256"));
      }
      ++summary.documents;
    }
    fold.Add(d.code(), static_cast<int64_t>(events.size()), chain.head_hash());
    ++summary.dossiers;
    if (summary.dossiers % 1000 == 0 &&
        !storage::GoOn(progress, "checking dossiers", summary.dossiers, 0)) {
      return storage::Stopped("checking the restored data");
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  summary.audit_head = fold.Finish();

  SystemClock clock;
  EngineOptions options;
  options.install_builtin_procedures = false;
  auto engine = Engine::Open(&store, &clock, &WorkCalendar::Builtin(), options);
  if (!engine.ok()) {
    return absl::DataLossError(absl::StrCat("the engine does not start on the restored data: ",
                                            engine.status().message()));
  }
  storage::GoOn(progress, "checking dossiers", summary.dossiers, summary.dossiers);
  return summary;
}

}  // namespace motcua::workflow
