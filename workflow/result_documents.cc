#include "workflow/result_documents.h"

#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "signing/appearance.h"
#include "signing/cades.h"
#include "signing/certificate_chain.h"
#include "signing/documents.h"
#include "signing/pades.h"
#include "signing/long_term.h"
#include "signing/timestamp_client.h"
#include "signing/verifier.h"
#include "proto/proto_time.h"
#include "storage/files.h"
#include "workflow/history.h"
#include "workflow/work_calendar.h"

namespace motcua::workflow {
namespace {

using signing::TrustStore;

std::string CertificateSha256(X509* cert) {
  unsigned char* der = nullptr;
  int length = i2d_X509(cert, &der);
  if (length <= 0) return "";
  std::string hex = Sha256Hex(absl::string_view(reinterpret_cast<char*>(der), length));
  OPENSSL_free(der);
  return hex;
}

std::string CommonName(X509* cert) {
  char cn[256] = {0};
  if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn)) < 0) {
    return "";
  }
  return cn;
}

v1::DocumentSigner SignerOf(X509* cert, const signing::SignatureSlot& slot) {
  v1::DocumentSigner signer;
  signer.set_common_name(CommonName(cert));
  signer.set_certificate_sha256(CertificateSha256(cert));
  signer.set_signer(slot.signer);
  signer.set_slot(slot.id);
  return signer;
}

// `cert`'s chain to an anchor of `trust`, valid at `at`.
absl::StatusOr<signing::CertificateChain> VerifyChain(X509* cert, const TrustStore& trust,
                                                      absl::Time at) {
  signing::ChainOptions options;
  options.at = at;
  auto chain = signing::BuildChain(cert, trust, nullptr, options);
  if (!chain.ok()) {
    return absl::PermissionDeniedError(absl::StrCat("the signing certificate of \"",
                                                    CommonName(cert), "\" is not trusted: ",
                                                    chain.status().message()));
  }
  return chain;
}

// Where a visible signature goes.
struct Placement {
  int page = 0;
  signing::PdfBox box;
};

Placement PlacementOf(const signing::SignatureSlot& slot) {
  return Placement{slot.page, {slot.x, slot.y, slot.width, slot.height}};
}

// What a step's signatures go on: a document rendered now, or the one an
// earlier step signed; the slots the step fills, and the signers so far.
struct Base {
  std::string pdf;
  std::vector<signing::SignatureSlot> slots;  // the step's, in signing order
  std::vector<v1::DocumentSigner> signers;
};

class Pending : public PendingSignature {
 public:
  const std::string& to_be_signed() const override { return to_be_signed_; }
  const std::string& document_sha256() const override { return prepared_.document_sha256; }
  const std::string& prepared_pdf() const override { return prepared_.pdf; }
  std::vector<int64_t> byte_range() const override {
    return {prepared_.byte_range, prepared_.byte_range + 4};
  }

  signing::PreparedSignature prepared_;
  std::string to_be_signed_;
  signing::CertificateChain chain_;  // officer's certificate first
  signing::SignatureSlot slot_;
  std::vector<v1::DocumentSigner> signers_;  // before this one
  std::optional<signing::SignatureSlot> seal_slot_;  // the seal follows
  std::optional<Placement> seal_placement_;
  std::string unit_;
  absl::Time time_;
};

class SignedResultDocuments : public ResultDocuments {
 public:
  explicit SignedResultDocuments(ResultDocumentsOptions options) : options_(std::move(options)) {}

  absl::StatusOr<std::unique_ptr<PendingSignature>> Prepare(
      const DocumentRequest& request, const Principal& caller,
      absl::string_view certificate_pem) override {
    auto certs = TrustStore::ParseCertificates(certificate_pem);
    if (!certs.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("signer_certificate_pem: ", certs.status().message()));
    }
    X509* cert = (*certs)[0].get();
    if (CommonName(cert) != caller.subject) {
      return absl::PermissionDeniedError(
          absl::StrCat("the signing certificate names \"", CommonName(cert), "\", not the caller \"",
                       caller.subject, "\": officers sign with their own key"));
    }
    auto chain = VerifyChain(cert, *options_.trust, request.time);
    if (!chain.ok()) return chain.status();
    if (absl::Status s = CheckNotRevoked(*chain); !s.ok()) return s;

