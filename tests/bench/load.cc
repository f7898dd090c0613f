// motcua_load: a load generator for a running motcuad on loopback.
//
//   motcua_load --server 127.0.0.1:PORT --pki-dir DIR --mode submit|complete|read
//               --clients N --duration SECONDS [--rate R] [--channels C]
//               [--warmup SECONDS] [--preload N] [--read-existing N]
//               [--timeout SECONDS] [--insecure]
//
// Modes:
//   submit    SubmitDossier as "portal" (procedure 2.001914 at HN-SGDDT).
//   complete  untimed: submit a pool of dossiers; timed: CompleteTask(APPROVE)
//             as "receiver" on each one's task, once.
//   read      untimed: submit --preload dossiers (default 1000, or none with
//             --read-existing) and/or list up to --read-existing N dossiers
//             already in the store (newest first); timed: GetDossier as
//             "auditor" on random ones.
//
// --rate 0 (default) is a closed loop: each client sends its next call when
// the previous one returns. --rate R is an open loop: calls are scheduled at
// R per second in total, client i taking every N-th slot, and latency runs
// from the *scheduled* time, so a slow server cannot hide its queueing by
// slowing the generator down (coordinated omission). Each client is one
// thread with its own completion queue; it keeps sending on schedule however
// many of its calls are still outstanding.
//
// A benchmark, not a test: it asserts nothing. Figures go to
// docs/BENCHMARKS.md with the machine and commit.
#include <grpcpp/grpcpp.h>
#include <openssl/rand.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "adapters/identity.h"
#include "adapters/tls.h"
#include "motcua/v1/service.grpc.pb.h"

namespace motcua::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kProcedure[] = "2.001914";
constexpr char kUnit[] = "HN-SGDDT";

enum class Mode { kSubmit, kComplete, kRead };

struct Options {
  std::string server;
  std::string pki_dir = "./var/pki";
  Mode mode = Mode::kSubmit;
  std::string mode_name = "submit";
  int clients = 8;
  double duration_s = 10;
  // Calls per second in total; 0 for a closed loop at the maximum rate.
  double rate = 0;
  int channels = 4;
  // Calls scheduled in the first seconds are sent but not counted: the
  // server's caches, the channels' TLS sessions and RocksDB's memtables
  // settle first.
  double warmup_s = 1;
  // Dossiers submitted before the timed phase; -1 picks a number for the
  // mode.
  int64_t preload = -1;
  // Read mode: also read up to this many dossiers that are already in the
  // store (e.g. filled by motcua_fill), found by listing them.
  int64_t read_existing = 0;
  double timeout_s = 10;
  bool insecure = false;
};

// ----------------------------------------------------------------- options

bool IsLoopback(const std::string& server) {
  return absl::StartsWith(server, "127.") || absl::StartsWith(server, "localhost:") ||
         absl::StartsWith(server, "[::1]:") || absl::StartsWith(server, "ipv4:127.") ||
         absl::StartsWith(server, "ipv6:[::1]:");
}

// A number above zero, or (`zero_ok`) at least zero. CLI11's PositiveNumber
// would print DBL_MAX in its message.
CLI::Validator Positive(bool zero_ok = false) {
  return CLI::Validator(
      [zero_ok](std::string& text) -> std::string {
        double value = 0;
        const bool ok = absl::SimpleAtod(text, &value) && (value > 0 || (zero_ok && value == 0));
        return ok ? ""
                  : absl::StrCat("must be a number ", zero_ok ? ">= 0" : "> 0", ", got ", text);
      },
      "");
}

