#include "signing/revocation.h"

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "signing/openssl_util.h"

namespace motcua::signing {
namespace {

using CrlPtr = std::unique_ptr<X509_CRL, OpenSslDeleter<X509_CRL_free>>;
using OcspRequestPtr = std::unique_ptr<OCSP_REQUEST, OpenSslDeleter<OCSP_REQUEST_free>>;
using OcspResponsePtr = std::unique_ptr<OCSP_RESPONSE, OpenSslDeleter<OCSP_RESPONSE_free>>;
using OcspBasicPtr = std::unique_ptr<OCSP_BASICRESP, OpenSslDeleter<OCSP_BASICRESP_free>>;
using OcspIdPtr = std::unique_ptr<OCSP_CERTID, OpenSslDeleter<OCSP_CERTID_free>>;


std::string ToDer(X509_CRL* crl) {
  unsigned char* der = nullptr;
  int len = i2d_X509_CRL(crl, &der);
  std::string out = len > 0 ? std::string(reinterpret_cast<char*>(der), len) : "";
  OPENSSL_free(der);
  return out;
}

// The CRLs in `data`: PEM blocks, or one DER CRL.
std::vector<CrlPtr> ParseCrls(const std::string& data) {
  std::vector<CrlPtr> crls;
  if (absl::StrContains(data, "-----BEGIN X509 CRL-----")) {
    BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
    while (X509_CRL* crl = PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr)) {
      crls.emplace_back(crl);
    }
  } else {
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    if (X509_CRL* crl = d2i_X509_CRL(nullptr, &p, static_cast<long>(data.size()))) {
      crls.emplace_back(crl);
    }
  }
  ERR_clear_error();
  return crls;
}

RevocationCheck Unknown(std::string detail) {
  RevocationCheck check;
  check.detail = std::move(detail);
  return check;
}

// The checker's answer from evaluated evidence; nullopt with `*problem` set
// when the evidence does not speak for the certificate or is not current.
std::optional<RevocationCheck> Answer(const RevocationEvidence& evidence, absl::Time now,
                                      absl::Duration skew, absl::Duration lifetime,
                                      const std::string& who, std::string* problem) {
  if (evidence.status == RevocationStatus::kUnknown) {
    *problem = absl::StrCat(who, ": ", evidence.problem);
    return std::nullopt;
  }
  if (std::string stale = WhyNotCurrent(evidence, now, skew, lifetime); !stale.empty()) {
    *problem = absl::StrCat(who, ": ", stale);
    return std::nullopt;
  }
  RevocationCheck check;
  check.evidence = evidence;
  const std::string per = absl::StrCat(" per ", who, " (", evidence.source, ")");
  if (evidence.status == RevocationStatus::kGood) {
    check.detail = "good" + per;
  } else {
    check.detail = absl::StrCat(
        "revoked at ", evidence.revoked_at ? TimeText(*evidence.revoked_at) : "an unknown time",
        evidence.reason >= 0 ? absl::StrCat(" (", OCSP_crl_reason_str(evidence.reason), ")") : "",
        per);
  }
  return check;
}

}  // namespace

struct RevocationChecker::Crls {
  std::vector<CrlPtr> crls;
  std::vector<std::string> sources;  // "CRL file <path>", one per CRL
  std::vector<std::filesystem::file_time_type> read_at;  // per file: its mtime when read
};

absl::StatusOr<std::shared_ptr<const RevocationChecker::Crls>> RevocationChecker::ReadCrlFiles(
    const std::vector<std::string>& paths) {
  auto local = std::make_shared<RevocationChecker::Crls>();
  for (const std::string& path : paths) {
    std::error_code ec;
    local->read_at.push_back(std::filesystem::last_write_time(path, ec));
    std::ifstream in(path, std::ios::binary);
    if (ec || !in) return absl::NotFoundError(absl::StrCat("cannot read CRL file ", path));
    std::ostringstream data;
    data << in.rdbuf();
    std::vector<CrlPtr> crls = ParseCrls(data.str());
    if (crls.empty()) return absl::InvalidArgumentError(absl::StrCat(path, " holds no CRL"));
    for (CrlPtr& crl : crls) {
      local->crls.push_back(std::move(crl));
      local->sources.push_back("CRL file " + path);
    }
  }
  return local;
}

