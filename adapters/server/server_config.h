#ifndef MOTCUA_ADAPTERS_SERVER_SERVER_CONFIG_H_
#define MOTCUA_ADAPTERS_SERVER_SERVER_CONFIG_H_

// The production configuration file of motcuad (motcua.v1.ServerConfig,
// proto/motcua/v1/config.proto): read, paths made absolute, checked. Nothing
// here creates or writes a file.

#include <string>

#include "absl/status/statusor.h"
#include "motcua/v1/config.pb.h"

namespace motcua::adapters {

// Parses the text-format ServerConfig at `path`, takes relative paths from
// the file's directory, fills the backup rule's defaults
// (storage::CompleteBackupPolicy) and checks that every required field is
// set and every file it names can be read. Errors start with `path` and name
// the field (and the file): NOT_FOUND for the config or a file that cannot
// be read, INVALID_ARGUMENT for a syntax error (with line and column) or a
// missing or wrong value.
absl::StatusOr<v1::ServerConfig> LoadServerConfig(const std::string& path);

}  // namespace motcua::adapters

#endif  // MOTCUA_ADAPTERS_SERVER_SERVER_CONFIG_H_
