#ifndef MOTCUA_SIGNING_PDF_STREAM_H_
#define MOTCUA_SIGNING_PDF_STREAM_H_

// Stream contents for PDFs rendered in bulk. Internal to signing/.

#include "absl/strings/string_view.h"
#include "podofo/podofo.h"

namespace motcua::signing {

// How to compress a stream: content operators repeat themselves and gain
// from LZ matching; font programs barely do, and Huffman coding alone gets
// most of their gain for a fraction of the time.
enum class StreamKind { kText, kBinary };

// Sets the stream of `object` to `data`, Flate-compressed at zlib's fastest
// setting for `kind`. PoDoFo errors propagate as PdfError.
void SetDeflatedStream(PoDoFo::PdfObject& object, absl::string_view data,
                       StreamKind kind = StreamKind::kText);

}  // namespace motcua::signing

#endif  // MOTCUA_SIGNING_PDF_STREAM_H_
