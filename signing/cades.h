#ifndef MOTCUA_SIGNING_CADES_H_
#define MOTCUA_SIGNING_CADES_H_

// CAdES signatures for PAdES (ETSI EN 319 122-1 as profiled by EN 319
// 142-1): a detached CMS SignedData with exactly one SignerInfo whose signed
// attributes are content-type, message-digest and signing-certificate-v2,
// and no signingTime (the PDF's /M carries the claimed time).
//
// Signing comes in two phases so the key may be elsewhere (an officer's USB
// token): PrepareSignedAttributes gives the bytes to sign, whoever holds the
// key signs them (SHA-256, RSA PKCS#1 v1.5 or ECDSA), AssembleSignedData
// checks the value and builds the CMS. SignDetached does both with a local key.
//
// All functions are thread-safe. Digests are 32 raw bytes (SHA-256).

#include <openssl/x509.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "signing/signing_key.h"

namespace motcua::signing {

// DER encoding (a SET, tag 0x31) of the signed attributes for `signer` over
// a document whose SHA-256 is `document_sha256`. Deterministic: the same
// inputs give the same bytes, so they may be rebuilt rather than stored.
// INVALID_ARGUMENT when the digest is not 32 bytes.
absl::StatusOr<std::string> PrepareSignedAttributes(X509* signer,
                                                    absl::string_view document_sha256);

// The DER CMS SignedData (detached) for `der_signed_attributes` signed with
// `signature_value` by `signer`; the signer certificate and `chain` (its
// issuers) are embedded. A non-empty `timestamp_token` (DER ContentInfo of an
// RFC 3161 token over SHA-256 of `signature_value`) is added as the
// signature-time-stamp. INVALID_ARGUMENT when the value does not verify with
// the signer's public key, when the attributes lack a message-digest, or
// when the token is over something else.
absl::StatusOr<std::string> AssembleSignedData(X509* signer, const std::vector<X509*>& chain,
                                               absl::string_view der_signed_attributes,
                                               absl::string_view signature_value,
                                               absl::string_view timestamp_token = {});

// True when `signature_value` is the signer's signature (SHA-256, RSA PKCS#1
// v1.5 or ECDSA) of `der_signed_attributes`: the check AssembleSignedData
// makes first. Clears the OpenSSL error queue.
bool VerifySignatureValue(X509* signer, absl::string_view der_signed_attributes,
                          absl::string_view signature_value);

// PrepareSignedAttributes + key.Sign + AssembleSignedData (B-B).
absl::StatusOr<std::string> SignDetached(const SigningKey& key, absl::string_view document_sha256);

// The signature value of the (only) SignerInfo of a DER CMS: what a
// signature-time-stamp is computed over.
absl::StatusOr<std::string> SignatureValue(absl::string_view cms_der);

// The message-digest signed attribute of the (only) SignerInfo of a DER
// CMS: the SHA-256 of the signed content. INVALID_ARGUMENT when absent.
absl::StatusOr<std::string> SignedMessageDigest(absl::string_view cms_der);

// A DER RFC 3161 TimeStampReq over SHA-256 of `signature_value`, asking for
// the TSA certificate, with a random nonce.
absl::StatusOr<std::string> BuildTimestampRequest(absl::string_view signature_value);

// `cms_der` with `timestamp_token` added as the unsigned attribute
// id-aa-signatureTimeStampToken (B-T). INVALID_ARGUMENT when the token's
// message imprint is not SHA-256 of the signature value.
absl::StatusOr<std::string> AddSignatureTimestamp(absl::string_view cms_der,
                                                  absl::string_view timestamp_token);

}  // namespace motcua::signing

#endif  // MOTCUA_SIGNING_CADES_H_
