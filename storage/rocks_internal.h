#ifndef MOTCUA_STORAGE_ROCKS_INTERNAL_H_
#define MOTCUA_STORAGE_ROCKS_INTERNAL_H_

// What storage/ files share about RocksDB. Not for use outside storage/.

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "rocksdb/db.h"
#include "rocksdb/status.h"
#include "storage/store.h"

namespace motcua::storage {

// The RocksDB database under a Store made by Store::Open.
rocksdb::DB* RocksDbOf(Store& store);

// A RocksDB status as an absl::Status: NOT_FOUND, DATA_LOSS for corruption,
// RESOURCE_EXHAUSTED for a full disk, UNAVAILABLE for busy, else INTERNAL.
absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what);

}  // namespace motcua::storage

#endif  // MOTCUA_STORAGE_ROCKS_INTERNAL_H_