    auto base = BaseOf(request);
    if (!base.ok()) return base.status();
    auto pending = std::make_unique<Pending>();
    pending->chain_ = *std::move(chain);
    pending->slot_ = base->slots.front();  // the actor signs first
    pending->signers_ = std::move(base->signers);
    if (base->slots.size() > 1) pending->seal_slot_ = base->slots[1];
    pending->unit_ = request.dossier->unit_code();
    pending->time_ = request.time;
    if (pending->seal_slot_ && !options_.seal_keys.contains(pending->unit_)) {
      return NoSealKey(pending->unit_);
    }

    signing::SignatureRequest sig;
    sig.field_name = pending->slot_.id;
    sig.signing_time = request.time;
    sig.reason = request.transition->id();
    if (auto image = options_.officer_images.find(caller.subject);
        image != options_.officer_images.end()) {
      signing::OfficerAppearance officer;
      officer.page = pending->slot_.page;
      officer.box = PlacementOf(pending->slot_).box;
      officer.signature_png = image->second;
      officer.signer_name = CommonName(cert);
      sig.appearance = officer;
      // Annex I: the seal overlaps the left third of the officer's image.
      if (pending->seal_slot_ && pending->seal_slot_->over == pending->slot_.id) {
        auto box = signing::SealBoxFor(officer);
        if (!box.ok()) return box.status();
        pending->seal_placement_ = Placement{officer.page, *box};
      }
    }
    // An officer without a registered image signs invisibly; the seal
    // still goes in its slot.
    if (pending->seal_slot_ && !pending->seal_placement_) {
      pending->seal_placement_ = PlacementOf(*pending->seal_slot_);
    }
    auto prepared = signing::PrepareSignature(base->pdf, sig);
    if (!prepared.ok()) return prepared.status();
    pending->prepared_ = *std::move(prepared);
    auto tbs = signing::PrepareSignedAttributes(cert, pending->prepared_.document_sha256);
    if (!tbs.ok()) return tbs.status();
    pending->to_be_signed_ = *std::move(tbs);
    return std::unique_ptr<PendingSignature>(std::move(pending));
  }

  absl::StatusOr<SignedDocument> Complete(const PendingSignature& base,
                                          absl::string_view signature_value) override {
    const auto& pending = static_cast<const Pending&>(base);
    X509* cert = pending.chain_.leaf();
    if (!signing::VerifySignatureValue(cert, pending.to_be_signed_, signature_value)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the signature value is not ", CommonName(cert),
          "'s signature of this challenge's to_be_signed (wrong key, or altered)"));
    }
    std::vector<X509*> issuers;
    for (int i = 1; i < pending.chain_.size(); ++i) issuers.push_back(pending.chain_.at(i));
    auto cms = signing::AssembleSignedData(cert, issuers, pending.to_be_signed_, signature_value);
    if (!cms.ok()) return cms.status();
    auto stamped = Timestamp(*std::move(cms));
    if (!stamped.ok()) return stamped.status();
    auto pdf = signing::EmbedSignature(pending.prepared_, *stamped);
    if (!pdf.ok()) return pdf.status();
    SignedDocument document;
    document.pdf = *std::move(pdf);
    document.signers = pending.signers_;
    document.signers.push_back(SignerOf(cert, pending.slot_));
    if (pending.seal_slot_) {
      if (absl::Status s = Seal(document, pending.unit_, pending.time_, *pending.seal_slot_,
                                pending.seal_placement_);
          !s.ok()) {
        return s;
      }
    }
    if (absl::Status s = Finish(document, pending.signers_.size()); !s.ok()) return s;
    return document;
  }

  absl::StatusOr<SignedDocument> SignByServer(const DocumentRequest& request) override {
    const std::string& unit = request.dossier->unit_code();
    if (!options_.seal_keys.contains(unit)) return NoSealKey(unit);
    auto base = BaseOf(request);
    if (!base.ok()) return base.status();
    SignedDocument document;
    document.pdf = std::move(base->pdf);
    document.signers = std::move(base->signers);
    const size_t signed_before = document.signers.size();
    const signing::SignatureSlot& slot = base->slots.front();
    if (absl::Status s = Seal(document, unit, request.time, slot, PlacementOf(slot)); !s.ok()) {
      return s;
    }
    if (absl::Status s = Finish(document, signed_before); !s.ok()) return s;
    return document;
  }

  absl::StatusOr<std::string> RenewTimestamp(absl::string_view pdf) override {
    if (options_.timestamps == nullptr) {
      return absl::FailedPreconditionError("no time-stamping authority is configured");
    }
    signing::TimestampOptions stamp;
    stamp.trust = options_.trust.get();
    auto renewed = signing::RenewDocumentTimestamp(pdf, *options_.timestamps, LongTerm(), stamp);
    if (!renewed.ok()) return renewed.status();
    if (auto verified = CheckVerifies(*renewed, /*max_revisions=*/0); !verified.ok()) {
      return absl::FailedPreconditionError(verified.status().message());
    }
    return renewed;
  }

 private:
  static absl::Status NoSealKey(absl::string_view unit) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no seal key is configured for unit ", unit, ": the server cannot seal its documents"));
  }

  const UnitProfile& Unit(const std::string& code) const {
    auto it = options_.units.find(code);
    if (it != options_.units.end()) return it->second;
    static const UnitProfile* const kUnknown = new UnitProfile;
    return *kUnknown;
  }

  absl::StatusOr<Base> BaseOf(const DocumentRequest& request) const {
    const v1::TransitionDefinition& t = *request.transition;
    const std::string& kind = DocumentKindOf(t);
    const signing::DocumentLayout* layout = request.procedure->Layout(kind);
    if (layout == nullptr) {  // refused at deploy
      return absl::FailedPreconditionError(
          absl::StrCat("the procedure has no template for documents of kind \"", kind, "\""));
    }
    Base base;
    std::vector<signing::SignatureSlot> slots;
    if (t.signs_document().empty()) {
      auto rendered = Render(request, *layout);
      if (!rendered.ok()) return rendered.status();
      base.pdf = std::move(rendered->pdf);
      slots = std::move(rendered->slots);
    } else {
      if (absl::Status s = CheckSignedSoFar(request); !s.ok()) return s;
      base.pdf = std::string(request.pdf_so_far);
      base.signers.assign(request.document_so_far->signers().begin(),
                          request.document_so_far->signers().end());
      slots = layout->Slots(signing::kLastPage);
    }
    for (int i : request.procedure->SlotsFilledBy(t)) base.slots.push_back(slots[i]);
    if (base.slots.empty()) {  // refused at deploy
      return absl::FailedPreconditionError(
          absl::StrCat("transition \"", t.id(), "\" fills no slot of the ", kind));
    }
    return base;
  }

  absl::StatusOr<signing::RenderedDocument> Render(const DocumentRequest& request,
                                                   const signing::DocumentLayout& layout) const {
    const v1::Dossier& d = *request.dossier;
    auto rendered = layout.Render(DocumentValues(request.procedure->definition(), d,
                                                 Unit(d.unit_code()), request.document_id,
                                                 request.time));
    // Bad content comes from the dossier, not from the caller's request.
    if (!rendered.ok() && absl::IsInvalidArgument(rendered.status())) {
      return absl::FailedPreconditionError(
          absl::StrCat("the ", layout.document_template().kind(),
                       " cannot be made from this dossier: ", rendered.status().message()));
    }
    return rendered;
  }

  // Before a step signs a document further: the stored bytes are those its
  // record names, every earlier signature verifies (time-stamps and
  // validation data included), each was made by the signer the record
  // lists, and nothing but signature, validation-data and time-stamp
  // updates came after any of them.
  absl::Status CheckSignedSoFar(const DocumentRequest& request) const {
    const v1::Document* record = request.document_so_far;
    const std::string& kind = request.transition->signs_document();
    if (record == nullptr || record->pending()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "this step signs the dossier's ", kind, ", which has not been issued yet"));
    }
    const std::string what = absl::StrCat("the ", kind, " ", record->id());
    if (Sha256Hex(request.pdf_so_far) != record->sha256()) {
      return absl::DataLossError(absl::StrCat(
          what, " as stored is not the file its history records (SHA-256 ", record->sha256(),
          "): restore it from a backup before anyone signs it further"));
    }
    signing::VerifyOptions options;
    options.check_revocation = true;
    options.max_revocation_age = options_.max_revocation_age;
    // Per signing step: its signatures, a /DSS update and a time-stamp.
    options.limits.max_revisions = 3 * record->signers_size() + 2;
    auto report = signing::VerifyPdf(request.pdf_so_far, *options_.trust, options);
    if (!report.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat(what, " cannot be read: ", report.status().message()));
    }
    std::vector<const signing::SignatureReport*> signatures;
    for (const auto& s : report->signatures) {
      if (s.indication != signing::Indication::kTotalPassed || s.modified_after_signing) {
        std::string why = absl::StrCat(signing::IndicationName(s.indication), ": ", s.reason);
        if (s.modified_after_signing) {
          why = absl::StrCat("changed after it was signed: ", absl::StrJoin(s.later_changes, "; "));
        }
        return absl::FailedPreconditionError(absl::StrCat(
            what, " cannot be signed further: its signature \"", s.field_name, "\" ", why));
      }
      if (s.type == "Sig") signatures.push_back(&s);
    }
    bool same = signatures.size() == static_cast<size_t>(record->signers_size());
    for (size_t i = 0; same && i < signatures.size(); ++i) {
      same = signatures[i]->signer_sha256 ==
             record->signers(static_cast<int>(i)).certificate_sha256();
    }
    if (!same) {
      return absl::FailedPreconditionError(absl::StrCat(
          what, " cannot be signed further: its signatures are not those its history records"));
    }
    return absl::OkStatus();
  }

  // Adds the unit's seal in `slot`, visible at `placement` when the unit has
  // an image.
  absl::Status Seal(SignedDocument& document, const std::string& unit, absl::Time time,
                    const signing::SignatureSlot& slot,
                    const std::optional<Placement>& placement) const {
    const signing::SigningKey& key = *options_.seal_keys.at(unit);
    signing::SignatureRequest sig;
    sig.field_name = slot.id;
    sig.signing_time = time;
    const std::string& png = Unit(unit).seal_png;
    if (placement && !png.empty()) {
      signing::SealAppearance seal;
      seal.page = placement->page;
      seal.box = placement->box;
      seal.seal_png = png;
      sig.appearance = seal;
    }
    auto prepared = signing::PrepareSignature(document.pdf, sig);
    if (!prepared.ok()) return prepared.status();
    auto cms = signing::SignDetached(key, prepared->document_sha256);
    if (!cms.ok()) return cms.status();
    auto stamped = Timestamp(*std::move(cms));
    if (!stamped.ok()) return stamped.status();
    auto sealed = signing::EmbedSignature(*prepared, *stamped);
    if (!sealed.ok()) return sealed.status();
    document.pdf = *std::move(sealed);
    document.signers.push_back(SignerOf(key.certificate(), slot));
    return absl::OkStatus();
  }


  // PERMISSION_DENIED when the leaf of `chain` is revoked, UNAVAILABLE when
  // no source can say now: an officer learns before signing, not after.
  absl::Status CheckNotRevoked(const signing::CertificateChain& chain) const {
    if (chain.size() < 2) return absl::OkStatus();  // an anchor itself
    X509* cert = chain.leaf();
    signing::RevocationCheck check = options_.revocation->Check(cert, chain.at(1), absl::Now());
    switch (check.status) {
      case signing::RevocationStatus::kGood:
        return absl::OkStatus();
      case signing::RevocationStatus::kRevoked:
        return absl::PermissionDeniedError(
            absl::StrCat("the signing certificate of \"", CommonName(cert), "\" is revoked",
                         check.revoked_at ? absl::StrCat(" since ", signing::FormatVietnamTime(
                                                                       *check.revoked_at))
                                          : "",
                         ": ", check.detail));
      default:
        return absl::UnavailableError(absl::StrCat(
            "whether the signing certificate of \"", CommonName(cert),
            "\" is revoked cannot be established now; try again later (", check.detail, ")"));
    }
  }

  // `cms` with a signature time-stamp when a TSA is configured (B-T).
  absl::StatusOr<std::string> Timestamp(std::string cms) const {
    if (options_.timestamps == nullptr) return cms;
    signing::TimestampOptions options;
    options.trust = options_.trust.get();
    auto stamped = signing::TimestampSignature(cms, *options_.timestamps, options);
    if (!stamped.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("the signature could not be time-stamped: ", stamped.status().message()));
    }
    return stamped;
  }

  // B-LT, then the check every signature must pass before the step may
  // commit: with revocation on, from the document's own /DSS, as an auditor
  // offline will see it.
  signing::LongTermOptions LongTerm() const {
    signing::LongTermOptions long_term;
    long_term.trust = options_.trust.get();
    long_term.checker = options_.revocation.get();
    long_term.max_revocation_age = options_.max_revocation_age;
    return long_term;
  }

  absl::Status Finish(SignedDocument& document, size_t signed_before) const {
    auto pdf = signing::MakeLongTerm(document.pdf, LongTerm());
    if (!pdf.ok()) return pdf.status();
    document.pdf = *std::move(pdf);
    // B-LTA: a document time-stamp over everything, the /DSS included.
    size_t timestamps = 0;
    if (options_.timestamps != nullptr) {
      signing::TimestampOptions stamp;
      stamp.trust = options_.trust.get();
      auto stamped = signing::AddDocumentTimestamp(document.pdf, *options_.timestamps, stamp);
      if (!stamped.ok()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "the document could not be time-stamped: ", stamped.status().message()));
      }
      document.pdf = *std::move(stamped);
      timestamps = 1;
    }
    // A document rendered for this step needs no parse of its base: every
    // signature's byte range still starts at byte 0, and what changed after
    // each signature is still classified. One signed before is read whole.
    const int max_revisions =
        signed_before == 0 ? static_cast<int>(document.signers.size() + timestamps) + 1 : 0;
    auto signatures = CheckVerifies(document.pdf, max_revisions);
    if (!signatures.ok()) return signatures.status();
    if (*signatures != document.signers.size()) {
      return absl::InternalError(
          "the signed document does not verify: wrong number of signatures");
    }
    return absl::OkStatus();
  }

  // INTERNAL, with the first failure, unless every signature of `pdf`
  // passes with revocation checked from the document itself, as an auditor
  // offline will see it; else how many signatures (not time-stamps) it has.
  // `max_revisions`: 0 keeps the parser's default limit.
  absl::StatusOr<size_t> CheckVerifies(absl::string_view pdf, int max_revisions) const {
    signing::VerifyOptions options;
    options.check_revocation = true;
    options.max_revocation_age = options_.max_revocation_age;
    if (max_revisions > 0) options.limits.max_revisions = max_revisions;
    auto report = signing::VerifyPdf(pdf, *options_.trust, options);
    if (!report.ok()) {
      return absl::InternalError(absl::StrCat("signed document: ", report.status().message()));
    }
    if (!report->AllPassed()) {
      std::string why = "a change after signing";
      for (const auto& s : report->signatures) {
        if (s.indication != signing::Indication::kTotalPassed) {
          why = absl::StrCat(s.field_name, ": ", signing::IndicationName(s.indication), "/",
                             signing::SubIndicationName(s.sub_indication), ": ", s.reason);
          break;
        }
      }
      return absl::InternalError(absl::StrCat("the signed document does not verify: ", why));
    }
    size_t signatures = 0;
    for (const auto& s : report->signatures) signatures += s.type == "Sig";
    return signatures;
  }

  const ResultDocumentsOptions options_;
};

}  // namespace

