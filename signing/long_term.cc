#include "signing/long_term.h"

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>
#include <openssl/x509_vfy.h>

#include <memory>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "signing/certificate_chain.h"
#include "signing/openssl_util.h"
#include "signing/pades.h"
#include "signing/pdf_revisions.h"
#include "signing/revocation_evidence.h"
#include "signing/signed_data.h"

namespace motcua::signing {
namespace {

void FreeCertStack(STACK_OF(X509) * stack) { sk_X509_pop_free(stack, X509_free); }
using CertStackPtr = std::unique_ptr<STACK_OF(X509), OpenSslDeleter<FreeCertStack>>;
using Pkcs7Ptr = std::unique_ptr<PKCS7, OpenSslDeleter<PKCS7_free>>;
using OcspResponsePtr = std::unique_ptr<OCSP_RESPONSE, OpenSslDeleter<OCSP_RESPONSE_free>>;
using OcspBasicPtr = std::unique_ptr<OCSP_BASICRESP, OpenSslDeleter<OCSP_BASICRESP_free>>;
using TstInfoPtr = std::unique_ptr<TS_TST_INFO, OpenSslDeleter<TS_TST_INFO_free>>;

std::string Der(X509* cert) {
  unsigned char* der = nullptr;
  int len = i2d_X509(cert, &der);
  std::string out = len > 0 ? std::string(reinterpret_cast<char*>(der), len) : "";
  OPENSSL_free(der);
  return out;
}

std::string Subject(X509* cert) {
  char* text = X509_NAME_oneline(X509_get_subject_name(cert), nullptr, 0);
  std::string out = text != nullptr ? text : "(unreadable subject)";
  OPENSSL_free(text);
  return out;
}

// Collects blobs in order, each once.
class Collector {
 public:
  void Certificate(X509* cert) { Add(Der(cert), &data_.certificates); }
  void Evidence(const RevocationCheck& check) {
    for (const std::string& der : check.ocsp_responses) {
      Add(der, &data_.ocsp_responses);
      // The responder's certificate, so its signature can be checked offline.
      const auto* p = reinterpret_cast<const unsigned char*>(der.data());
      OcspResponsePtr response(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));
      OcspBasicPtr basic(response != nullptr ? OCSP_response_get1_basic(response.get()) : nullptr);
      const STACK_OF(X509)* certs = basic != nullptr ? OCSP_resp_get0_certs(basic.get()) : nullptr;
      for (int i = 0; certs != nullptr && i < sk_X509_num(certs); ++i) {
        Certificate(sk_X509_value(certs, i));
      }
      ERR_clear_error();
    }
    for (const std::string& der : check.crls) Add(der, &data_.crls);
  }
  ValidationData Take() { return std::move(data_); }

 private:
  void Add(std::string der, std::vector<std::string>* sink) {
    if (!der.empty() && seen_.insert(der).second) sink->push_back(std::move(der));
  }
  std::set<std::string> seen_;
  ValidationData data_;
};

// The certificate that signed `token`, when the token carries it.
X509* TokenSigner(PKCS7* token) {
  STACK_OF(X509)* signers = PKCS7_get0_signers(token, nullptr, 0);
  X509* tsa =
      signers != nullptr && sk_X509_num(signers) == 1 ? sk_X509_value(signers, 0) : nullptr;
  sk_X509_free(signers);
  ERR_clear_error();
  return tsa;
}

// The token of the last document time-stamp of `pdf`.
absl::StatusOr<Pkcs7Ptr> LastDocumentTimestamp(absl::string_view pdf) {
  ParseLimits last_revision_only;
  last_revision_only.max_revisions = 1;
  absl::StatusOr<PdfStructure> structure = ParsePdfRevisions(pdf, last_revision_only);
  if (!structure.ok()) return structure.status();
  for (auto it = structure->signatures.rbegin(); it != structure->signatures.rend(); ++it) {
    if (it->type != "DocTimeStamp" && it->sub_filter != "ETSI.RFC3161") continue;
    const auto* p = reinterpret_cast<const unsigned char*>(it->contents.data());
    Pkcs7Ptr token(d2i_PKCS7(nullptr, &p, static_cast<long>(it->contents.size())));
    ERR_clear_error();
    if (token == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("document time-stamp '", it->field_name, "' is not a time-stamp token"));
    }
    return token;
  }
  return absl::NotFoundError("the document has no document time-stamp (it is not PAdES B-LTA)");
}

