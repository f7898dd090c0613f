#ifndef MOTCUA_SIGNING_PADES_H_
#define MOTCUA_SIGNING_PADES_H_

// PAdES signatures (ETSI EN 319 142-1, SubFilter ETSI.CAdES.detached) added
// to a PDF as an incremental update, so signatures already in the document
// stay valid: the officer signs first, the organisation's seal second
// (Decree 30/2020 Art. 32), each its own revision.
//
// Two phases, for keys that are elsewhere: PrepareSignature reserves the
// signature in a new revision and returns the digest of the bytes it will
// cover; the CMS (signing/cades.h) is built over that digest; EmbedSignature
// writes it into the reserved space. SignPdf does all three with a local key.
//
// All functions are thread-safe (each works on its own document).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "signing/appearance.h"
#include "signing/signing_key.h"
#include "signing/timestamp_client.h"

namespace motcua::signing {

struct SignatureRequest {
  // Name of the new signature field; must not be used in the document yet.
  std::string field_name = "Signature1";
  // Claimed signing time, written as /M in Vietnam time (+07'00').
  absl::Time signing_time;
  std::string reason;    // /Reason, UTF-8; empty: none
  std::string location;  // /Location, UTF-8; empty: none
  // Bytes reserved for the DER CMS, 256 B to 1 MiB. 16 KiB holds a B-B
  // signature with a short chain and a time-stamp; raise it for B-LT material.
  size_t reserved_size = 16 * 1024;
  // Nothing: an invisible signature.
  std::optional<Appearance> appearance;
  // A document time-stamp (/Type /DocTimeStamp, /SubFilter /ETSI.RFC3161,
  // ISO 32000-2 12.8.5) instead of a signature: no /M, reason, location or
  // appearance; /Contents takes an RFC 3161 token over the byte range.
  bool document_timestamp = false;
};

struct PreparedSignature {
  // The document with the new revision; /Contents holds zeros.
  std::string pdf;
  // /ByteRange: [0, before /Contents, after /Contents, to the end].
  int64_t byte_range[4] = {0, 0, 0, 0};
  // SHA-256 (32 raw bytes) of the bytes the byte range covers: what the
  // CMS's message-digest must be.
  std::string document_sha256;
};

// Adds a signature field with a reserved /Contents to `pdf` as an
// incremental update. INVALID_ARGUMENT when `pdf` does not parse, the field
// name is empty or taken, reserved_size is out of range, or the appearance
// does not fit the document; INTERNAL for other PoDoFo failures.
absl::StatusOr<PreparedSignature> PrepareSignature(absl::string_view pdf,
                                                   const SignatureRequest& request);

// `prepared.pdf` with `cms_der` written into its reserved /Contents.
// INVALID_ARGUMENT when the CMS does not fit, is not over
// `prepared.document_sha256`, or `prepared` is not consistent.
absl::StatusOr<std::string> EmbedSignature(const PreparedSignature& prepared,
                                           absl::string_view cms_der);

// PrepareSignature, SignDetached with `key`, EmbedSignature: a PAdES B-B
// signature by a key the server holds.
absl::StatusOr<std::string> SignPdf(absl::string_view pdf, const SignatureRequest& request,
                                    const SigningKey& key);

// `pdf` with a document time-stamp from `tsa` as its last revision (PAdES
// B-LTA when `pdf` is B-LT): the whole file before it, /DSS included, is
// covered, and the evidence outlives the signers' certificates. The field
// is named "DocTimeStamp<n>", the first n free. Errors as PrepareSignature
// and RequestTimestamp.
absl::StatusOr<std::string> AddDocumentTimestamp(absl::string_view pdf,
                                                 const TimestampAuthority& tsa,
                                                 const TimestampOptions& options = {});

}  // namespace motcua::signing

#endif  // MOTCUA_SIGNING_PADES_H_
