#ifndef MOTCUA_STORAGE_OFFLINE_COPY_H_
#define MOTCUA_STORAGE_OFFLINE_COPY_H_

// Copy 3 of the 3-2-1 rule: an encrypted, signed export of a database to a
// removable medium, which is then detached.
//
// An offline copy is a directory <destination>/<id>/ holding
//   manifest.json    v1::OfflineManifest as JSON: the DB's sequence number
//                    and audit-chain head, and each file's SHA-256
//   manifest.sig     the server's signature over manifest.json's bytes
//   signer.pem       the server's certificate
//   files/<name>     each DB file, AES-256-GCM encrypted:
//                    "MOTCUAE1" | 12-byte random nonce | ciphertext | 16-byte tag
//                    (the copy id and file name are authenticated data, so a
//                    file cannot be swapped between copies or names)
// It is written under <destination>/.<id>.partial and renamed into place
// when complete and synced: a medium never shows half a copy under a final
// name, and a failed export leaves earlier copies as they were.

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "motcua/v1/backup.pb.h"

namespace motcua::storage {

// Reports progress of a long operation: a stage name and a count. Returns
// false to stop it: the operation then ends CANCELLED and leaves nothing
// half-made. May be empty.
using Progress = std::function<bool(absl::string_view stage, int64_t done, int64_t total)>;
// Calls `progress` if set: false when it asks to stop.
bool GoOn(const Progress& progress, absl::string_view stage, int64_t done, int64_t total);
// The error of an operation its Progress stopped.
absl::Status Stopped(absl::string_view what);

// Who signs manifests: the server's key, kept outside storage/.
struct ManifestSeal {
  std::function<absl::StatusOr<std::string>(absl::string_view manifest)> sign;
  std::string certificate_pem;
};
// Accepts a manifest only if `signature` over it verifies with
// `certificate_pem` and that certificate is trusted.
using ManifestCheck = std::function<absl::Status(
    absl::string_view manifest, absl::string_view signature, absl::string_view certificate_pem)>;

// The 32-byte key from a file holding 64 hex digits. FAILED_PRECONDITION
// saying how to make one when it is missing or malformed.
absl::StatusOr<std::string> LoadOfflineKey(const std::string& path);
// Creates `path` with a fresh random key (mode 0600) unless it exists.
absl::Status EnsureOfflineKey(const std::string& path);
// SHA-256 of the key, hex: recorded in the manifest to name a wrong key.
std::string KeyFingerprint(absl::string_view key);

// Exports the closed database in `db_dir` as a new offline copy named
// manifest.id() under `destination`, which must exist (the mounted medium).
// `manifest` carries the metadata; files are filled in. Returns the
// manifest written.
absl::StatusOr<v1::OfflineManifest> WriteOfflineCopy(const std::string& db_dir,
                                                     const std::string& destination,
                                                     absl::string_view key,
                                                     v1::OfflineManifest manifest,
                                                     const ManifestSeal& seal,
                                                     const Progress& progress);

// Reads the manifest of the copy at `copy_dir` and checks its signature.
absl::StatusOr<v1::OfflineManifest> ReadOfflineManifest(const std::string& copy_dir,
                                                        const ManifestCheck& check);

// Checks every encrypted file against the manifest (presence, size, hash)
// without the key. DATA_LOSS naming the first bad file.
absl::Status CheckOfflineFiles(const std::string& copy_dir, const v1::OfflineManifest& manifest,
                               const Progress& progress);

// Decrypts the copy into `target_dir` (created; must not exist), checking
// each file's tag and plaintext hash. On error `target_dir` is removed.
absl::Status DecryptOfflineCopy(const std::string& copy_dir, const v1::OfflineManifest& manifest,
                                absl::string_view key, const std::string& target_dir,
                                const Progress& progress);

}  // namespace motcua::storage

#endif  // MOTCUA_STORAGE_OFFLINE_COPY_H_