// The options, or the exit code when there is nothing to run: 0 after
// --help, 64 after a usage mistake.
std::variant<Options, int> ParseOptions(int argc, char** argv) {
  Options options;
  CLI::App app("motcua_load: a load generator for a running motcuad on loopback.", "motcua_load");
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--server", options.server, "the server: 127.0.0.1:PORT")
      ->required()
      ->check(CLI::Validator(
          [](std::string& server) -> std::string {
            // The generator can saturate a machine; it is meant for a server
            // of our own on this host, never for someone else's.
            return IsLoopback(server) ? "" : "must be a loopback address (127.x, [::1], localhost)";
          },
          ""));
  app.add_option("--pki-dir", options.pki_dir, "the server's development PKI")
      ->capture_default_str();
  app.add_option("--mode", options.mode_name, "what the timed phase calls")
      ->check(CLI::IsMember({"submit", "complete", "read"}))
      ->capture_default_str();
  app.add_option("--clients", options.clients, "client threads")
      ->check(Positive())
      ->capture_default_str();
  app.add_option("--duration", options.duration_s, "seconds of the timed phase")
      ->check(Positive())
      ->capture_default_str();
  app.add_option("--rate", options.rate, "calls per second in total; 0: a closed loop")
      ->check(Positive(/*zero_ok=*/true))
      ->capture_default_str();
  app.add_option("--channels", options.channels, "channels (TCP connections) per identity")
      ->check(Positive())
      ->capture_default_str();
  app.add_option("--warmup", options.warmup_s, "seconds sent but not counted, first")
      ->check(Positive(/*zero_ok=*/true))
      ->capture_default_str();
  app.add_option("--preload", options.preload,
                 "dossiers submitted before the timed phase (default: by mode)")
      ->check(Positive(/*zero_ok=*/true));
  app.add_option("--read-existing", options.read_existing,
                 "read mode: also read up to N dossiers already in the store")
      ->check(Positive(/*zero_ok=*/true));
  app.add_option("--timeout", options.timeout_s, "deadline of each call, seconds")
      ->check(Positive())
      ->capture_default_str();
  app.add_flag("--insecure", options.insecure, "no TLS (server started with --insecure)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 64;
  }
  options.mode = options.mode_name == "complete" ? Mode::kComplete
                 : options.mode_name == "read"   ? Mode::kRead
                                                 : Mode::kSubmit;
  return options;
}

// ------------------------------------------------------------- connections

using Metadata = std::vector<std::pair<std::string, std::string>>;

// A dev PKI client's channels, and what every call as that client carries.
struct Identity {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  // Without TLS (--insecure) the server sees no certificate: the caller names
  // itself in metadata, with the words of the certificate it would present.
  Metadata metadata;
};

absl::StatusOr<Metadata> InsecureIdentity(const std::string& cert_path) {
  std::ifstream in(cert_path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", cert_path));
  std::ostringstream pem;
  pem << in.rdbuf();
  absl::StatusOr<workflow::Principal> principal = adapters::PrincipalFromCertificatePem(pem.str());
  if (!principal.ok()) return principal.status();
  const std::string role =
      absl::AsciiStrToLower(absl::StripPrefix(v1::Role_Name(principal->role), "ROLE_"));
  Metadata metadata = {{"x-motcua-subject", principal->subject}, {"x-motcua-role", role}};
  if (!principal->unit.empty()) metadata.emplace_back("x-motcua-unit", principal->unit);
  if (!principal->position.empty()) {
    metadata.emplace_back("x-motcua-position", principal->position);
  }
  return metadata;
}

// `count` channels acting as dev PKI client `name`. Distinct channel
// arguments keep gRPC from sharing one subchannel (one TCP connection)
// between them.
absl::StatusOr<Identity> Connect(const Options& options, const std::string& name, int count) {
  const adapters::ClientIdentityFiles files = adapters::DevClientFiles(options.pki_dir, name);
  Identity identity;
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (options.insecure) {
    credentials = grpc::InsecureChannelCredentials();
    absl::StatusOr<Metadata> metadata = InsecureIdentity(files.cert);
    if (!metadata.ok()) return metadata.status();
    identity.metadata = *std::move(metadata);
  } else {
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> tls =
        adapters::ClientCredentials(files);
    if (!tls.ok()) return tls.status();
    credentials = *std::move(tls);
  }
  for (int i = 0; i < count; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("motcua.channel_index", i);
    identity.channels.push_back(grpc::CreateCustomChannel(options.server, credentials, args));
  }
  // Connect now, so the TLS handshakes are not part of the first calls.
  const auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(10);
  for (const auto& channel : identity.channels) {
    if (!channel->WaitForConnected(deadline)) {
      return absl::UnavailableError(
          absl::StrCat("cannot connect to ", options.server, " as ", name));
    }
  }
  return identity;
}

std::string RandomHex(int bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), bytes) != 1) {
    std::random_device device;
    for (auto& c : raw) c = static_cast<char>(device());
  }
  return absl::BytesToHexString(raw);
}