std::unique_ptr<ResultDocuments> NewSignedResultDocuments(ResultDocumentsOptions options) {
  return std::make_unique<SignedResultDocuments>(std::move(options));
}

absl::Status CheckSealKeys(const ResultDocumentsOptions& options) {
  for (const auto& [unit, key] : options.seal_keys) {
    auto chain = VerifyChain(key->certificate(), *options.trust, absl::Now());
    if (!chain.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("seal key of unit ", unit, ": ", chain.status().message()));
    }
  }
  return absl::OkStatus();
}

namespace {

// `status` with the configuration field it came from in front.
absl::Status InField(absl::string_view field, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(field, ": ", status.message()));
}

absl::StatusOr<std::shared_ptr<const signing::SigningKey>> OpenSealKey(const v1::SealKey& seal) {
  signing::Pkcs11KeyRef ref;
  if (seal.has_pkcs11()) {
    const v1::Pkcs11Key& key = seal.pkcs11();
    auto pin = storage::ReadWholeFile(key.pin_file());
    if (!pin.ok()) return InField("pkcs11.pin_file", pin.status());
    ref.module_path = key.module();
    ref.token_label = key.token_label();
    ref.key_label = key.key_label();
    ref.pin = std::string(absl::StripTrailingAsciiWhitespace(*pin));
  } else if (seal.has_pkcs11_uri()) {
    auto parsed = signing::ParsePkcs11Uri(seal.pkcs11_uri());
    if (!parsed.ok()) return InField("pkcs11_uri", parsed.status());
    ref = *std::move(parsed);
  } else {
    return absl::InvalidArgumentError("names no key: give pkcs11_uri or pkcs11");
  }
  ref.certificate_chain_path = seal.certificate_chain();
  auto key = signing::SigningKey::OpenPkcs11Key(ref);
  if (!key.ok()) return key.status();
  return std::shared_ptr<const signing::SigningKey>(*std::move(key));
}

}  // namespace

