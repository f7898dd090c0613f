#include "signing/pades.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "podofo/podofo.h"
#include "signing/cades.h"
#include "signing/openssl_util.h"
#include "signing/pdf_fonts.h"
#include "signing/pdf_input.h"

namespace motcua::signing {
namespace {

// Below this not even a bare signature fits; above it the /Contents string
// (twice the size, in hex) makes every later parse of the file slow.
constexpr size_t kMinReservedSize = 256;
constexpr size_t kMaxReservedSize = 1 << 20;

std::string PodofoReason(const PoDoFo::PdfError& e) {
  const char* message = PoDoFo::PdfError::ErrorMessage(e.GetError());
  std::string reason = message != nullptr ? message : "unknown error";
  const PoDoFo::TDequeErrorInfo& callstack = e.GetCallstack();
  if (!callstack.empty() && !callstack.front().GetInformation().empty()) {
    absl::StrAppend(&reason, " (", callstack.front().GetInformation(), ")");
  }
  return reason;
}

// "D:YYYYMMDDHHmmSS+07'00'": PDF date syntax (ISO 32000-1 §7.9.4) in
// Vietnam time. PdfDate would use the process time zone.
std::string PdfDateInVietnam(absl::Time time) {
  return absl::FormatTime("D:%Y%m%d%H%M%S+07'00'", time, absl::FixedTimeZone(7 * 3600));
}

bool FieldNameTaken(PoDoFo::PdfMemDocument& doc, PoDoFo::PdfAcroForm* form,
                    const std::string& name) {
  PoDoFo::PdfObject* fields = form->GetObject()->GetIndirectKey("Fields");
  if (fields == nullptr || !fields->IsArray()) return false;
  for (const PoDoFo::PdfObject& entry : fields->GetArray()) {
    const PoDoFo::PdfObject* field =
        entry.IsReference() ? doc.GetObjects().GetObject(entry.GetReference()) : &entry;
    if (field == nullptr || !field->IsDictionary()) continue;
    const PoDoFo::PdfObject* title = field->GetDictionary().GetKey("T");
    if (title != nullptr && title->IsString() && title->GetString().GetStringUtf8() == name) {
      return true;
    }
  }
  return false;
}

// The SHA-256 of the two ranges `byte_range` covers in `pdf`.
std::string RangeDigest(const std::string& pdf, const int64_t byte_range[4]) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (ctx == nullptr || !EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) ||
      !EVP_DigestUpdate(ctx.get(), pdf.data() + byte_range[0],
                        static_cast<size_t>(byte_range[1])) ||
      !EVP_DigestUpdate(ctx.get(), pdf.data() + byte_range[2],
                        static_cast<size_t>(byte_range[3])) ||
      !EVP_DigestFinal_ex(ctx.get(), md, &len)) {
    return "";  // matches no document's digest
  }
  return std::string(reinterpret_cast<char*>(md), len);
}

// Finds the signature's placeholders in `pdf` after `update_begin` (the
// /ByteRange PoDoFo's SetSignature writes, then "/Contents<" `zeros` ">"),
// writes the byte range over its placeholder as PoDoFo would (same width)
// and returns it: everything but the hex string between the angle brackets.
absl::StatusOr<std::array<int64_t, 4>> FillByteRange(std::string& pdf, size_t update_begin,
                                                     absl::string_view zeros) {
  constexpr absl::string_view kRange = "[ 0 1234567890 1234567890 1234567890]";
  constexpr absl::string_view kContents = "/Contents<";
  const size_t range_at = pdf.find(kRange.data(), update_begin, kRange.size());
  const size_t contents_at =
      range_at == std::string::npos ? range_at : pdf.find(kContents.data(), range_at, kContents.size());
  const size_t hex_at = contents_at + kContents.size();
  if (contents_at == std::string::npos || hex_at + zeros.size() >= pdf.size() ||
      absl::string_view(pdf).substr(hex_at, zeros.size()) != zeros ||
      pdf[hex_at + zeros.size()] != '>') {
    return absl::InternalError("PoDoFo did not write the signature placeholders");
  }
  const int64_t open = static_cast<int64_t>(hex_at - 1);
  const int64_t after_close = static_cast<int64_t>(hex_at + zeros.size() + 1);
  const std::array<int64_t, 4> range = {0, open, after_close,
                                        static_cast<int64_t>(pdf.size()) - after_close};
  std::string text = absl::StrCat("[ 0 ", range[1], " ", range[2], " ", range[3]);
  if (text.size() + 1 > kRange.size()) return absl::InternalError("byte range too long to write");
  text.resize(kRange.size() - 1, ' ');
  text += ']';
  pdf.replace(range_at, kRange.size(), text);
  return range;
}

