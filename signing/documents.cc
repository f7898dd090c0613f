#include "signing/documents.h"

#include <openssl/evp.h>

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "podofo/podofo.h"
#include "signing/font_subset.h"
#include "signing/page_writer.h"
#include "signing/qr_code.h"
#include "signing/template_text.h"

namespace motcua::signing {
namespace {

constexpr char kMotto[] = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM";
constexpr char kMottoLine2[] = "Độc lập - Tự do - Hạnh phúc";
constexpr char kDossierCode[] = "dossier.code";
constexpr char kDocumentId[] = "document.id";
constexpr char kItemPrefix[] = "item.";
constexpr char kIndex[] = "n";
constexpr size_t kMaxCodeBytes = 64;
constexpr size_t kMaxValueBytes = 4000;
constexpr size_t kMaxListElements = 10000;
constexpr int kReferenceHexDigits = 16;
constexpr double kMinFontSize = 7.0;
constexpr double kReferenceTextSize = 8.5;
constexpr double kSlotTitleSize = 12;

using Element = DocumentData::Element;

// ---- Template checks ---------------------------------------------------------

absl::Status Invalid(absl::string_view where, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", why));
}

std::string BlockName(const v1::Block& block, int index) {
  return block.id().empty() ? absl::StrCat("blocks[", index, "]")
                            : absl::StrCat("block \"", block.id(), "\"");
}

absl::StatusOr<Rgb> ParseColor(absl::string_view where, absl::string_view color) {
  if (color.empty()) return Rgb{};
  if (color.size() != 7 || color[0] != '#' ||
      !std::all_of(color.begin() + 1, color.end(),
                   [](char c) { return absl::ascii_isxdigit(static_cast<unsigned char>(c)); })) {
    return Invalid(where, absl::StrCat("color \"", color, "\" is not #rrggbb"));
  }
  const std::string bytes = absl::HexStringToBytes(color.substr(1));
  auto channel = [&](int i) { return static_cast<unsigned char>(bytes[i]) / 255.0; };
  return Rgb{channel(0), channel(1), channel(2)};
}

// Page size in points, portrait.
std::pair<double, double> PageSize(v1::PageSize size) {
  switch (size) {
    case v1::PAGE_SIZE_A5:
      return {419.53, 595.28};
    case v1::PAGE_SIZE_A3:
      return {841.89, 1190.55};
    default:
      return {595.28, 841.89};
  }
}

// ---- Text and layout ----------------------------------------------------------

struct Font {
  Style style = Style::kRegular;
  double size = 12;
  double leading = 18;
  Rgb color;
  v1::Align align = v1::ALIGN_LEFT;
  bool shrink_to_fit = false;
};

Style StyleOf(bool bold, bool italic) {
  if (bold) return italic ? Style::kBoldItalic : Style::kBold;
  return italic ? Style::kItalic : Style::kRegular;
}

absl::StatusOr<Font> FontOf(absl::string_view where, const v1::TextStyle& s, double default_size) {
  Font font;
  font.size = s.size() > 0 ? s.size() : default_size;
  if (font.size < 4 || font.size > 96) return Invalid(where, "text size is not in 4..96 points");
  font.leading = s.leading() > 0 ? s.leading() : font.size * 1.5;
  font.style = StyleOf(s.bold(), s.italic());
  font.align = s.align();
  font.shrink_to_fit = s.shrink_to_fit();
  absl::StatusOr<Rgb> color = ParseColor(where, s.color());
  if (!color.ok()) return color.status();
  font.color = *color;
  return font;
}

// Splits a word wider than `width` into pieces that fit (at least one code
// point each).
void BreakWord(const PageWriter& w, absl::string_view word, Style style, double size, double width,
               std::vector<std::string>* lines, std::string* line) {
  std::u32string code_points;
  DecodeUtf8(word, &code_points);
  std::string piece;
  for (char32_t c : code_points) {
    std::string one;
    AppendUtf8(c, &one);
    std::string next = piece + one;
    if (!piece.empty() && w.Width(next, style, size) > width) {
      lines->push_back(std::move(piece));
      piece = std::move(one);
    } else {
      piece = std::move(next);
    }
  }
  *line = std::move(piece);
}

// Greedy word wrap of `text` into lines no wider than `width`; words wider
// than a line are broken. Empty text gives no lines.
std::vector<std::string> Wrap(const PageWriter& w, absl::string_view text, Style style, double size,
                              double width) {
  std::vector<std::string> lines;
  std::string line;
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    std::string candidate = line.empty() ? std::string(word) : absl::StrCat(line, " ", word);
    if (w.Width(candidate, style, size) <= width) {
      line = std::move(candidate);
      continue;
    }
    if (!line.empty()) lines.push_back(std::move(line));
    line.clear();
    if (w.Width(word, style, size) <= width) {
      line = std::string(word);
    } else {
      BreakWord(w, word, style, size, width, &lines, &line);
    }
  }
  if (!line.empty()) lines.push_back(std::move(line));
  return lines;
}

double AlignedX(const PageWriter& w, absl::string_view text, const Font& font, double size,
                double x, double width) {
  switch (font.align) {
    case v1::ALIGN_CENTER:
      return x + (width - w.Width(text, font.style, size)) / 2;
    case v1::ALIGN_RIGHT:
      return x + width - w.Width(text, font.style, size);
    default:
      return x;
  }
}

// Where the template's slots are on `page`, untitled. A seal over a slot is
// a square of that slot's height over its left third (Decree 30/2020 Annex I).
std::vector<SignatureSlot> SlotsOn(const v1::DocumentTemplate& t, int page) {
  std::vector<SignatureSlot> slots;
  for (const v1::SignatureSlot& s : t.slots()) {
    SignatureSlot slot{s.id(),     s.signer(), page, s.x(), s.top() - s.height(),
                       s.width(),  s.height(), "",   s.over()};
    for (const SignatureSlot& under : slots) {
      if (s.over().empty() || under.id != s.over()) continue;
      slot.height = slot.width = under.height;
      slot.x = under.x + under.width / 3 - under.height;
      slot.y = under.y;
    }
    slots.push_back(std::move(slot));
  }
  return slots;
}

}  // namespace

