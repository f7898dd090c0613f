#ifndef MOTCUA_SIGNING_FONT_SUBSET_H_
#define MOTCUA_SIGNING_FONT_SUBSET_H_

// Fast embedded fonts for documents rendered in bulk. Internal to signing/.
//
// PoDoFo 0.9.8 re-reads and copies the whole TrueType file (about 370 KB
// for DejaVu Serif) several times for every document and font, which costs
// milliseconds per document. Here each face is read and parsed once per
// process; a document then embeds only the glyphs it drew, as a CID font
// (Type0, Identity-H, CIDFontType2 with CIDToGIDMap /Identity) with widths
// and a ToUnicode map, so `pdftotext` gives back the UTF-8 drawn and
// `pdffonts` shows an embedded subset.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "podofo/podofo.h"
#include "signing/pdf_fonts.h"

namespace motcua::signing {

// A parsed TrueType face; immutable, shared by all threads.
class TrueTypeFace {
 public:
  // The face for `face`, loaded on first use. FAILED_PRECONDITION when the
  // font file is missing, INTERNAL when it is not a TrueType font we can
  // subset. Thread-safe; the face lives as long as the process.
  static absl::StatusOr<const TrueTypeFace*> Get(FontFace face);

  const std::string& postscript_name() const { return postscript_name_; }
  // Glyph for `code_point`; 0 (.notdef) when the face has none.
  uint16_t GlyphFor(char32_t code_point) const;
  // Advance width of `glyph` in thousandths of an em.
  double Advance(uint16_t glyph) const;
  // Width of UTF-8 `text` at `size` points (no kerning). Text must be valid
  // UTF-8; invalid bytes count as .notdef.
  double Width(absl::string_view text, double size) const;

  // A TrueType font holding `glyphs` (glyphs[i] becomes glyph i; glyphs[0]
  // must be 0) and every component of composite glyphs among them, appended
  // to `glyphs` in the order found.
  std::string Subset(std::vector<uint16_t>& glyphs) const;

  struct Metrics {  // thousandths of an em
    double ascent, descent, cap_height;
    double bbox[4];
  };
  const Metrics& metrics() const { return metrics_; }

 private:
  TrueTypeFace() = default;
  absl::Status Parse(std::string file, std::string postscript_name);
  absl::string_view Table(const char tag[4]) const;
  // `glyf`: Table("glyf"), looked up once by the caller.
  absl::string_view Glyph(absl::string_view glyf, uint16_t glyph) const;

  std::string file_;
  std::string postscript_name_;
  std::map<std::string, std::pair<uint32_t, uint32_t>> tables_;  // offset, length
  std::vector<uint16_t> bmp_glyphs_;                             // indexed by code point
  std::vector<uint16_t> advances_;                               // font units, per glyph
  std::vector<uint32_t> glyph_offsets_;                          // numGlyphs + 1, into glyf
  uint16_t units_per_em_ = 1000;
  Metrics metrics_{};
};

// The glyphs one document draws in one face, and their embedding.
// Not thread-safe; one per document and face.
class SubsetFont {
 public:
  explicit SubsetFont(const TrueTypeFace& face) : face_(face), glyphs_{0}, subset_{{0, 0}} {}

  const TrueTypeFace& face() const { return face_; }
  // Whether Encode() was ever given text.
  bool used() const { return glyphs_.size() > 1; }

  // A PDF hex string selecting the glyphs of UTF-8 `text` in this subset,
  // for the Tj operator; remembers the glyphs and their text.
  std::string Encode(absl::string_view text);

  // Adds the font's objects to `document` (the subset's name tag derives
  // from the glyphs used) and returns the Type0 font dictionary object.
  // PoDoFo errors propagate as PdfError.
  PoDoFo::PdfObject* Embed(PoDoFo::PdfMemDocument& document);

 private:
  const TrueTypeFace& face_;
  std::vector<uint16_t> glyphs_;          // subset glyph id -> face glyph id
  std::map<uint16_t, uint16_t> subset_;   // face glyph id -> subset glyph id
  std::map<uint16_t, char32_t> unicode_;  // subset glyph id -> first code point drawn
};

// Decodes strict UTF-8 (no overlong forms, surrogates or values past
// U+10FFFF). False on malformed input.
bool DecodeUtf8(absl::string_view text, std::u32string* out);

}  // namespace motcua::signing

#endif  // MOTCUA_SIGNING_FONT_SUBSET_H_
