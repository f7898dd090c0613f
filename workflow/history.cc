#include "workflow/history.h"

#include <openssl/sha.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace motcua::workflow {

std::string Sha256Hex(absl::string_view bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

v1::StoredEvent SealEvent(v1::HistoryEvent* event) {
  event->clear_hash();
  v1::StoredEvent stored;
  event->SerializeToString(stored.mutable_event());
  std::string hex = Sha256Hex(stored.event());
  stored.set_sha256(absl::HexStringToBytes(hex));
  event->set_hash(std::move(hex));
  return stored;
}

absl::StatusOr<v1::HistoryEvent> OpenEvent(absl::string_view bytes) {
  v1::StoredEvent stored;
  v1::HistoryEvent event;
  if (!stored.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) ||
      !event.ParseFromString(stored.event())) {
    return absl::DataLossError("history event cannot be parsed");
  }
  event.set_hash(Sha256Hex(stored.event()));
  return event;
}

v1::VerifyDossierHistoryResponse VerifyChain(const std::vector<std::string>& stored_events,
                                             const v1::Dossier& dossier) {
  v1::VerifyDossierHistoryResponse result;
  std::string previous;
  int64_t expected_sequence = 1;
  auto broken = [&](int64_t sequence, std::string detail) {
    result.set_intact(false);
    result.set_first_broken_sequence(sequence);
    result.set_detail(std::move(detail));
    return result;
  };
  for (const std::string& bytes : stored_events) {
    v1::StoredEvent stored;
    v1::HistoryEvent event;
    if (!stored.ParseFromString(bytes) || !event.ParseFromString(stored.event())) {
      return broken(expected_sequence, "event cannot be parsed");
    }
    std::string hash = Sha256Hex(stored.event());
    if (absl::BytesToHexString(stored.sha256()) != hash) {
      return broken(expected_sequence,
                    absl::StrCat("event ", expected_sequence, ": content does not match its hash"));
    }
    if (event.sequence() != expected_sequence) {
      return broken(expected_sequence, absl::StrCat("expected event ", expected_sequence,
                                                    ", found event ", event.sequence()));
    }
    if (event.previous_hash() != previous) {
      return broken(expected_sequence,
                    absl::StrCat("event ", expected_sequence,
                                 ": previous_hash does not match the hash of event ",
                                 expected_sequence - 1));
    }
    previous = std::move(hash);
    result.set_events_checked(expected_sequence);
    ++expected_sequence;
  }
  if (result.events_checked() != dossier.history_length()) {
    return broken(result.events_checked() + 1,
                  absl::StrCat("dossier records ", dossier.history_length(), " events, found ",
                               result.events_checked()));
  }
  if (previous != dossier.history_head()) {
    return broken(result.events_checked(), "last event's hash differs from the dossier's head");
  }
  result.set_intact(true);
  result.set_head_hash(previous);
  result.set_detail(absl::StrCat(result.events_checked(), " events, chain intact"));
  return result;
}

}  // namespace motcua::workflow