// ---- The compiled template ------------------------------------------------------

struct DocumentLayout::Compiled {
  struct Row {
    TemplateText label, value;
  };
  struct Block {
    std::string name;
    double x = 0, width = 0;
    TemplateText parent, issuer, place_and_date;  // heading
    TemplateText text;                            // paragraph
    Font font;                                    // paragraph, fields, table
    std::vector<Row> rows;                        // fields
    std::vector<TemplateText> titles, values;     // table columns
    std::vector<double> widths;                   // table columns
    TemplateText empty_text;                      // table
  };
  struct Placed {
    std::string name;
    TemplateText text;
    Font font;
  };
  TemplateText title;
  double width = 0, height = 0;
  double left = 0, right = 0, top = 0, bottom = 0;
  std::vector<Block> blocks;
  std::vector<Placed> placed;
  std::vector<TemplateText> slot_titles;
  std::vector<Rgb> frame_colors;
  std::vector<std::string> lists;   // lists iterated, sorted
  std::vector<std::string> fields;  // top-level fields bound, sorted, with the codes
  std::map<std::string, std::vector<std::string>> element_fields;  // list -> fields, sorted
};

namespace {

// Renders one document: flows the blocks, then draws the last page's
// marks. Errors name the block.
class Layouter {
 public:
  Layouter(const v1::DocumentTemplate& t, const DocumentLayout::Compiled& c,
           const DocumentData& data, PageWriter& writer)
      : t_(t), c_(c), data_(data), w_(writer) {}

  absl::StatusOr<std::vector<SignatureSlot>> Run(const std::string& reference) {
    DrawFrames();
    y_ = PageTop();
    for (size_t i = 0; i < c_.blocks.size(); ++i) {
      const v1::Block& block = t_.blocks(static_cast<int>(i));
      const DocumentLayout::Compiled::Block& b = c_.blocks[i];
      y_ -= block.space_before();
      absl::Status drawn = absl::OkStatus();
      switch (block.content_case()) {
        case v1::Block::kHeading:
          drawn = Heading(b);
          break;
        case v1::Block::kParagraph:
          Paragraph(b);
          break;
        case v1::Block::kFields:
          drawn = Fields(block.fields(), b);
          break;
        case v1::Block::kTable:
          drawn = Table(block.table(), b);
          break;
        default:
          break;
      }
      if (!drawn.ok()) return drawn;
    }
    // The footer needs the bottom of the last page to itself.
    if (lowest_ < t_.footer_top()) NewPage();
    return Footer(reference);
  }

 private:
  double PageTop() const { return c_.height - c_.top - 11; }

  absl::string_view Field(absl::string_view name) const {
    auto it = data_.fields.find(name);
    return it == data_.fields.end() ? absl::string_view() : absl::string_view(it->second);
  }

  std::string Expand(const TemplateText& text) const {
    return text.Expand([this](absl::string_view name) { return Field(name); });
  }

  std::string ExpandItem(const TemplateText& text, const Element& element,
                         const std::string& index) const {
    return text.Expand([&](absl::string_view name) -> absl::string_view {
      if (name == kIndex) return index;
      if (absl::StartsWith(name, kItemPrefix)) {
        auto it = element.find(name.substr(sizeof(kItemPrefix) - 1));
        return it == element.end() ? absl::string_view() : absl::string_view(it->second);
      }
      return Field(name);
    });
  }

  const std::vector<Element>& List(const std::string& name) const {
    static const std::vector<Element>* const kNone = new std::vector<Element>;
    auto it = data_.lists.find(name);
    return it == data_.lists.end() ? *kNone : it->second;
  }

  void DrawFrames() {
    for (int i = 0; i < t_.frames_size(); ++i) {
      const v1::Frame& f = t_.frames(i);
      w_.Rectangle(f.x(), f.y(), f.width(), f.height(), f.stroke() > 0 ? f.stroke() : 1,
                   c_.frame_colors[i]);
    }
  }

  void NewPage() {
    w_.NewPage();
    DrawFrames();
    y_ = PageTop();
    lowest_ = c_.height;
  }

  // A baseline at y_ for a line of `size`, on a new page when it would fall
  // below the margin.
  void Room(double size) {
    if (y_ - size * 0.3 < c_.bottom) NewPage();
  }

  void DrawLine(double x, absl::string_view text, const Font& font, double size) {
    w_.Draw(x, y_, text, font.style, size, font.color);
    lowest_ = std::min(lowest_, y_);
  }

