#ifndef MOTCUA_ADAPTERS_UTF8_H_
#define MOTCUA_ADAPTERS_UTF8_H_

// UTF-8 as the wire needs it: proto3 strings, JSON log lines and their
// collectors refuse anything else, and text from a hostile PDF or a caller
// may be anything.

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace motcua::adapters {

// Length of the well-formed UTF-8 sequence `text` starts with (RFC 3629: no
// overlongs, no surrogates, nothing past U+10FFFF), or 0 when it starts
// with none (or is empty).
size_t Utf8SequenceLength(absl::string_view text);

// `text` with every byte that does not start a well-formed sequence
// replaced by U+FFFD.
std::string RepairUtf8(absl::string_view text);

}  // namespace motcua::adapters

#endif  // MOTCUA_ADAPTERS_UTF8_H_
