#ifndef MOTCUA_WORKFLOW_COMMAND_RUNNER_H_
#define MOTCUA_WORKFLOW_COMMAND_RUNNER_H_

// Runs mutating commands at most once per (caller, request_id), and one at a
// time per dossier (private to workflow/).

#include <array>
#include <functional>
#include <optional>
#include <string>

#include "absl/hash/hash.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "storage/store.h"
#include "workflow/clock.h"
#include "workflow/journal.h"
#include "workflow/principal.h"

namespace motcua::workflow {

// Striped locks: serialise commands on the same key from read to commit, so
// optimistic version checks cannot both pass.
class StripedLocks {
 public:
  absl::Mutex& For(absl::string_view key) {
    return stripes_[absl::Hash<absl::string_view>{}(key) % kStripes];
  }

 private:
  static constexpr size_t kStripes = 1024;
  std::array<absl::Mutex, kStripes> stripes_;
};

class CommandRunner {
 public:
  // All must outlive the runner.
  CommandRunner(storage::Store* store, Journal* journal, Clock* clock)
      : store_(store), journal_(journal), clock_(clock) {}

  // Returns the first answer when (caller, request_id) was answered before
  // (FAILED_PRECONDITION REQUEST_ID_REUSED if for another request).
  // Otherwise runs `decide` holding the request's lock, and the dossier's
  // when `dossier_code` is set, commits its Change with the answer
  // `respond` builds, and returns that answer.
  template <typename Response>
  absl::StatusOr<Response> Run(const Principal& caller, absl::string_view method,
                               const google::protobuf::Message& request,
                               const std::string& request_id, absl::string_view dossier_code,
                               const std::function<absl::StatusOr<Change>()>& decide,
                               const std::function<Response(const v1::Dossier&)>& respond) {
    Prepared prepared;
    if (absl::Status s = Prepare(caller, method, request, request_id, &prepared); !s.ok()) {
      return s;
    }
    absl::MutexLock request_lock(&request_locks_.For(prepared.key));
    auto answer = FindAnswer(prepared);
    if (!answer.ok()) return answer.status();
    if (!answer->has_value()) {
      std::optional<absl::MutexLock> dossier_lock;
      if (!dossier_code.empty()) dossier_lock.emplace(&DossierLock(dossier_code));
      auto change = decide();
      if (!change.ok()) return change.status();
      change->idempotency_key = prepared.key;
      change->idempotency = std::move(prepared.record);
      change->respond = [&respond](const v1::Dossier& d) {
        return respond(d).SerializeAsString();
      };
      auto committed = journal_->Commit(*std::move(change));
      if (!committed.ok()) return committed.status();
      answer->emplace(std::move(committed->response));
    }
    Response response;
    if (!response.ParseFromString(**answer)) {
      return absl::DataLossError("the stored answer for this request_id cannot be read");
    }
    return response;
  }

  // The lock commands on `dossier_code` hold from read to commit.
  absl::Mutex& DossierLock(absl::string_view dossier_code) {
    return dossier_locks_.For(dossier_code);
  }

 private:
  struct Prepared {
    std::string key;
    v1::IdempotencyRecord record;  // method, request hash and time set
  };
  absl::Status Prepare(const Principal& caller, absl::string_view method,
                       const google::protobuf::Message& request, const std::string& request_id,
                       Prepared* prepared);
  // The stored response bytes, or nullopt when the request is new.
  absl::StatusOr<std::optional<std::string>> FindAnswer(const Prepared& prepared);

  storage::Store* const store_;
  Journal* const journal_;
  Clock* const clock_;
  StripedLocks request_locks_;
  StripedLocks dossier_locks_;
};

// Serialises with a fixed field order so equal messages give equal bytes.
std::string DeterministicBytes(const google::protobuf::Message& m);

}  // namespace motcua::workflow

#endif  // MOTCUA_WORKFLOW_COMMAND_RUNNER_H_