const char* CodeName(int code) {
  static constexpr const char* kNames[] = {"OK",
                                           "CANCELLED",
                                           "UNKNOWN",
                                           "INVALID_ARGUMENT",
                                           "DEADLINE_EXCEEDED",
                                           "NOT_FOUND",
                                           "ALREADY_EXISTS",
                                           "PERMISSION_DENIED",
                                           "RESOURCE_EXHAUSTED",
                                           "FAILED_PRECONDITION",
                                           "ABORTED",
                                           "OUT_OF_RANGE",
                                           "UNIMPLEMENTED",
                                           "INTERNAL",
                                           "UNAVAILABLE",
                                           "DATA_LOSS",
                                           "UNAUTHENTICATED"};
  return code >= 0 && code <= 16 ? kNames[code] : "?";
}

// ------------------------------------------------------------------ engine

// One call in flight; it is its own completion-queue tag. All three timed
// RPCs return a Dossier.
struct Call {
  grpc::ClientContext context;
  v1::Dossier response;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<v1::Dossier>> reader;
  // When the call should have been sent: its slot in the schedule (open
  // loop) or the moment it was sent (closed loop).
  Clock::time_point intended;
};

// What a phase sends.
class Workload {
 public:
  explicit Workload(Metadata metadata) : metadata_(std::move(metadata)) {}
  virtual ~Workload() = default;
  // Starts one call for `client` on `cq`, with `call` as the tag (the
  // reader goes in call->reader). False when there is nothing left to send.
  virtual bool Start(int client, Call* call, grpc::CompletionQueue* cq) = 0;
  // Sees every finished call, on its client's thread.
  virtual void Done(int /*client*/, const Call& /*call*/) {}

 protected:
  void AddMetadata(Call* call) const {
    for (const auto& [key, value] : metadata_) call->context.AddMetadata(key, value);
  }

 private:
  const Metadata metadata_;
};

struct Phase {
  int clients = 1;
  double rate = 0;  // 0: closed loop
  Clock::time_point start;
  // Calls intended before this are sent but not recorded (warmup).
  Clock::time_point measure_from;
  // No call is sent at or after this.
  Clock::time_point end;
  std::chrono::milliseconds timeout{10000};
};

struct ClientStats {
  int64_t ok = 0;
  std::vector<int64_t> latencies_ns;  // of the recorded ok calls
  std::map<int, int64_t> errors;      // recorded failed calls, by gRPC code
  Clock::time_point last_completion;
  bool ran_out = false;  // the workload had nothing more to send
};

