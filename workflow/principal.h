#ifndef MOTCUA_WORKFLOW_PRINCIPAL_H_
#define MOTCUA_WORKFLOW_PRINCIPAL_H_

#include <string>

#include "motcua/v1/procedure.pb.h"

namespace motcua::workflow {

// Who is calling. adapters/ builds it from the client certificate; the
// engine decides what it may do.
struct Principal {
  // Unique name of the person or system (certificate CN), e.g. "head.hn".
  std::string subject;
  v1::Role role = v1::ROLE_UNSPECIFIED;
  // Unit code (certificate O), e.g. "HN-SGDDT". Empty for portals.
  std::string unit;
  // Position within the role (certificate title), e.g. "head". May be empty.
  std::string position;
};

}  // namespace motcua::workflow

#endif  // MOTCUA_WORKFLOW_PRINCIPAL_H_
