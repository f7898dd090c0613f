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
using StorePtr = std::unique_ptr<X509_STORE, OpenSslDeleter<X509_STORE_free>>;
void FreeCertStack(STACK_OF(X509) * stack) { sk_X509_free(stack); }  // a macro otherwise
using CertStackPtr = std::unique_ptr<STACK_OF(X509), OpenSslDeleter<FreeCertStack>>;


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

// What a CRL signed by `issuer` says about `cert`; nullopt with `*problem`
// set when the CRL is not from `issuer`, does not verify or is stale.
std::optional<RevocationCheck> ReadCrl(X509_CRL* crl, X509* cert, X509* issuer, absl::Time now,
                                       absl::Duration skew, const std::string& source,
                                       std::string* problem) {
  if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0) {
    *problem = absl::StrCat(source, " is not from the certificate's issuer");
    return std::nullopt;
  }
  EVP_PKEY* key = X509_get0_pubkey(issuer);
  if (key == nullptr || X509_CRL_verify(crl, key) != 1) {
    ERR_clear_error();
    *problem = absl::StrCat(source, " is not signed by the certificate's issuer");
    return std::nullopt;
  }
  std::optional<absl::Time> this_update = AsnTime(X509_CRL_get0_lastUpdate(crl));
  std::optional<absl::Time> next_update = AsnTime(X509_CRL_get0_nextUpdate(crl));
  if (!this_update || *this_update > now + skew) {
    *problem = absl::StrCat(source, " is dated in the future");
    return std::nullopt;
  }
  if (!next_update || *next_update < now - skew) {
    *problem = absl::StrCat(
        source, next_update ? " expired at " + TimeText(*next_update) : " has no nextUpdate");
    return std::nullopt;
  }
  RevocationCheck check;
  check.crls.push_back(ToDer(crl));
  X509_REVOKED* entry = nullptr;
  if (X509_CRL_get0_by_cert(crl, &entry, cert) == 1) {
    check.status = RevocationStatus::kRevoked;
    check.revoked_at = AsnTime(X509_REVOKED_get0_revocationDate(entry));
    auto* reason = static_cast<ASN1_ENUMERATED*>(
        X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, nullptr, nullptr));
    check.reason = reason != nullptr ? static_cast<int>(ASN1_ENUMERATED_get(reason)) : -1;
    ASN1_ENUMERATED_free(reason);
    check.detail = absl::StrCat(
        "revoked at ", check.revoked_at ? TimeText(*check.revoked_at) : "an unknown time",
        check.reason >= 0 ? absl::StrCat(" (", OCSP_crl_reason_str(check.reason), ")") : "",
        " per ", source, " of ", TimeText(*this_update));
  } else {
    check.status = RevocationStatus::kGood;
    check.detail = absl::StrCat("not revoked per ", source, " of ", TimeText(*this_update));
  }
  ERR_clear_error();
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
    int response_status = OCSP_response_status(response.get());
    if (response_status != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
      problems.push_back(
          absl::StrCat(who, " refused: ", OCSP_response_status_str(response_status)));
      continue;
    }
    OcspBasicPtr basic(OCSP_response_get1_basic(response.get()));
    if (basic == nullptr) {
      ERR_clear_error();
      problems.push_back(absl::StrCat(who, " sent no basic response"));
      continue;
    }
    if (options_.ocsp_nonce && OCSP_check_nonce(request.get(), basic.get()) == 0) {
      problems.push_back(absl::StrCat(who, " answered with another nonce (a replayed answer?)"));
      continue;
    }
    // The answer is authoritative when signed by the issuer itself or by a
    // responder the issuer certified for OCSPSigning (RFC 6960 §4.2.2.2):
    // OCSP_basic_verify checks exactly that against a store holding only
    // the issuer, which the caller already trusts.
    StorePtr store(X509_STORE_new());
    CertStackPtr untrusted(sk_X509_new_null());
    X509_STORE_add_cert(store.get(), issuer);
    X509_VERIFY_PARAM* param = X509_STORE_get0_param(store.get());
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
    X509_VERIFY_PARAM_set_time(param, absl::ToTimeT(now));
    sk_X509_push(untrusted.get(), issuer);
    if (OCSP_basic_verify(basic.get(), untrusted.get(), store.get(), 0) != 1) {
      problems.push_back(
          absl::StrCat(who, " sent an answer not signed for the issuer: ", DrainOpenSslErrors()));
      continue;
    }
    int status = -1, reason = -1;
    ASN1_GENERALIZEDTIME *revoked_at = nullptr, *this_update = nullptr, *next_update = nullptr;
    if (OCSP_resp_find_status(basic.get(), id.get(), &status, &reason, &revoked_at, &this_update,
                              &next_update) != 1) {
      ERR_clear_error();
      problems.push_back(absl::StrCat(who, " answered about another certificate"));
      continue;
    }
    std::optional<absl::Time> produced = AsnTime(this_update);
    std::optional<absl::Time> expires = AsnTime(next_update);
    if (!produced || *produced > now + options_.clock_skew) {
      problems.push_back(absl::StrCat(who, " sent an answer dated in the future"));
      continue;
    }
    absl::Time fresh_until = expires ? *expires : *produced + options_.max_ocsp_age;
    if (fresh_until < now - options_.clock_skew) {
      problems.push_back(absl::StrCat(who, " sent a stale answer (", TimeText(*produced), ")"));
      continue;
    }
    RevocationCheck check;
    check.ocsp_responses.push_back(*std::move(answer));
    const std::string when = absl::StrCat(who, " at ", TimeText(*produced));
    if (status == V_OCSP_CERTSTATUS_GOOD) {
      check.status = RevocationStatus::kGood;
      check.detail = "good per " + when;
    } else if (status == V_OCSP_CERTSTATUS_REVOKED) {
      check.status = RevocationStatus::kRevoked;
      check.revoked_at = AsnTime(revoked_at);
      check.reason = reason;
      check.detail = absl::StrCat(
          "revoked at ", check.revoked_at ? TimeText(*check.revoked_at) : "an unknown time",
          reason >= 0 ? absl::StrCat(" (", OCSP_crl_reason_str(reason), ")") : "", " per ", when);
    } else {
      problems.push_back(absl::StrCat(who, " does not know the certificate"));
      continue;
    }
    return check;
  }
  return Unknown(absl::StrJoin(problems, "; "));
}

