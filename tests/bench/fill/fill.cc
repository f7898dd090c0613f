// motcua_fill: puts N dossiers into a data directory through the engine
// itself (no gRPC), to prepare the 1,000,000-dossier memory and restart
// benchmarks. Setup, not a measurement: commits skip the fsync here (the
// data sits in the OS page cache until RocksDB or the kernel writes it), which
// is fine for preparing a benchmark and never for serving.
//
//   motcua_fill --data-dir DIR --count N [--threads T] [--receive-every K] [--sync]
//
// With --sync every commit is fsynced, as in the server: then its rate is
// the engine's own ceiling, without gRPC or TLS.

#include <CLI/CLI.hpp>
#include <atomic>
#include <iostream>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "storage/store.h"
#include "workflow/engine.h"

namespace {

using motcua::workflow::Principal;
namespace v1 = motcua::v1;

const Principal kPortal{"portal.dichvucong", v1::ROLE_PORTAL, "", ""};
const Principal kReceiver{"receiver.hn", v1::ROLE_OFFICER, "HN-SGDDT", "receiving"};

v1::SubmitDossierRequest Request(int64_t i) {
  v1::SubmitDossierRequest r;
  r.set_procedure_code("2.001914");
  r.set_unit_code(i % 2 ? "HN-SGDDT" : "HP-SGDDT");
  r.set_channel(v1::CHANNEL_ONLINE);
  r.mutable_applicant()->set_id_number(absl::StrCat(100000000000 + i));
  r.mutable_applicant()->set_full_name("Nguyễn Văn An");
  r.mutable_applicant()->set_address("Số 1 Phố Huế, Hai Bà Trưng, Hà Nội");
  (*r.mutable_form())["diploma_type"] = "Bằng tốt nghiệp trung học phổ thông";
  (*r.mutable_form())["diploma_serial"] = absl::StrCat("B", 1000000 + i);
  (*r.mutable_form())["graduation_year"] = "2015";
  (*r.mutable_form())["school"] = "THPT Chu Văn An";
  r.set_request_id(absl::StrCat("fill-", i));
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  std::string data_dir;
  int64_t count = 0;
  int threads = 8;
  int64_t receive_every = 4;
  bool sync = false;
  CLI::App app("motcua_fill: puts N dossiers into a data directory through the engine itself.",
               "motcua_fill");
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--data-dir", data_dir, "the RocksDB data directory")->required();
  app.add_option("--count", count, "dossiers to submit")
      ->required()
      ->check(CLI::Range(int64_t{1}, std::numeric_limits<int64_t>::max()));
  app.add_option("--threads", threads, "threads submitting")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--receive-every", receive_every,
                 "receive every K-th dossier of HN-SGDDT (0: none)")
      ->check(CLI::Range(int64_t{0}, std::numeric_limits<int64_t>::max()))
      ->capture_default_str();
  app.add_flag("--sync", sync, "fsync every commit, as the server does");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 64;
  }
  motcua::storage::StoreOptions options;
  options.sync = sync;
  auto store = motcua::storage::Store::Open(data_dir, options);
  if (!store.ok()) {
    std::cerr << store.status() << "\n";
    return 1;
  }
  motcua::workflow::SystemClock clock;
  auto engine = motcua::workflow::Engine::Open(store->get(), &clock,
                                               &motcua::workflow::WorkCalendar::Builtin());
  if (!engine.ok()) {
    std::cerr << engine.status() << "\n";
    return 1;
  }
  std::atomic<int64_t> next{0}, done{0}, failed{0};
  absl::Time start = absl::Now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (int64_t i = next++; i < count; i = next++) {
        auto d = (*engine)->SubmitDossier(kPortal, Request(i));
        if (d.ok() && receive_every > 0 && i % receive_every == 0 && d->unit_code() == "HN-SGDDT") {
          v1::CompleteTaskRequest c;
          c.set_task_id(d->task().id());
          c.set_expected_version(d->version());
          c.set_decision(v1::DECISION_APPROVE);
          c.set_request_id(absl::StrCat("fill-receive-", i));
          if (!(*engine)->CompleteTask(kReceiver, c).ok()) ++failed;
        }
        if (!d.ok()) ++failed;
        if (int64_t n = ++done; n % 100000 == 0) {
          std::cerr << n << " dossiers, " << n / absl::ToDoubleSeconds(absl::Now() - start)
                    << "/s\n";
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  engine->reset();
  store->reset();
  std::cout << "filled=" << done.load() << " failed=" << failed.load()
            << " seconds=" << absl::ToDoubleSeconds(absl::Now() - start) << "\n";
  return failed.load() == 0 ? 0 : 1;
}
