#ifndef MOTCUA_SIGNING_PDF_STREAM_H_
#define MOTCUA_SIGNING_PDF_STREAM_H_

// Stream contents for PDFs rendered in bulk. Internal to signing/.

#include "absl/strings/string_view.h"
#include "podofo/podofo.h"

namespace motcua::signing {

// Sets the stream of `object` to `data`, Flate-compressed at zlib's fastest
// setting. PoDoFo errors propagate as PdfError.
void SetDeflatedStream(PoDoFo::PdfObject& object, absl::string_view data);

}  // namespace motcua::signing

#endif  // MOTCUA_SIGNING_PDF_STREAM_H_