RevocationChecker::RevocationChecker(RevocationCheckerOptions options,
                                     std::shared_ptr<const Crls> local)
    : options_(std::move(options)), local_(std::move(local)) {}

RevocationChecker::~RevocationChecker() = default;

absl::StatusOr<std::unique_ptr<RevocationChecker>> RevocationChecker::Create(
    RevocationCheckerOptions options) {
  auto local = ReadCrlFiles(options.crl_files);
  if (!local.ok()) return local.status();
  return std::unique_ptr<RevocationChecker>(
      new RevocationChecker(std::move(options), *std::move(local)));
}

std::shared_ptr<const RevocationChecker::Crls> RevocationChecker::LocalCrls() const {
  absl::MutexLock lock(&local_mutex_);
  bool changed = false;
  for (size_t i = 0; i < options_.crl_files.size() && !changed; ++i) {
    std::error_code ec;
    changed = std::filesystem::last_write_time(options_.crl_files[i], ec) != local_->read_at[i];
  }
  if (changed) {
    // A file caught half-rewritten keeps the CRLs read before.
    auto fresh = ReadCrlFiles(options_.crl_files);
    if (fresh.ok()) local_ = *std::move(fresh);
  }
  return local_;
}

RevocationCheck RevocationChecker::CheckOcsp(X509* cert, X509* issuer, absl::Time now) const {
  std::vector<std::string> urls = OcspUrls(cert);
  if (urls.empty()) return Unknown("the certificate names no OCSP responder");
  std::vector<std::string> problems;
  for (const std::string& url : urls) {
    const std::string who = "OCSP responder " + url;
    OcspRequestPtr request(OCSP_REQUEST_new());
    OcspIdPtr id(OCSP_cert_to_id(EVP_sha1(), cert, issuer));
    OCSP_CERTID* request_id = id != nullptr ? OCSP_CERTID_dup(id.get()) : nullptr;
    if (request == nullptr || request_id == nullptr ||
        OCSP_request_add0_id(request.get(), request_id) == nullptr ||
        (options_.ocsp_nonce && OCSP_request_add1_nonce(request.get(), nullptr, -1) != 1)) {
      return Unknown(absl::StrCat("cannot build an OCSP request: ", DrainOpenSslErrors()));
    }
    unsigned char* der = nullptr;
    int len = i2d_OCSP_REQUEST(request.get(), &der);
    std::string body = len > 0 ? std::string(reinterpret_cast<char*>(der), len) : "";
    OPENSSL_free(der);
    absl::StatusOr<std::string> answer =
        HttpPost(url, "application/ocsp-request", body, "application/ocsp-response", options_.http);
    if (!answer.ok()) {
      problems.push_back(absl::StrCat(who, " unreachable: ", answer.status().message()));
      continue;
    }
    const auto* p = reinterpret_cast<const unsigned char*>(answer->data());
    OcspResponsePtr response(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(answer->size())));
    if (response == nullptr) {
      ERR_clear_error();
      problems.push_back(absl::StrCat(who, " sent something that is not an OCSP response"));
      continue;
    }
    std::string problem;
    std::optional<RevocationCheck> check =
        Answer(EvaluateOcsp(response.get(), cert, issuer, nullptr), now, options_.clock_skew,
               options_.max_ocsp_age, who, &problem);
    if (!check.has_value()) {
      problems.push_back(problem);
      continue;
    }
    // A good answer, but was it to this request? (EvaluateOcsp read a basic
    // response, so there is one.)
    OcspBasicPtr basic(OCSP_response_get1_basic(response.get()));
    if (options_.ocsp_nonce && OCSP_check_nonce(request.get(), basic.get()) == 0) {
      problems.push_back(absl::StrCat(who, " answered with another nonce (a replayed answer?)"));
      continue;
    }
    check->ocsp_responses.push_back(*std::move(answer));
    return *std::move(check);
  }
  return Unknown(absl::StrJoin(problems, "; "));
}