void RunClient(int index, const Phase& phase, Workload& workload, ClientStats* stats) {
  grpc::CompletionQueue cq;
  int64_t outstanding = 0;
  bool sending = true;
  const bool open_loop = phase.rate > 0;
  // Slots: client i sends at start + (i + k*N) / R.
  const auto interval = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(open_loop ? phase.clients / phase.rate : 0));
  Clock::time_point next =
      phase.start + std::chrono::duration_cast<Clock::duration>(
                        std::chrono::duration<double>(open_loop ? index / phase.rate : 0));

  auto send = [&](Clock::time_point intended) {
    auto* call = new Call;
    call->intended = intended;
    call->context.set_deadline(std::chrono::system_clock::now() + phase.timeout);
    if (!workload.Start(index, call, &cq)) {
      delete call;
      sending = false;
      stats->ran_out = true;
      return;
    }
    ++outstanding;
  };
  auto finish = [&](void* tag) {
    auto* call = static_cast<Call*>(tag);
    const Clock::time_point now = Clock::now();
    --outstanding;
    stats->last_completion = now;
    if (call->intended >= phase.measure_from) {
      if (call->status.ok()) {
        ++stats->ok;
        stats->latencies_ns.push_back(
            std::chrono::duration_cast<std::chrono::nanoseconds>(now - call->intended).count());
      } else {
        ++stats->errors[call->status.error_code()];
      }
    }
    workload.Done(index, *call);
    delete call;
  };

  if (!open_loop) {
    std::this_thread::sleep_until(phase.start);
    if (Clock::now() < phase.end) send(Clock::now());
  }
  void* tag;
  bool ok;
  while (sending || outstanding > 0) {
    if (open_loop && sending) {
      const Clock::time_point now = Clock::now();
      if (next >= phase.end) {
        sending = false;
        continue;
      }
      if (next <= now) {
        // Late slots are sent at once, still timed from their slot.
        send(next);
        next += interval;
        continue;
      }
      const auto wait = std::chrono::system_clock::now() + (next - now);
      const auto result = cq.AsyncNext(&tag, &ok, wait);
      if (result == grpc::CompletionQueue::GOT_EVENT) finish(tag);
      continue;
    }
    if (outstanding == 0) break;
    if (!cq.Next(&tag, &ok)) break;
    finish(tag);
    if (!open_loop && sending) {
      const Clock::time_point now = Clock::now();
      if (now < phase.end) {
        send(now);
      } else {
        sending = false;
      }
    }
  }
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

std::vector<ClientStats> RunPhase(const Phase& phase, Workload& workload) {
  std::vector<ClientStats> stats(phase.clients);
  std::vector<std::thread> threads;
  for (int i = 0; i < phase.clients; ++i) {
    threads.emplace_back(RunClient, i, std::cref(phase), std::ref(workload), &stats[i]);
  }
  for (auto& thread : threads) thread.join();
  return stats;
}

// --------------------------------------------------------------- workloads

// Unique request ids: one random prefix per run, then client and counter.
class RequestIds {
 public:
  RequestIds() : prefix_(RandomHex(8)) {}
  std::string Next(int client, int64_t n) const {
    return absl::StrCat(prefix_, "-", client, "-", n);
  }

 private:
  std::string prefix_;
};

class SubmitWorkload : public Workload {
 public:
  // Submits at most `limit` dossiers (unbounded when negative). With
  // `keep`, the dossiers that were created are kept for a later phase.
  SubmitWorkload(const Identity& identity, int clients, int64_t limit, bool keep)
      : Workload(identity.metadata),
        limit_(limit),
        keep_(keep),
        per_client_(clients),
        kept_(clients) {
    for (auto& channel : identity.channels) stubs_.push_back(v1::DossierService::NewStub(channel));
  }

