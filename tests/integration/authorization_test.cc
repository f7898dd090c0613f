// Who may call what: every development identity against every operation.
//
// Each row of the table is one operation with the identities allowed to
// perform it; every other identity must get PERMISSION_DENIED, and a refused
// mutation must leave the dossier as it was. Each cell works on its own
// freshly prepared dossier, so cells cannot affect one another.

#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "proto/proto_time.h"
#include "tests/integration/fixtures.h"

namespace motcua::itest {
namespace {

// Prepares what one cell needs, performs the operation as `client` and
// returns its status. Records a test failure when preparation fails or a
// refused call changed something.
using CellFn = std::function<grpc::Status(ServerProcess& server, const std::string& client)>;

struct Operation {
  std::string name;
  std::set<std::string> allowed;
  CellFn run;
};

// gtest prints parameters of failed tests; the name is what identifies one.
void PrintTo(const Operation& op, std::ostream* os) { *os << op.name; }

const std::set<std::string> kEveryone(AllDevClients().begin(), AllDevClients().end());

grpc::Status SetupFailed(const char* step, const grpc::Status& status) {
  ADD_FAILURE() << "cell setup failed at " << step << ": " << Describe(status);
  return grpc::Status(grpc::StatusCode::INTERNAL, std::string("test setup failed: ") + step);
}

// After a call on `before`'s dossier: if it was refused, nothing may have
// changed.
void CheckRefusalChangedNothing(ServerProcess& server, const grpc::Status& status,
                                const v1::Dossier& before) {
  if (status.ok()) return;
  Reply<v1::Dossier> now = Reread(server, before.code());
  if (!now.ok()) {
    ADD_FAILURE() << "re-reading " << before.code() << ": " << Describe(now.status);
    return;
  }
  EXPECT_EQ(now.value.version(), before.version()) << "a refused call changed the dossier";
  EXPECT_EQ(now.value.state(), before.state());
  EXPECT_EQ(now.value.task().claimed_by(), before.task().claimed_by());
}

// A dossier of `portal` at HN-SGDDT in its first state.
CellFn OnSubmitted(std::function<grpc::Status(Client, const v1::Dossier&)> call, bool mutates) {
  return [call, mutates](ServerProcess& server, const std::string& client) {
    Reply<v1::Dossier> dossier = SubmitNew(server);
    if (!dossier.ok()) return SetupFailed("SubmitDossier", dossier.status);
    grpc::Status status = call(server.As(client), dossier.value);
    if (mutates) CheckRefusalChangedNothing(server, status, dossier.value);
    return status;
  };
}

std::vector<Operation> Operations() {
  const std::set<std::string> hn_officers = {"receiver", "receiver-b", "head"};
  std::vector<Operation> ops;

  ops.push_back({"SubmitDossier",
                 {"portal", "portal2"},
                 [](ServerProcess& server, const std::string& client) {
                   v1::SubmitDossierRequest request = ValidSubmission();
                   grpc::Status status = server.As(client).Submit(request).status;
                   if (!status.ok()) {
                     v1::ListDossiersRequest list;
                     list.set_applicant_id_number(request.applicant().id_number());
                     Reply<v1::ListDossiersResponse> found =
                         server.As("auditor").ListDossiers(list);
                     EXPECT_RPC_OK(found);
                     EXPECT_EQ(found.value.dossiers_size(), 0)
                         << "a refused submission created a dossier";
                   }
                   return status;
                 }});

  ops.push_back(
      {"GetDossier",
       {"portal", "receiver", "receiver-b", "head", "clerk", "auditor", "admin"},
       OnSubmitted(
           [](Client client, const v1::Dossier& d) { return client.GetDossier(d.code()).status; },
           /*mutates=*/false)});

  ops.push_back(
      {"ListDossiersOfUnit",
       {"portal", "portal2", "receiver", "receiver-b", "head", "clerk", "auditor", "admin"},
       [](ServerProcess& server, const std::string& client) {
         v1::ListDossiersRequest request;
         request.set_unit_code(kUnitHn);
         request.set_page_size(1);
         return server.As(client).ListDossiers(request).status;
       }});

  ops.push_back(
      {"WithdrawDossier",
       {"portal"},
       OnSubmitted([](Client client,
                      const v1::Dossier& d) { return client.Withdraw(Withdrawal(d)).status; },
                   /*mutates=*/true)});

  ops.push_back({"AddSupplement", {"portal"}, [](ServerProcess& server, const std::string& client) {
                   Reply<v1::Dossier> dossier = SubmitReceiveRequestSupplement(server);
                   if (!dossier.ok()) return SetupFailed("to awaiting_supplement", dossier.status);
                   grpc::Status status =
                       server.As(client).AddSupplement(Supplement(dossier.value)).status;
                   CheckRefusalChangedNothing(server, status, dossier.value);
                   return status;
                 }});

  ops.push_back({"RenewDocuments", {"admin"}, [](ServerProcess& server, const std::string& client) {
                   v1::RenewDocumentsRequest request;
                   *request.mutable_renew_before() = ToProto(absl::Now());
                   request.set_request_id("renew-" + client);
                   grpc::ClientContext context;
                   v1::Operation op;
                   return server.As(client).dossiers().RenewDocuments(&context, request, &op);
                 }});

  ops.push_back({"ListMyTasks",
                 {"receiver", "receiver-b", "head", "clerk", "receiver-hp", "head-hp"},
                 [](ServerProcess& server, const std::string& client) {
                   return server.As(client).ListMyTasks(v1::ListMyTasksRequest()).status;
                 }});

  ops.push_back({"ClaimReceivingTask",
                 {"receiver", "receiver-b"},
                 OnSubmitted([](Client client,
                                const v1::Dossier& d) { return client.ClaimTask(Claim(d)).status; },
                             /*mutates=*/true)});

  ops.push_back(
      {"CompleteReceivingTask",
       {"receiver", "receiver-b"},
       OnSubmitted([](Client client,
                      const v1::Dossier& d) { return client.CompleteTask(Approval(d)).status; },
                   /*mutates=*/true)});

  ops.push_back(
      {"CompleteHeadTask", {"head"}, [](ServerProcess& server, const std::string& client) {
         Reply<v1::Dossier> dossier = SubmitAndReceive(server);
         if (!dossier.ok()) return SetupFailed("to processing", dossier.status);
         grpc::Status status =
             server.As(client).CompleteTask(SignedApproval(server, client, dossier.value)).status;
         CheckRefusalChangedNothing(server, status, dossier.value);
         return status;
       }});

  ops.push_back(
      {"DeployProcedure", {"admin"}, [](ServerProcess& server, const std::string& client) {
         Reply<v1::ProcedureDefinition> current = server.As("admin").GetProcedure(kProcedure);
         if (!current.ok()) return SetupFailed("GetProcedure", current.status);
         v1::DeployProcedureRequest request;
         *request.mutable_definition() = current.value;
         request.set_request_id(NewRequestId());
         grpc::Status status = server.As(client).Deploy(request).status;
         if (!status.ok()) {
           Reply<v1::ProcedureDefinition> after = server.As("admin").GetProcedure(kProcedure);
           EXPECT_RPC_OK(after);
           EXPECT_EQ(after.value.version(), current.value.version())
               << "a refused deploy created a version";
         }
         return status;
       }});

  ops.push_back({"GetProcedure", kEveryone, [](ServerProcess& server, const std::string& client) {
                   return server.As(client).GetProcedure(kProcedure).status;
                 }});

  ops.push_back({"ListProcedures", kEveryone, [](ServerProcess& server, const std::string& client) {
                   return server.As(client).ListProcedures().status;
                 }});

  // Whoever may read a dossier may read its history: the owning portal, the
  // unit's staff (officers and the clerk who seals results), auditors, admins.
  std::set<std::string> history_readers = hn_officers;
  history_readers.insert({"portal", "clerk", "auditor", "admin"});
  ops.push_back({"GetDossierHistory", history_readers,
                 OnSubmitted([](Client client,
                                const v1::Dossier& d) { return client.History(d.code()).status; },
                             /*mutates=*/false)});
  ops.push_back({"VerifyDossierHistory", history_readers,
                 OnSubmitted([](Client client,
                                const v1::Dossier& d) { return client.Verify(d.code()).status; },
                             /*mutates=*/false)});
  return ops;
}

class AuthorizationMatrixTest : public SharedServerTest,
                                public ::testing::WithParamInterface<Operation> {};

TEST_P(AuthorizationMatrixTest, OnlyAllowedIdentitiesSucceed) {
  const Operation& op = GetParam();
  for (const std::string& client : AllDevClients()) {
    const bool allowed = op.allowed.count(client) > 0;
    SCOPED_TRACE(op.name + " as " + client + (allowed ? " (allowed)" : " (denied)"));
    const grpc::Status status = op.run(server(), client);
    if (allowed) {
      EXPECT_TRUE(status.ok()) << op.name << " as " << client << ": " << Describe(status);
    } else {
      EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
          << op.name << " as " << client << ": " << Describe(status);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(RoleByOperation, AuthorizationMatrixTest,
                         ::testing::ValuesIn(Operations()),
                         [](const auto& info) { return info.param.name; });

// Cells whose answer is OK but whose content is scoped by identity.
class VisibilityTest : public SharedServerTest {};

TEST_F(VisibilityTest, GetDossier_OtherPortal_PermissionDenied) {
  Reply<v1::Dossier> dossier = SubmitNew(server(), kUnitHn, "portal");
  ASSERT_RPC_OK(dossier);
  EXPECT_RPC_CODE(server().As("portal2").GetDossier(dossier.value.code()),
                  grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(VisibilityTest, GetDossier_OfficerOfOtherUnit_PermissionDenied) {
  Reply<v1::Dossier> dossier = SubmitNew(server(), kUnitHp);
  ASSERT_RPC_OK(dossier);
  EXPECT_RPC_CODE(server().As("receiver").GetDossier(dossier.value.code()),
                  grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_RPC_OK(server().As("receiver-hp").GetDossier(dossier.value.code()));
}

TEST_F(VisibilityTest, ListDossiers_Portal_SeesOnlyItsOwnDossiers) {
  Reply<v1::Dossier> mine = SubmitNew(server(), kUnitHn, "portal2");
  Reply<v1::Dossier> theirs = SubmitNew(server(), kUnitHn, "portal");
  ASSERT_RPC_OK(mine);
  ASSERT_RPC_OK(theirs);
  Reply<std::vector<v1::Dossier>> listed =
      server().As("portal2").ListAllDossiers(v1::ListDossiersRequest());
  ASSERT_RPC_OK(listed);
  bool saw_mine = false;
  for (const v1::Dossier& d : listed.value) {
    EXPECT_EQ(d.submitted_by(), "portal.tuyensinh") << d.code();
    EXPECT_NE(d.code(), theirs.value.code());
    saw_mine = saw_mine || d.code() == mine.value.code();
  }
  EXPECT_TRUE(saw_mine);
}

TEST_F(VisibilityTest, ListDossiers_PortalFilteringOtherApplicant_SeesNothingOfOtherPortal) {
  Reply<v1::Dossier> theirs = SubmitNew(server(), kUnitHn, "portal");
  ASSERT_RPC_OK(theirs);
  v1::ListDossiersRequest request;
  request.set_applicant_id_number(theirs.value.applicant().id_number());
  Reply<v1::ListDossiersResponse> listed = server().As("portal2").ListDossiers(request);
  ASSERT_RPC_OK(listed);
  EXPECT_EQ(listed.value.dossiers_size(), 0);
}

TEST_F(VisibilityTest, ListDossiers_OfficerWithoutFilter_SeesOnlyOwnUnit) {
  Reply<v1::Dossier> hp = SubmitNew(server(), kUnitHp);
  Reply<v1::Dossier> hn = SubmitNew(server(), kUnitHn);
  ASSERT_RPC_OK(hp);
  ASSERT_RPC_OK(hn);
  Reply<std::vector<v1::Dossier>> listed =
      server().As("receiver-hp").ListAllDossiers(v1::ListDossiersRequest());
  ASSERT_RPC_OK(listed);
  bool saw_hp = false;
  for (const v1::Dossier& d : listed.value) {
    EXPECT_EQ(d.unit_code(), kUnitHp) << d.code();
    saw_hp = saw_hp || d.code() == hp.value.code();
  }
  EXPECT_TRUE(saw_hp);
}

TEST_F(VisibilityTest, ListDossiers_OfficerAsksOtherUnit_PermissionDenied) {
  v1::ListDossiersRequest request;
  request.set_unit_code(kUnitHp);
  EXPECT_RPC_CODE(server().As("head").ListDossiers(request), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(VisibilityTest, ListDossiers_Auditor_SeesEveryUnit) {
  Reply<v1::Dossier> hp = SubmitNew(server(), kUnitHp);
  Reply<v1::Dossier> hn = SubmitNew(server(), kUnitHn, "portal2");
  ASSERT_RPC_OK(hp);
  ASSERT_RPC_OK(hn);
  Reply<std::vector<v1::Dossier>> listed =
      server().As("auditor").ListAllDossiers(v1::ListDossiersRequest());
  ASSERT_RPC_OK(listed);
  std::set<std::string> codes;
  for (const v1::Dossier& d : listed.value) codes.insert(d.code());
  EXPECT_TRUE(codes.count(hp.value.code()));
  EXPECT_TRUE(codes.count(hn.value.code()));
}

}  // namespace
}  // namespace motcua::itest
