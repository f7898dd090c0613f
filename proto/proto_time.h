#ifndef MOTCUA_PROTO_PROTO_TIME_H_
#define MOTCUA_PROTO_PROTO_TIME_H_

// Conversions between the API's protobuf times and absl's, at microsecond
// precision (what RocksDB keys and every record use).

#include "absl/time/time.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/time_util.h"

namespace motcua {

inline google::protobuf::Timestamp ToProto(absl::Time t) {
  return google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(t));
}
inline absl::Time FromProto(const google::protobuf::Timestamp& t) {
  return absl::FromUnixMicros(google::protobuf::util::TimeUtil::TimestampToMicroseconds(t));
}
inline google::protobuf::Duration ToProto(absl::Duration d) {
  return google::protobuf::util::TimeUtil::MicrosecondsToDuration(absl::ToInt64Microseconds(d));
}
inline absl::Duration FromProto(const google::protobuf::Duration& d) {
  return absl::Microseconds(google::protobuf::util::TimeUtil::DurationToMicroseconds(d));
}

}  // namespace motcua

#endif  // MOTCUA_PROTO_PROTO_TIME_H_