  bool Start(int client, Call* call, grpc::CompletionQueue* cq) override {
    const int64_t n = issued_.fetch_add(1);
    if (limit_ >= 0 && n >= limit_) return false;
    const int64_t mine = per_client_[client]++;
    v1::SubmitDossierRequest request;
    request.set_procedure_code(kProcedure);
    request.set_unit_code(kUnit);
    request.set_channel(v1::CHANNEL_ONLINE);
    request.set_request_id(ids_.Next(client, mine));
    v1::Applicant* applicant = request.mutable_applicant();
    applicant->set_id_number(absl::StrFormat("0011%08d", n % 100000000));
    applicant->set_full_name("Nguyễn Văn An");
    auto& form = *request.mutable_form();
    form["diploma_type"] = "Bằng tốt nghiệp trung học phổ thông";
    form["diploma_serial"] = absl::StrFormat("B%07d", n % 10000000);
    form["graduation_year"] = absl::StrCat(2000 + n % 25);
    form["school"] = "Trường THPT Chu Văn An";
    AddMetadata(call);
    call->reader =
        stubs_[client % stubs_.size()]->PrepareAsyncSubmitDossier(&call->context, request, cq);
    call->reader->StartCall();
    call->reader->Finish(&call->response, &call->status, call);
    return true;
  }

  void Done(int client, const Call& call) override {
    if (keep_ && call.status.ok()) kept_[client].push_back(call.response);
  }

  // The dossiers created, in no particular order. Call after the phase.
  std::vector<v1::Dossier> TakeDossiers() {
    std::vector<v1::Dossier> all;
    for (auto& list : kept_) {
      for (auto& dossier : list) all.push_back(std::move(dossier));
      list.clear();
    }
    return all;
  }

 private:
  const int64_t limit_;
  const bool keep_;
  RequestIds ids_;
  std::atomic<int64_t> issued_{0};
  std::vector<std::unique_ptr<v1::DossierService::Stub>> stubs_;
  std::vector<int64_t> per_client_;             // touched by its client only
  std::vector<std::vector<v1::Dossier>> kept_;  // touched by its client only
};

// Approves each pooled dossier's intake task once.
class CompleteWorkload : public Workload {
 public:
  CompleteWorkload(const Identity& identity, std::vector<v1::Dossier> pool)
      : Workload(identity.metadata), pool_(std::move(pool)) {
    for (auto& channel : identity.channels) stubs_.push_back(v1::TaskService::NewStub(channel));
  }

  bool Start(int client, Call* call, grpc::CompletionQueue* cq) override {
    const int64_t n = next_.fetch_add(1);
    if (n >= static_cast<int64_t>(pool_.size())) return false;
    const v1::Dossier& dossier = pool_[n];
    v1::CompleteTaskRequest request;
    request.set_task_id(dossier.task().id());
    request.set_expected_version(dossier.version());
    request.set_decision(v1::DECISION_APPROVE);
    request.set_request_id(ids_.Next(client, n));
    AddMetadata(call);
    call->reader =
        stubs_[client % stubs_.size()]->PrepareAsyncCompleteTask(&call->context, request, cq);
    call->reader->StartCall();
    call->reader->Finish(&call->response, &call->status, call);
    return true;
  }

 private:
  const std::vector<v1::Dossier> pool_;
  RequestIds ids_;
  std::atomic<int64_t> next_{0};
  std::vector<std::unique_ptr<v1::TaskService::Stub>> stubs_;
};

// Reads random pooled dossiers.
class ReadWorkload : public Workload {
 public:
  ReadWorkload(const Identity& identity, std::vector<std::string> codes, int clients)
      : Workload(identity.metadata), codes_(std::move(codes)) {
    for (auto& channel : identity.channels) stubs_.push_back(v1::DossierService::NewStub(channel));
    for (int i = 0; i < clients; ++i) random_.emplace_back(0x6d6f74637561ULL + i);
  }

  bool Start(int client, Call* call, grpc::CompletionQueue* cq) override {
    std::uniform_int_distribution<size_t> pick(0, codes_.size() - 1);
    v1::GetDossierRequest request;
    request.set_code(codes_[pick(random_[client])]);
    AddMetadata(call);
    call->reader =
        stubs_[client % stubs_.size()]->PrepareAsyncGetDossier(&call->context, request, cq);
    call->reader->StartCall();
    call->reader->Finish(&call->response, &call->status, call);
    return true;
  }