RevocationCheck RevocationChecker::CheckCrl(X509* cert, X509* issuer, absl::Time now) const {
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
        ReadCrl(crls.front().get(), cert, issuer, now, options_.clock_skew, "CRL " + url, &problem);
    if (check.has_value()) return *std::move(check);
    problems.push_back(problem);
  }
  bool issuer_has_local = false;
  const std::shared_ptr<const Crls> local = LocalCrls();
  for (size_t i = 0; i < local->crls.size(); ++i) {
    X509_CRL* crl = local->crls[i].get();
    if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0) continue;
    issuer_has_local = true;
    std::string problem;
    std::optional<RevocationCheck> check =
        ReadCrl(crl, cert, issuer, now, options_.clock_skew, local->sources[i], &problem);
    if (check.has_value()) return *std::move(check);
    problems.push_back(problem);
  }
  if (!issuer_has_local) problems.push_back("no local CRL from the certificate's issuer");
  return Unknown(absl::StrJoin(problems, "; "));
}

RevocationCheck RevocationChecker::Check(X509* cert, X509* issuer, absl::Time now) const {
  RevocationCheck ocsp = CheckOcsp(cert, issuer, now);
  if (ocsp.status != RevocationStatus::kUnknown) return ocsp;
  RevocationCheck crl = CheckCrl(cert, issuer, now);
  if (crl.status == RevocationStatus::kUnknown) {
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