absl::StatusOr<PreparedSignature> Prepare(absl::string_view pdf, const SignatureRequest& request) {
  // Read in place (`pdf` outlives `doc`): LoadFromBuffer would copy the file
  // twice, for the parser and for the update, and read it a character at a
  // time through std::istream.
  auto* source = new MemoryInputDevice(pdf);
  PoDoFo::PdfRefCountedInputDevice input(source);
  PoDoFo::PdfMemDocument doc;
  try {
    doc.LoadFromDevice(input, /*bForUpdate=*/true);
  } catch (const PoDoFo::PdfError& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("the document is not a readable PDF: ", PodofoReason(e)));
  }
  // The parser and WriteUpdate's copy of the original bytes share the
  // device: a read that ran off the end while parsing must not fail the copy.
  source->SetSeeksClearFailure(true);
  LeaveInfoAlone(doc);
  // No default appearance: the default embeds a whole Arial font.
  PoDoFo::PdfAcroForm* form = doc.GetAcroForm(true, PoDoFo::ePdfAcroFormDefaultAppearance_None);
  if (FieldNameTaken(doc, form, request.field_name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the document already has a field named '", request.field_name, "'"));
  }
  // SignaturesExist | AppendOnly (ISO 32000-1 Table 219).
  form->GetObject()->GetDictionary().AddKey("SigFlags", PoDoFo::PdfObject(PoDoFo::pdf_int64{3}));

  PlacedAppearance placed;
  if (request.appearance.has_value() && !request.document_timestamp) {
    absl::StatusOr<PlacedAppearance> drawn =
        DrawAppearance(doc, *request.appearance, request.signing_time);
    if (!drawn.ok()) return drawn.status();
    placed = std::move(*drawn);
  }
  if (doc.GetPageCount() <= placed.page) {
    return absl::InvalidArgumentError("the document has no page to hold the signature");
  }
  const PdfBox& box = placed.rect;  // all zero for an invisible signature
  PoDoFo::PdfAnnotation* widget =
      doc.GetPage(placed.page)
          ->CreateAnnotation(PoDoFo::ePdfAnnotation_Widget,
                             PoDoFo::PdfRect(box.x, box.y, box.width, box.height));
  widget->SetFlags(PoDoFo::ePdfAnnotationFlags_Print | PoDoFo::ePdfAnnotationFlags_Locked);
  PoDoFo::PdfSignatureField field(widget, form, &doc);
  field.SetFieldName(Utf8(request.field_name));
  if (placed.xobject != nullptr) field.SetAppearanceStream(placed.xobject.get());
  PoDoFo::PdfDictionary& sig = field.GetSignatureObject()->GetDictionary();
  if (request.document_timestamp) {
    sig.AddKey("Type", PoDoFo::PdfName("DocTimeStamp"));
    sig.AddKey("SubFilter", PoDoFo::PdfName("ETSI.RFC3161"));
  } else {
    if (!request.reason.empty()) field.SetSignatureReason(Utf8(request.reason));
    if (!request.location.empty()) field.SetSignatureLocation(Utf8(request.location));
    sig.AddKey("SubFilter", PoDoFo::PdfName("ETSI.CAdES.detached"));
    sig.AddKey("M", PoDoFo::PdfString(PdfDateInVietnam(request.signing_time)));
  }
  // The reserved /Contents is zeros, as the unused room of a signature is.
  // SetSignature also writes PoDoFo's /ByteRange placeholder.
  const std::string zeros(2 * request.reserved_size, '0');
  field.SetSignature(PoDoFo::PdfData(zeros.data(), zeros.size()));
  // A plain device, not PdfSignOutputDevice: that one searches every write
  // for its beacon and formats through vsnprintf, and its byte-range fix-up
  // assumes /ByteRange sits right before /Contents. The placeholders are
  // found below, in the update only.
  PoDoFo::PdfRefCountedBuffer buffer(pdf.size() + zeros.size() + (16 << 10));
  PoDoFo::PdfOutputDevice device(&buffer);
  doc.WriteUpdate(&device, /*bTruncate=*/true);

  PreparedSignature prepared;
  prepared.pdf.assign(buffer.GetBuffer(), device.GetLength());
  absl::StatusOr<std::array<int64_t, 4>> range = FillByteRange(prepared.pdf, pdf.size(), zeros);
  if (!range.ok()) return range.status();
  std::copy(range->begin(), range->end(), prepared.byte_range);
  prepared.document_sha256 = RangeDigest(prepared.pdf, prepared.byte_range);
  return prepared;
}

}  // namespace