 private:
  const std::vector<std::string> codes_;
  std::vector<std::unique_ptr<v1::DossierService::Stub>> stubs_;
  std::vector<std::mt19937_64> random_;  // one per client: no sharing
};

// ------------------------------------------------------------------ report

// Nearest-rank percentile of sorted values.
double PercentileMs(const std::vector<int64_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(q * sorted.size()));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1] / 1e6;
}

struct Summary {
  int64_t ok = 0;
  std::map<int, int64_t> errors;
  int64_t error_total = 0;
  std::vector<int64_t> latencies_ns;
  double elapsed_s = 0;
  bool ran_out = false;
};

Summary Summarize(std::vector<ClientStats>& stats, const Phase& phase) {
  Summary s;
  Clock::time_point last = phase.measure_from;
  for (auto& c : stats) {
    s.ok += c.ok;
    for (const auto& [code, n] : c.errors) {
      s.errors[code] += n;
      s.error_total += n;
    }
    s.latencies_ns.insert(s.latencies_ns.end(), c.latencies_ns.begin(), c.latencies_ns.end());
    last = std::max(last, c.last_completion);
    s.ran_out = s.ran_out || c.ran_out;
  }
  std::sort(s.latencies_ns.begin(), s.latencies_ns.end());
  // Throughput is over the measured window up to the last reply: a little
  // after the window's end for a closed loop, up to --timeout after it when
  // an open loop overloads the server.
  s.elapsed_s = std::chrono::duration<double>(last - phase.measure_from).count();
  return s;
}

// `pool`: dossiers submitted before the timed phase; `existing`: dossiers
// found already in the store.
void Report(const Options& options, const Summary& s, int64_t pool, int64_t existing) {
  const double throughput = s.elapsed_s > 0 ? s.ok / s.elapsed_s : 0;
  const auto& l = s.latencies_ns;
  std::vector<std::string> errors;
  for (const auto& [code, n] : s.errors) errors.push_back(absl::StrCat(CodeName(code), "=", n));
  const std::string rate =
      options.rate > 0 ? absl::StrFormat("%.0f/s (open loop)", options.rate) : "max (closed loop)";

  std::printf("mode          %s\n", options.mode_name.c_str());
  std::printf("clients       %d on %d channel(s)\n", options.clients, options.channels);
  std::printf("rate target   %s\n", rate.c_str());
  std::printf("duration      %.1f s measured after %.1f s warmup; last reply %.2f s in\n",
              options.duration_s, options.warmup_s, s.elapsed_s);
  if (pool > 0) std::printf("preloaded     %lld dossiers\n", static_cast<long long>(pool));
  if (existing > 0) {
    std::printf("existing      %lld dossiers read from the store\n",
                static_cast<long long>(existing));
  }
  std::printf("calls ok      %lld\n", static_cast<long long>(s.ok));
  std::printf("errors        %s\n", errors.empty() ? "none" : absl::StrJoin(errors, " ").c_str());
  std::printf("throughput    %.1f ok/s\n", throughput);
  std::printf("latency ms    p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n",
              PercentileMs(l, 0.5), PercentileMs(l, 0.9), PercentileMs(l, 0.99),
              PercentileMs(l, 0.999), l.empty() ? 0.0 : l.back() / 1e6);
  if (s.ran_out) {
    std::printf("note          the preloaded pool ran out before the end; raise --preload\n");
  }
  std::printf(
      "RESULT mode=%s clients=%d channels=%d rate=%.0f duration_s=%.1f warmup_s=%.1f "
      "elapsed_s=%.2f ok=%lld errors=%lld throughput=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f "
      "p999_ms=%.3f max_ms=%.3f exhausted=%d\n",
      options.mode_name.c_str(), options.clients, options.channels, options.rate,
      options.duration_s, options.warmup_s, s.elapsed_s, static_cast<long long>(s.ok),
      static_cast<long long>(s.error_total), throughput, PercentileMs(l, 0.5), PercentileMs(l, 0.9),
      PercentileMs(l, 0.99), PercentileMs(l, 0.999), l.empty() ? 0.0 : l.back() / 1e6,
      s.ran_out ? 1 : 0);
  std::fflush(stdout);
}