// The time a time-stamp token claims (checked by the verifier, not here).
std::optional<absl::Time> GenTime(PKCS7* token) {
  TstInfoPtr info(PKCS7_to_TS_TST_INFO(token));
  ERR_clear_error();
  return info != nullptr ? AsnTime(TS_TST_INFO_get_time(info.get())) : std::nullopt;
}

class Gatherer {
 public:
  explicit Gatherer(const LongTermOptions& options) : options_(options) {}

  // A signature's signer chain (strict) and its time-stamp's (best effort).
  absl::Status Signature(const PdfSignatureInfo& sig) {
    const std::string who = absl::StrCat("signature '", sig.field_name, "'");
    const auto* p = reinterpret_cast<const unsigned char*>(sig.contents.data());
    if (sig.type == "DocTimeStamp" || sig.sub_filter == "ETSI.RFC3161") {
      Pkcs7Ptr token(d2i_PKCS7(nullptr, &p, static_cast<long>(sig.contents.size())));
      if (token == nullptr) return absl::InvalidArgumentError(who + " is not a time-stamp token");
      return TimestampAuthority(token.get(), who);
    }
    std::optional<SignedDataParts> parts = ReadSignedData(sig.contents);
    STACK_OF(CMS_SignerInfo)* infos =
        parts.has_value() ? CMS_get0_SignerInfos(parts->cms.get()) : nullptr;
    if (infos == nullptr || sk_CMS_SignerInfo_num(infos) != 1) {
      ERR_clear_error();
      return absl::InvalidArgumentError(who + " is not a CMS with one SignerInfo");
    }
    CMS_SignerInfo* si = sk_CMS_SignerInfo_value(infos, 0);
    CertStackPtr certs(sk_X509_new_null());
    for (const X509Ptr& cert : parts->certificates) {
      X509_up_ref(cert.get());
      sk_X509_push(certs.get(), cert.get());
    }
    X509* signer = nullptr;
    for (int i = 0; certs != nullptr && i < sk_X509_num(certs.get()) && signer == nullptr; ++i) {
      if (CMS_SignerInfo_cert_cmp(si, sk_X509_value(certs.get(), i)) == 0) {
        signer = sk_X509_value(certs.get(), i);
      }
    }
    if (signer == nullptr) {
      return absl::FailedPreconditionError(who + ": the signer's certificate is not in the CMS");
    }
    int index = CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, -1);
    ASN1_TYPE* value =
        index >= 0 ? X509_ATTRIBUTE_get0_type(CMS_unsigned_get_attr(si, index), 0) : nullptr;
    Pkcs7Ptr token;
    if (value != nullptr && value->type == V_ASN1_SEQUENCE) {
      const unsigned char* q = value->value.sequence->data;
      token.reset(d2i_PKCS7(nullptr, &q, value->value.sequence->length));
    }
    ERR_clear_error();
    const std::optional<absl::Time> stamped =
        token != nullptr ? GenTime(token.get()) : std::nullopt;
    if (absl::Status s = Chain(signer, certs.get(), stamped, who, /*strict=*/true); !s.ok()) {
      return s;
    }
    if (token != nullptr) return TimestampAuthority(token.get(), who + "'s time-stamp");
    return absl::OkStatus();
  }

  GatheredValidationData Take() { return {collector_.Take(), std::move(notes_)}; }

  // The chain of `token`'s TSA and its evidence. Not `strict`: best effort,
  // what cannot be had is noted.
  absl::Status TimestampAuthority(PKCS7* token, const std::string& who, bool strict = false) {
    STACK_OF(X509)* certs = PKCS7_type_is_signed(token) ? token->d.sign->cert : nullptr;
    X509* tsa = TokenSigner(token);
    absl::Status status;
    if (tsa == nullptr) {
      const std::string missing = who + ": the TSA certificate is not in the token";
      if (strict) return absl::FailedPreconditionError(missing);
      notes_.push_back(missing);
    } else {
      status = Chain(tsa, certs, GenTime(token), who + " (TSA)", strict);
    }
    return status;
  }

 private:
  // Builds `leaf`'s chain to an anchor and gathers evidence for every
  // certificate below the anchor, fresh for a signature time-stamped at
  // `stamped`. Not `strict`: a missing chain or status, or stale evidence,
  // is only noted. A revoked certificate is an error either way: no document
  // is made long-term as if it were fine.
  absl::Status Chain(X509* leaf, STACK_OF(X509) * extra, std::optional<absl::Time> stamped,
                     const std::string& who, bool strict) {
    ChainOptions at;
    at.at = options_.now;
    absl::StatusOr<CertificateChain> chain = BuildChain(leaf, *options_.trust, extra, at);
    if (!chain.ok()) {
      absl::Status no_chain = absl::FailedPreconditionError(
          absl::StrCat(who, ": no valid chain to a trust anchor: ", chain.status().message()));
      if (strict) return no_chain;
      notes_.push_back(std::string(no_chain.message()));
      return absl::OkStatus();
    }
    const int length = chain->size();
    for (int i = 0; i < length; ++i) collector_.Certificate(chain->at(i));
    for (int i = 0; i + 1 < length; ++i) {
      X509* cert = chain->at(i);
      RevocationCheck check = options_.checker->Check(cert, chain->at(i + 1), options_.now);
      const std::string whose = absl::StrCat(who, ": certificate ", Subject(cert));
      if (check.evidence.status == RevocationStatus::kRevoked) {
        return absl::FailedPreconditionError(absl::StrCat(whose, " is ", check.detail));
      }
      if (check.evidence.status != RevocationStatus::kGood) {
        absl::Status unknown = absl::FailedPreconditionError(
            absl::StrCat(whose, ": revocation status unknown: ", check.detail));
        if (strict) return unknown;
        notes_.push_back(std::string(unknown.message()));
        continue;
      }
      if (std::string stale = WhyNotFresh(check.evidence, stamped, options_.now,
                                          options_.max_revocation_age);
          !stale.empty()) {
        absl::Status later = absl::UnavailableError(
            absl::StrCat(whose, ": ", stale, "; try again once its CA has published newer"));
        if (strict) return later;
        notes_.push_back(std::string(later.message()));
      }
      collector_.Evidence(check);
    }
    return absl::OkStatus();
  }

  const LongTermOptions& options_;
  Collector collector_;
  std::vector<std::string> notes_;
};

}  // namespace

