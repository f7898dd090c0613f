#ifndef MOTCUA_WORKFLOW_RESULT_DOCUMENTS_H_
#define MOTCUA_WORKFLOW_RESULT_DOCUMENTS_H_

// The signed documents transitions produce (receipts, certified copies,
// refusals...): rendering them from the procedure's templates and a dossier
// (document_data.h), and getting them signed as the definition's
// SignatureRequirements ask. The engine holds one through this interface,
// so it stays testable without keys; SignedResultDocuments is the real one.
//
// An officer's signature comes in two phases: Prepare renders the document
// and reserves the signature, returning what the officer's key must sign;
// Complete checks the value, embeds it, adds the unit seal when required and
// verifies the whole PDF. A document signed by the unit seal only is made
// at once by SignByServer. Nothing here writes to the store.
//
// A transition with signs_document does not render: it signs the document
// an earlier step signed, in the next slots of its template, after checking
// that file (see DocumentRequest.document_so_far). FAILED_PRECONDITION when
// an earlier signature does not verify, the file was changed after one, or
// its signers are not those recorded; DATA_LOSS when the bytes are not
// those recorded.
//
// Documents leave as PAdES B-LTA when a TSA is configured: every signature
// time-stamped (B-T), a /DSS with each signer's chain and the OCSP
// responses or CRLs that show it was not revoked (B-LT), and a document
// time-stamp over the whole file, /DSS included (B-LTA), so an auditor can
// verify them offline for years. Without a TSA: B-B with the /DSS.

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "motcua/v1/config.pb.h"
#include "motcua/v1/dossier.pb.h"
#include "motcua/v1/procedure.pb.h"
#include "signing/revocation.h"
#include "signing/signing_key.h"
#include "signing/timestamp_client.h"
#include "signing/trust_store.h"
#include "workflow/document_data.h"
#include "workflow/principal.h"
#include "workflow/procedure.h"

namespace motcua::workflow {

// What a document is made from.
struct DocumentRequest {
  const Procedure* procedure = nullptr;
  const v1::TransitionDefinition* transition = nullptr;
  // The dossier as the transition leaves it (a receipt knows its
  // appointment), or as it is before it for an officer's Prepare.
  const v1::Dossier* dossier = nullptr;
  std::string document_id;  // e.g. "d1"
  absl::Time time;          // the claimed signing time
  // For a transition that signs an earlier document further
  // (signs_document): the dossier's record of it and its stored bytes.
  const v1::Document* document_so_far = nullptr;
  absl::string_view pdf_so_far;
};

struct SignedDocument {
  std::string pdf;
  std::vector<v1::DocumentSigner> signers;  // in signing order
};

// A document with the officer's signature reserved, waiting for its value.
class PendingSignature {
 public:
  virtual ~PendingSignature() = default;
  // DER SET of the signed attributes: what the officer's key signs.
  virtual const std::string& to_be_signed() const = 0;
  // SHA-256 (raw) of the bytes the signature covers.
  virtual const std::string& document_sha256() const = 0;
  // The prepared PDF (the signature's /Contents zeros) and the /ByteRange
  // whose bytes document_sha256 hashes, for the officer to see first.
  virtual const std::string& prepared_pdf() const = 0;
  virtual std::vector<int64_t> byte_range() const = 0;
};

class ResultDocuments {
 public:
  virtual ~ResultDocuments() = default;

  // Phase 1 of the caller's signature with the certificate in
  // `certificate_pem`: PERMISSION_DENIED unless it names the caller (CN ==
  // subject), is issued by a trusted CA, is valid now and is not revoked;
  // UNAVAILABLE when its revocation status cannot be had now (try later).
  virtual absl::StatusOr<std::unique_ptr<PendingSignature>> Prepare(
      const DocumentRequest& request, const Principal& caller,
      absl::string_view certificate_pem) = 0;

  // Phase 2: INVALID_ARGUMENT when `signature_value` is not the officer's
  // signature of to_be_signed(); then time-stamps, seals if required, adds
  // the validation data and verifies. FAILED_PRECONDITION when a signer's
  // certificate turned out revoked, or its status or the time-stamp cannot
  // be had (the reason quoted).
  virtual absl::StatusOr<SignedDocument> Complete(const PendingSignature& pending,
                                                  absl::string_view signature_value) = 0;

  // A document that needs no officer's signature, signed by the server.
  virtual absl::StatusOr<SignedDocument> SignByServer(const DocumentRequest& request) = 0;

  // `pdf`, an issued document, with its evidence renewed
  // (signing::RenewDocumentTimestamp) and verified as at issue.
  // FAILED_PRECONDITION when no TSA is configured or the renewed file does
  // not verify (the reason quoted); otherwise RenewDocumentTimestamp's
  // errors.
  virtual absl::StatusOr<std::string> RenewTimestamp(absl::string_view pdf) = 0;
};

struct ResultDocumentsOptions {
  // Trust anchors for officers' certificates and for the final check.
  std::shared_ptr<const signing::TrustStore> trust;
  // Where revocation status comes from (OCSP, CRL distribution points, local
  // CRLs). Required.
  std::shared_ptr<const signing::RevocationChecker> revocation;
  // Revocation freshness for the signatures it checks and the evidence it
  // embeds (signing::VerifyOptions::max_revocation_age); zero is strict.
  absl::Duration max_revocation_age = absl::ZeroDuration();
  // The RFC 3161 time-stamping authority every signature gets a signature
  // time-stamp from (B-T). Null: none (B-B, still with the /DSS).
  std::shared_ptr<const signing::TimestampAuthority> timestamps;
  // The seal key of each unit that seals documents.
  absl::flat_hash_map<std::string, std::shared_ptr<const signing::SigningKey>> seal_keys;
  absl::flat_hash_map<std::string, UnitProfile> units;
  // Each officer's signature image (PNG bytes), by certificate subject CN.
  absl::flat_hash_map<std::string, std::string> officer_images;
};

// Documents rendered from the procedure's templates, PAdES B-LT.
std::unique_ptr<ResultDocuments> NewSignedResultDocuments(ResultDocumentsOptions options);

// FAILED_PRECONDITION naming the unit when a seal key's certificate does not
// chain to `options.trust` now: its seals would never verify, so a server
// should refuse to start with it.
absl::Status CheckSealKeys(const ResultDocumentsOptions& options);

// Options from the signature parts of a server configuration
// (motcua.v1.ServerConfig): its trust anchors, CRL files, TSA, PKCS#11 seal
// keys and unit profiles with their images. Paths are used as given. An
// empty tsa_url leaves `timestamps` null for the caller to fill. Errors name
// the field and the path: NOT_FOUND for a file that cannot be read,
// INVALID_ARGUMENT for one that does not hold what the field needs, and
// signing::SigningKey::OpenPkcs11Key's for a token that cannot be opened.
absl::StatusOr<ResultDocumentsOptions> OpenResultDocumentsOptions(const v1::ServerConfig& config);

}  // namespace motcua::workflow

#endif  // MOTCUA_WORKFLOW_RESULT_DOCUMENTS_H_
