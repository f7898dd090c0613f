// motcua_sign_bench: how many one-page diplomas signing/ renders, signs and
// verifies per second, in process, on all cores.
//
//   motcua_sign_bench --pki-dir DIR [--threads N] [--seconds S] [--warmup S]
//                     [--runs a,b,...] [--samples-dir DIR]
//                     [--pkcs11-module SO --token-label L --key-label K
//                      --pin PIN [--chain PEM]]
//
// Runs (--runs; default all that can run):
//   render              the diploma template (workflow/templates/diploma_thpt) with
//                       Vietnamese data, a new holder each time
//   render_table        a four-page table from a template (a transcript's size:
//                       as many rows of subjects and results as fill four pages,
//                       the header repeated on each)
//   render_table_sign   render_table, then the officer's visible signature in the
//                       table's slot on its last page
//   sign                SignPdf of one rendered diploma: the officer's visible
//                       signature in the diploma's signer slot, PKCS#12 key
//   render_sign         both, as the engine issues a diploma
//   render_sign_seal    render_sign, then the unit's seal (Decree 30/2020 Art. 32)
//   sign_pkcs11         as sign, the key on a PKCS#11 token (one session per thread)
//   render_sign_pkcs11  as render_sign, the key on the token
//   verify              VerifyPdf of the signed diploma, revocation checking off
// Keys are RSA-2048: signers/head.p12 and signers/seal-HN-SGDDT.p12 of the
// development PKI (EnsureDevPki, created if missing); the token key is the
// one the --pkcs11-* flags name (scripts/bench-signing.sh imports head.key
// into a fresh SoftHSM2 token).
//
// --samples-dir writes diploma.pdf (unsigned), diploma-signed.pdf (the
// officer) and diploma-sealed.pdf (then the seal), and prints the signer
// slot (PDF points) so other signers can sign the same file in the same place.
//
// Prints one line per run:
//   RESULT name=... threads=N count=... seconds=... rate=... p50_ms=...
//          p99_ms=... cpu_ms_per_doc=... rss_peak_mib=...
// Latency is per document (one call on one thread). cpu_ms_per_doc is the
// process's user+system time over the run divided by its count: on a shared
// machine it moves less than the rate. rss_peak_mib is getrusage's
// ru_maxrss, the process's peak so far (it never goes down between runs).
// Each run is preceded by --warmup seconds that are not counted.
//
// A benchmark, not a test: it only checks that every call succeeds and that
// the signed samples verify. Figures go to docs/BENCHMARKS.md.

#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "signing/dev/dev_pki.h"
#include "signing/documents.h"
#include "signing/pades.h"
#include "signing/signing_key.h"
#include "signing/trust_store.h"
#include "signing/verifier.h"
#include "tests/signing/sample_documents.h"

namespace motcua::signing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kOfficer[] = "head";
constexpr char kSeal[] = "seal-HN-SGDDT";
const char* const kAllRuns[] = {
    "render", "render_table", "render_table_sign", "sign", "render_sign", "render_sign_seal", "sign_pkcs11",
    "render_sign_pkcs11", "verify", "verify_three"};

struct Options {
  std::string pki_dir;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  double seconds = 10;
  double warmup = 1;
  std::vector<std::string> runs;  // empty: all that can run
  std::string samples_dir;
  Pkcs11KeyRef token;  // token_label empty: no token runs
};

[[noreturn]] void Die(const std::string& what, const absl::Status& status) {
  std::cerr << "motcua_sign_bench: " << what << ": " << status << "\n";
  std::exit(1);
}

template <typename T>
T OrDie(absl::StatusOr<T> value, const std::string& what) {
  if (!value.ok()) Die(what, value.status());
  return *std::move(value);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Die(path, absl::NotFoundError("cannot read"));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
  out.close();
  if (!out) Die(path, absl::InternalError("cannot write"));
}