absl::StatusOr<GatheredValidationData> GatherValidationData(absl::string_view pdf,
                                                            const LongTermOptions& options) {
  if (options.trust == nullptr || options.checker == nullptr) {
    return absl::InvalidArgumentError("LongTermOptions needs a trust store and a checker");
  }
  // Only the signatures are needed, not what each revision changed: the
  // last revision lists them all.
  ParseLimits last_revision_only;
  last_revision_only.max_revisions = 1;
  absl::StatusOr<PdfStructure> structure = ParsePdfRevisions(pdf, last_revision_only);
  if (!structure.ok()) return structure.status();
  if (structure->signatures.empty()) {
    return absl::InvalidArgumentError("the document has no signature to make long-term");
  }
  Gatherer gatherer(options);
  for (const PdfSignatureInfo& sig : structure->signatures) {
    if (absl::Status s = gatherer.Signature(sig); !s.ok()) return s;
  }
  return gatherer.Take();
}

absl::StatusOr<absl::Time> RenewBy(absl::string_view pdf) {
  absl::StatusOr<Pkcs7Ptr> token = LastDocumentTimestamp(pdf);
  if (!token.ok()) return token.status();
  X509* tsa = TokenSigner(token->get());
  std::optional<absl::Time> not_after =
      tsa != nullptr ? AsnTime(X509_get0_notAfter(tsa)) : std::nullopt;
  if (!not_after) {
    return absl::InvalidArgumentError(
        "the last document time-stamp does not carry a readable TSA certificate");
  }
  return *not_after;
}

absl::StatusOr<std::string> RenewDocumentTimestamp(absl::string_view pdf,
                                                   const TimestampAuthority& tsa,
                                                   const LongTermOptions& options,
                                                   const TimestampOptions& stamp) {
  if (options.trust == nullptr || options.checker == nullptr) {
    return absl::InvalidArgumentError("LongTermOptions needs a trust store and a checker");
  }
  absl::StatusOr<Pkcs7Ptr> token = LastDocumentTimestamp(pdf);
  if (!token.ok()) return token.status();
  Gatherer gatherer(options);
  if (absl::Status s = gatherer.TimestampAuthority(token->get(), "the last document time-stamp",
                                                   /*strict=*/true);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<std::string> extended = AddValidationData(pdf, gatherer.Take().data);
  if (!extended.ok()) return extended.status();
  return AddDocumentTimestamp(*extended, tsa, stamp);
}

absl::StatusOr<std::string> MakeLongTerm(absl::string_view pdf, const LongTermOptions& options) {
  absl::StatusOr<GatheredValidationData> gathered = GatherValidationData(pdf, options);
  if (!gathered.ok()) return gathered.status();
  return AddValidationData(pdf, gathered->data);
}

}  // namespace motcua::signing
