#include "signing/document_signer.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "signing/cades.h"
#include "signing/documents.h"
#include "signing/long_term.h"
#include "signing/verifier.h"

namespace motcua::signing {
namespace {

// The first signature that does not pass, as a reason: "\"field\" why".
std::string FirstFailure(const VerificationReport& report) {
  for (const SignatureReport& s : report.signatures) {
    if (s.indication != Indication::kTotalPassed) {
      return absl::StrCat("\"", s.field_name, "\" ", IndicationName(s.indication), "/",
                          SubIndicationName(s.sub_indication), ": ", s.reason);
    }
    if (s.modified_after_signing) {
      return absl::StrCat("\"", s.field_name,
                          "\" changed after it was signed: ", absl::StrJoin(s.later_changes, "; "));
    }
  }
  return "no signature";
}

}  // namespace

absl::StatusOr<CertificateChain> DocumentSigner::CheckSigner(X509* cert, absl::Time at) const {
  ChainOptions valid;
  valid.at = at;
  auto chain = BuildChain(cert, *options_.trust, nullptr, valid);
  if (!chain.ok()) {
    return absl::PermissionDeniedError(
        absl::StrCat("the signing certificate of \"", CommonNameOf(cert),
                     "\" is not trusted: ", chain.status().message()));
  }
  if (chain->size() < 2) return chain;  // an anchor itself
  // An officer learns before signing, not after.
  RevocationCheck check = options_.revocation->Check(cert, chain->at(1), absl::Now());
  switch (check.evidence.status) {
    case RevocationStatus::kGood:
      return chain;
    case RevocationStatus::kRevoked:
      return absl::PermissionDeniedError(absl::StrCat(
          "the signing certificate of \"", CommonNameOf(cert), "\" is revoked",
          check.evidence.revoked_at ? absl::StrCat(" since ", FormatVietnamTime(*check.evidence.revoked_at)) : "",
          ": ", check.detail));
    default:
      return absl::UnavailableError(absl::StrCat(
          "whether the signing certificate of \"", CommonNameOf(cert),
          "\" is revoked cannot be established now; try again later (", check.detail, ")"));
  }
}

absl::StatusOr<OfficerSignature> DocumentSigner::Prepare(absl::string_view pdf,
                                                         CertificateChain chain,
                                                         const SignatureRequest& request) const {
  OfficerSignature signature;
  auto prepared = PrepareSignature(pdf, request);
  if (!prepared.ok()) return prepared.status();
  signature.prepared = *std::move(prepared);
  auto tbs = PrepareSignedAttributes(chain.leaf(), signature.prepared.document_sha256);
  if (!tbs.ok()) return tbs.status();
  signature.to_be_signed = *std::move(tbs);
  signature.chain = std::move(chain);
  return signature;
}

absl::StatusOr<std::string> DocumentSigner::Complete(const OfficerSignature& signature,
                                                     absl::string_view value) const {
  X509* cert = signature.chain.leaf();
  if (!VerifySignatureValue(cert, signature.to_be_signed, value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the signature value is not ", CommonNameOf(cert),
                     "'s signature of this challenge's to_be_signed (wrong key, or altered)"));
  }
  std::vector<X509*> issuers;
  for (int i = 1; i < signature.chain.size(); ++i) issuers.push_back(signature.chain.at(i));
  auto cms = AssembleSignedData(cert, issuers, signature.to_be_signed, value);
  if (!cms.ok()) return cms.status();
  auto stamped = Timestamp(*std::move(cms));
  if (!stamped.ok()) return stamped.status();
  return EmbedSignature(signature.prepared, *stamped);
}

absl::StatusOr<std::string> DocumentSigner::SignWithKey(absl::string_view pdf,
                                                        const SigningKey& key,
                                                        const SignatureRequest& request) const {
  auto prepared = PrepareSignature(pdf, request);
  if (!prepared.ok()) return prepared.status();
  auto cms = SignDetached(key, prepared->document_sha256);
  if (!cms.ok()) return cms.status();
  auto stamped = Timestamp(*std::move(cms));
  if (!stamped.ok()) return stamped.status();
  return EmbedSignature(*prepared, *stamped);
}

