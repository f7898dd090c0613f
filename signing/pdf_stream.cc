#include "signing/pdf_stream.h"

#include <zlib.h>

#include <string>

namespace motcua::signing {

namespace {

// One zlib stream per thread, reset between uses: deflateInit allocates
// about 256 KB, and fresh allocations that large cost page faults on every
// call, more than compressing a document.
class Deflater {
 public:
  explicit Deflater(int strategy) {
    ok_ = deflateInit2(&stream_, Z_BEST_SPEED, Z_DEFLATED, 15, 8, strategy) == Z_OK;
  }
  ~Deflater() {
    if (ok_) deflateEnd(&stream_);
  }
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  // Compresses `data` into `out`; false on a zlib failure.
  bool Deflate(absl::string_view data, std::string& out) {
    if (!ok_ || deflateReset(&stream_) != Z_OK) return false;
    out.resize(deflateBound(&stream_, static_cast<uLong>(data.size())));
    stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    stream_.avail_in = static_cast<uInt>(data.size());
    stream_.next_out = reinterpret_cast<Bytef*>(out.data());
    stream_.avail_out = static_cast<uInt>(out.size());
    if (deflate(&stream_, Z_FINISH) != Z_STREAM_END) return false;
    out.resize(stream_.total_out);
    return true;
  }

 private:
  z_stream stream_{};
  bool ok_ = false;
};

}  // namespace

void SetDeflatedStream(PoDoFo::PdfObject& object, absl::string_view data) {
  thread_local Deflater deflater(Z_DEFAULT_STRATEGY);
  std::string compressed;
  if (!deflater.Deflate(data, compressed)) {
    PODOFO_RAISE_ERROR_INFO(PoDoFo::ePdfError_Flate, "zlib deflate failed");
  }
  PoDoFo::PdfMemoryInputStream input(compressed.data(),
                                     static_cast<PoDoFo::pdf_long>(compressed.size()));
  object.GetStream()->SetRawData(&input, static_cast<PoDoFo::pdf_long>(compressed.size()));
  object.GetDictionary().AddKey(PoDoFo::PdfName::KeyFilter, PoDoFo::PdfName("FlateDecode"));
}

}  // namespace motcua::signing