// Realistic content; `i` varies the holder and numbers, so every document
// (and its reference and QR code) is different, as in production.
DocumentData SampleDiploma(int64_t i) {
  static const char* const kNames[] = {"Nguyễn Thị Hồng Nhung", "Trần Văn Đức",    "Lê Hoàng Yến",
                                       "Phạm Quốc Bảo",         "Đỗ Thị Thu Hằng", "Vũ Minh Khôi"};
  static const char* const kSchools[] = {"Trường THPT Chu Văn An", "Trường THPT Kim Liên",
                                         "Trường THPT Việt Đức"};
  DocumentData d = samples::DiplomaData();
  d.fields["dossier.code"] = absl::StrFormat("HN-SGDDT-20261123-%06d", i % 1000000);
  d.fields["graduate.full_name"] = kNames[i % 6];
  d.fields["graduate.date_of_birth"] = absl::StrFormat("%02d/%02d/2008", 1 + i % 28, 1 + i % 12);
  d.fields["graduate.school"] = kSchools[i % 3];
  d.fields["graduate.classification"] = i % 2 ? "Khá" : "Giỏi";
  d.fields["diploma.serial"] = absl::StrFormat("A%07d", i % 10000000);
  d.fields["diploma.register_number"] = absl::StrFormat("2026/THPT-%05d", i % 100000);
  return d;
}

// What the engine asks for when the director signs a diploma: the officer's
// image and name in the signer slot; then, optionally, the unit's seal.
struct Requests {
  SignatureRequest officer;
  SignatureRequest seal;
};

Requests MakeRequests(const RenderedDocument& rendered, const std::string& pki_dir) {
  auto slot = std::find_if(rendered.slots.begin(), rendered.slots.end(),
                           [](const SignatureSlot& s) { return s.signer == v1::SIGNER_ACTOR; });
  if (slot == rendered.slots.end()) Die("diploma", absl::InternalError("no signer slot"));
  OfficerAppearance officer;
  officer.page = slot->page;
  officer.box = {slot->x, slot->y, slot->width, slot->height};
  officer.signature_png = ReadFile(pki_dir + "/images/" + kOfficer + "-signature.png");
  officer.signer_name = "Nguyễn Văn Đức";
  Requests r;
  r.officer.field_name = "Officer";
  r.officer.reason = "Cấp bằng tốt nghiệp";
  r.officer.location = "Hà Nội";
  r.officer.appearance = officer;
  SealAppearance seal;
  seal.page = slot->page;
  seal.box = OrDie(SealBoxFor(officer), "SealBoxFor");
  seal.seal_png = ReadFile(pki_dir + "/images/HN-SGDDT-seal.png");
  r.seal.field_name = "Seal";
  r.seal.reason = "Đóng dấu";
  r.seal.appearance = seal;
  return r;
}

SignatureRequest At(SignatureRequest request) {
  request.signing_time = absl::Now();
  return request;
}

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double PeakRssMib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;  // KiB on Linux
}

// One document's work on thread `thread`; `i` is unique across threads.
using Work = std::function<absl::Status(int thread, int64_t i)>;

// Runs `work` on `threads` threads until `seconds` have passed; returns the
// latencies in milliseconds.
std::vector<double> RunFor(int threads, double seconds, const Work& work) {
  std::atomic<int64_t> next{0};
  const Clock::time_point end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                   std::chrono::duration<double>(seconds));
  std::vector<std::vector<double>> per_thread(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      while (Clock::now() < end) {
        const Clock::time_point start = Clock::now();
        absl::Status status = work(t, next++);
        if (!status.ok()) Die("document", status);
        per_thread[t].push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - start).count());
      }
    });
  }
  for (std::thread& w : workers) w.join();
  std::vector<double> all;
  for (const std::vector<double>& v : per_thread) all.insert(all.end(), v.begin(), v.end());
  return all;
}

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t at = static_cast<size_t>(p * (sorted.size() - 1) + 0.5);
  return sorted[std::min(at, sorted.size() - 1)];
}