  // Lines of `text` from y_ in [x, x + width): on one line made smaller down
  // to 85% when the font asks, else wrapped; each line on the page with room.
  void Lines(absl::string_view text, const Font& font, double x, double width) {
    double size = font.size;
    std::vector<std::string> lines;
    const double natural = w_.Width(text, font.style, size);
    if (font.shrink_to_fit && natural > width && natural <= width / 0.85) {
      size = size * width / natural * 0.999;
      lines.push_back(std::string(text));
    } else {
      lines = Wrap(w_, text, font.style, size, width);
    }
    for (const std::string& line : lines) {
      Room(size);
      DrawLine(AlignedX(w_, line, font, size, x, width), line, font, size);
      y_ -= font.leading;
    }
  }

  void Paragraph(const DocumentLayout::Compiled::Block& b) {
    Lines(Expand(b.text), b.font, b.x, b.width);
  }

  // Decree 30/2020 Annex I: the issuing body left, the motto right, the
  // place and date under the motto; or the motto alone, centred.
  absl::Status Heading(const DocumentLayout::Compiled::Block& b) {
    const double top = y_;
    const std::string issuer = VietnameseUpper(Expand(b.issuer));
    double motto_center = b.x + b.width / 2, motto_width = b.width;
    double lowest = top;
    if (!issuer.empty()) {
      // The units may start left of the text margin: their names are long.
      const double units_left = std::max(b.x - 23, 10.0);
      const double split = b.x + b.width * 0.4523;
      const double right = b.x + b.width + 10;
      constexpr double kGutter = 16;
      const double units_width = split - kGutter - units_left;
      const double units_center = (units_left + split - kGutter) / 2;
      motto_center = (split + right) / 2;
      motto_width = right - split;
      Font unit_font;
      unit_font.size = 11;
      unit_font.leading = 15;
      unit_font.align = v1::ALIGN_CENTER;
      unit_font.shrink_to_fit = true;
      const std::string parent = VietnameseUpper(Expand(b.parent));
      if (!parent.empty()) {
        Lines(parent, unit_font, units_left, units_width);
      }
      unit_font.style = Style::kBold;
      Lines(issuer, unit_font, units_left, units_width);
      const double rule = y_ + unit_font.size - 2;
      w_.Line(units_center - units_width / 6, rule, units_center + units_width / 6, rule, 0.6);
      lowest = y_ - 6;
      y_ = top;
    }
    double size = 11.5;
    const double natural = w_.Width(kMotto, Style::kBold, size);
    if (natural > motto_width) size = size * motto_width / natural * 0.999;
    if (size < kMinFontSize) return Invalid(b.name, "the motto does not fit its column");
    Font motto;
    motto.style = Style::kBold;
    motto.size = size;
    DrawLine(motto_center - w_.Width(kMotto, Style::kBold, size) / 2, kMotto, motto, size);
    y_ -= size + 5;
    const double line2 = size + 1;
    const double underline = w_.Width(kMottoLine2, Style::kBold, line2);
    DrawLine(motto_center - underline / 2, kMottoLine2, motto, line2);
    w_.Line(motto_center - underline / 2, y_ - 3, motto_center + underline / 2, y_ - 3, 0.6);
    y_ -= line2 + 6;
    const std::string place_and_date = Expand(b.place_and_date);
    if (!place_and_date.empty()) {
      y_ -= 4;
      Font dated;
      dated.style = Style::kItalic;
      dated.size = 12;
      dated.leading = 12;
      dated.align = v1::ALIGN_CENTER;
      dated.shrink_to_fit = true;
      Lines(place_and_date, dated, motto_center - motto_width / 2, motto_width);
    }
    y_ = std::min(y_, lowest) - 22;
    return absl::OkStatus();
  }

  absl::Status Row(const DocumentLayout::Compiled::Block& b, const std::string& label,
                   const std::string& value, const v1::FieldList& fields) {
    const Font& font = b.font;
    const double column = fields.value_column() > 0 ? fields.value_column() : 165;
    const double offset = std::max(column, w_.Width(label, Style::kRegular, font.size) + 4);
    if (b.width - offset < font.size * 3) {
      return Invalid(b.name,
                     absl::StrCat("the label \"", label, "\" leaves no room for its value"));
    }
    const Style value_style = fields.value_regular() ? Style::kRegular : Style::kBold;
    std::vector<std::string> lines = Wrap(w_, value, value_style, font.size, b.width - offset);
    if (lines.empty()) lines.emplace_back();
    Font label_font = font;
    label_font.style = Style::kRegular;
    Font value_font = font;
    value_font.style = value_style;
    for (size_t i = 0; i < lines.size(); ++i) {
      Room(font.size);
      if (i == 0 && !label.empty()) DrawLine(b.x, label, label_font, font.size);
      if (!lines[i].empty()) DrawLine(b.x + offset, lines[i], value_font, font.size);
      y_ -= font.leading;
    }
    return absl::OkStatus();
  }

