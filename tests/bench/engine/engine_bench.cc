// motcua_engine_bench: the engine's own work, against a real motcuad it
// starts (development mode, loopback), the way scripts/bench-engine.sh runs
// it. A benchmark, not a test: it asserts nothing; figures go to
// docs/BENCHMARKS.md with the machine and commit.
//
//   motcua_engine_bench receipts [--count N]
//       N dossiers submitted (untimed), then received by 64 threads as fast
//       as they go (receive steps/s: the receipt is issued after commit),
//       then the time until the document workers have issued every receipt
//       (receipts/s, and the server's CPU per receipt).
//   motcua_engine_bench receipt-latency [--rate R] [--seconds S]
//       receive steps at R per second for S seconds; a unit watch times each
//       receipt from the step's answer to its document_issued event.
//   motcua_engine_bench batch-sign [--count N]
//       N dossiers received (untimed), then the head approves them all as a
//       batch with the key on a SoftHSM2 token, one session (one PIN):
//       PrepareSignatures, every value signed on the token, CompleteTasks,
//       in rounds of 1,000; documents/s end to end and per phase.
//   motcua_engine_bench timers [--count N]
//       N dossiers whose timer falls due at the same moment; the time from
//       that moment until every one has fired (timers/s).

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/text_format.h"
#include "motcua/v1/operations.grpc.pb.h"
#include "signing/signing_key.h"
#include "tests/integration/fixtures.h"

