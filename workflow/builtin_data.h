#ifndef MOTCUA_WORKFLOW_BUILTIN_DATA_H_
#define MOTCUA_WORKFLOW_BUILTIN_DATA_H_

#include <string_view>
#include <vector>

namespace motcua::workflow {

// A data file compiled into the binary: "procedures/<file>.textproto" or
// "calendar/<file>.textproto".
struct BuiltinFile {
  std::string_view path;
  std::string_view content;
};

const std::vector<BuiltinFile>& BuiltinFiles();

}  // namespace motcua::workflow

#endif  // MOTCUA_WORKFLOW_BUILTIN_DATA_H_