absl::StatusOr<std::string> DocumentSigner::Timestamp(std::string cms) const {
  if (options_.timestamps == nullptr) return cms;
  TimestampOptions stamp;
  stamp.trust = options_.trust;
  auto stamped = TimestampSignature(cms, *options_.timestamps, stamp);
  if (!stamped.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the signature could not be time-stamped: ", stamped.status().message()));
  }
  return stamped;
}

absl::StatusOr<std::string> DocumentSigner::Finish(absl::string_view pdf, int signatures,
                                                   int max_revisions) const {
  LongTermOptions long_term;
  long_term.trust = options_.trust;
  long_term.checker = options_.revocation;
  long_term.max_revocation_age = options_.max_revocation_age;
  auto document = MakeLongTerm(pdf, long_term);
  if (!document.ok()) return document.status();
  if (options_.timestamps != nullptr) {
    TimestampOptions stamp;
    stamp.trust = options_.trust;
    auto stamped = AddDocumentTimestamp(*document, *options_.timestamps, stamp);
    if (!stamped.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("the document could not be time-stamped: ", stamped.status().message()));
    }
    document = *std::move(stamped);
  }
  auto verified = CheckVerifies(*document, max_revisions);
  if (!verified.ok()) return verified.status();
  if (*verified != signatures) {
    return absl::InternalError(
        absl::StrCat("the signed document holds ", *verified, " signatures, not ", signatures));
  }
  return document;
}

absl::StatusOr<std::string> DocumentSigner::Renew(absl::string_view pdf) const {
  if (options_.timestamps == nullptr) {
    return absl::FailedPreconditionError("no time-stamping authority is configured");
  }
  LongTermOptions long_term;
  long_term.trust = options_.trust;
  long_term.checker = options_.revocation;
  long_term.max_revocation_age = options_.max_revocation_age;
  TimestampOptions stamp;
  stamp.trust = options_.trust;
  auto renewed = RenewDocumentTimestamp(pdf, *options_.timestamps, long_term, stamp);
  if (!renewed.ok()) return renewed.status();
  if (auto verified = CheckVerifies(*renewed, 0); !verified.ok()) {
    return absl::FailedPreconditionError(verified.status().message());
  }
  return renewed;
}

absl::StatusOr<VerificationReport> DocumentSigner::Verify(absl::string_view pdf,
                                                          int max_revisions) const {
  VerifyOptions options;
  options.check_revocation = true;
  options.max_revocation_age = options_.max_revocation_age;
  if (max_revisions > 0) options.limits.max_revisions = max_revisions;
  return VerifyPdf(pdf, *options_.trust, options);
}

absl::StatusOr<int> DocumentSigner::CheckVerifies(absl::string_view pdf, int max_revisions) const {
  auto report = Verify(pdf, max_revisions);
  if (!report.ok()) {
    return absl::InternalError(absl::StrCat("signed document: ", report.status().message()));
  }
  if (!report->AllPassed()) {
    return absl::InternalError(
        absl::StrCat("the signed document does not verify: ", FirstFailure(*report)));
  }
  int signatures = 0;
  for (const SignatureReport& s : report->signatures) signatures += s.type == "Sig";
  return signatures;
}

absl::StatusOr<std::vector<std::string>> DocumentSigner::SignersSoFar(absl::string_view pdf,
                                                                      int max_revisions) const {
  auto report = Verify(pdf, max_revisions);
  if (!report.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("it cannot be read: ", report.status().message()));
  }
  if (!report->AllPassed()) {
    return absl::FailedPreconditionError(absl::StrCat("its signature ", FirstFailure(*report)));
  }
  std::vector<std::string> signers;
  for (const SignatureReport& s : report->signatures) {
    if (s.type == "Sig") signers.push_back(s.signer_sha256);
  }
  return signers;
}

}  // namespace motcua::signing
