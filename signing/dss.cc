#include "signing/dss.h"

#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "podofo/podofo.h"
#include "signing/pdf_fonts.h"

namespace motcua::signing {
namespace {

std::string PodofoReason(const PoDoFo::PdfError& e) {
  const char* message = PoDoFo::PdfError::ErrorMessage(e.GetError());
  return message != nullptr ? message : "unknown error";
}

// One /DSS array: the references it already holds and the decoded bytes
// behind them, so nothing is stored twice.
class DssArray {
 public:
  DssArray(PoDoFo::PdfMemDocument& doc, const PoDoFo::PdfObject* dss, const char* key)
      : doc_(doc), key_(key) {
    const PoDoFo::PdfObject* existing = dss != nullptr ? dss->GetIndirectKey(key) : nullptr;
    if (existing == nullptr || !existing->IsArray()) return;
    for (const PoDoFo::PdfObject& item : existing->GetArray()) {
      const PoDoFo::PdfObject* stream =
          item.IsReference() ? doc_.GetObjects().GetObject(item.GetReference()) : &item;
      if (stream == nullptr || !stream->HasStream()) continue;
      char* data = nullptr;
      PoDoFo::pdf_long length = 0;
      stream->GetStream()->GetFilteredCopy(&data, &length);
      held_.emplace(data, static_cast<size_t>(length));
      PoDoFo::podofo_free(data);
      array_.push_back(item);
    }
  }

  // Adds `blobs` not held yet; returns how many were new.
  int Add(const std::vector<std::string>& blobs) {
    int added = 0;
    for (const std::string& der : blobs) {
      if (!held_.insert(der).second) continue;
      PoDoFo::PdfObject* stream = doc_.GetObjects().CreateObject();
      // Unfiltered: DER hardly compresses, and raw bytes are easy to inspect.
      stream->GetStream()->Set(der.data(), static_cast<PoDoFo::pdf_long>(der.size()),
                               PoDoFo::TVecFilters());
      array_.push_back(stream->Reference());
      ++added;
    }
    return added;
  }

  void WriteTo(PoDoFo::PdfDictionary& dss) const {
    if (!array_.empty()) dss.AddKey(key_, array_);
  }

 private:
  PoDoFo::PdfMemDocument& doc_;
  const char* key_;
  std::set<std::string> held_;
  PoDoFo::PdfArray array_;
};

absl::StatusOr<std::string> Add(absl::string_view pdf, const ValidationData& data) {
  PoDoFo::PdfMemDocument doc;
  try {
    doc.LoadFromBuffer(pdf.data(), static_cast<long>(pdf.size()), /*bForUpdate=*/true);
    LeaveInfoAlone(doc);
  } catch (const PoDoFo::PdfError& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("the document is not a readable PDF: ", PodofoReason(e)));
  }
  PoDoFo::PdfObject* catalog = doc.GetCatalog();
  if (catalog == nullptr || !catalog->IsDictionary()) {
    return absl::InvalidArgumentError("the document has no catalog");
  }
  PoDoFo::PdfObject* old_dss = catalog->GetIndirectKey("DSS");
  if (old_dss != nullptr && !old_dss->IsDictionary()) old_dss = nullptr;
  DssArray certs(doc, old_dss, "Certs");
  DssArray ocsps(doc, old_dss, "OCSPs");
  DssArray crls(doc, old_dss, "CRLs");
  const int added =
      certs.Add(data.certificates) + ocsps.Add(data.ocsp_responses) + crls.Add(data.crls);
  if (added == 0) return std::string(pdf);

  // A new /DSS object rather than an edited one: the old revision's stays
  // as it was, and the catalog's change is a single key.
  PoDoFo::PdfObject* dss = doc.GetObjects().CreateObject(PoDoFo::PdfDictionary());
  PoDoFo::PdfDictionary& dict = dss->GetDictionary();
  if (old_dss != nullptr) {
    for (const auto& [key, value] : old_dss->GetDictionary().GetKeys()) {
      if (key.GetName() != "Certs" && key.GetName() != "OCSPs" && key.GetName() != "CRLs") {
        dict.AddKey(key, *value);  // /VRI and the like, kept as they were
      }
    }
  }
  dict.AddKey("Type", PoDoFo::PdfName("DSS"));
  certs.WriteTo(dict);
  ocsps.WriteTo(dict);
  crls.WriteTo(dict);
  catalog->GetDictionary().AddKey("DSS", dss->Reference());

  PoDoFo::PdfRefCountedBuffer buffer;
  PoDoFo::PdfOutputDevice device(&buffer);
  doc.WriteUpdate(&device, /*bTruncate=*/true);
  return std::string(buffer.GetBuffer(), device.GetLength());
}

}  // namespace

absl::StatusOr<std::string> AddValidationData(absl::string_view pdf, const ValidationData& data) {
  QuietPodofo();
  try {
    return Add(pdf, data);
  } catch (const PoDoFo::PdfError& e) {
    return absl::InternalError(
        absl::StrCat("PoDoFo could not add the validation data: ", PodofoReason(e)));
  }
}

}  // namespace motcua::signing
