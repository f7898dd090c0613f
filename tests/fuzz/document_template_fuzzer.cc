// libFuzzer target for document templates (template.proto), which
// administrators deploy with procedures: the text-format parser, the
// template checks, the binding parser and the layout. The input is a
// template in text format, then a line "--", then a value every field of
// the document takes (so data as odd as the template meets the layout).
// A template that compiles must render any value it is given, or refuse it
// with INVALID_ARGUMENT; whatever it renders must keep its slots on a page.
//
// Built with clang by -DMOTCUA_FUZZ=ON (scripts/fuzz.sh document_template),
// and with any compiler as document_template_corpus_replay over
// tests/fuzz/document_template_corpus.

#include <google/protobuf/stubs/logging.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/text_format.h"
#include "motcua/v1/template.pb.h"
#include "signing/documents.h"

namespace {

motcua::signing::FieldCatalog Catalog() {
  motcua::signing::FieldCatalog catalog;
  for (const char* f :
       {"dossier.code", "document.id", "document.date_long", "unit.name", "unit.parent",
        "unit.place", "unit.head_title", "applicant.full_name", "procedure.name", "form.school",
        "graduate.full_name", "graduate.date_of_birth", "graduate.place_of_birth",
        "graduate.school", "graduate.graduation_year", "graduate.classification", "diploma.serial",
        "diploma.register_number"}) {
    catalog.fields.insert(f);
  }
  catalog.lists["attachments"] = {"name"};
  catalog.lists["entries"] = {"name", "note"};
  return catalog;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const google::protobuf::LogSilencer* const quiet = new google::protobuf::LogSilencer;
  (void)quiet;
  static const motcua::signing::FieldCatalog* const catalog =
      new motcua::signing::FieldCatalog(Catalog());
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t split = input.find("\n--\n");
  const absl::string_view text = input.substr(0, split);
  const std::string value =
      split == absl::string_view::npos ? "" : std::string(input.substr(split + 4, 5000));

  motcua::v1::DocumentTemplate document_template;
  if (!google::protobuf::TextFormat::ParseFromString(std::string(text), &document_template)) {
    return 0;
  }
  // Documents of many pages are the layout's business, thousands of them
  // only the fuzzer's patience.
  for (const auto& block : document_template.blocks()) {
    if (block.has_table() && block.table().columns_size() > 50) return 0;
  }
  auto layout = motcua::signing::DocumentLayout::Compile(document_template, *catalog);
  if (!layout.ok()) {
    if (layout.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  motcua::signing::DocumentData values;
  for (const std::string& field : catalog->fields) values.fields[field] = value;
  values.fields["dossier.code"] = "HN-1";
  values.fields["document.id"] = "d1";
  values.lists["attachments"].assign(3, {{"name", value}});
  values.lists["entries"].assign(40, {{"name", value}, {"note", value}});
  auto rendered = (*layout)->Render(values);
  if (!rendered.ok()) {
    if (rendered.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  for (const auto& slot : rendered->slots) {
    if (slot.x < 0 || slot.y < 0 || slot.width <= 0 || slot.height <= 0) std::abort();
  }
  return 0;
}