// -------------------------------------------------------------------- main

Phase TimedPhase(const Options& options) {
  Phase phase;
  phase.clients = options.clients;
  phase.rate = options.rate;
  // A short lead so every thread is waiting before the first slot.
  phase.start = Clock::now() + std::chrono::milliseconds(50);
  const auto warmup =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.warmup_s));
  const auto duration = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(options.duration_s));
  phase.measure_from = phase.start + warmup;
  phase.end = phase.measure_from + duration;
  phase.timeout = std::chrono::milliseconds(static_cast<int64_t>(options.timeout_s * 1000));
  return phase;
}

// Submits the dossiers the timed phase works on, as fast as the server
// takes them. `count` < 0: for `seconds` instead.
absl::StatusOr<std::vector<v1::Dossier>> Preload(const Options& options, int64_t count,
                                                 double seconds) {
  absl::StatusOr<Identity> portal = Connect(options, "portal", options.channels);
  if (!portal.ok()) return portal.status();
  const int clients = std::max(options.clients, 8);
  SubmitWorkload submit(*portal, clients, count, /*keep=*/true);
  Phase phase;
  phase.clients = clients;
  phase.start = phase.measure_from = Clock::now();
  phase.end = count >= 0 ? Clock::time_point::max()
                         : phase.start + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(seconds));
  phase.timeout = std::chrono::milliseconds(static_cast<int64_t>(options.timeout_s * 1000));
  std::fprintf(stderr, "preloading %s...\n",
               count >= 0 ? absl::StrCat(count, " dossiers").c_str()
                          : absl::StrFormat("for %.0f s", seconds).c_str());
  std::vector<ClientStats> stats = RunPhase(phase, submit);
  Summary s = Summarize(stats, phase);
  std::vector<v1::Dossier> dossiers = submit.TakeDossiers();
  std::fprintf(stderr, "preloaded %zu dossiers in %.1f s (%lld errors)\n", dossiers.size(),
               s.elapsed_s, static_cast<long long>(s.error_total));
  if (dossiers.empty()) {
    std::string errors;
    for (const auto& [code, n] : s.errors) absl::StrAppend(&errors, " ", CodeName(code), "=", n);
    return absl::UnavailableError(absl::StrCat("preload created no dossier;", errors));
  }
  return dossiers;
}

// Codes of up to `limit` dossiers already in the store, newest first. Slow
// for millions (500 per page); newest first also means the sample leans to
// recently written keys when `limit` is below the store's size.
absl::StatusOr<std::vector<std::string>> ListExisting(const Identity& auditor, int64_t limit) {
  std::unique_ptr<v1::DossierService::Stub> stub =
      v1::DossierService::NewStub(auditor.channels.front());
  std::vector<std::string> codes;
  v1::ListDossiersRequest request;
  request.set_page_size(500);
  const Clock::time_point start = Clock::now();
  do {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    for (const auto& [key, value] : auditor.metadata) context.AddMetadata(key, value);
    v1::ListDossiersResponse page;
    const grpc::Status status = stub->ListDossiers(&context, request, &page);
    if (!status.ok()) {
      return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                          absl::StrCat("listing existing dossiers: ", status.error_message()));
    }
    for (const auto& dossier : page.dossiers()) {
      if (static_cast<int64_t>(codes.size()) >= limit) break;
      codes.push_back(dossier.code());
    }
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty() && static_cast<int64_t>(codes.size()) < limit);
  std::fprintf(stderr, "found %zu existing dossiers in %.1f s\n", codes.size(),
               std::chrono::duration<double>(Clock::now() - start).count());
  return codes;
}