  absl::Status Fields(const v1::FieldList& fields, const DocumentLayout::Compiled::Block& b) {
    for (int r = 0; r < fields.rows_size(); ++r) {
      const v1::FieldList::Row& row = fields.rows(r);
      const DocumentLayout::Compiled::Row& texts = b.rows[r];
      if (!row.each().empty()) {
        const std::vector<Element>& list = List(row.each());
        for (size_t i = 0; i < list.size(); ++i) {
          const std::string value = ExpandItem(texts.value, list[i], absl::StrCat(i + 1));
          if (value.empty() && row.omit_if_empty()) continue;
          const std::string label = i == 0 ? ExpandItem(texts.label, list[i], "1") : "";
          if (absl::Status s = Row(b, label, value, fields); !s.ok()) return s;
        }
        continue;
      }
      const std::string value = Expand(texts.value);
      if (value.empty() && row.omit_if_empty()) continue;
      if (absl::Status s = Row(b, Expand(texts.label), value, fields); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  // A table's header row, drawn again at the top of every page it reaches.
  struct TableHeader {
    std::vector<std::vector<std::string>> cells;
    Font font;
    const std::vector<double>* widths;
  };

  // One table row from `x`, a cell per width: its cells' lines, split over
  // pages when they do not fit, `header` (unless null) first on every new
  // page.
  void TableRow(double x0, const std::vector<double>& widths,
                const std::vector<std::vector<std::string>>& cells, const Font& font,
                const std::vector<v1::Align>& aligns, const TableHeader* header) {
    constexpr double kPad = 3;
    size_t lines = 1;
    for (const auto& cell : cells) lines = std::max(lines, cell.size());
    // Lines that fit between a row's top and the bottom margin.
    auto fitting = [&](double row_top) {
      const double room = row_top - kPad - font.size * 1.25 - c_.bottom;
      return room < 0 ? 0 : static_cast<size_t>(room / font.leading) + 1;
    };
    size_t done = 0;
    while (done < lines) {
      double top = y_ + font.size;
      // A row that would fit whole on a new page is not split.
      const bool split_needless =
          done == 0 && fitting(top) < lines && lines + 2 < fitting(PageTop() + font.size);
      if (fitting(top) == 0 || split_needless) {
        NewPage();
        if (header != nullptr) {
          TableRow(x0, *header->widths, header->cells, header->font,
                   std::vector<v1::Align>(header->cells.size(), v1::ALIGN_CENTER), nullptr);
        }
        top = y_ + font.size;
        // A header as tall as the page leaves the rows a page of their own.
        if (fitting(top) == 0) {
          NewPage();
          top = y_ + font.size;
        }
      }
      const size_t count = std::min(lines - done, fitting(top));
      const double bottom = top - 2 * kPad - font.size * 1.25 - (count - 1) * font.leading;
      double x = x0;
      for (size_t col = 0; col < cells.size(); ++col) {
        Font cell_font = font;
        cell_font.align = aligns[col];
        double baseline = top - kPad - font.size;
        for (size_t l = done; l < done + count && l < cells[col].size(); ++l) {
          w_.Draw(
              AlignedX(w_, cells[col][l], cell_font, font.size, x + kPad, widths[col] - 2 * kPad),
              baseline, cells[col][l], font.style, font.size, font.color);
          baseline -= font.leading;
        }
        w_.Line(x, top, x, bottom, 0.5);
        x += widths[col];
      }
      w_.Line(x0, top, x, top, 0.5);
      w_.Line(x0, bottom, x, bottom, 0.5);
      w_.Line(x, top, x, bottom, 0.5);
      lowest_ = std::min(lowest_, bottom);
      y_ = bottom - font.size;
      done += count;
    }
  }

  absl::Status Table(const v1::Table& table, const DocumentLayout::Compiled::Block& b) {
    constexpr double kCellPadding = 6;
    TableHeader header{{}, b.font, &b.widths};
    header.font.style = StyleOf(true, b.font.style == Style::kItalic);
    for (size_t col = 0; col < b.titles.size(); ++col) {
      header.cells.push_back(Wrap(w_, Expand(b.titles[col]), header.font.style, header.font.size,
                                  b.widths[col] - kCellPadding));
    }
    std::vector<v1::Align> aligns;
    for (const v1::Table::Column& column : table.columns()) aligns.push_back(column.align());
    Room(b.font.size * 3);
    TableRow(b.x, b.widths, header.cells, header.font,
             std::vector<v1::Align>(header.cells.size(), v1::ALIGN_CENTER), nullptr);
    const std::vector<Element>& list = List(table.each());
    if (list.empty()) {
      // One cell across the table.
      const std::vector<double> whole = {b.width};
      TableRow(b.x, whole,
               {Wrap(w_, Expand(b.empty_text), b.font.style, b.font.size, b.width - kCellPadding)},
               b.font, {v1::ALIGN_CENTER}, &header);
    }
    for (size_t i = 0; i < list.size(); ++i) {
      std::vector<std::vector<std::string>> row;
      const std::string index = absl::StrCat(i + 1);
      for (size_t col = 0; col < b.values.size(); ++col) {
        row.push_back(Wrap(w_, ExpandItem(b.values[col], list[i], index), b.font.style, b.font.size,
                           b.widths[col] - kCellPadding));
      }
      TableRow(b.x, b.widths, row, b.font, aligns, &header);
    }
    y_ -= 4;
    return absl::OkStatus();
  }

  // One line at `size` or smaller (down to kMinFontSize) in `width`, else
  // wrapped downwards at kMinFontSize; INVALID_ARGUMENT if that would leave
  // the page.
  absl::Status Fixed(absl::string_view name, absl::string_view text, Font font, double x, double y,
                     double width) {
    double size = font.size;
    const double natural = w_.Width(text, font.style, size);
    std::vector<std::string> lines;
    if (natural <= width || natural * kMinFontSize / size <= width) {
      if (natural > width) size = size * width / natural * 0.999;
      lines.push_back(std::string(text));
    } else {
      size = kMinFontSize;
      lines = Wrap(w_, text, font.style, size, width);
      if (y - (lines.size() - 1) * size * 1.2 < 0) {
        return Invalid(name, "the text does not fit on the page");
      }
    }
    double left = x;
    if (font.align == v1::ALIGN_CENTER) left = x - width / 2;
    if (font.align == v1::ALIGN_RIGHT) left = x - width;
    for (const std::string& line : lines) {
      w_.Draw(AlignedX(w_, line, font, size, left, width), y, line, font.style, size, font.color);
      y -= size * 1.2;
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<SignatureSlot>> Footer(const std::string& reference) {
    const v1::ReferenceMark& mark = t_.reference();
    absl::StatusOr<QrCode> code = QrCode::Encode(reference);
    if (!code.ok()) return code.status();
    DrawQrCode(*code, w_.document(), w_.painter(), mark.x(), mark.y(), mark.side());
    Font small;
    small.size = kReferenceTextSize;
    if (absl::Status s = Fixed("reference", absl::StrCat("Mã tra cứu: ", reference), small,
                               mark.text_x(), mark.text_y(), c_.width - mark.text_x() - 10);
        !s.ok()) {
      return s;
    }
    for (size_t i = 0; i < c_.placed.size(); ++i) {
      const v1::PlacedText& p = t_.placed(static_cast<int>(i));
      if (absl::Status s = Fixed(c_.placed[i].name, Expand(c_.placed[i].text), c_.placed[i].font,
                                 p.x(), p.y(), p.width());
          !s.ok()) {
        return s;
      }
    }
    std::vector<SignatureSlot> slots = SlotsOn(t_, w_.page_index());
    for (int i = 0; i < t_.slots_size(); ++i) {
      const v1::SignatureSlot& s = t_.slots(i);
      SignatureSlot& slot = slots[i];
      slot.title = VietnameseUpper(Expand(c_.slot_titles[i]));
      if (!slot.title.empty()) {
        Font title;
        title.style = Style::kBold;
        title.size = kSlotTitleSize;
        title.align = v1::ALIGN_CENTER;
        if (absl::Status st = Fixed(absl::StrCat("slot \"", s.id(), "\""), slot.title, title,
                                    slot.x + slot.width / 2, slot.y + slot.height + 8,
                                    std::min(slot.width + 80, c_.width - 20));
            !st.ok()) {
          return st;
        }
      }
    }
    return slots;
  }

  const v1::DocumentTemplate& t_;
  const DocumentLayout::Compiled& c_;
  const DocumentData& data_;
  PageWriter& w_;
  double y_ = 0;         // the next baseline
  double lowest_ = 1e9;  // the lowest baseline drawn on this page
};

// ---- Compiling ------------------------------------------------------------

class Compiler {
 public:
  Compiler(const v1::DocumentTemplate& t, const FieldCatalog& catalog)
      : t_(t), catalog_(catalog), where_(absl::StrCat("template \"", t.kind(), "\"")) {}

  absl::StatusOr<std::unique_ptr<DocumentLayout::Compiled>> Run() {
    if (t_.kind().empty() || !std::all_of(t_.kind().begin(), t_.kind().end(), [](char c) {
          return absl::ascii_islower(static_cast<unsigned char>(c)) ||
                 absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '_';
        })) {
      return Invalid("template", absl::StrCat("kind \"", t_.kind(), "\" is not [a-z0-9_]+"));
    }
    auto c = std::make_unique<DocumentLayout::Compiled>();
    auto [w, h] = PageSize(t_.page_size());
    if (t_.landscape()) std::swap(w, h);
    c->width = w;
    c->height = h;
    const bool margins = t_.has_margins();
    c->left = margins ? t_.margins().left() : 85;
    c->right = margins ? t_.margins().right() : 57;
    c->top = margins ? t_.margins().top() : 57;
    c->bottom = margins ? t_.margins().bottom() : 57;
    if (c->left < 0 || c->right < 0 || c->top < 0 || c->bottom < 0 ||
        c->left + c->right > w - 100 || c->top + c->bottom > h - 100) {
      return Invalid(where_, "margins leave less than 100 points of page");
    }
    if (t_.footer_top() < 0 || t_.footer_top() > h - c->top) {
      return Invalid(where_, "footer_top is not on the page");
    }
    if (absl::Status s = Text("title", t_.title(), &c->title); !s.ok()) return s;
    const double content = w - c->left - c->right;
    for (int i = 0; i < t_.blocks_size(); ++i) {
      auto block = CompileBlock(t_.blocks(i), i, *c, content);
      if (!block.ok()) return block.status();
      c->blocks.push_back(*std::move(block));
    }
    if (absl::Status s = CompileMarks(*c); !s.ok()) return s;
    c->fields.assign(fields_.begin(), fields_.end());
    for (const auto& [list, element] : element_fields_) {
      c->lists.push_back(list);
      c->element_fields[list].assign(element.begin(), element.end());
    }
    return c;
  }

  std::set<std::string> Bound() const {
    std::set<std::string> bound = fields_;
    for (const auto& [list, element] : element_fields_) {
      bound.insert(list);
      for (const std::string& f : element) bound.insert(absl::StrCat(list, ".", f));
    }
    return bound;
  }

 private:
  bool Inside(double x, double y) const {
    auto [w, h] = PageSize(t_.page_size());
    if (t_.landscape()) std::swap(w, h);
    return x >= 0 && y >= 0 && x <= w && y <= h;
  }

  // Parses `text`, found at `at`, binding top-level fields (and element
  // fields of `each` when set).
  absl::Status Text(absl::string_view at, absl::string_view text, TemplateText* out,
                    const std::string& each = "") {
    const std::string where = absl::StrCat(where_, " ", at);
    absl::StatusOr<TemplateText> parsed = TemplateText::Parse(text);
    if (!parsed.ok()) return Invalid(where, parsed.status().message());
    if (absl::Status s = CheckDrawable(
            where, parsed->Expand([](absl::string_view) { return absl::string_view(); }));
        !s.ok()) {
      return s;
    }
    for (const std::string& field : parsed->Fields()) {
      if (!each.empty() && field == kIndex) continue;
      if (!each.empty() && absl::StartsWith(field, kItemPrefix)) {
        const std::string name = field.substr(sizeof(kItemPrefix) - 1);
        if (!catalog_.lists.at(each).contains(name)) {
          return Invalid(
              where, absl::StrCat("the elements of \"", each, "\" have no field \"", name, "\""));
        }
        element_fields_[each].insert(name);
        continue;
      }
      if (!catalog_.fields.contains(field)) {
        return Invalid(where, absl::StrCat("unknown field \"", field, "\""));
      }
      fields_.insert(field);
    }
    *out = *std::move(parsed);
    return absl::OkStatus();
  }

  absl::Status List(absl::string_view at, const std::string& each) {
    if (!catalog_.lists.contains(each)) {
      return Invalid(absl::StrCat(where_, " ", at), absl::StrCat("unknown list \"", each, "\""));
    }
    element_fields_[each];  // iterated, even if no element field is bound
    return absl::OkStatus();
  }

  absl::StatusOr<DocumentLayout::Compiled::Block> CompileBlock(const v1::Block& block, int index,
                                                               const DocumentLayout::Compiled& c,
                                                               double content) {
    DocumentLayout::Compiled::Block b;
    b.name = BlockName(block, index);
    const std::string where = absl::StrCat(where_, " ", b.name);
    if (block.indent() < 0 || block.width() < 0 || block.indent() + block.width() > content + 1) {
      return Invalid(where, "indent and width go beyond the page's margins");
    }
    b.x = c.left + block.indent();
    b.width = block.width() > 0 ? block.width() : content - block.indent();
    if (b.width < 40) return Invalid(where, "is narrower than 40 points");
    switch (block.content_case()) {
      case v1::Block::kHeading: {
        const v1::NationalHeading& h = block.heading();
        if (absl::Status s = Text(b.name, h.parent(), &b.parent); !s.ok()) return s;
        if (absl::Status s = Text(b.name, h.issuer(), &b.issuer); !s.ok()) return s;
        if (absl::Status s = Text(b.name, h.place_and_date(), &b.place_and_date); !s.ok()) return s;
        if (!h.parent().empty() && h.issuer().empty()) {
          return Invalid(where, "a parent body without an issuer");
        }
        break;
      }
      case v1::Block::kParagraph: {
        auto font = FontOf(where, block.paragraph().style(), 12);
        if (!font.ok()) return font.status();
        b.font = *font;
        if (absl::Status s = Text(b.name, block.paragraph().text(), &b.text); !s.ok()) return s;
        break;
      }
      case v1::Block::kFields: {
        const v1::FieldList& f = block.fields();
        if (f.rows().empty()) return Invalid(where, "a field list with no rows");
        v1::TextStyle style;
        style.set_size(f.size());
        style.set_leading(f.leading());
        auto font = FontOf(where, style, 12);
        if (!font.ok()) return font.status();
        b.font = *font;
        for (int r = 0; r < f.rows_size(); ++r) {
          const v1::FieldList::Row& row = f.rows(r);
          const std::string at = absl::StrCat(b.name, " rows[", r, "]");
          if (!row.each().empty()) {
            if (absl::Status s = List(at, row.each()); !s.ok()) return s;
          }
          DocumentLayout::Compiled::Row texts;
          if (absl::Status s = Text(at, row.label(), &texts.label, row.each()); !s.ok()) return s;
          if (absl::Status s = Text(at, row.value(), &texts.value, row.each()); !s.ok()) return s;
          if (texts.value.empty()) return Invalid(absl::StrCat(where_, " ", at), "has no value");
          b.rows.push_back(std::move(texts));
        }
        break;
      }
      case v1::Block::kTable: {
        const v1::Table& table = block.table();
        if (table.columns().empty()) return Invalid(where, "a table with no columns");
        if (absl::Status s = List(b.name, table.each()); !s.ok()) return s;
        v1::TextStyle style;
        style.set_size(table.size());
        style.set_leading(table.size() > 0 ? table.size() * 1.25 : 11 * 1.25);
        auto font = FontOf(where, style, 11);
        if (!font.ok()) return font.status();
        b.font = *font;
        double total = 0;
        for (const v1::Table::Column& column : table.columns()) {
          if (column.weight() < 0) return Invalid(where, "a column's weight is negative");
          total += column.weight() > 0 ? column.weight() : 1;
        }
        for (int col = 0; col < table.columns_size(); ++col) {
          const v1::Table::Column& column = table.columns(col);
          const std::string at = absl::StrCat(b.name, " columns[", col, "]");
          b.widths.push_back(b.width * (column.weight() > 0 ? column.weight() : 1) / total);
          if (b.widths.back() < b.font.size * 2) {
            return Invalid(absl::StrCat(where_, " ", at), "the column is too narrow for its text");
          }
          TemplateText title, value;
          if (absl::Status s = Text(at, column.title(), &title); !s.ok()) return s;
          if (absl::Status s = Text(at, column.value(), &value, table.each()); !s.ok()) return s;
          b.titles.push_back(std::move(title));
          b.values.push_back(std::move(value));
        }
        if (absl::Status s = Text(b.name, table.empty_text(), &b.empty_text); !s.ok()) return s;
        break;
      }
      default:
        return Invalid(where, "has no content (heading, paragraph, fields or table)");
    }
    return b;
  }

  absl::Status CompileMarks(DocumentLayout::Compiled& c) {
    for (int i = 0; i < t_.frames_size(); ++i) {
      const v1::Frame& f = t_.frames(i);
      const std::string where = absl::StrCat(where_, " frames[", i, "]");
      if (f.width() <= 0 || f.height() <= 0 || !Inside(f.x(), f.y()) ||
          !Inside(f.x() + f.width(), f.y() + f.height())) {
        return Invalid(where, "is not a box on the page");
      }
      auto color = ParseColor(where, f.color());
      if (!color.ok()) return color.status();
      c.frame_colors.push_back(*color);
    }
    const v1::ReferenceMark& mark = t_.reference();
    if (mark.side() < 40 || !Inside(mark.x(), mark.y()) ||
        !Inside(mark.x() + mark.side(), mark.y() + mark.side()) ||
        !Inside(mark.text_x(), mark.text_y())) {
      return Invalid(absl::StrCat(where_, " reference"),
                     "needs a QR code at least 40 points wide and its text on the page");
    }
    for (int i = 0; i < t_.placed_size(); ++i) {
      const v1::PlacedText& p = t_.placed(i);
      DocumentLayout::Compiled::Placed placed;
      placed.name = p.id().empty() ? absl::StrCat("placed[", i, "]")
                                   : absl::StrCat("placed \"", p.id(), "\"");
      const std::string where = absl::StrCat(where_, " ", placed.name);
      auto font = FontOf(where, p.style(), 12);
      if (!font.ok()) return font.status();
      placed.font = *font;
      double left = p.x();
      if (p.style().align() == v1::ALIGN_CENTER) left -= p.width() / 2;
      if (p.style().align() == v1::ALIGN_RIGHT) left -= p.width();
      if (p.width() <= 0 || !Inside(left, p.y()) || !Inside(left + p.width(), p.y())) {
        return Invalid(where, "its line is not on the page (x, y, width, align)");
      }
      if (absl::Status s = Text(placed.name, p.text(), &placed.text); !s.ok()) return s;
      c.placed.push_back(std::move(placed));
    }
    std::set<std::string> ids;
    for (int i = 0; i < t_.slots_size(); ++i) {
      const v1::SignatureSlot& s = t_.slots(i);
      const std::string where = absl::StrCat(where_, " slots[", i, "] \"", s.id(), "\"");
      if (s.id().empty()) return Invalid(where, "a slot needs an id");
      if (s.signer() == v1::SIGNER_UNSPECIFIED) {
        return Invalid(where, "names no signer (SIGNER_ACTOR or SIGNER_UNIT_SEAL)");
      }
      if (!s.over().empty()) {
        if (s.signer() != v1::SIGNER_UNIT_SEAL || !ids.contains(s.over())) {
          return Invalid(where, "only a seal may go over a slot, and that slot must come first");
        }
      } else if (s.width() < 40 || s.height() < 40 || !Inside(s.x(), s.top()) ||
                 !Inside(s.x() + s.width(), s.top() - s.height())) {
        return Invalid(where, "is not a box of at least 40 x 40 points on the page");
      }
      if (!ids.insert(s.id()).second) return Invalid(where, "slot id used twice");
      TemplateText title;
      if (absl::Status st = Text(absl::StrCat("slot \"", s.id(), "\""), s.title(), &title);
          !st.ok()) {
        return st;
      }
      c.slot_titles.push_back(std::move(title));
    }
    return absl::OkStatus();
  }

  const v1::DocumentTemplate& t_;
  const FieldCatalog& catalog_;
  const std::string where_;
  std::set<std::string> fields_{kDossierCode, kDocumentId};
  std::map<std::string, std::set<std::string>> element_fields_;
};

absl::Status CheckCode(absl::string_view field, absl::string_view value) {
  if (value.empty()) return absl::InvalidArgumentError(absl::StrCat(field, " is empty"));
  if (value.size() > kMaxCodeBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is longer than ", kMaxCodeBytes, " bytes"));
  }
  for (char c : value) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return absl::InvalidArgumentError(
          absl::StrCat(field, " may hold only letters A-Z a-z, digits, '-', '_' and '.'"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckValue(absl::string_view field, absl::string_view value) {
  if (value.size() > kMaxValueBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is longer than ", kMaxValueBytes, " bytes"));
  }
  return CheckDrawable(field, value);
}

// A value for every field of `catalog`, for the check at compile time:
// names as long as real ones, with the letters Vietnamese adds.
DocumentData SampleData(const FieldCatalog& catalog) {
  constexpr char kSample[] = "Nguyễn Thị Hồng Nhung 0123";
  DocumentData data;
  for (const std::string& field : catalog.fields) data.fields[field] = kSample;
  data.fields[kDossierCode] = "HN-SGDDT-20261123-0001";
  data.fields[kDocumentId] = "d1";
  for (const auto& [list, fields] : catalog.lists) {
    Element element;
    for (const std::string& field : fields) element[field] = kSample;
    data.lists[list] = std::vector<Element>(3, element);
  }
  return data;
}

}  // namespace

DocumentLayout::DocumentLayout(v1::DocumentTemplate document_template,
                               std::unique_ptr<const Compiled> compiled,
                               std::set<std::string> bound)
    : template_(std::move(document_template)),
      compiled_(std::move(compiled)),
      bound_(std::move(bound)) {}

DocumentLayout::~DocumentLayout() = default;

absl::StatusOr<std::shared_ptr<const DocumentLayout>> DocumentLayout::Compile(
    const v1::DocumentTemplate& document_template, const FieldCatalog& catalog) {
  Compiler compiler(document_template, catalog);
  absl::StatusOr<std::unique_ptr<Compiled>> compiled = compiler.Run();
  if (!compiled.ok()) return compiled.status();
  std::shared_ptr<const DocumentLayout> layout(
      new DocumentLayout(document_template, *std::move(compiled), compiler.Bound()));
  // Whatever the data, a document must fit its pages: try it with names as
  // long as real ones.
  absl::StatusOr<RenderedDocument> trial = layout->Render(SampleData(catalog));
  if (!trial.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("template \"", document_template.kind(), "\" ", trial.status().message()));
  }
  return layout;
}

absl::StatusOr<RenderedDocument> DocumentLayout::Render(const DocumentData& data) const {
  auto value = [&](absl::string_view name) -> absl::string_view {
    auto it = data.fields.find(name);
    return it == data.fields.end() ? absl::string_view() : absl::string_view(it->second);
  };
  if (absl::Status s = CheckCode(kDossierCode, value(kDossierCode)); !s.ok()) return s;
  if (absl::Status s = CheckCode(kDocumentId, value(kDocumentId)); !s.ok()) return s;
  for (const std::string& field : compiled_->fields) {
    if (absl::Status s = CheckValue(field, value(field)); !s.ok()) return s;
  }
  for (const auto& [list, fields] : compiled_->element_fields) {
    auto it = data.lists.find(list);
    if (it == data.lists.end()) continue;
    if (it->second.size() > kMaxListElements) {
      return absl::InvalidArgumentError(
          absl::StrCat(list, " has more than ", kMaxListElements, " elements"));
    }
    for (size_t i = 0; i < it->second.size(); ++i) {
      for (const std::string& field : fields) {
        auto f = it->second[i].find(field);
        if (f == it->second[i].end()) continue;
        if (absl::Status s = CheckValue(absl::StrCat(list, "[", i + 1, "].", field), f->second);
            !s.ok()) {
          return s;
        }
      }
    }
  }
  try {
    const Compiled& c = *compiled_;
    const std::string title = c.title.Expand([&](absl::string_view name) { return value(name); });
    absl::StatusOr<std::unique_ptr<PageWriter>> writer =
        PageWriter::Create(title, c.width, c.height);
    if (!writer.ok()) return writer.status();
    RenderedDocument result;
    result.reference = Reference(data);
    Layouter layouter(template_, c, data, **writer);
    absl::StatusOr<std::vector<SignatureSlot>> slots = layouter.Run(result.reference);
    if (!slots.ok()) return slots.status();
    result.slots = *std::move(slots);
    result.pdf = (*writer)->Finish();
    return result;
  } catch (const PoDoFo::PdfError& e) {
    return absl::InternalError(
        absl::StrCat("PoDoFo failed: ", PoDoFo::PdfError::ErrorMessage(e.GetError())));
  }
}

std::vector<SignatureSlot> DocumentLayout::Slots(int page) const {
  return SlotsOn(template_, page);
}

std::string DocumentLayout::CanonicalContent(const DocumentData& data) const {
  std::string text = absl::StrCat("motcua-document:v1 ", template_.kind(), "\n");
  for (const std::string& field : compiled_->fields) {
    auto it = data.fields.find(field);
    absl::StrAppend(&text, field, "=", it == data.fields.end() ? "" : it->second, "\n");
  }
  for (const auto& [list, fields] : compiled_->element_fields) {
    auto it = data.lists.find(list);
    if (it == data.lists.end()) continue;
    for (size_t i = 0; i < it->second.size(); ++i) {
      for (const std::string& field : fields) {
        auto f = it->second[i].find(field);
        absl::StrAppend(&text, list, "[", i + 1, "].", field, "=",
                        f == it->second[i].end() ? "" : f->second, "\n");
      }
    }
  }
  return text;
}

std::string DocumentLayout::Reference(const DocumentData& data) const {
  const std::string canonical = CanonicalContent(data);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(canonical.data(), canonical.size(), digest, &length, EVP_sha256(), nullptr);
  const std::string hex =
      absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), length));
  auto value = [&](const char* name) {
    auto it = data.fields.find(name);
    return it == data.fields.end() ? std::string() : it->second;
  };
  return absl::StrCat("motcua:v1/", value(kDossierCode), "/", value(kDocumentId), "/",
                      hex.substr(0, kReferenceHexDigits));
}

std::string FormatVietnamTime(absl::Time time) {
  return absl::FormatTime("%d/%m/%Y %H:%M", time, absl::FixedTimeZone(7 * 60 * 60));
}

std::string LongVietnameseDate(absl::CivilDay day) {
  const std::string month =
      day.month() <= 2 ? absl::StrFormat("%02d", day.month()) : absl::StrCat(day.month());
  return absl::StrFormat("ngày %02d tháng %s năm %d", day.day(), month, day.year());
}

}  // namespace motcua::signing
