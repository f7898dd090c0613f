// ProcedureService: reading definitions, deploying new versions, and the
// validation that keeps broken definitions out.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "tests/integration/fixtures.h"

namespace motcua::itest {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

class ProcedureTest : public SharedServerTest {
 protected:
  // The latest definition of 2.001914 as the server has it.
  v1::ProcedureDefinition Latest() {
    Reply<v1::ProcedureDefinition> latest = server().As("admin").GetProcedure(kProcedure);
    EXPECT_RPC_OK(latest);
    return latest.value;
  }

  static v1::DeployProcedureRequest DeployOf(const v1::ProcedureDefinition& definition) {
    v1::DeployProcedureRequest request;
    *request.mutable_definition() = definition;
    request.mutable_definition()->clear_version();
    request.mutable_definition()->clear_deployed_at();
    request.mutable_definition()->clear_deployed_by();
    request.set_request_id(NewRequestId());
    return request;
  }
};

TEST_F(ProcedureTest, GetProcedure_Builtin_ReturnsCopyFromRegisterDefinition) {
  Reply<v1::ProcedureDefinition> reply = server().As("portal").GetProcedure(kProcedure);
  ASSERT_RPC_OK(reply);
  EXPECT_EQ(reply.value.code(), kProcedure);
  EXPECT_GE(reply.value.version(), 1);
  EXPECT_EQ(reply.value.initial_state(), "submitted");
  EXPECT_EQ(reply.value.states_size(), 8);
  EXPECT_EQ(reply.value.time_limit().working_days(), 1);
}

TEST_F(ProcedureTest, GetProcedure_UnknownCode_NotFound) {
  EXPECT_RPC_CODE(server().As("portal").GetProcedure("9.999999"), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ProcedureTest, ListProcedures_IncludesBuiltinWithItsVersions) {
  Reply<v1::ListProceduresResponse> reply = server().As("clerk").ListProcedures();
  ASSERT_RPC_OK(reply);
  bool found = false;
  for (const auto& entry : reply.value.procedures()) {
    if (entry.latest().code() != kProcedure) continue;
    found = true;
    EXPECT_THAT(entry.versions(), Contains(entry.latest().version()));
  }
  EXPECT_TRUE(found) << kProcedure << " not listed";
}

TEST_F(ProcedureTest, ListProcedures_PageByPage_EveryCodeOnce) {
  for (const char* code : {"2.001914.T1", "2.001914.T2"}) {
    v1::ProcedureDefinition copy = Latest();
    copy.set_code(code);
    ASSERT_RPC_OK(server().As("admin").Deploy(DeployOf(copy)));
  }
  std::vector<std::string> codes;
  v1::ListProceduresRequest request;
  request.set_page_size(1);
  for (int pages = 0; pages < 100; ++pages) {
    Reply<v1::ListProceduresResponse> page = server().As("clerk").ListProcedures(request);
    ASSERT_RPC_OK(page);
    ASSERT_LE(page.value.procedures_size(), 1);
    for (const auto& entry : page.value.procedures()) codes.push_back(entry.latest().code());
    if (page.value.next_page_token().empty()) break;
    request.set_page_token(page.value.next_page_token());
  }
  EXPECT_THAT(codes, Contains(kProcedure));
  EXPECT_THAT(codes, Contains("2.001914.T1"));
  EXPECT_THAT(codes, Contains("2.001914.T2"));
  EXPECT_TRUE(std::is_sorted(codes.begin(), codes.end()));
  EXPECT_EQ(std::adjacent_find(codes.begin(), codes.end()), codes.end()) << "a code twice";
}

TEST_F(ProcedureTest, DeployProcedure_Valid_ReturnsNextVersionStampedWithDeployer) {
  const v1::ProcedureDefinition before = Latest();
  ASSERT_GE(before.version(), 1);
  Reply<v1::ProcedureDefinition> deployed = server().As("admin").Deploy(DeployOf(before));
  ASSERT_RPC_OK(deployed);
  EXPECT_EQ(deployed.value.version(), before.version() + 1);
  EXPECT_EQ(deployed.value.deployed_by(), kAdminSubject);
  EXPECT_GT(deployed.value.deployed_at().seconds(), 0);
  EXPECT_EQ(Latest().version(), before.version() + 1);
}

TEST_F(ProcedureTest, DeployProcedure_Valid_EarlierVersionStaysReadable) {
  const v1::ProcedureDefinition before = Latest();
  ASSERT_RPC_OK(server().As("admin").Deploy(DeployOf(before)));
  Reply<v1::ProcedureDefinition> old =
      server().As("auditor").GetProcedure(kProcedure, before.version());
  ASSERT_RPC_OK(old);
  EXPECT_EQ(old.value.version(), before.version());
  Reply<v1::ListProceduresResponse> list = server().As("auditor").ListProcedures();
  ASSERT_RPC_OK(list);
  for (const auto& entry : list.value.procedures()) {
    if (entry.latest().code() == kProcedure) {
      EXPECT_THAT(entry.versions(), Contains(before.version()));
      EXPECT_THAT(entry.versions(), Contains(before.version() + 1));
    }
  }
}

TEST_F(ProcedureTest, DeployProcedure_RetrySameRequestId_CreatesOneVersion) {
  const v1::ProcedureDefinition before = Latest();
  const v1::DeployProcedureRequest request = DeployOf(before);
  Reply<v1::ProcedureDefinition> first = server().As("admin").Deploy(request);
  ASSERT_RPC_OK(first);
  Reply<v1::ProcedureDefinition> retry = server().As("admin").Deploy(request);
  ASSERT_RPC_OK(retry);
  EXPECT_EQ(retry.value.version(), first.value.version());
  EXPECT_EQ(Latest().version(), before.version() + 1);
}

TEST_F(ProcedureTest, DeployProcedure_NewVersion_RunningDossierKeepsItsVersion) {
  Reply<v1::Dossier> running = SubmitNew(server());
  ASSERT_RPC_OK(running);
  const int started_on = running.value.procedure_version();
  Reply<v1::ProcedureDefinition> deployed = server().As("admin").Deploy(DeployOf(Latest()));
  ASSERT_RPC_OK(deployed);
  ASSERT_GT(deployed.value.version(), started_on);

  Reply<v1::Dossier> received = server().As("receiver").CompleteTask(Approval(running.value));
  ASSERT_RPC_OK(received);
  EXPECT_EQ(received.value.procedure_version(), started_on);
  Reply<v1::Dossier> fresh = SubmitNew(server());
  ASSERT_RPC_OK(fresh);
  EXPECT_EQ(fresh.value.procedure_version(), deployed.value.version());
}

// One way to break a definition, and the id the error message must name.
struct BrokenDefinition {
  std::string name;
  std::function<void(v1::ProcedureDefinition&)> breakit;
  std::string named;
};

void PrintTo(const BrokenDefinition& broken, std::ostream* os) { *os << broken.name; }

v1::StateDefinition& StateById(v1::ProcedureDefinition& d, const std::string& id) {
  for (v1::StateDefinition& s : *d.mutable_states()) {
    if (s.id() == id) return s;
  }
  ADD_FAILURE() << "no state " << id << " in the built-in definition";
  return *d.add_states();
}

v1::TransitionDefinition& TransitionById(v1::ProcedureDefinition& d, const std::string& id) {
  for (v1::TransitionDefinition& t : *d.mutable_transitions()) {
    if (t.id() == id) return t;
  }
  ADD_FAILURE() << "no transition " << id << " in the built-in definition";
  return *d.add_transitions();
}

class BrokenDefinitionTest : public ProcedureTest,
                             public ::testing::WithParamInterface<BrokenDefinition> {};

TEST_P(BrokenDefinitionTest, DeployProcedure_Broken_InvalidArgumentNamingCulprit) {
  v1::ProcedureDefinition definition = Latest();
  GetParam().breakit(definition);
  Reply<v1::ProcedureDefinition> reply = server().As("admin").Deploy(DeployOf(definition));
  EXPECT_RPC_CODE(reply, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(reply.status.error_message(), HasSubstr(GetParam().named));
}

TEST_P(BrokenDefinitionTest, DeployProcedure_Broken_CreatesNoVersion) {
  const v1::ProcedureDefinition before = Latest();
  v1::ProcedureDefinition definition = before;
  GetParam().breakit(definition);
  ASSERT_FALSE(server().As("admin").Deploy(DeployOf(definition)).ok());
  EXPECT_EQ(Latest().version(), before.version());
}

INSTANTIATE_TEST_SUITE_P(
    Validation, BrokenDefinitionTest,
    ::testing::Values(BrokenDefinition{"TransitionToUnknownState",
                                       [](v1::ProcedureDefinition& d) {
                                         v1::TransitionDefinition* t = d.add_transitions();
                                         t->set_id("jump_to_nowhere");
                                         t->set_from_state("processed");
                                         t->set_to_state("nowhere_state");
                                         t->set_trigger(v1::TRIGGER_REJECT);
                                         t->set_role(v1::ROLE_OFFICER);
                                         t->set_position("receiving");
                                       },
                                       "jump_to_nowhere"},
                      BrokenDefinition{"UnreachableState",
                                       [](v1::ProcedureDefinition& d) {
                                         v1::StateDefinition* s = d.add_states();
                                         s->set_id("orphan_state");
                                         s->set_title("Không ai tới");
                                         s->set_national_status(8);
                                         s->set_terminal(true);
                                       },
                                       "orphan_state"},
                      BrokenDefinition{"NationalStatusZero",
                                       [](v1::ProcedureDefinition& d) {
                                         StateById(d, "returned").set_national_status(0);
                                       },
                                       "returned"},
                      BrokenDefinition{"NationalStatusEleven",
                                       [](v1::ProcedureDefinition& d) {
                                         StateById(d, "not_received").set_national_status(11);
                                       },
                                       "not_received"},
                      BrokenDefinition{"TransitionWithoutRole",
                                       [](v1::ProcedureDefinition& d) {
                                         TransitionById(d, "return_result").clear_role();
                                       },
                                       "return_result"},
                      BrokenDefinition{"ZeroWorkingDays",
                                       [](v1::ProcedureDefinition& d) {
                                         d.mutable_time_limit()->set_working_days(0);
                                       },
                                       "working_days"}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace motcua::itest
