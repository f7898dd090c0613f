#ifndef MOTCUA_TESTS_SIGNING_HAND_PDF_H_
#define MOTCUA_TESTS_SIGNING_HAND_PDF_H_

// Small PDFs written by hand, byte by byte, for tests and seed corpora: an
// input no PDF library of ours produced. Header-only, absl only.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace motcua::testing_pdf {

inline std::string StreamObject(absl::string_view data, absl::string_view extra = "") {
  return absl::StrCat("<< /Length ", data.size(), extra, " >>\nstream\n", data, "\nendstream");
}

inline std::string PageContent(absl::string_view text) {
  return absl::StrCat("BT /F1 24 Tf 72 720 Td (", text, ") Tj ET");
}

// A PDF of `objects` (numbered from 1, the first is the catalog) with a
// classic xref table.
inline std::string WritePdf(const std::vector<std::string>& objects) {
  std::string out = "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n";
  std::vector<size_t> offsets;
  for (size_t i = 0; i < objects.size(); ++i) {
    offsets.push_back(out.size());
    absl::StrAppend(&out, i + 1, " 0 obj\n", objects[i], "\nendobj\n");
  }
  size_t xref = out.size();
  absl::StrAppend(&out, "xref\n0 ", objects.size() + 1, "\n0000000000 65535 f \n");
  for (size_t offset : offsets) out += absl::StrFormat("%010d 00000 n \n", offset);
  absl::StrAppend(&out, "trailer\n<< /Size ", objects.size() + 1, " /Root 1 0 R >>\nstartxref\n",
                  xref, "\n%%EOF\n");
  return out;
}

// A one-page A4 PDF showing `text` (ASCII) in Helvetica: catalog 1, pages 2,
// page 3, content 4, font 5.
inline std::string OnePagePdf(absl::string_view text) {
  return WritePdf(
      {"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
       "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
       "/Resources << /Font << /F1 5 0 R >> >> >>",
       StreamObject(PageContent(text)), "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"});
}

}  // namespace motcua::testing_pdf

#endif  // MOTCUA_TESTS_SIGNING_HAND_PDF_H_