RevocationCheck RevocationChecker::CheckCrl(X509* cert, X509* issuer, absl::Time now) const {
  auto answer = [&](X509_CRL* crl, const std::string& who, std::string* problem) {
    std::optional<RevocationCheck> check = Answer(EvaluateCrl(crl, cert, issuer), now,
                                                  options_.clock_skew, options_.max_ocsp_age, who,
                                                  problem);
    if (check.has_value()) check->crls.push_back(ToDer(crl));
    return check;
  };
  std::vector<std::string> problems;
  for (const std::string& url : CrlUrls(cert)) {
    absl::StatusOr<std::string> data = HttpGet(url, options_.http);
    if (!data.ok()) {
      problems.push_back(
          absl::StrCat("CRL distribution point ", url, " unreachable: ", data.status().message()));
      continue;
    }
    std::vector<CrlPtr> crls = ParseCrls(*data);
    if (crls.empty()) {
      problems.push_back(absl::StrCat("CRL distribution point ", url, " sent no CRL"));
      continue;
    }
    std::string problem;
    std::optional<RevocationCheck> check =
        answer(crls.front().get(), "CRL distribution point " + url, &problem);
    if (check.has_value()) return *std::move(check);
    problems.push_back(problem);
  }
  if (options_.crl_issuer != nullptr) {
    const std::string who = "the CRL issuer in the process";
    absl::StatusOr<std::string> der = options_.crl_issuer->IssueCrl(issuer);
    std::vector<CrlPtr> crls = der.ok() ? ParseCrls(*der) : std::vector<CrlPtr>();
    std::string problem = absl::StrCat(who, " sent no CRL");
    if (!crls.empty()) {
      std::optional<RevocationCheck> check = answer(crls.front().get(), who, &problem);
      if (check.has_value()) return *std::move(check);
    }
    // NOT_FOUND: it does not speak for this issuer, which is no problem.
    if (!der.ok() && !absl::IsNotFound(der.status())) {
      problem = absl::StrCat(who, ": ", der.status().message());
    }
    if (der.ok() || !absl::IsNotFound(der.status())) problems.push_back(problem);
  }
  bool issuer_has_local = false;
  const std::shared_ptr<const Crls> local = LocalCrls();
  for (size_t i = 0; i < local->crls.size(); ++i) {
    X509_CRL* crl = local->crls[i].get();
    if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0) continue;
    issuer_has_local = true;
    std::string problem;
    std::optional<RevocationCheck> check = answer(crl, local->sources[i], &problem);
    if (check.has_value()) return *std::move(check);
    problems.push_back(problem);
  }
  if (!issuer_has_local) problems.push_back("no local CRL from the certificate's issuer");
  return Unknown(absl::StrJoin(problems, "; "));
}

RevocationCheck RevocationChecker::Check(X509* cert, X509* issuer, absl::Time now) const {
  RevocationCheck ocsp = CheckOcsp(cert, issuer, now);
  if (ocsp.evidence.status != RevocationStatus::kUnknown) return ocsp;
  RevocationCheck crl = CheckCrl(cert, issuer, now);
  if (crl.evidence.status == RevocationStatus::kUnknown) {
    crl.detail = absl::StrCat(ocsp.detail, "; ", crl.detail);
  } else {
    absl::StrAppend(&crl.detail, " (", ocsp.detail, ")");
  }
  return crl;
}

absl::StatusOr<std::string> RevocationCheckerFetcher::FetchOcsp(X509* cert, X509* issuer) {
  RevocationCheck check = checker_->CheckOcsp(cert, issuer);
  if (check.ocsp_responses.empty()) return absl::UnavailableError(check.detail);
  return check.ocsp_responses.front();
}

absl::StatusOr<std::string> RevocationCheckerFetcher::FetchCrl(X509* cert, X509* issuer) {
  RevocationCheck check = checker_->CheckCrl(cert, issuer);
  if (check.crls.empty()) return absl::UnavailableError(check.detail);
  return check.crls.front();
}

}  // namespace motcua::signing