namespace motcua::bench {
namespace {

using itest::Approval;
using itest::ParallelFor;
using itest::Reply;
using itest::ServerProcess;

constexpr int kThreads = 64;

// User+system CPU seconds the server has used.
double ServerCpuSeconds(const ServerProcess& server) {
  std::ifstream stat(absl::StrCat("/proc/", server.pid(), "/stat"));
  std::string field;
  long ticks = 0;
  for (int i = 1; i <= 15 && stat >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::stol(field);
  }
  return static_cast<double>(ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

v1::EngineStatus EngineStatus(ServerProcess& server) {
  auto stub = v1::OperationService::NewStub(server.Channel("admin"));
  grpc::ClientContext context;
  v1::EngineStatus status;
  stub->GetEngineStatus(&context, v1::GetEngineStatusRequest(), &status);
  return status;
}

std::vector<v1::Dossier> SubmitMany(ServerProcess& server, int n,
                                    const std::function<void(v1::SubmitDossierRequest&)>& shape) {
  std::vector<v1::Dossier> dossiers(n);
  ParallelFor(n, kThreads, [&](int i) {
    v1::SubmitDossierRequest request = itest::ValidSubmission();
    if (shape) shape(request);
    Reply<v1::Dossier> d = server.As("portal").Submit(request);
    dossiers[i] = d.value;
  });
  return dossiers;
}

double Percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<size_t>(q * values.size()))];
}

int Receipts(ServerProcess& server, int count) {
  std::vector<v1::Dossier> dossiers = SubmitMany(server, count, nullptr);
  std::atomic<int> failed{0};
  const absl::Time start = absl::Now();
  ParallelFor(count, kThreads, [&](int i) {
    if (!server.As("receiver").CompleteTask(Approval(dossiers[i])).ok()) ++failed;
  });
  const absl::Time received = absl::Now();
  const double cpu_at_received = ServerCpuSeconds(server);
  const int64_t backlog = EngineStatus(server).documents_pending();
  while (EngineStatus(server).documents_pending() > 0) absl::SleepFor(absl::Milliseconds(20));
  const absl::Time drained = absl::Now();
  const double receive_s = absl::ToDoubleSeconds(received - start);
  const double drain_s = absl::ToDoubleSeconds(drained - received);
  const double cpu = ServerCpuSeconds(server) - cpu_at_received;
  std::printf("RESULT mode=receipts count=%d failed=%d receive_steps_per_s=%.0f "
              "backlog_after_steps=%ld issued_after_steps_s=%.2f\n",
              count, failed.load(), count / receive_s, static_cast<long>(backlog), drain_s);
  // While receiving, the workers were issuing too: the issuing rate is over
  // the whole run, from the first step to the last receipt.
  const double total_s = absl::ToDoubleSeconds(drained - start);
  std::printf("RESULT mode=receipts receipts_per_s=%.0f drain_only_receipts_per_s=%.0f "
              "server_cpu_ms_per_receipt_while_draining=%.2f\n",
              count / total_s, backlog / std::max(drain_s, 1e-3),
              backlog > 0 ? 1000 * cpu / backlog : 0.0);
  return 0;
}

int ReceiptLatency(ServerProcess& server, int rate, int seconds) {
  const int count = rate * seconds;
  std::vector<v1::Dossier> dossiers = SubmitMany(server, count, nullptr);
  std::mutex mu;
  absl::flat_hash_map<std::string, absl::Time> stepped, issued;
  // The unit's events, live: the receipts as they are issued.
  grpc::ClientContext watch_context;
  v1::WatchEventsRequest watch;
  watch.set_unit_code(itest::kUnitHn);
  itest::Client watcher = server.As("auditor");
  auto stream = watcher.dossiers().WatchEvents(&watch_context, watch);
  std::thread reader([&] {
    v1::HistoryEvent event;
    while (stream->Read(&event)) {
      if (event.action() != "document_issued") continue;
      std::lock_guard<std::mutex> lock(mu);
      issued[event.dossier_code()] = absl::Now();
    }
  });
  absl::SleepFor(absl::Milliseconds(500));  // the watch is live
  const absl::Time start = absl::Now();
  std::atomic<int> next{0};
  std::vector<std::thread> senders;
  for (int t = 0; t < 16; ++t) {
    senders.emplace_back([&] {
      for (int i = next++; i < count; i = next++) {
        absl::SleepFor(start + absl::Seconds(1) * i / rate - absl::Now());  // paced
        if (server.As("receiver").CompleteTask(Approval(dossiers[i])).ok()) {
          std::lock_guard<std::mutex> lock(mu);
          stepped[dossiers[i].code()] = absl::Now();
        }
      }
    });
  }
  for (auto& s : senders) s.join();
  const absl::Time end = absl::Now();
  for (int i = 0; i < 600; ++i) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (issued.size() >= stepped.size()) break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  watch_context.TryCancel();
  reader.join();
  std::vector<double> latency_ms;
  for (const auto& [code, at] : stepped) {
    auto it = issued.find(code);
    if (it != issued.end()) latency_ms.push_back(absl::ToDoubleMilliseconds(it->second - at));
  }
  std::printf("RESULT mode=receipt-latency rate=%d achieved_steps_per_s=%.0f steps=%zu "
              "issued=%zu p50_ms=%.0f p99_ms=%.0f max_ms=%.0f\n",
              rate, stepped.size() / absl::ToDoubleSeconds(end - start), stepped.size(),
              latency_ms.size(), Percentile(latency_ms, 0.5), Percentile(latency_ms, 0.99),
              Percentile(latency_ms, 1.0));
  return 0;
}

// The head's development key imported into a fresh SoftHSM2 token.
absl::StatusOr<std::unique_ptr<signing::SigningKey>> HeadKeyOnToken(ServerProcess& server) {
  const std::string dir = server.scratch_dir() + "/softhsm";
  std::filesystem::create_directories(dir + "/tokens");
  std::ofstream(dir + "/softhsm2.conf") << "directories.tokendir = " << dir
                                        << "/tokens\nobjectstore.backend = file\nlog.level = ERROR\n";
  setenv("SOFTHSM2_CONF", (dir + "/softhsm2.conf").c_str(), 1);
  const std::string module = "/usr/lib/softhsm/libsofthsm2.so";
  const std::string init =
      "softhsm2-util --init-token --free --label bench-head --pin 123456 --so-pin 87654321 "
      ">/dev/null";
  const std::string import = "pkcs11-tool --module " + module +
                             " --token-label bench-head --login --pin 123456 --write-object " +
                             server.pki_dir() + "/signers/head.key" +
                             " --type privkey --id 01 --label head --usage-sign --sensitive "
                             ">/dev/null 2>&1";
  if (std::system(init.c_str()) != 0 || std::system(import.c_str()) != 0) {
    return absl::InternalError("could not put the head's key on a SoftHSM2 token");
  }
  std::ifstream head(server.pki_dir() + "/signers/head.crt"), ca(server.pki_dir() + "/ca.crt");
  std::ofstream(dir + "/chain.pem") << head.rdbuf() << ca.rdbuf();
  return signing::SigningKey::OpenPkcs11Key(
      {module, "bench-head", "head", "123456", dir + "/chain.pem"});
}

int BatchSign(ServerProcess& server, int count) {
  auto key = HeadKeyOnToken(server);
  if (!key.ok()) {
    std::cerr << key.status() << "\n";
    return 2;
  }
  std::vector<v1::Dossier> dossiers = SubmitMany(server, count, nullptr);
  ParallelFor(count, kThreads, [&](int i) {
    dossiers[i] = server.As("receiver").CompleteTask(Approval(dossiers[i])).value;
  });
  while (EngineStatus(server).documents_pending() > 0) absl::SleepFor(absl::Milliseconds(20));
  ParallelFor(count, kThreads, [&](int i) { dossiers[i] = itest::Reread(server, dossiers[i].code()).value; });
  std::ifstream pem_file(server.pki_dir() + "/signers/head.crt");
  const std::string pem((std::istreambuf_iterator<char>(pem_file)), std::istreambuf_iterator<char>());

  const double cpu_before = ServerCpuSeconds(server);
  absl::Duration prepare, sign, complete;
  int approved = 0, failed = 0;
  const absl::Time start = absl::Now();
  for (int first = 0; first < count; first += 1000) {
    const int end = std::min(count, first + 1000);
    v1::PrepareSignaturesRequest request;
    request.set_signer_certificate_pem(pem);
    for (int i = first; i < end; ++i) {
      auto* item = request.add_items();
      item->set_task_id(dossiers[i].task().id());
      item->set_expected_version(dossiers[i].version());
      item->set_decision(v1::DECISION_APPROVE);
    }
    absl::Time t = absl::Now();
    Reply<v1::PrepareSignaturesResponse> prepared = server.As("head").PrepareSignatures(request);
    prepare += absl::Now() - t;
    t = absl::Now();
    v1::CompleteTasksRequest tasks;
    for (int i = first; i < end; ++i) {
      const auto& result = prepared.value.results(i - first);
      if (!result.has_challenge()) {
        ++failed;
        continue;
      }
      absl::StatusOr<std::string> value = (*key)->Sign(result.challenge().to_be_signed());
      if (!value.ok()) {
        ++failed;
        continue;
      }
      v1::CompleteTaskRequest task = Approval(dossiers[i]);
      task.mutable_signature()->set_challenge_id(result.challenge().challenge_id());
      task.mutable_signature()->set_signature_value(*value);
      *tasks.add_tasks() = std::move(task);
    }
    sign += absl::Now() - t;
    t = absl::Now();
    Reply<v1::CompleteTasksResponse> completed = server.As("head").CompleteTasks(tasks);
    complete += absl::Now() - t;
    for (const auto& result : completed.value.results()) {
      result.has_dossier() ? ++approved : ++failed;
    }
  }
  const double total_s = absl::ToDoubleSeconds(absl::Now() - start);
  std::printf("RESULT mode=batch-sign count=%d approved=%d failed=%d documents_per_s=%.0f "
              "prepare_s=%.2f sign_on_token_s=%.2f complete_s=%.2f server_cpu_ms_per_document=%.2f\n",
              count, approved, failed, count / total_s, absl::ToDoubleSeconds(prepare),
              absl::ToDoubleSeconds(sign), absl::ToDoubleSeconds(complete),
              1000 * (ServerCpuSeconds(server) - cpu_before) / count);
  return failed == 0 ? 0 : 1;
}

int64_t LogHead(ServerProcess& server) { return EngineStatus(server).log_head(); }

int Timers(ServerProcess& server, int count) {
  v1::DeployProcedureRequest deploy;
  google::protobuf::TextFormat::ParseFromString(itest::kDeadlineProcedureText, deploy.mutable_definition());
  deploy.set_request_id(itest::NewRequestId());
  if (!server.As("admin").Deploy(deploy).ok()) return 2;
  // Every timer due at one moment, once all are armed.
  const absl::Time due = absl::Now() + absl::Seconds(5) + absl::Milliseconds(count / 2);
  const std::string due_text = absl::FormatTime(absl::RFC3339_full, due, absl::UTCTimeZone());
  const absl::Time start = absl::Now();
  SubmitMany(server, count, [&](v1::SubmitDossierRequest& r) {
    r.set_procedure_code("T.100");
    r.clear_form();
    (*r.mutable_form())["deadline"] = due_text;
  });
  const absl::Time armed = absl::Now();
  const int64_t target = LogHead(server) + count;
  if (armed > due) {
    std::fprintf(stderr, "arming outlasted the due time; the figure is low\n");
  }
  while (absl::Now() < due) absl::SleepFor(absl::Milliseconds(10));
  const double cpu_at_due = ServerCpuSeconds(server);
  int64_t head = LogHead(server);
  while (head < target) {
    absl::SleepFor(absl::Milliseconds(20));
    head = LogHead(server);
  }
  const double fire_s = absl::ToDoubleSeconds(absl::Now() - due);
  std::printf("RESULT mode=timers count=%d arm_per_s=%.0f fired_in_s=%.2f timers_per_s=%.0f "
              "server_cpu_us_per_timer=%.0f\n",
              count, count / absl::ToDoubleSeconds(armed - start), fire_s, count / fire_s,
              1e6 * (ServerCpuSeconds(server) - cpu_at_due) / count);
  return 0;
}

int Main(int argc, char** argv) {
  CLI::App app{"motcua_engine_bench: the engine's own work against a real server"};
  app.require_subcommand(1);
  int count = 0, rate = 200, seconds = 30;
  auto* receipts = app.add_subcommand("receipts", "receive steps, then the receipts' issuing");
  receipts->add_option("--count", count, "dossiers")->default_val(5000);
  auto* latency = app.add_subcommand("receipt-latency", "time from step to issued receipt");
  latency->add_option("--rate", rate, "steps per second")->default_val(200);
  latency->add_option("--seconds", seconds, "how long")->default_val(30);
  auto* batch = app.add_subcommand("batch-sign", "a head's batch of signed approvals");
  batch->add_option("--count", count, "dossiers")->default_val(1000);
  auto* timers = app.add_subcommand("timers", "timers due at one moment");
  timers->add_option("--count", count, "timers")->default_val(100000);
  CLI11_PARSE(app, argc, argv);

  auto server = ServerProcess::Start();
  if (!server.ok()) {
    std::cerr << server.status() << "\n";
    return 2;
  }
  if (receipts->parsed()) return Receipts(**server, count);
  if (latency->parsed()) return ReceiptLatency(**server, rate, seconds);
  if (batch->parsed()) return BatchSign(**server, count);
  return Timers(**server, count);
}

}  // namespace
}  // namespace motcua::bench

int main(int argc, char** argv) { return motcua::bench::Main(argc, argv); }
