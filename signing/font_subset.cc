#include "signing/font_subset.h"

#include <openssl/evp.h>

#include <array>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "signing/pdf_stream.h"

namespace motcua::signing {
namespace {

uint16_t U16(absl::string_view data, size_t at) {
  if (at + 2 > data.size()) return 0;
  return static_cast<uint16_t>((static_cast<uint8_t>(data[at]) << 8) |
                               static_cast<uint8_t>(data[at + 1]));
}
int16_t S16(absl::string_view data, size_t at) { return static_cast<int16_t>(U16(data, at)); }
uint32_t U32(absl::string_view data, size_t at) {
  return (static_cast<uint32_t>(U16(data, at)) << 16) | U16(data, at + 2);
}
void Put16(std::string& out, size_t at, uint16_t value) {
  out[at] = static_cast<char>(value >> 8);
  out[at + 1] = static_cast<char>(value);
}
void Put32(std::string& out, size_t at, uint32_t value) {
  Put16(out, at, static_cast<uint16_t>(value >> 16));
  Put16(out, at + 2, static_cast<uint16_t>(value));
}
void Append16(std::string& out, uint16_t value) {
  out.push_back(static_cast<char>(value >> 8));
  out.push_back(static_cast<char>(value));
}
void Append32(std::string& out, uint32_t value) {
  Append16(out, static_cast<uint16_t>(value >> 16));
  Append16(out, static_cast<uint16_t>(value));
}

// Four upper-case hex digits.
void AppendHex16(std::string& out, uint16_t value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (int shift = 12; shift >= 0; shift -= 4) out.push_back(kHex[(value >> shift) & 0xf]);
}

uint32_t Checksum(absl::string_view data) {
  uint32_t sum = 0;
  for (size_t i = 0; i < data.size(); i += 4) {
    uint32_t word = 0;
    for (size_t k = 0; k < 4; ++k) {
      word = (word << 8) | (i + k < data.size() ? static_cast<uint8_t>(data[i + k]) : 0);
    }
    sum += word;
  }
  return sum;
}

// Composite glyph component flags (OpenType glyf table).
constexpr uint16_t kArgsAreWords = 0x0001, kHaveScale = 0x0008, kMoreComponents = 0x0020,
                   kHaveXYScale = 0x0040, kHaveTwoByTwo = 0x0080;

// Calls `visit(offset_of_glyph_index)` for every component of the composite
// glyph `data`; nothing for a simple glyph.
template <typename Visit>
void ForEachComponent(absl::string_view data, Visit visit) {
  if (data.size() < 10 || S16(data, 0) >= 0) return;
  size_t at = 10;
  while (at + 4 <= data.size()) {
    const uint16_t flags = U16(data, at);
    visit(at + 2);
    at += 4 + ((flags & kArgsAreWords) ? 4 : 2);
    if (flags & kHaveScale) {
      at += 2;
    } else if (flags & kHaveXYScale) {
      at += 4;
    } else if (flags & kHaveTwoByTwo) {
      at += 8;
    }
    if (!(flags & kMoreComponents)) break;
  }
}

}  // namespace

bool DecodeUtf8(absl::string_view text, std::u32string* out) {
  out->clear();
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char lead = static_cast<unsigned char>(text[i]);
    int extra;
    char32_t cp;
    if (lead < 0x80) {
      extra = 0;
      cp = lead;
    } else if (lead >= 0xC2 && lead <= 0xDF) {
      extra = 1;
      cp = lead & 0x1F;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      extra = 2;
      cp = lead & 0x0F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      extra = 3;
      cp = lead & 0x07;
    } else {
      return false;
    }
    if (text.size() - i <= static_cast<size_t>(extra)) return false;
    for (int k = 1; k <= extra; ++k) {
      const unsigned char c = static_cast<unsigned char>(text[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    if ((extra == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF))) {
      return false;
    }
    out->push_back(cp);
    i += extra + 1;
  }
  return true;
}

absl::StatusOr<const TrueTypeFace*> TrueTypeFace::Get(FontFace face) {
  static std::mutex mu;
  static std::array<std::unique_ptr<TrueTypeFace>, 6> faces;
  const size_t index = static_cast<size_t>(face);
  std::lock_guard<std::mutex> lock(mu);
  if (faces[index] != nullptr) return faces[index].get();
  const std::string path = FontFile(face);
  std::ifstream in(path, std::ios::binary);
  if (!in) return MissingFontError(face);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  std::string name = path.substr(path.rfind('/') + 1);
  name = name.substr(0, name.rfind('.'));
  std::unique_ptr<TrueTypeFace> parsed(new TrueTypeFace);
  absl::Status status = parsed->Parse(bytes.str(), name);
  if (!status.ok()) return status;
  faces[index] = std::move(parsed);
  return faces[index].get();
}

absl::string_view TrueTypeFace::Table(const char tag[4]) const {
  auto it = tables_.find(std::string(tag, 4));
  if (it == tables_.end()) return {};
  return absl::string_view(file_).substr(it->second.first, it->second.second);
}

absl::Status TrueTypeFace::Parse(std::string file, std::string postscript_name) {
  file_ = std::move(file);
  postscript_name_ = std::move(postscript_name);
  const absl::string_view data(file_);
  if (U32(data, 0) != 0x00010000) {
    return absl::InternalError(absl::StrCat(postscript_name_, " is not a TrueType font"));
  }
  const uint16_t count = U16(data, 4);
  for (uint16_t i = 0; i < count; ++i) {
    const size_t record = 12 + 16 * static_cast<size_t>(i);
    const uint32_t offset = U32(data, record + 8), length = U32(data, record + 12);
    if (record + 16 > data.size() || offset > data.size() || length > data.size() - offset) {
      return absl::InternalError(absl::StrCat(postscript_name_, " has a broken table directory"));
    }
    tables_[std::string(data.substr(record, 4))] = {offset, length};
  }
  for (const char* tag : {"head", "hhea", "maxp", "hmtx", "loca", "glyf", "cmap"}) {
    if (Table(tag).empty()) {
      return absl::InternalError(absl::StrCat(postscript_name_, " lacks the table ", tag));
    }
  }
  const absl::string_view head = Table("head"), hhea = Table("hhea");
  units_per_em_ = U16(head, 18);
  const bool long_loca = S16(head, 50) != 0;
  const uint16_t glyph_count = U16(Table("maxp"), 4);
  const uint16_t metric_count = U16(hhea, 34);
  if (units_per_em_ == 0 || metric_count == 0 || glyph_count == 0) {
    return absl::InternalError(absl::StrCat(postscript_name_, " has empty metrics"));
  }
  const absl::string_view hmtx = Table("hmtx"), loca = Table("loca");
  advances_.resize(glyph_count);
  for (uint16_t g = 0; g < glyph_count; ++g) {
    advances_[g] = U16(hmtx, 4 * static_cast<size_t>(std::min(g, uint16_t(metric_count - 1))));
  }
  glyph_offsets_.resize(glyph_count + 1);
  for (size_t g = 0; g <= glyph_count; ++g) {
    glyph_offsets_[g] = long_loca ? U32(loca, 4 * g) : 2u * U16(loca, 2 * g);
    if (glyph_offsets_[g] > Table("glyf").size() ||
        (g > 0 && glyph_offsets_[g] < glyph_offsets_[g - 1])) {
      return absl::InternalError(absl::StrCat(postscript_name_, " has a broken loca table"));
    }
  }

  // Unicode BMP cmap (platform 3, encoding 1, format 4).
  const absl::string_view cmap = Table("cmap");
  absl::string_view format4;
  for (uint16_t i = 0; i < U16(cmap, 2); ++i) {
    const size_t record = 4 + 8 * static_cast<size_t>(i);
    const uint32_t offset = U32(cmap, record + 4);
    if (U16(cmap, record) == 3 && U16(cmap, record + 2) == 1 && offset < cmap.size() &&
        U16(cmap, offset) == 4) {
      format4 = cmap.substr(offset, U16(cmap, offset + 2));
    }
  }
  if (format4.empty()) {
    return absl::InternalError(absl::StrCat(postscript_name_, " has no Unicode cmap"));
  }
  bmp_glyphs_.assign(0x10000, 0);
  const size_t segments = U16(format4, 6) / 2;
  const size_t ends = 14, starts = ends + 2 * segments + 2, deltas = starts + 2 * segments,
               range_offsets = deltas + 2 * segments;
  for (size_t s = 0; s < segments; ++s) {
    const uint16_t end = U16(format4, ends + 2 * s), start = U16(format4, starts + 2 * s);
    const uint16_t delta = U16(format4, deltas + 2 * s);
    const uint16_t range_offset = U16(format4, range_offsets + 2 * s);
    for (uint32_t c = start; c <= end && c != 0xFFFF; ++c) {
      uint16_t glyph;
      if (range_offset == 0) {
        glyph = static_cast<uint16_t>(c + delta);
      } else {
        const size_t at = range_offsets + 2 * s + range_offset + 2 * (c - start);
        glyph = U16(format4, at);
        if (glyph != 0) glyph = static_cast<uint16_t>(glyph + delta);
      }
      bmp_glyphs_[c] = glyph < glyph_count ? glyph : 0;
    }
  }

  const double scale = 1000.0 / units_per_em_;
  metrics_.ascent = S16(hhea, 4) * scale;
  metrics_.descent = S16(hhea, 6) * scale;
  for (int i = 0; i < 4; ++i) metrics_.bbox[i] = S16(head, 36 + 2 * i) * scale;
  const absl::string_view capital_h = Glyph(Table("glyf"), GlyphFor('H'));
  metrics_.cap_height = capital_h.size() >= 10 ? S16(capital_h, 8) * scale : metrics_.ascent;
  return absl::OkStatus();
}

uint16_t TrueTypeFace::GlyphFor(char32_t code_point) const {
  return code_point < bmp_glyphs_.size() ? bmp_glyphs_[code_point] : 0;
}

double TrueTypeFace::Advance(uint16_t glyph) const {
  return glyph < advances_.size() ? advances_[glyph] * 1000.0 / units_per_em_ : 0;
}

double TrueTypeFace::Width(absl::string_view text, double size) const {
  std::u32string code_points;
  DecodeUtf8(text, &code_points);
  double total = 0;
  for (char32_t c : code_points) total += Advance(GlyphFor(c));
  return total * size / 1000.0;
}

absl::string_view TrueTypeFace::Glyph(absl::string_view glyf, uint16_t glyph) const {
  if (glyph + 1u >= glyph_offsets_.size()) return {};
  return glyf.substr(glyph_offsets_[glyph], glyph_offsets_[glyph + 1] - glyph_offsets_[glyph]);
}

std::string TrueTypeFace::Subset(std::vector<uint16_t>& glyphs) const {
  const absl::string_view glyf_table = Table("glyf");
  const absl::string_view hmtx_table = Table("hmtx");
  const uint16_t metric_count = U16(Table("hhea"), 34);
  std::map<uint16_t, uint16_t> renumber;
  for (size_t i = 0; i < glyphs.size(); ++i) renumber.emplace(glyphs[i], static_cast<uint16_t>(i));
  for (size_t i = 0; i < glyphs.size(); ++i) {  // grows while composites add components
    const absl::string_view data = Glyph(glyf_table, glyphs[i]);
    ForEachComponent(data, [&](size_t at) {
      const uint16_t component = U16(data, at);
      if (renumber.emplace(component, static_cast<uint16_t>(glyphs.size())).second) {
        glyphs.push_back(component);
      }
    });
  }
  const uint16_t count = static_cast<uint16_t>(glyphs.size());

  std::string glyf, loca, hmtx;
  for (uint16_t glyph : glyphs) {
    Append32(loca, static_cast<uint32_t>(glyf.size()));
    const size_t at = glyf.size();
    absl::StrAppend(&glyf, Glyph(glyf_table, glyph));
    ForEachComponent(absl::string_view(glyf).substr(at), [&](size_t offset) {
      Put16(glyf, at + offset, renumber.at(U16(glyf, at + offset)));
    });
    glyf.resize((glyf.size() + 3) & ~size_t{3});
    Append16(hmtx, advances_[glyph]);
    Append16(hmtx, glyph < metric_count
                       ? U16(hmtx_table, 4 * glyph + 2)
                       : U16(hmtx_table, 4 * metric_count + 2 * (glyph - metric_count)));
  }
  Append32(loca, static_cast<uint32_t>(glyf.size()));

  std::string head(Table("head")), hhea(Table("hhea")), maxp(Table("maxp"));
  Put32(head, 8, 0);   // checkSumAdjustment, set below
  Put16(head, 50, 1);  // long loca offsets
  Put16(hhea, 34, count);
  Put16(maxp, 4, count);
  std::string post;  // format 3: no glyph names
  Append32(post, 0x00030000);
  post += std::string(Table("post").substr(4, 28));
  post.resize(32, '\0');

  // Tables in tag order, as the directory must be sorted.
  std::map<std::string, std::string> tables = {{"glyf", std::move(glyf)}, {"head", std::move(head)},
                                               {"hhea", std::move(hhea)}, {"hmtx", std::move(hmtx)},
                                               {"loca", std::move(loca)}, {"maxp", std::move(maxp)},
                                               {"post", std::move(post)}};
  for (const char* tag : {"cvt ", "fpgm", "prep"}) {
    if (!Table(tag).empty()) tables[tag] = std::string(Table(tag));
  }
  const uint16_t table_count = static_cast<uint16_t>(tables.size());
  uint16_t power = 1, log2 = 0;
  while (power * 2 <= table_count) {
    power *= 2;
    ++log2;
  }
  std::string font;
  Append32(font, 0x00010000);
  Append16(font, table_count);
  Append16(font, static_cast<uint16_t>(power * 16));
  Append16(font, log2);
  Append16(font, static_cast<uint16_t>(table_count * 16 - power * 16));
  uint32_t offset = 12 + 16 * table_count;
  for (const auto& [tag, bytes] : tables) {
    font += tag;
    Append32(font, Checksum(bytes));
    Append32(font, offset);
    Append32(font, static_cast<uint32_t>(bytes.size()));
    offset += (static_cast<uint32_t>(bytes.size()) + 3) & ~3u;
  }
  size_t head_at = 0;
  for (const auto& [tag, bytes] : tables) {
    if (tag == "head") head_at = font.size();
    font += bytes;
    font.resize((font.size() + 3) & ~size_t{3});
  }
  Put32(font, head_at + 8, 0xB1B0AFBAu - Checksum(font));
  return font;
}

std::string SubsetFont::Encode(absl::string_view text) {
  std::u32string code_points;
  DecodeUtf8(text, &code_points);
  std::string hex = "<";
  hex.reserve(2 + 4 * code_points.size());
  for (char32_t c : code_points) {
    const uint16_t glyph = face_.GlyphFor(c);
    auto [it, added] = subset_.emplace(glyph, static_cast<uint16_t>(glyphs_.size()));
    if (added) glyphs_.push_back(glyph);
    unicode_.emplace(it->second, c);
    AppendHex16(hex, it->second);
  }
  hex += ">";
  return hex;
}

PoDoFo::PdfObject* SubsetFont::Embed(PoDoFo::PdfMemDocument& document) {
  using PoDoFo::PdfArray;
  using PoDoFo::PdfName;
  using PoDoFo::PdfVariant;
  PoDoFo::PdfVecObjects& objects = document.GetObjects();
  const size_t drawn = glyphs_.size();
  std::vector<uint16_t> glyphs = glyphs_;
  const std::string program = face_.Subset(glyphs);

  // Subset tag: six capitals derived from the glyphs, as PDF 32000 9.6.4 asks.
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_length = 0;
  EVP_Digest(glyphs.data(), glyphs.size() * sizeof(uint16_t), digest, &digest_length, EVP_sha256(),
             nullptr);
  std::string name;
  for (int i = 0; i < 6; ++i) name.push_back(static_cast<char>('A' + digest[i] % 26));
  name = absl::StrCat(name, "+", face_.postscript_name());

  PoDoFo::PdfObject* file = objects.CreateObject();
  file->GetDictionary().AddKey("Length1",
                               PdfVariant(static_cast<PoDoFo::pdf_int64>(program.size())));
  // Stored as is: zlib finds little to match in glyph outlines, and its
  // Huffman-only pass, which took 14% off, cost more CPU than the rest of
  // embedding the font.
  PoDoFo::PdfMemoryInputStream input(program.data(),
                                     static_cast<PoDoFo::pdf_long>(program.size()));
  file->GetStream()->SetRawData(&input, static_cast<PoDoFo::pdf_long>(program.size()));

  const TrueTypeFace::Metrics& m = face_.metrics();
  PoDoFo::PdfObject* descriptor = objects.CreateObject("FontDescriptor");
  PoDoFo::PdfDictionary& d = descriptor->GetDictionary();
  d.AddKey("FontName", PdfName(name));
  d.AddKey("Flags", PdfVariant(static_cast<PoDoFo::pdf_int64>(32)));  // nonsymbolic
  PdfArray bbox;
  for (double v : m.bbox) bbox.push_back(PdfVariant(static_cast<PoDoFo::pdf_int64>(v)));
  d.AddKey("FontBBox", bbox);
  d.AddKey("ItalicAngle", PdfVariant(static_cast<PoDoFo::pdf_int64>(0)));
  d.AddKey("Ascent", PdfVariant(static_cast<PoDoFo::pdf_int64>(m.ascent)));
  d.AddKey("Descent", PdfVariant(static_cast<PoDoFo::pdf_int64>(m.descent)));
  d.AddKey("CapHeight", PdfVariant(static_cast<PoDoFo::pdf_int64>(m.cap_height)));
  d.AddKey("StemV", PdfVariant(static_cast<PoDoFo::pdf_int64>(80)));
  d.AddKey("FontFile2", file->Reference());

  PoDoFo::PdfObject* cid_font = objects.CreateObject("Font");
  PoDoFo::PdfDictionary& c = cid_font->GetDictionary();
  c.AddKey("Subtype", PdfName("CIDFontType2"));
  c.AddKey("BaseFont", PdfName(name));
  PoDoFo::PdfDictionary system_info;
  system_info.AddKey("Registry", PoDoFo::PdfString("Adobe"));
  system_info.AddKey("Ordering", PoDoFo::PdfString("Identity"));
  system_info.AddKey("Supplement", PdfVariant(static_cast<PoDoFo::pdf_int64>(0)));
  c.AddKey("CIDSystemInfo", system_info);
  c.AddKey("FontDescriptor", descriptor->Reference());
  c.AddKey("CIDToGIDMap", PdfName("Identity"));
  // [0 [w0 w1 ...]]: every drawn glyph, in subset order. Written as raw PDF
  // text: as a PdfArray, PoDoFo copies it twice and prints each number
  // through vsnprintf, which cost more than the rest of the dictionary.
  std::string widths = "[0 [";
  for (size_t i = 0; i < drawn; ++i) {
    if (i > 0) widths += ' ';
    absl::StrAppend(&widths, static_cast<int64_t>(face_.Advance(glyphs[i]) + 0.5));
  }
  widths += "]]";
  c.AddKey("W", PoDoFo::PdfObject(PdfVariant(PoDoFo::PdfData(widths.data(), widths.size()))));

  std::string cmap =
      "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
      "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
      "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
      "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n";
  std::vector<std::pair<uint16_t, char32_t>> pairs(unicode_.begin(), unicode_.end());
  for (size_t start = 0; start < pairs.size(); start += 100) {
    const size_t end = std::min(pairs.size(), start + 100);
    absl::StrAppend(&cmap, end - start, " beginbfchar\n");
    for (size_t i = start; i < end; ++i) {
      const char32_t u = pairs[i].second;
      cmap += '<';
      AppendHex16(cmap, pairs[i].first);
      cmap += "> <";
      if (u < 0x10000) {
        AppendHex16(cmap, static_cast<uint16_t>(u));
      } else {
        const uint32_t v = static_cast<uint32_t>(u) - 0x10000;
        AppendHex16(cmap, static_cast<uint16_t>(0xD800 + (v >> 10)));
        AppendHex16(cmap, static_cast<uint16_t>(0xDC00 + (v & 0x3FF)));
      }
      cmap += ">\n";
    }
    cmap += "endbfchar\n";
  }
  cmap += "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n";
  PoDoFo::PdfObject* to_unicode = objects.CreateObject();
  SetDeflatedStream(*to_unicode, cmap);

  PoDoFo::PdfObject* font = objects.CreateObject("Font");
  PoDoFo::PdfDictionary& f = font->GetDictionary();
  f.AddKey("Subtype", PdfName("Type0"));
  f.AddKey("BaseFont", PdfName(name));
  f.AddKey("Encoding", PdfName("Identity-H"));
  PdfArray descendants;
  descendants.push_back(cid_font->Reference());
  f.AddKey("DescendantFonts", descendants);
  f.AddKey("ToUnicode", to_unicode->Reference());
  return font;
}

}  // namespace motcua::signing