absl::StatusOr<PreparedSignature> PrepareSignature(absl::string_view pdf,
                                                   const SignatureRequest& request) {
  QuietPodofo();
  if (request.field_name.empty()) {
    return absl::InvalidArgumentError("the signature field needs a name");
  }
  if (request.reserved_size < kMinReservedSize || request.reserved_size > kMaxReservedSize) {
    return absl::InvalidArgumentError(absl::StrCat("reserved_size must be between ",
                                                   kMinReservedSize, " and ", kMaxReservedSize,
                                                   " bytes, not ", request.reserved_size));
  }
  try {
    return Prepare(pdf, request);
  } catch (const PoDoFo::PdfError& e) {
    return absl::InternalError(
        absl::StrCat("PoDoFo could not prepare the signature: ", PodofoReason(e)));
  }
}

namespace {

// `pdf` (the bytes of `prepared.pdf`) with `cms_der` as hex in its reserved
// /Contents; the caller has checked that the CMS is over `prepared`.
absl::StatusOr<std::string> WriteContents(const PreparedSignature& prepared, std::string pdf,
                                          absl::string_view cms_der) {
  const int64_t* br = prepared.byte_range;
  const size_t capacity = static_cast<size_t>(br[2] - br[1] - 2);
  if (cms_der.size() * 2 > capacity) {
    return absl::InvalidArgumentError(
        absl::StrCat("the CMS has ", cms_der.size(), " bytes but only ", capacity / 2,
                     " were reserved: prepare again with a larger reserved_size"));
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  size_t at = static_cast<size_t>(br[1]) + 1;
  for (unsigned char c : cms_der) {
    pdf[at++] = kHex[c >> 4];
    pdf[at++] = kHex[c & 0xf];
  }
  return pdf;
}

}  // namespace

absl::StatusOr<std::string> EmbedSignature(const PreparedSignature& prepared,
                                           absl::string_view cms_der) {
  const int64_t* br = prepared.byte_range;
  const int64_t size = static_cast<int64_t>(prepared.pdf.size());
  if (br[0] != 0 || br[1] <= 0 || br[2] <= br[1] + 1 || br[3] < 0 || br[2] + br[3] != size ||
      prepared.pdf[static_cast<size_t>(br[1])] != '<' ||
      prepared.pdf[static_cast<size_t>(br[2] - 1)] != '>') {
    return absl::InvalidArgumentError("the prepared document does not match its byte range");
  }
  if (RangeDigest(prepared.pdf, br) != prepared.document_sha256) {
    return absl::InvalidArgumentError("the prepared document changed after it was prepared");
  }
  absl::StatusOr<std::string> digest = SignedMessageDigest(cms_der);
  if (!digest.ok()) return digest.status();
  if (*digest != prepared.document_sha256) {
    return absl::InvalidArgumentError("the CMS signs another document (message-digest differs)");
  }
  return WriteContents(prepared, prepared.pdf, cms_der);
}

absl::StatusOr<std::string> SignPdf(absl::string_view pdf, const SignatureRequest& request,
                                    const SigningKey& key) {
  absl::StatusOr<PreparedSignature> prepared = PrepareSignature(pdf, request);
  if (!prepared.ok()) return prepared.status();
  absl::StatusOr<std::string> cms = SignDetached(key, prepared->document_sha256);
  if (!cms.ok()) return cms.status();
  // Not EmbedSignature: the CMS was just made over this very digest, and
  // parsing it back to check costs as much as the RSA signature.
  std::string pdf_bytes = std::move(prepared->pdf);
  return WriteContents(*prepared, std::move(pdf_bytes), *cms);
}

absl::StatusOr<std::string> AddDocumentTimestamp(absl::string_view pdf,
                                                 const TimestampAuthority& tsa,
                                                 const TimestampOptions& options) {
  // Named after the document time-stamps before it, counted in the bytes
  // (a parse would cost as much as the time-stamp): PrepareSignature
  // refuses the name if a field has it anyway.
  int earlier = 0;
  for (size_t at = pdf.find("/DocTimeStamp"); at != absl::string_view::npos;
       at = pdf.find("/DocTimeStamp", at + 1)) {
    ++earlier;
  }
  SignatureRequest request;
  request.document_timestamp = true;
  request.field_name = absl::StrCat("DocTimeStamp", earlier + 1);
  absl::StatusOr<PreparedSignature> prepared = PrepareSignature(pdf, request);
  if (!prepared.ok()) return prepared.status();
  const int64_t* br = prepared->byte_range;
  const std::string covered = absl::StrCat(absl::string_view(prepared->pdf).substr(0, br[1]),
                                           absl::string_view(prepared->pdf).substr(br[2], br[3]));
  absl::StatusOr<std::string> token = RequestTimestamp(tsa, covered, options);
  if (!token.ok()) return token.status();
  std::string pdf_bytes = std::move(prepared->pdf);
  return WriteContents(*prepared, std::move(pdf_bytes), *token);
}

}  // namespace motcua::signing
