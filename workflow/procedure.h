#ifndef MOTCUA_WORKFLOW_PROCEDURE_H_
#define MOTCUA_WORKFLOW_PROCEDURE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "motcua/v1/dossier.pb.h"
#include "motcua/v1/procedure.pb.h"
#include "signing/documents.h"

namespace motcua::workflow {

// Who may act in a state that awaits an officer, and with which decisions.
struct TaskSpec {
  std::string title;
  v1::Role role = v1::ROLE_UNSPECIFIED;
  std::string position;
};

// A validated, immutable procedure definition with its lookups prepared.
class Procedure {
 public:
  // Validates `definition`. INVALID_ARGUMENT names the offending state or
  // transition: unknown or unreachable states, transitions nobody may fire,
  // states without a national status, bad time limits, signature
  // requirements out of order or on another document, a document with no
  // template, a template that does not compile (signing/documents.h), a
  // slot no transition fills or a signature with no slot, a person's slot
  // after the seal's, a transition that signs a document further (slot by
  // slot) where some path brings it no such document or other slots filled...
  static absl::StatusOr<std::shared_ptr<const Procedure>> Compile(
      v1::ProcedureDefinition definition);

  const v1::ProcedureDefinition& definition() const { return definition_; }
  const v1::StateDefinition* State(absl::string_view id) const;
  // The transition leaving `state` on `trigger`, or nullptr.
  const v1::TransitionDefinition* Transition(absl::string_view state, v1::Trigger trigger) const;
  const v1::TransitionDefinition* TransitionById(absl::string_view id) const;
  // The TRIGGER_TIMER transitions leaving `state`.
  std::vector<const v1::TransitionDefinition*> Timers(absl::string_view state) const;
  // The officer task of `state`, or nullptr when no officer acts there.
  const TaskSpec* Task(absl::string_view state) const;

  // The layout of the documents of `kind` (a produces_document), or
  // nullptr when the definition has no template of that kind.
  const signing::DocumentLayout* Layout(absl::string_view kind) const;
  // The slots `t`'s signatures fill, as indices into its document's
  // template slots, in signing order; empty when it signs nothing.
  const std::vector<int>& SlotsFilledBy(const v1::TransitionDefinition& t) const;

 private:
  explicit Procedure(v1::ProcedureDefinition definition) : definition_(std::move(definition)) {}
  absl::Status Index();
  absl::Status CompileTemplates();
  absl::Status CheckSigningOrder() const;

  static inline const std::vector<int> kNoSlots;

  v1::ProcedureDefinition definition_;
  absl::flat_hash_map<std::string, int> states_;
  absl::flat_hash_map<std::string, int> transitions_;
  absl::flat_hash_map<std::string, TaskSpec> tasks_;
  absl::flat_hash_map<std::string, std::shared_ptr<const signing::DocumentLayout>> layouts_;
  absl::flat_hash_map<std::string, std::vector<int>> slots_;  // transition id -> slots
};

// The trigger an officer's decision fires, and back; UNSPECIFIED for none.
v1::Trigger TriggerOf(v1::Decision decision);
v1::Decision DecisionOf(v1::Trigger trigger);

// The kind of document `t` produces or signs further; empty for none.
const std::string& DocumentKindOf(const v1::TransitionDefinition& t);

// Whether the transition's document needs the deciding officer's signature.
bool NeedsActorSignature(const v1::TransitionDefinition& t);

// Whether two definitions say the same thing (ignores the version and deploy
// stamps the server sets).
bool SameDefinition(const v1::ProcedureDefinition& a, const v1::ProcedureDefinition& b);

}  // namespace motcua::workflow

#endif  // MOTCUA_WORKFLOW_PROCEDURE_H_
