#include "signing/revocation_evidence.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "signing/openssl_util.h"

namespace motcua::signing {
namespace {

using OcspBasicPtr = std::unique_ptr<OCSP_BASICRESP, OpenSslDeleter<OCSP_BASICRESP_free>>;
using OcspIdPtr = std::unique_ptr<OCSP_CERTID, OpenSslDeleter<OCSP_CERTID_free>>;
using StorePtr = std::unique_ptr<X509_STORE, OpenSslDeleter<X509_STORE_free>>;
void FreeCertStack(STACK_OF(X509) * stack) { sk_X509_free(stack); }  // a macro otherwise
using CertStackPtr = std::unique_ptr<STACK_OF(X509), OpenSslDeleter<FreeCertStack>>;

RevocationEvidence Unusable(std::string problem) {
  RevocationEvidence evidence;
  evidence.problem = std::move(problem);
  return evidence;
}

// Evidence times are written in whole seconds; a time-stamp or a clock is
// compared at that precision, or evidence from the same second would seem
// older than it is.
absl::Time WholeSeconds(absl::Time time) {
  return absl::FromUnixSeconds(absl::ToUnixSeconds(time));
}

}  // namespace

const char* RevocationStatusName(RevocationStatus status) {
  switch (status) {
    case RevocationStatus::kNotChecked:
      return "not_checked";
    case RevocationStatus::kGood:
      return "good";
    case RevocationStatus::kRevoked:
      return "revoked";
    case RevocationStatus::kUnknown:
      return "unknown";
  }
  return "";
}

RevocationEvidence EvaluateOcsp(OCSP_RESPONSE* response, X509* cert, X509* issuer,
                                STACK_OF(X509) * extra_certs) {
  int response_status = OCSP_response_status(response);
  if (response_status != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
    return Unusable(
        absl::StrCat("OCSP response refused: ", OCSP_response_status_str(response_status)));
  }
  OcspBasicPtr basic(OCSP_response_get1_basic(response));
  OcspIdPtr id(OCSP_cert_to_id(nullptr, cert, issuer));
  int status = -1, reason = -1;
  ASN1_GENERALIZEDTIME *revoked_at = nullptr, *this_update = nullptr, *next_update = nullptr;
  if (basic == nullptr || id == nullptr ||
      OCSP_resp_find_status(basic.get(), id.get(), &status, &reason, &revoked_at, &this_update,
                            &next_update) != 1) {
    ERR_clear_error();
    return Unusable("OCSP response about another certificate");
  }
  std::optional<absl::Time> issued = AsnTime(this_update);
  if (!issued) return Unusable("OCSP response with an unreadable thisUpdate");
  // Signed by the issuer or its delegated responder, whose certificate must
  // have been valid when it answered (it may have expired since).
  StorePtr store(X509_STORE_new());
  CertStackPtr untrusted(sk_X509_new_null());
  X509_STORE_add_cert(store.get(), issuer);
  X509_VERIFY_PARAM* param = X509_STORE_get0_param(store.get());
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  X509_VERIFY_PARAM_set_time(param, absl::ToTimeT(*issued));
  sk_X509_push(untrusted.get(), issuer);
  for (int i = 0; extra_certs != nullptr && i < sk_X509_num(extra_certs); ++i) {
    sk_X509_push(untrusted.get(), sk_X509_value(extra_certs, i));
  }
  if (OCSP_basic_verify(basic.get(), untrusted.get(), store.get(), 0) != 1) {
    return Unusable(
        absl::StrCat("OCSP response not signed for the issuer: ", DrainOpenSslErrors()));
  }
  RevocationEvidence evidence;
  evidence.this_update = *issued;
  evidence.next_update = AsnTime(next_update);
  evidence.source = absl::StrCat("OCSP response of ", TimeText(*issued));
  if (status == V_OCSP_CERTSTATUS_GOOD) {
    evidence.status = RevocationStatus::kGood;
  } else if (status == V_OCSP_CERTSTATUS_REVOKED) {
    evidence.status = RevocationStatus::kRevoked;
    evidence.revoked_at = AsnTime(revoked_at);
    evidence.reason = reason;
  } else {
    evidence.problem = absl::StrCat(evidence.source, " does not know the certificate");
  }
  return evidence;
}

RevocationEvidence EvaluateCrl(X509_CRL* crl, X509* cert, X509* issuer) {
  if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0) {
    return Unusable("CRL not from the certificate's issuer");
  }
  EVP_PKEY* key = X509_get0_pubkey(issuer);
  if (key == nullptr || X509_CRL_verify(crl, key) != 1) {
    ERR_clear_error();
    return Unusable("CRL not signed by the certificate's issuer");
  }
  std::optional<absl::Time> issued = AsnTime(X509_CRL_get0_lastUpdate(crl));
  if (!issued) return Unusable("CRL with an unreadable thisUpdate");
  RevocationEvidence evidence;
  evidence.this_update = *issued;
  evidence.next_update = AsnTime(X509_CRL_get0_nextUpdate(crl));
  evidence.source = absl::StrCat("CRL of ", TimeText(*issued));
  evidence.status = RevocationStatus::kGood;
  X509_REVOKED* entry = nullptr;
  if (X509_CRL_get0_by_cert(crl, &entry, cert) == 1) {
    evidence.status = RevocationStatus::kRevoked;
    evidence.revoked_at = AsnTime(X509_REVOKED_get0_revocationDate(entry));
    auto* code = static_cast<ASN1_ENUMERATED*>(
        X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, nullptr, nullptr));
    evidence.reason = code != nullptr ? static_cast<int>(ASN1_ENUMERATED_get(code)) : -1;
    ASN1_ENUMERATED_free(code);
  }
  ERR_clear_error();
  return evidence;
}

std::string WhyNotCurrent(const RevocationEvidence& evidence, absl::Time now, absl::Duration skew,
                          absl::Duration lifetime) {
  if (evidence.this_update > now + skew) {
    return absl::StrCat(evidence.source, " is dated in the future");
  }
  absl::Time expires = evidence.next_update.value_or(evidence.this_update + lifetime);
  if (expires < WholeSeconds(now) - skew) {
    return absl::StrCat(evidence.source, " expired at ", TimeText(expires));
  }
  return "";
}

std::string WhyNotFresh(const RevocationEvidence& evidence, std::optional<absl::Time> signed_by,
                        absl::Time now, absl::Duration max_age) {
  if (!signed_by) return WhyNotCurrent(evidence, now, absl::Minutes(5));
  if (evidence.this_update >= WholeSeconds(*signed_by) - max_age) return "";
  return absl::StrCat(
      evidence.source, " was issued before the signature's time-stamp of ", TimeText(*signed_by),
      max_age == absl::ZeroDuration() ? "" : absl::StrCat(" less ", absl::FormatDuration(max_age)),
      ": evidence issued after it is needed");
}

}  // namespace motcua::signing
