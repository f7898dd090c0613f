#ifndef MOTCUA_STORAGE_FILES_H_
#define MOTCUA_STORAGE_FILES_H_

// Small file-system helpers for copies and restores. Errors name the path
// and map errno: ENOSPC -> RESOURCE_EXHAUSTED, ENOENT -> NOT_FOUND,
// EACCES/EPERM/EROFS -> PERMISSION_DENIED, others -> INTERNAL.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace motcua::storage {

absl::Status ErrnoStatus(int error, absl::string_view what, absl::string_view path);

// Fsyncs a file or a directory (after a rename or create in it).
absl::Status SyncPath(const std::string& path);

// Removes a file or a directory tree; absent is fine.
absl::Status RemoveTree(const std::string& path);

absl::StatusOr<std::string> ReadWholeFile(const std::string& path);
// Writes, fsyncs and closes `path` (created, or replaced).
absl::Status WriteWholeFile(const std::string& path, absl::string_view bytes);

// SHA-256 of a file's bytes, lowercase hex, and its size.
struct FileDigest {
  std::string sha256;
  int64_t size = 0;
};
absl::StatusOr<FileDigest> DigestFile(const std::string& path);

// Total size of the regular files under `dir`.
int64_t TreeSize(const std::string& dir);

// True if `path` is `dir` or lies under it (both made absolute, symlinks
// resolved as far as they exist).
bool IsUnder(const std::string& path, const std::string& dir);

}  // namespace motcua::storage

#endif  // MOTCUA_STORAGE_FILES_H_
