#ifndef MOTCUA_SIGNING_TEMPLATE_TEXT_H_
#define MOTCUA_SIGNING_TEMPLATE_TEXT_H_

// A text of a document template with its field bindings parsed
// (template.proto): "Thủ tục: {procedure.name}", "{unit.head_title|upper}",
// "{form.register_number|default:—}". Internal to signing/.

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace motcua::signing {

class TemplateText {
 public:
  // INVALID_ARGUMENT for a brace left open or closed alone, an empty field
  // name, a name outside [a-z0-9_.], or an unknown filter.
  static absl::StatusOr<TemplateText> Parse(absl::string_view text);

  TemplateText() = default;

  // The fields bound, in order of appearance (repeats included).
  std::vector<std::string> Fields() const;
  bool empty() const { return parts_.empty(); }

  // The text with each binding replaced by `value(field)`, filters applied.
  std::string Expand(const std::function<absl::string_view(absl::string_view)>& value) const;

 private:
  struct Part {
    std::string literal;  // when field is empty
    std::string field;
    bool upper = false;
    std::string fallback;  // default:...
  };
  std::vector<Part> parts_;
};

}  // namespace motcua::signing

#endif  // MOTCUA_SIGNING_TEMPLATE_TEXT_H_