int Main(int argc, char** argv) {
  std::variant<Options, int> parsed = ParseOptions(argc, argv);
  if (const int* exit = std::get_if<int>(&parsed)) return *exit;
  const Options& options = std::get<Options>(parsed);
  std::unique_ptr<Workload> workload;
  int64_t pool = 0;
  int64_t existing = 0;

  switch (options.mode) {
    case Mode::kSubmit: {
      absl::StatusOr<Identity> portal = Connect(options, "portal", options.channels);
      if (!portal.ok()) {
        std::fprintf(stderr, "error: %s\n", portal.status().ToString().c_str());
        return 2;
      }
      workload = std::make_unique<SubmitWorkload>(*portal, options.clients, -1, false);
      break;
    }
    case Mode::kComplete: {
      // Each completion uses up a dossier. At a fixed rate the need is known;
      // in a closed loop submits for 1.5 times as long as the timed phase,
      // since a submit costs about what a completion does.
      int64_t count = options.preload;
      if (count <= 0 && options.rate > 0) {
        count = static_cast<int64_t>(options.rate * (options.warmup_s + options.duration_s) * 1.1) +
                options.clients;
      }
      absl::StatusOr<std::vector<v1::Dossier>> dossiers =
          Preload(options, count > 0 ? count : -1, 1.5 * (options.warmup_s + options.duration_s));
      if (!dossiers.ok()) {
        std::fprintf(stderr, "error: %s\n", dossiers.status().ToString().c_str());
        return 2;
      }
      pool = static_cast<int64_t>(dossiers->size());
      absl::StatusOr<Identity> receiver = Connect(options, "receiver", options.channels);
      if (!receiver.ok()) {
        std::fprintf(stderr, "error: %s\n", receiver.status().ToString().c_str());
        return 2;
      }
      workload = std::make_unique<CompleteWorkload>(*receiver, *std::move(dossiers));
      break;
    }
    case Mode::kRead: {
      absl::StatusOr<Identity> auditor = Connect(options, "auditor", options.channels);
      if (!auditor.ok()) {
        std::fprintf(stderr, "error: %s\n", auditor.status().ToString().c_str());
        return 2;
      }
      std::vector<std::string> codes;
      if (options.read_existing > 0) {
        absl::StatusOr<std::vector<std::string>> found =
            ListExisting(*auditor, options.read_existing);
        if (!found.ok()) {
          std::fprintf(stderr, "error: %s\n", found.status().ToString().c_str());
          return 2;
        }
        codes = *std::move(found);
        existing = static_cast<int64_t>(codes.size());
      }
      const int64_t count =
          options.preload >= 0 ? options.preload : (options.read_existing > 0 ? 0 : 1000);
      if (count > 0) {
        absl::StatusOr<std::vector<v1::Dossier>> dossiers = Preload(options, count, 0);
        if (!dossiers.ok()) {
          std::fprintf(stderr, "error: %s\n", dossiers.status().ToString().c_str());
          return 2;
        }
        pool = static_cast<int64_t>(dossiers->size());
        for (const auto& d : *dossiers) codes.push_back(d.code());
      }
      if (codes.empty()) {
        std::fprintf(stderr, "error: no dossier to read (use --preload or --read-existing)\n");
        return 2;
      }
      workload = std::make_unique<ReadWorkload>(*auditor, std::move(codes), options.clients);
      break;
    }
  }

  const Phase phase = TimedPhase(options);
  std::fprintf(stderr, "running %s for %.1f s (+%.1f s warmup)...\n", options.mode_name.c_str(),
               options.duration_s, options.warmup_s);
  std::vector<ClientStats> stats = RunPhase(phase, *workload);
  Report(options, Summarize(stats, phase), pool, existing);
  return 0;
}

}  // namespace
}  // namespace motcua::bench

int main(int argc, char** argv) { return motcua::bench::Main(argc, argv); }
