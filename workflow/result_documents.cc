#include "workflow/result_documents.h"

#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "proto/proto_time.h"
#include "signing/appearance.h"
#include "signing/certificate_chain.h"
#include "signing/document_signer.h"
#include "signing/documents.h"
#include "signing/timestamp_client.h"
#include "storage/files.h"
#include "workflow/history.h"
#include "workflow/work_calendar.h"

namespace motcua::workflow {
namespace {

using signing::TrustStore;

v1::DocumentSigner SignerOf(X509* cert, const signing::SignatureSlot& slot) {
  v1::DocumentSigner signer;
  signer.set_common_name(signing::CommonNameOf(cert));
  signer.set_certificate_sha256(signing::CertificateSha256(cert));
  signer.set_signer(slot.signer);
  signer.set_slot(slot.id);
  return signer;
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
  const std::string& to_be_signed() const override { return signature_.to_be_signed; }
  const std::string& document_sha256() const override {
    return signature_.prepared.document_sha256;
  }
  const std::string& prepared_pdf() const override { return signature_.prepared.pdf; }
  std::vector<int64_t> byte_range() const override {
    return {signature_.prepared.byte_range, signature_.prepared.byte_range + 4};
  }

  signing::OfficerSignature signature_;
  signing::SignatureSlot slot_;
  std::vector<v1::DocumentSigner> signers_;  // before this one
  std::optional<signing::SignatureSlot> seal_slot_;  // the seal follows
  std::optional<Placement> seal_placement_;
  std::string unit_;
  absl::Time time_;
};

class SignedResultDocuments : public ResultDocuments {
 public:
  explicit SignedResultDocuments(ResultDocumentsOptions options)
      : options_(std::move(options)),
        signer_({options_.trust.get(), options_.revocation.get(), options_.timestamps.get(),
                 options_.max_revocation_age}) {}

  absl::StatusOr<std::unique_ptr<PendingSignature>> Prepare(
      const DocumentRequest& request, const Principal& caller,
      absl::string_view certificate_pem) override {
    auto certs = TrustStore::ParseCertificates(certificate_pem);
    if (!certs.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("signer_certificate_pem: ", certs.status().message()));
    }
    X509* cert = (*certs)[0].get();
    if (signing::CommonNameOf(cert) != caller.subject) {
      return absl::PermissionDeniedError(absl::StrCat(
          "the signing certificate names \"", signing::CommonNameOf(cert), "\", not the caller \"",
          caller.subject, "\": officers sign with their own key"));
    }
    auto chain = signer_.CheckSigner(cert, request.time);
    if (!chain.ok()) return chain.status();

    auto base = BaseOf(request);
    if (!base.ok()) return base.status();
    auto pending = std::make_unique<Pending>();
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
      officer.signer_name = signing::CommonNameOf(cert);
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
    auto signature = signer_.Prepare(base->pdf, *std::move(chain), sig);
    if (!signature.ok()) return signature.status();
    pending->signature_ = *std::move(signature);
    return std::unique_ptr<PendingSignature>(std::move(pending));
  }

  absl::StatusOr<SignedDocument> Complete(const PendingSignature& base,
                                          absl::string_view signature_value) override {
    const auto& pending = static_cast<const Pending&>(base);
    auto pdf = signer_.Complete(pending.signature_, signature_value);
    if (!pdf.ok()) return pdf.status();
    SignedDocument document;
    document.pdf = *std::move(pdf);
    document.signers = pending.signers_;
    document.signers.push_back(SignerOf(pending.signature_.chain.leaf(), pending.slot_));
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
    return signer_.Renew(pdf);
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
    // Per signing step: its signatures, a /DSS update and a time-stamp.
    auto signers = signer_.SignersSoFar(request.pdf_so_far, 3 * record->signers_size() + 2);
    if (!signers.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat(what, " cannot be signed further: ", signers.status().message()));
    }
    bool same = signers->size() == static_cast<size_t>(record->signers_size());
    for (size_t i = 0; same && i < signers->size(); ++i) {
      same = (*signers)[i] == record->signers(static_cast<int>(i)).certificate_sha256();
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
    auto sealed = signer_.SignWithKey(document.pdf, key, sig);
    if (!sealed.ok()) return sealed.status();
    document.pdf = *std::move(sealed);
    document.signers.push_back(SignerOf(key.certificate(), slot));
    return absl::OkStatus();
  }


  // B-LT, B-LTA and the check every signature must pass before the step
  // may commit.
  absl::Status Finish(SignedDocument& document, size_t signed_before) const {
    // A document rendered for this step needs no parse of its base: every
    // signature's byte range still starts at byte 0, and what changed after
    // each signature is still classified. One signed before is read whole.
    const int timestamps = options_.timestamps != nullptr ? 1 : 0;
    const int max_revisions =
        signed_before == 0 ? static_cast<int>(document.signers.size()) + timestamps + 1 : 0;
    auto pdf = signer_.Finish(document.pdf, static_cast<int>(document.signers.size()),
                              max_revisions);
    if (!pdf.ok()) return pdf.status();
    document.pdf = *std::move(pdf);
    return absl::OkStatus();
  }

  const ResultDocumentsOptions options_;
  const signing::DocumentSigner signer_;
};

}  // namespace

std::unique_ptr<ResultDocuments> NewSignedResultDocuments(ResultDocumentsOptions options) {
  return std::make_unique<SignedResultDocuments>(std::move(options));
}

absl::Status CheckSealKeys(const ResultDocumentsOptions& options) {
  for (const auto& [unit, key] : options.seal_keys) {
    auto chain = signing::BuildChain(key->certificate(), *options.trust, nullptr, {});
    if (!chain.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "seal key of unit ", unit, ": the certificate of \"",
          signing::CommonNameOf(key->certificate()), "\" is not trusted: ",
          chain.status().message()));
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