absl::StatusOr<ResultDocumentsOptions> OpenResultDocumentsOptions(const v1::ServerConfig& config) {
  ResultDocumentsOptions options;
  auto trust = std::make_shared<TrustStore>();
  for (int i = 0; i < config.signature_trust_anchors_size(); ++i) {
    if (absl::Status s = trust->AddAnchorsFrom(config.signature_trust_anchors(i)); !s.ok()) {
      return InField(absl::StrCat("signature_trust_anchors[", i, "]"), s);
    }
  }
  if (trust->anchors().empty()) {
    return absl::InvalidArgumentError(
        "signature_trust_anchors: none given; officers' signatures could not be checked");
  }
  options.trust = std::move(trust);

  signing::RevocationCheckerOptions revocation;
  for (const std::string& crl : config.crl_files()) revocation.crl_files.push_back(crl);
  auto checker = signing::RevocationChecker::Create(std::move(revocation));
  if (!checker.ok()) return InField("crl_files", checker.status());
  options.revocation = *std::move(checker);
  if (config.max_revocation_age_seconds() < 0) {
    return absl::InvalidArgumentError("max_revocation_age_seconds: must not be negative");
  }
  options.max_revocation_age = absl::Seconds(config.max_revocation_age_seconds());
  if (!config.tsa_url().empty()) {
    options.timestamps = signing::HttpTimestampAuthority(config.tsa_url());
  }

  for (int i = 0; i < config.units_size(); ++i) {
    const v1::UnitProfile& unit = config.units(i);
    const std::string field = absl::StrCat("units[", i, "] (", unit.code(), ")");
    if (unit.code().empty() || unit.name().empty() || unit.place().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": code, name and place are required"));
    }
    if (options.units.contains(unit.code())) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": unit listed twice"));
    }
    auto head = unit.signer_titles().find("head");
    if (head == unit.signer_titles().end() || head->second.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".signer_titles: no title for \"head\" (e.g. \"Giám đốc\", \"Hiệu trưởng\")"));
    }
    UnitProfile profile{unit.name(), unit.parent(), unit.place(), head->second, ""};
    if (!unit.seal_image().empty()) {
      auto png = storage::ReadWholeFile(unit.seal_image());
      if (!png.ok()) return InField(absl::StrCat(field, ".seal_image"), png.status());
      profile.seal_png = *std::move(png);
    }
    for (const auto& [common_name, path] : unit.signature_images()) {
      auto png = storage::ReadWholeFile(path);
      if (!png.ok()) {
        return InField(absl::StrCat(field, ".signature_images[", common_name, "]"), png.status());
      }
      options.officer_images[common_name] = *std::move(png);
    }
    options.units[unit.code()] = std::move(profile);
  }

  for (int i = 0; i < config.seal_keys_size(); ++i) {
    const v1::SealKey& seal = config.seal_keys(i);
    const std::string field = absl::StrCat("seal_keys[", i, "] (", seal.unit_code(), ")");
    if (!options.units.contains(seal.unit_code())) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": no unit profile for this unit: its seals would name no issuing body"));
    }
    if (options.seal_keys.contains(seal.unit_code())) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": unit listed twice"));
    }
    auto key = OpenSealKey(seal);
    if (!key.ok()) return InField(field, key.status());
    options.seal_keys[seal.unit_code()] = *std::move(key);
  }
  return options;
}

}  // namespace motcua::workflow
