#include "signing/template_text.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "signing/page_writer.h"

namespace motcua::signing {
namespace {

bool IsNameChar(char c) {
  return absl::ascii_islower(static_cast<unsigned char>(c)) ||
         absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '_' || c == '.';
}

}  // namespace

absl::StatusOr<TemplateText> TemplateText::Parse(absl::string_view text) {
  TemplateText parsed;
  std::string literal;
  auto flush = [&] {
    if (!literal.empty()) parsed.parts_.push_back(Part{std::move(literal), "", false, ""});
    literal.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '}') {
      if (i + 1 < text.size() && text[i + 1] == '}') {
        literal.push_back('}');
        ++i;
        continue;
      }
      return absl::InvalidArgumentError(
          absl::StrCat("\"}\" without \"{\" in \"", text, "\" (write \"}}\" for a brace)"));
    }
    if (c != '{') {
      literal.push_back(c);
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '{') {
      literal.push_back('{');
      ++i;
      continue;
    }
    const size_t end = text.find('}', i + 1);
    if (end == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("\"{\" left open in \"", text, "\""));
    }
    const absl::string_view binding = text.substr(i + 1, end - i - 1);
    std::vector<absl::string_view> pieces = absl::StrSplit(binding, absl::MaxSplits('|', 8));
    Part part;
    part.field = std::string(pieces[0]);
    if (part.field.empty() || !std::all_of(part.field.begin(), part.field.end(), IsNameChar)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "\"{", binding, "}\" does not name a field (letters a-z, digits, '_', '.')"));
    }
    for (size_t f = 1; f < pieces.size(); ++f) {
      if (pieces[f] == "upper") {
        part.upper = true;
      } else if (absl::StartsWith(pieces[f], "default:")) {
        part.fallback = std::string(pieces[f].substr(8));
      } else {
        return absl::InvalidArgumentError(absl::StrCat("unknown filter \"", pieces[f], "\" in \"{",
                                                       binding,
                                                       "}\" (there are upper and default:)"));
      }
    }
    flush();
    parsed.parts_.push_back(std::move(part));
    i = end;
  }
  flush();
  return parsed;
}

std::vector<std::string> TemplateText::Fields() const {
  std::vector<std::string> fields;
  for (const Part& part : parts_) {
    if (!part.field.empty()) fields.push_back(part.field);
  }
  return fields;
}

std::string TemplateText::Expand(
    const std::function<absl::string_view(absl::string_view)>& value) const {
  std::string out;
  for (const Part& part : parts_) {
    if (part.field.empty()) {
      out += part.literal;
      continue;
    }
    absl::string_view v = value(part.field);
    if (v.empty()) v = part.fallback;
    if (part.upper) {
      out += VietnameseUpper(v);
    } else {
      out.append(v.data(), v.size());
    }
  }
  return out;
}

}  // namespace motcua::signing