void Measure(const std::string& name, const Options& options, const Work& work) {
  if (options.warmup > 0) RunFor(options.threads, options.warmup, work);
  const double cpu0 = CpuSeconds();
  const Clock::time_point t0 = Clock::now();
  std::vector<double> latencies = RunFor(options.threads, options.seconds, work);
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu = CpuSeconds() - cpu0;
  std::sort(latencies.begin(), latencies.end());
  const size_t n = latencies.size();
  std::cout << absl::StrFormat(
                   "RESULT name=%s threads=%d count=%d seconds=%.2f rate=%.1f p50_ms=%.2f "
                   "p99_ms=%.2f cpu_ms_per_doc=%.2f rss_peak_mib=%.0f",
                   name, options.threads, n, elapsed, n / elapsed, Percentile(latencies, 0.50),
                   Percentile(latencies, 0.99), n ? cpu * 1000 / n : 0.0, PeakRssMib())
            << std::endl;
}

bool Wanted(const Options& options, const std::string& run) {
  if (options.runs.empty()) {
    return !options.token.token_label.empty() || run.find("pkcs11") == std::string::npos;
  }
  return std::find(options.runs.begin(), options.runs.end(), run) != options.runs.end();
}

int Main(int argc, char** argv) {
  Options options;
  options.token.module_path = "/usr/lib/softhsm/libsofthsm2.so";
  CLI::App app(
      "motcua_sign_bench: how many one-page diplomas signing/ renders, signs and verifies per "
      "second, in process, on all cores.",
      "motcua_sign_bench");
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--pki-dir", options.pki_dir, "the development PKI (created if missing)")
      ->required();
  app.add_option("--threads", options.threads, "threads signing at once")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--seconds", options.seconds, "length of each run")->capture_default_str();
  app.add_option("--warmup", options.warmup, "seconds before each run, not counted")
      ->capture_default_str();
  std::vector<std::string> runs(std::begin(kAllRuns), std::end(kAllRuns));
  runs.push_back("none");
  app.add_option("--runs", options.runs, "the runs, comma-separated (default: all that can run)")
      ->delimiter(',')
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->check(CLI::IsMember(runs));
  app.add_option("--samples-dir", options.samples_dir,
                 "write diploma.pdf, diploma-signed.pdf, diploma-sealed.pdf here");
  const std::string token = "PKCS#11 token runs";
  app.add_option("--pkcs11-module", options.token.module_path, "the module")
      ->capture_default_str()
      ->group(token);
  app.add_option("--token-label", options.token.token_label, "the token")->group(token);
  app.add_option("--key-label", options.token.key_label, "the officer's key on it")->group(token);
  app.add_option("--pin", options.token.pin, "the user PIN")->group(token);
  app.add_option("--chain", options.token.certificate_chain_path,
                 "the key's certificate chain, PEM")
      ->group(token);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 64;
  }
  if (!(options.seconds > 0) || !(options.warmup >= 0)) {
    std::cerr << "motcua_sign_bench: --seconds must be > 0 and --warmup >= 0\n";
    return 64;
  }

  absl::Status pki = EnsureDevPki(options.pki_dir);
  if (!pki.ok()) Die("EnsureDevPki " + options.pki_dir, pki);
  const std::string signers = options.pki_dir + "/signers/";
  std::unique_ptr<SigningKey> officer_key =
      OrDie(SigningKey::LoadPkcs12(signers + kOfficer + ".p12", kDevPkcs12Password), "officer key");
  std::unique_ptr<SigningKey> seal_key =
      OrDie(SigningKey::LoadPkcs12(signers + kSeal + ".p12", kDevPkcs12Password), "seal key");
  TrustStore trust;
  if (absl::Status s = trust.AddAnchorsFrom(options.pki_dir + "/ca.crt"); !s.ok()) {
    Die("trust store", s);
  }
  VerifyOptions verify_options;
  verify_options.check_revocation = false;

  const std::shared_ptr<const DocumentLayout> diploma = OrDie(
      DocumentLayout::Compile(samples::DiplomaTemplate(), samples::DiplomaCatalog()),
      "the diploma template");
  const RenderedDocument rendered = OrDie(diploma->Render(SampleDiploma(0)), "Render");
  const Requests requests = MakeRequests(rendered, options.pki_dir);
  const std::string signed_pdf =
      OrDie(SignPdf(rendered.pdf, At(requests.officer), *officer_key), "SignPdf");
  // The runs must measure documents that verify, or the figures mean nothing.
  auto check_verifies = [&](const std::string& pdf, const std::string& what) {
    VerificationReport report = OrDie(VerifyPdf(pdf, trust, verify_options), "VerifyPdf");
    if (!report.AllPassed()) Die(what, absl::InternalError(ReportToText(report)));
  };
  const std::string sealed_pdf =
      OrDie(SignPdf(signed_pdf, At(requests.seal), *seal_key), "SignPdf seal");
  check_verifies(signed_pdf, "signed diploma");
  check_verifies(sealed_pdf, "diploma with seal");

  std::cout << "diploma: " << rendered.pdf.size() << " bytes unsigned, " << signed_pdf.size()
            << " signed; threads=" << options.threads << " seconds=" << options.seconds
            << " warmup=" << options.warmup << "\n";
  if (!options.samples_dir.empty()) {
    WriteFile(options.samples_dir + "/diploma.pdf", rendered.pdf);
    WriteFile(options.samples_dir + "/diploma-signed.pdf", signed_pdf);
    WriteFile(options.samples_dir + "/diploma-sealed.pdf", sealed_pdf);
    const SignatureSlot& slot = rendered.slots.front();
    std::cout << absl::StrFormat("SLOT page=%d x=%.2f y=%.2f width=%.2f height=%.2f\n", slot.page,
                                 slot.x, slot.y, slot.width, slot.height);
  }

  auto render = [&](int64_t i) -> absl::StatusOr<RenderedDocument> {
    return diploma->Render(SampleDiploma(i));
  };
  if (Wanted(options, "render")) {
    Measure("render", options, [&](int, int64_t i) { return render(i).status(); });
  }
  if (Wanted(options, "render_table") || Wanted(options, "render_table_sign")) {
    const std::shared_ptr<const DocumentLayout> table = OrDie(
        DocumentLayout::Compile(samples::TableTemplate(), samples::TableCatalog()), "the table");
    // As many rows as fill four pages (the slots are on the last).
    int rows = 40;
    RenderedDocument sample;
    for (int n = 40; n < 400; n += 5) {
      RenderedDocument document = OrDie(table->Render(samples::TableData(n)), "Render table");
      if (document.slots[0].page > 3) break;
      rows = n;
      sample = std::move(document);
    }
    if (sample.slots.empty() || sample.slots[0].page != 3) {
      Die("render_table", absl::InternalError("no row count makes four pages"));
    }
    std::cout << "render_table: " << rows << " rows on 4 pages, " << sample.pdf.size()
              << " bytes\n";
    if (!options.samples_dir.empty()) WriteFile(options.samples_dir + "/table.pdf", sample.pdf);
    auto render_table = [&](int64_t i) {
      DocumentData data = samples::TableData(rows);
      data.fields["document.id"] = absl::StrCat("t", i);
      return table->Render(data);
    };
    if (Wanted(options, "render_table")) {
      Measure("render_table", options, [&](int, int64_t i) { return render_table(i).status(); });
    }
    if (Wanted(options, "render_table_sign")) {
      const SignatureRequest officer = MakeRequests(sample, options.pki_dir).officer;
      check_verifies(OrDie(SignPdf(sample.pdf, At(officer), *officer_key), "SignPdf table"),
                     "signed table");
      Measure("render_table_sign", options, [&](int, int64_t i) -> absl::Status {
        absl::StatusOr<RenderedDocument> doc = render_table(i);
        if (!doc.ok()) return doc.status();
        return SignPdf(doc->pdf, At(officer), *officer_key).status();
      });
    }
  }
  if (Wanted(options, "sign")) {
    Measure("sign", options, [&](int, int64_t) {
      return SignPdf(rendered.pdf, At(requests.officer), *officer_key).status();
    });
  }
  if (Wanted(options, "render_sign")) {
    Measure("render_sign", options, [&](int, int64_t i) -> absl::Status {
      absl::StatusOr<RenderedDocument> doc = render(i);
      if (!doc.ok()) return doc.status();
      return SignPdf(doc->pdf, At(requests.officer), *officer_key).status();
    });
  }
  if (Wanted(options, "render_sign_seal")) {
    Measure("render_sign_seal", options, [&](int, int64_t i) -> absl::Status {
      absl::StatusOr<RenderedDocument> doc = render(i);
      if (!doc.ok()) return doc.status();
      absl::StatusOr<std::string> once = SignPdf(doc->pdf, At(requests.officer), *officer_key);
      if (!once.ok()) return once.status();
      return SignPdf(*once, At(requests.seal), *seal_key).status();
    });
  }
  if (Wanted(options, "sign_pkcs11") || Wanted(options, "render_sign_pkcs11")) {
    if (options.token.token_label.empty()) {
      Die("pkcs11 runs", absl::InvalidArgumentError("--token-label and --key-label are needed"));
    }
    // A token key serialises its signatures on its one session: one key
    // (and session) per thread, as a signing service would keep a pool.
    std::vector<std::unique_ptr<SigningKey>> token_keys;
    for (int t = 0; t < options.threads; ++t) {
      token_keys.push_back(OrDie(SigningKey::OpenPkcs11Key(options.token), "OpenPkcs11Key"));
    }
    check_verifies(
        OrDie(SignPdf(rendered.pdf, At(requests.officer), *token_keys[0]), "SignPdf on the token"),
        "diploma signed on the token");
    if (Wanted(options, "sign_pkcs11")) {
      Measure("sign_pkcs11", options, [&](int t, int64_t) {
        return SignPdf(rendered.pdf, At(requests.officer), *token_keys[t]).status();
      });
    }
    if (Wanted(options, "render_sign_pkcs11")) {
      Measure("render_sign_pkcs11", options, [&](int t, int64_t i) -> absl::Status {
        absl::StatusOr<RenderedDocument> doc = render(i);
        if (!doc.ok()) return doc.status();
        return SignPdf(doc->pdf, At(requests.officer), *token_keys[t]).status();
      });
    }
  }
  auto measure_verify = [&](const std::string& name, const std::string& pdf) {
    std::cout << name << ": revocation checking off (VerifyOptions::check_revocation = false)\n";
    Measure(name, options, [&](int, int64_t) -> absl::Status {
      absl::StatusOr<VerificationReport> report = VerifyPdf(pdf, trust, verify_options);
      if (!report.ok()) return report.status();
      return report->AllPassed() ? absl::OkStatus() : absl::InternalError("verification failed");
    });
  };
  if (Wanted(options, "verify")) measure_verify("verify", signed_pdf);
  if (Wanted(options, "verify_three")) {
    // A document signed by three, each in its own revision, as a transcript
    // is: a teacher (invisibly here), the principal, then the seal.
    std::unique_ptr<SigningKey> teacher_key = OrDie(
        SigningKey::LoadPkcs12(signers + "receiver.p12", kDevPkcs12Password), "teacher key");
    SignatureRequest teacher = requests.officer;
    teacher.field_name = "Teacher";
    teacher.appearance.reset();
    const std::string three = OrDie(
        SignPdf(OrDie(SignPdf(OrDie(SignPdf(rendered.pdf, At(teacher), *teacher_key), "teacher"),
                              At(requests.officer), *officer_key),
                      "principal"),
                At(requests.seal), *seal_key),
        "seal");
    check_verifies(three, "three-signer diploma");
    measure_verify("verify_three", three);
  }
  return 0;
}

}  // namespace
}  // namespace motcua::signing

int main(int argc, char** argv) { return motcua::signing::Main(argc, argv); }
