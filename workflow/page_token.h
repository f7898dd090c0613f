#ifndef MOTCUA_WORKFLOW_PAGE_TOKEN_H_
#define MOTCUA_WORKFLOW_PAGE_TOKEN_H_

// Page tokens (AIP-158) that reveal nothing and fit one query only. A token
// carries where the next page starts (an index key, which may hold a
// citizen's identification number), sealed with AES-256-GCM under a key kept
// in the store; the query it pages through (the caller and every filter) is
// the cipher's associated data, so a token used with another filter, by
// another caller, altered or forged fails to open.
//
// Thread-safe after construction.

#include <array>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "storage/store.h"

namespace motcua::workflow {

class PageTokens {
 public:
  // The key stored in `store`, made (32 random bytes, committed durably)
  // the first time when `may_write`; otherwise, without a stored key, one
  // for this process only (a store opened to be checked is never written).
  // Errors of the store; INTERNAL when no randomness is had.
  static absl::StatusOr<PageTokens> Open(storage::Store* store, bool may_write);

  // Where a page resumes: which of a query's index prefixes, and after
  // which key.
  struct Position {
    int part = 0;
    std::string key;
  };

  // An opaque, URL-safe token for `position` within `query`.
  std::string Seal(absl::string_view query, const Position& position) const;

  // The position sealed in `token` for the same `query`. INVALID_ARGUMENT
  // (reason PAGE_TOKEN_INVALID, field page_token) for anything else.
  absl::StatusOr<Position> Unseal(absl::string_view token, absl::string_view query) const;

 private:
  explicit PageTokens(const std::array<unsigned char, 32>& key) : key_(key) {}
  std::array<unsigned char, 32> key_;
};

}  // namespace motcua::workflow

#endif  // MOTCUA_WORKFLOW_PAGE_TOKEN_H_
