#include "signing/verifier.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/ess.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "signing/certificate_chain.h"
#include "signing/openssl_util.h"
#include "signing/revocation_evidence.h"
#include "signing/signed_data.h"

namespace motcua::signing {
namespace {

template <typename T, void (*F)(T*)>
struct Free {
  void operator()(T* p) const { F(p); }
};
using StorePtr = std::unique_ptr<X509_STORE, Free<X509_STORE, X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Free<X509_STORE_CTX, X509_STORE_CTX_free>>;
using Pkcs7Ptr = std::unique_ptr<PKCS7, Free<PKCS7, PKCS7_free>>;
using TstInfoPtr = std::unique_ptr<TS_TST_INFO, Free<TS_TST_INFO, TS_TST_INFO_free>>;
using TsCtxPtr = std::unique_ptr<TS_VERIFY_CTX, Free<TS_VERIFY_CTX, TS_VERIFY_CTX_free>>;
using CrlPtr = std::unique_ptr<X509_CRL, Free<X509_CRL, X509_CRL_free>>;
using OcspRespPtr = std::unique_ptr<OCSP_RESPONSE, Free<OCSP_RESPONSE, OCSP_RESPONSE_free>>;
using OcspBasicPtr = std::unique_ptr<OCSP_BASICRESP, Free<OCSP_BASICRESP, OCSP_BASICRESP_free>>;
using OcspIdPtr = std::unique_ptr<OCSP_CERTID, Free<OCSP_CERTID, OCSP_CERTID_free>>;
using EssV2Ptr =
    std::unique_ptr<ESS_SIGNING_CERT_V2, Free<ESS_SIGNING_CERT_V2, ESS_SIGNING_CERT_V2_free>>;
using EssV1Ptr = std::unique_ptr<ESS_SIGNING_CERT, Free<ESS_SIGNING_CERT, ESS_SIGNING_CERT_free>>;

void FreeCertStack(STACK_OF(X509) * s) { sk_X509_pop_free(s, X509_free); }
using CertStackPtr = std::unique_ptr<STACK_OF(X509), Free<STACK_OF(X509), FreeCertStack>>;

std::string OpensslError() {
  std::string text;
  while (unsigned long code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    if (!text.empty()) text += "; ";
    text += buffer;
  }
  return text.empty() ? "unknown OpenSSL error" : text;
}

// ---- Certificates -------------------------------------------------------

std::string NameText(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, len > 0 ? static_cast<size_t>(len) : 0);
}

// "D:YYYYMMDDHHmmSS+HH'mm'" (every part after the year optional).
std::optional<absl::Time> ParsePdfDate(absl::string_view text) {
  if (absl::StartsWith(text, "D:")) text.remove_prefix(2);
  int fields[6] = {0, 1, 1, 0, 0, 0};
  const int widths[6] = {4, 2, 2, 2, 2, 2};
  size_t pos = 0;
  for (int i = 0; i < 6; ++i) {
    if (pos + widths[i] > text.size() || !absl::ascii_isdigit(text[pos])) {
      if (i == 0) return std::nullopt;
      break;
    }
    int value = 0;
    for (int d = 0; d < widths[i]; ++d) {
      if (!absl::ascii_isdigit(text[pos + d])) return std::nullopt;
      value = value * 10 + (text[pos + d] - '0');
    }
    fields[i] = value;
    pos += widths[i];
  }
  int offset_minutes = 0;
  if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int sign = text[pos] == '-' ? -1 : 1;
    int hh = 0, mm = 0;
    if (pos + 3 <= text.size() && absl::ascii_isdigit(text[pos + 1]) &&
        absl::ascii_isdigit(text[pos + 2])) {
      hh = (text[pos + 1] - '0') * 10 + (text[pos + 2] - '0');
      size_t m = pos + 3;
      if (m < text.size() && text[m] == '\'') ++m;
      if (m + 2 <= text.size() && absl::ascii_isdigit(text[m]) &&
          absl::ascii_isdigit(text[m + 1])) {
        mm = (text[m] - '0') * 10 + (text[m + 1] - '0');
      }
    }
    offset_minutes = sign * (hh * 60 + mm);
  }
  absl::CivilSecond civil(fields[0], fields[1], fields[2], fields[3], fields[4], fields[5]);
  return absl::FromCivil(civil, absl::UTCTimeZone()) - absl::Minutes(offset_minutes);
}

// ---- Byte range -----------------------------------------------------------

std::optional<std::string> DecodeHex(absl::string_view hex) {
  std::string out;
  out.reserve(hex.size() / 2);
  int high = -1;
  for (char c : hex) {
    int v;
    if (c >= '0' && c <= '9')
      v = c - '0';
    else if (c >= 'a' && c <= 'f')
      v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      v = c - 'A' + 10;
    else if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
      continue;
    else
      return std::nullopt;
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<char>(high * 16 + v));
      high = -1;
    }
  }
  if (high >= 0) out.push_back(static_cast<char>(high * 16));
  return out;
}

// Checks the byte range against the file and the revisions; returns the
// signed bytes' two pieces and the DER from the gap.
struct SignedData {
  absl::string_view first, second;
  std::string contents;
};

std::optional<SignedData> CheckByteRange(absl::string_view pdf, const PdfStructure& structure,
                                         const PdfSignatureInfo& sig, ByteRangeCoverage* coverage,
                                         bool* missing) {
  const std::vector<int64_t>& br = sig.byte_range;
  if (br.size() != 4) {
    coverage->problem = absl::StrCat("/ByteRange has ", br.size(), " numbers, not 4");
    return std::nullopt;
  }
  int64_t size = static_cast<int64_t>(pdf.size());
  if (br[0] != 0) {
    coverage->problem = "/ByteRange does not start at 0";
    return std::nullopt;
  }
  if (br[1] < 0 || br[2] < 0 || br[3] < 0 || br[2] <= br[1] + 1) {
    coverage->problem = "/ByteRange has negative or overlapping ranges";
    return std::nullopt;
  }
  if (br[1] > size || br[2] > size || br[3] > size - br[2]) {
    coverage->problem = "/ByteRange reaches beyond the end of the file (truncated?)";
    *missing = true;
    return std::nullopt;
  }
  absl::string_view gap = pdf.substr(br[1], br[2] - br[1]);
  if (gap.front() != '<' || gap.back() != '>') {
    coverage->problem = "the gap of /ByteRange is not a hex string";
    return std::nullopt;
  }
  std::optional<std::string> der = DecodeHex(gap.substr(1, gap.size() - 2));
  if (!der.has_value() || *der != sig.contents) {
    coverage->problem = "the gap of /ByteRange is not this signature's /Contents";
    return std::nullopt;
  }
  coverage->well_formed = true;
  size_t end = static_cast<size_t>(br[2] + br[3]);
  coverage->signed_bytes = br[1] + br[3];
  for (size_t i = 0; i < structure.revisions.size(); ++i) {
    const PdfRevisionInfo& revision = structure.revisions[i];
    // A writer may or may not count the end-of-line after %%EOF.
    size_t eof_end = revision.end;
    while (eof_end > 0 && (pdf[eof_end - 1] == '\n' || pdf[eof_end - 1] == '\r')) --eof_end;
    if (end >= eof_end && end <= revision.end) coverage->revision = static_cast<int>(i);
  }
  size_t rest = end;
  while (rest < pdf.size() &&
         (pdf[rest] == '\n' || pdf[rest] == '\r' || pdf[rest] == ' ' || pdf[rest] == '\0')) {
    ++rest;
  }
  coverage->covers_whole_document = rest == pdf.size();
  return SignedData{pdf.substr(0, br[1]), pdf.substr(br[2], br[3]), *std::move(der)};
}

// ---- Chains ----------------------------------------------------------------

// The certificates that may help build chains: from the CMS, the /DSS and the
// trust store's intermediates.
class CertPool {
 public:
  CertPool() : certs_(sk_X509_new_null()) {}
  void Add(X509* cert) {
    if (cert == nullptr) return;
    X509_up_ref(cert);
    sk_X509_push(certs_.get(), cert);
  }
  STACK_OF(X509) * get() const { return certs_.get(); }

 private:
  CertStackPtr certs_;
};

StorePtr MakeStore(const TrustStore& trust, absl::Time at) {
  StorePtr store(X509_STORE_new());
  for (const TrustStore::Cert& anchor : trust.anchors())
    X509_STORE_add_cert(store.get(), anchor.get());
  X509_VERIFY_PARAM* param = X509_STORE_get0_param(store.get());
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  X509_VERIFY_PARAM_set_time(param, absl::ToTimeT(at));
  return store;
}

// ---- Timestamps ------------------------------------------------------------

// The certificate that signed `token`: from the token, else from `pool`.
X509* TimestampSigner(PKCS7* token, const CertPool& pool) {
  STACK_OF(PKCS7_SIGNER_INFO)* signers = PKCS7_get_signer_info(token);
  if (signers == nullptr || sk_PKCS7_SIGNER_INFO_num(signers) != 1) return nullptr;
  PKCS7_ISSUER_AND_SERIAL* ias = sk_PKCS7_SIGNER_INFO_value(signers, 0)->issuer_and_serial;
  STACK_OF(X509)* token_certs = token->d.sign != nullptr ? token->d.sign->cert : nullptr;
  X509* tsa = nullptr;
  if (token_certs != nullptr) {
    tsa = X509_find_by_issuer_and_serial(token_certs, ias->issuer, ias->serial);
  }
  if (tsa == nullptr) tsa = X509_find_by_issuer_and_serial(pool.get(), ias->issuer, ias->serial);
  return tsa;
}

// Verifies an RFC 3161 token over `data` against the trust store.
TimestampInfo VerifyTimestampToken(PKCS7* token, absl::string_view data, const CertPool& pool,
                                   const TrustStore& trust, absl::Time now,
                                   SubIndication* failure) {
  TimestampInfo info;
  info.present = true;
  *failure = SubIndication::kFormatFailure;
  TstInfoPtr tst(PKCS7_to_TS_TST_INFO(token));
  if (tst == nullptr) {
    info.problem = "the timestamp token holds no TSTInfo";
    ERR_clear_error();
    return info;
  }
  info.gen_time = AsnTime(TS_TST_INFO_get_time(tst.get()));
  TS_MSG_IMPRINT* imprint = TS_TST_INFO_get_msg_imprint(tst.get());
  const EVP_MD* md = EVP_get_digestbyobj(TS_MSG_IMPRINT_get_algo(imprint)->algorithm);
  ASN1_OCTET_STRING* expected = TS_MSG_IMPRINT_get_msg(imprint);
  if (md == nullptr || expected == nullptr) {
    info.problem = "unknown digest algorithm in the timestamp";
    return info;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, md, nullptr);
  if (static_cast<int>(len) != ASN1_STRING_length(expected) ||
      memcmp(digest, ASN1_STRING_get0_data(expected), len) != 0) {
    info.problem = "the timestamp does not cover this data (message imprint mismatch)";
    *failure = SubIndication::kHashFailure;
    return info;
  }
  if (X509* tsa = TimestampSigner(token, pool)) {
    info.tsa_subject = NameText(X509_get_subject_name(tsa));
  }
  TsCtxPtr ctx(TS_VERIFY_CTX_new());
  TS_VERIFY_CTX_set_flags(ctx.get(), TS_VFY_VERSION | TS_VFY_SIGNATURE);
  TS_VERIFY_CTX_set_store(ctx.get(), MakeStore(trust, now).release());
  CertStackPtr untrusted(sk_X509_new_null());
  for (int i = 0; i < sk_X509_num(pool.get()); ++i) {
    X509* cert = sk_X509_value(pool.get(), i);
    X509_up_ref(cert);
    sk_X509_push(untrusted.get(), cert);
  }
  TS_VERIFY_CTS_set_certs(ctx.get(), untrusted.release());
  if (TS_RESP_verify_token(ctx.get(), token) == 1) {
    info.valid = true;
    *failure = SubIndication::kNone;
  } else {
    unsigned long code = ERR_peek_error();
    info.problem = absl::StrCat("timestamp not verified: ", OpensslError());
    *failure = ERR_GET_REASON(code) == TS_R_CERTIFICATE_VERIFY_ERROR
                   ? SubIndication::kNoCertificateChainFound
                   : SubIndication::kSigCryptoFailure;
  }
  ERR_clear_error();
  return info;
}

// ---- Revocation --------------------------------------------------------------

struct RevocationData {
  std::vector<CrlPtr> crls;
  std::vector<OcspRespPtr> ocsp;
};

struct CertRevocation {
  RevocationStatus status = RevocationStatus::kUnknown;
  std::optional<absl::Time> revoked_at;
  std::string source;  // the evidence relied on; for kUnknown, why there is none
};

// Revocation data from every source, borrowed from its owners.
struct RevocationView {
  std::vector<X509_CRL*> crls;
  std::vector<OCSP_RESPONSE*> ocsp;
  void Add(const RevocationData& data) {
    for (const CrlPtr& crl : data.crls) crls.push_back(crl.get());
    for (const OcspRespPtr& response : data.ocsp) ocsp.push_back(response.get());
  }
};

// Weighs the evidence about one certificate. A revocation counts whenever
// it was issued; a "good" only when fresh for the signature (`signed_by`,
// its time-stamp's time, if any); stale ones are named in kUnknown's source.
class RevocationJudge {
 public:
  RevocationJudge(std::optional<absl::Time> signed_by, absl::Time now, const VerifyOptions& options)
      : signed_by_(signed_by), now_(now), options_(options) {}

  // True once a revocation is found: nothing can outweigh it.
  bool Weigh(const RevocationEvidence& evidence, absl::string_view origin) {
    if (evidence.status == RevocationStatus::kUnknown) return false;
    const std::string source = absl::StrCat(origin, evidence.source);
    if (evidence.status == RevocationStatus::kRevoked) {
      result_ = {RevocationStatus::kRevoked, evidence.revoked_at, source};
      return true;
    }
    std::string stale = WhyNotFresh(evidence, signed_by_, now_, options_.max_revocation_age);
    if (!stale.empty()) {
      problems_.push_back(absl::StrCat(origin, stale));
    } else if (result_.status == RevocationStatus::kUnknown) {
      result_ = {RevocationStatus::kGood, std::nullopt, source};
    }
    return false;
  }
  void Problem(std::string problem) { problems_.push_back(std::move(problem)); }
  bool Decided() const { return result_.status != RevocationStatus::kUnknown; }

  CertRevocation Result() const {
    if (Decided()) return result_;
    CertRevocation unknown;
    unknown.source = absl::StrJoin(problems_, "; ");
    return unknown;
  }

 private:
  std::optional<absl::Time> signed_by_;
  absl::Time now_;
  const VerifyOptions& options_;
  CertRevocation result_;
  std::vector<std::string> problems_;
};

// Asks the fetcher: OCSP first, then a CRL.
void Fetch(RevocationFetcher* fetcher, X509* cert, X509* issuer, STACK_OF(X509) * pool,
           RevocationJudge* judge) {
  absl::StatusOr<std::string> der = fetcher->FetchOcsp(cert, issuer);
  if (der.ok()) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der->data());
    OcspRespPtr response(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der->size())));
    ERR_clear_error();
    if (response == nullptr) {
      judge->Problem("the fetched OCSP response does not parse");
    } else {
      RevocationEvidence evidence = EvaluateOcsp(response.get(), cert, issuer, pool);
      if (judge->Weigh(evidence, "fetched ") || judge->Decided()) return;
      if (!evidence.problem.empty()) judge->Problem("fetched " + evidence.problem);
    }
  } else {
    judge->Problem(std::string(der.status().message()));
  }
  der = fetcher->FetchCrl(cert, issuer);
  if (der.ok()) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der->data());
    CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der->size())));
    ERR_clear_error();
    if (crl == nullptr) {
      judge->Problem("the fetched CRL does not parse");
    } else {
      RevocationEvidence evidence = EvaluateCrl(crl.get(), cert, issuer);
      if (judge->Weigh(evidence, "fetched ") || judge->Decided()) return;
      if (!evidence.problem.empty()) judge->Problem("fetched " + evidence.problem);
    }
  } else if (!absl::IsNotFound(der.status())) {
    judge->Problem(std::string(der.status().message()));
  }
}

// The status of `cert` per the evidence the document carries, then per the
// fetcher when that gives no fresh answer.
CertRevocation CheckRevocation(X509* cert, X509* issuer, const RevocationView& data,
                               STACK_OF(X509) * pool, std::optional<absl::Time> signed_by,
                               absl::Time now, const VerifyOptions& options) {
  RevocationJudge judge(signed_by, now, options);
  for (X509_CRL* crl : data.crls) {
    if (judge.Weigh(EvaluateCrl(crl, cert, issuer), "")) return judge.Result();
  }
  for (OCSP_RESPONSE* response : data.ocsp) {
    if (judge.Weigh(EvaluateOcsp(response, cert, issuer, pool), "")) return judge.Result();
  }
  if (!judge.Decided() && options.revocation_fetcher != nullptr) {
    Fetch(options.revocation_fetcher, cert, issuer, pool, &judge);
  }
  return judge.Result();
}

// ---- One signature -------------------------------------------------------------

class SignatureVerifier {
 public:
  SignatureVerifier(absl::string_view pdf, const PdfStructure& structure, const TrustStore& trust,
                    const VerifyOptions& options, absl::Time now)
      : pdf_(pdf), structure_(structure), trust_(trust), options_(options), now_(now) {
    for (const std::string& der : structure.dss_certificates) AddPoolDer(der);
    for (const TrustStore::Cert& cert : trust.intermediates()) pool_.Add(cert.get());
    for (const std::string& der : structure.dss_crls) {
      const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
      X509_CRL* crl = d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size()));
      if (crl != nullptr) dss_revocation_.crls.emplace_back(crl);
    }
    for (const std::string& der : structure.dss_ocsp_responses) {
      const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
      OCSP_RESPONSE* response = d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size()));
      if (response != nullptr) dss_revocation_.ocsp.emplace_back(response);
    }
    ERR_clear_error();
  }

  SignatureReport Verify(const PdfSignatureInfo& sig) {
    SignatureReport report;
    report.field_name = sig.field_name;
    report.type = sig.type;
    report.sub_filter = sig.sub_filter;
    report.revision = sig.revision;
    report.claimed_signing_time = sig.signing_time;
    if (!sig.signing_time.empty())
      report.claimed_signing_time_parsed = ParsePdfDate(sig.signing_time);
    Run(sig, &report);
    if (report.coverage.revision >= 0) report.revision = report.coverage.revision;
    for (const PdfRevisionChanges& changes : structure_.changes) {
      if (report.revision < 0 || changes.revision <= report.revision) continue;
      for (const PdfObjectChange& change : changes.changes) {
        if (!change.flagged) continue;
        report.later_changes.push_back(absl::StrCat("revision ", changes.revision, ": ",
                                                    change.description, " (object ",
                                                    change.object_number, ")"));
      }
    }
    if (structure_.trailing_bytes > 0 && !report.coverage.covers_whole_document) {
      report.later_changes.push_back(
          absl::StrCat(structure_.trailing_bytes, " unsigned bytes after the last %%EOF"));
    }
    if (!report.later_changes.empty()) {
      report.modified_after_signing = true;
      report.warnings.push_back(
          "the document was modified after this signature in ways that can change what it shows");
    }
    ERR_clear_error();
    return report;
  }

 private:
  void AddPoolDer(absl::string_view der) { pool_.Add(DecodeCertificate(der).get()); }

  static void Fail(SignatureReport* report, Indication indication, SubIndication sub,
                   std::string reason) {
    report->indication = indication;
    report->sub_indication = sub;
    report->reason = std::move(reason);
  }

  void Run(const PdfSignatureInfo& sig, SignatureReport* report) {
    bool missing = false;
    std::optional<SignedData> data =
        CheckByteRange(pdf_, structure_, sig, &report->coverage, &missing);
    if (!data.has_value()) {
      if (missing) {
        Fail(report, Indication::kIndeterminate, SubIndication::kSignedDataNotFound,
             report->coverage.problem);
      } else {
        Fail(report, Indication::kTotalFailed, SubIndication::kFormatFailure,
             report->coverage.problem);
      }
      return;
    }
    if (report->coverage.revision < 0) {
      // Then the bytes after it belong to no revision we can classify.
      if (!report->coverage.covers_whole_document) {
        report->coverage.problem = "the signed range ends inside a revision";
        Fail(report, Indication::kTotalFailed, SubIndication::kFormatFailure,
             report->coverage.problem);
        return;
      }
      report->warnings.push_back("the signed range does not end at a %%EOF");
    }
    if (sig.type == "DocTimeStamp" || sig.sub_filter == "ETSI.RFC3161") {
      VerifyDocumentTimestamp(*data, report);
    } else {
      VerifyCms(sig, *data, report);
    }
  }

  std::string SignedBytes(const SignedData& data) { return absl::StrCat(data.first, data.second); }

  void VerifyDocumentTimestamp(const SignedData& data, SignatureReport* report) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(data.contents.data());
    Pkcs7Ptr token(d2i_PKCS7(nullptr, &p, static_cast<long>(data.contents.size())));
    if (token == nullptr) {
      ERR_clear_error();
      Fail(report, Indication::kTotalFailed, SubIndication::kFormatFailure,
           "/Contents is not a timestamp token");
      return;
    }
    SubIndication failure;
    report->timestamp =
        VerifyTimestampToken(token.get(), SignedBytes(data), pool_, trust_, now_, &failure);
    report->signer_subject = report->timestamp.tsa_subject;
    if (X509* tsa = TimestampSigner(token.get(), pool_)) {
      report->signer_common_name = CommonNameOf(tsa);
    }
    if (!report->timestamp.valid) {
      Indication indication = failure == SubIndication::kNoCertificateChainFound
                                  ? Indication::kIndeterminate
                                  : Indication::kTotalFailed;
      Fail(report, indication, failure, report->timestamp.problem);
      return;
    }
    report->revocation = RevocationStatus::kNotChecked;
    report->revocation_detail = "revocation of the TSA certificate is not checked";
    Fail(report, Indication::kTotalPassed, SubIndication::kNone, "the document timestamp is valid");
  }

  void VerifyCms(const PdfSignatureInfo& sig, const SignedData& data, SignatureReport* report) {
    std::optional<SignedDataParts> parts = ReadSignedData(data.contents);
    CMS_ContentInfo* cms = parts.has_value() ? parts->cms.get() : nullptr;
    if (cms == nullptr || OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
      ERR_clear_error();
      Fail(report, Indication::kTotalFailed, SubIndication::kFormatFailure,
           "/Contents is not a CMS SignedData");
      return;
    }
    if (CMS_is_detached(cms) != 1) {
      Fail(report, Indication::kTotalFailed, SubIndication::kFormatFailure,
           "the CMS is not detached (embedded content is not supported)");
      return;
    }
    STACK_OF(CMS_SignerInfo)* infos = CMS_get0_SignerInfos(cms);
    if (infos == nullptr || sk_CMS_SignerInfo_num(infos) != 1) {
      Fail(report, Indication::kTotalFailed, SubIndication::kFormatFailure,
           absl::StrCat("the CMS has ", infos == nullptr ? 0 : sk_CMS_SignerInfo_num(infos),
                        " SignerInfos; exactly one is required"));
      return;
    }
    CMS_SignerInfo* si = sk_CMS_SignerInfo_value(infos, 0);
    for (const X509Ptr& cert : parts->certificates) pool_.Add(cert.get());
    RevocationData revocation;
    if (STACK_OF(X509_CRL)* crls = CMS_get1_crls(cms)) {
      for (int i = 0; i < sk_X509_CRL_num(crls); ++i)
        revocation.crls.emplace_back(sk_X509_CRL_value(crls, i));
      sk_X509_CRL_free(crls);
    }
    ERR_clear_error();

    X509* signer = nullptr;
    for (int i = 0; i < sk_X509_num(pool_.get()) && signer == nullptr; ++i) {
      if (CMS_SignerInfo_cert_cmp(si, sk_X509_value(pool_.get(), i)) == 0) {
        signer = sk_X509_value(pool_.get(), i);
      }
    }
    for (size_t i = 0; i < trust_.anchors().size() && signer == nullptr; ++i) {
      if (CMS_SignerInfo_cert_cmp(si, trust_.anchors()[i].get()) == 0)
        signer = trust_.anchors()[i].get();
    }
    if (signer == nullptr) {
      Fail(report, Indication::kIndeterminate, SubIndication::kNoSigningCertificateFound,
           "the signer's certificate is neither in the CMS nor in the /DSS");
      return;
    }
    report->signer_subject = NameText(X509_get_subject_name(signer));
    report->signer_common_name = CommonNameOf(signer);
    report->signer_sha256 = CertificateSha256(signer);

    if (!VerifyCryptography(cms, si, signer, data, report)) return;
    if (!CheckAttributes(sig, si, signer, report)) return;
    VerifySignatureTimestamp(si, revocation, report);
    CheckCertificates(signer, revocation, report);
  }

  bool VerifyCryptography(CMS_ContentInfo* cms, CMS_SignerInfo* si, X509* signer,
                          const SignedData& data, SignatureReport* report) {
    if (CMS_signed_get_attr_count(si) <= 0) {
      // No signed attributes (plain adbe.pkcs7.detached): OpenSSL checks hash
      // and signature in one go, so their failures cannot be told apart.
      std::string bytes = SignedBytes(data);
      BioPtr content(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
      CertStackPtr certs(sk_X509_new_null());
      X509_up_ref(signer);
      sk_X509_push(certs.get(), signer);
      if (CMS_verify(cms, certs.get(), nullptr, content.get(), nullptr,
                     CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) != 1) {
        Fail(report, Indication::kTotalFailed, SubIndication::kSigCryptoFailure,
             absl::StrCat("the signature does not verify: ", OpensslError()));
        return false;
      }
      report->warnings.push_back("the CMS has no signed attributes");
      return true;
    }
    X509_ALGOR* digest_alg = nullptr;
    CMS_SignerInfo_get0_algs(si, nullptr, nullptr, &digest_alg, nullptr);
    const EVP_MD* md = digest_alg != nullptr ? EVP_get_digestbyobj(digest_alg->algorithm) : nullptr;
    if (md == nullptr) {
      Fail(report, Indication::kTotalFailed, SubIndication::kFormatFailure,
           "unknown digest algorithm in the SignerInfo");
      return false;
    }
    std::unique_ptr<EVP_MD_CTX, Free<EVP_MD_CTX, EVP_MD_CTX_free>> ctx(EVP_MD_CTX_new());
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestInit_ex(ctx.get(), md, nullptr);
    EVP_DigestUpdate(ctx.get(), data.first.data(), data.first.size());
    EVP_DigestUpdate(ctx.get(), data.second.data(), data.second.size());
    EVP_DigestFinal_ex(ctx.get(), digest, &len);
    ASN1_OCTET_STRING* expected = static_cast<ASN1_OCTET_STRING*>(CMS_signed_get0_data_by_OBJ(
        si, OBJ_nid2obj(NID_pkcs9_messageDigest), -3, V_ASN1_OCTET_STRING));
    if (expected == nullptr) {
      Fail(report, Indication::kTotalFailed, SubIndication::kFormatFailure,
           "the signed attributes have no message-digest");
      return false;
    }
    if (static_cast<int>(len) != ASN1_STRING_length(expected) ||
        memcmp(digest, ASN1_STRING_get0_data(expected), len) != 0) {
      Fail(report, Indication::kTotalFailed, SubIndication::kHashFailure,
           "the signed bytes do not match the signed message digest: the document was altered");
      return false;
    }
    CMS_SignerInfo_set1_signer_cert(si, signer);
    if (CMS_SignerInfo_verify(si) != 1) {
      Fail(report, Indication::kTotalFailed, SubIndication::kSigCryptoFailure,
           absl::StrCat("the signature value does not verify: ", OpensslError()));
      return false;
    }
    return true;
  }

  bool CheckAttributes(const PdfSignatureInfo& sig, CMS_SignerInfo* si, X509* signer,
                       SignatureReport* report) {
    if (CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1) >= 0) {
      report->warnings.push_back(
          "the CMS has a signingTime attribute (PAdES forbids it; /M counts)");
    }
    bool pades = sig.sub_filter == "ETSI.CAdES.detached";
    if (!pades) {
      report->warnings.push_back(absl::StrCat("SubFilter ",
                                              sig.sub_filter.empty() ? "(none)" : sig.sub_filter,
                                              " is not PAdES (ETSI.CAdES.detached)"));
    }
    auto attribute = [&](int nid) -> ASN1_STRING* {
      return static_cast<ASN1_STRING*>(
          CMS_signed_get0_data_by_OBJ(si, OBJ_nid2obj(nid), -3, V_ASN1_SEQUENCE));
    };
    ASN1_STRING* v2 = attribute(NID_id_smime_aa_signingCertificateV2);
    ASN1_STRING* v1 = attribute(NID_id_smime_aa_signingCertificate);
    if (v1 == nullptr && v2 == nullptr) {
      if (pades) {
        Fail(report, Indication::kTotalFailed, SubIndication::kFormatFailure,
             "PAdES requires the signing-certificate-v2 attribute; it is missing");
        return false;
      }
      return true;
    }
    EssV2Ptr ess_v2;
    EssV1Ptr ess_v1;
    if (v2 != nullptr) {
      const unsigned char* p = ASN1_STRING_get0_data(v2);
      ess_v2.reset(d2i_ESS_SIGNING_CERT_V2(nullptr, &p, ASN1_STRING_length(v2)));
    }
    if (v1 != nullptr) {
      const unsigned char* p = ASN1_STRING_get0_data(v1);
      ess_v1.reset(d2i_ESS_SIGNING_CERT(nullptr, &p, ASN1_STRING_length(v1)));
    }
    CertStackPtr chain(sk_X509_new_null());
    X509_up_ref(signer);
    sk_X509_push(chain.get(), signer);
    if ((v2 != nullptr && ess_v2 == nullptr) || (v1 != nullptr && ess_v1 == nullptr)) {
      Fail(report, Indication::kTotalFailed, SubIndication::kFormatFailure,
           "the signing-certificate attribute is malformed");
      ERR_clear_error();
      return false;
    }
    if (OSSL_ESS_check_signing_certs(ess_v1.get(), ess_v2.get(), chain.get(), 1) != 1) {
      ERR_clear_error();
      Fail(report, Indication::kIndeterminate, SubIndication::kNoSigningCertificateFound,
           "the signing-certificate attribute does not name the signer's certificate");
      return false;
    }
    if (pades && v2 == nullptr) {
      report->warnings.push_back(
          "signing-certificate (v1, SHA-1) instead of signing-certificate-v2");
    }
    return true;
  }

  void VerifySignatureTimestamp(CMS_SignerInfo* si, const RevocationData& cms_revocation,
                                SignatureReport* report) {
    int index = CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, -1);
    if (index < 0) return;
    X509_ATTRIBUTE* attribute = CMS_unsigned_get_attr(si, index);
    ASN1_TYPE* value = X509_ATTRIBUTE_get0_type(attribute, 0);
    report->timestamp.present = true;
    if (value == nullptr || value->type != V_ASN1_SEQUENCE) {
      report->timestamp.problem = "the signature timestamp attribute is malformed";
      report->warnings.push_back(report->timestamp.problem);
      return;
    }
    const unsigned char* p = value->value.sequence->data;
    Pkcs7Ptr token(d2i_PKCS7(nullptr, &p, value->value.sequence->length));
    if (token == nullptr) {
      ERR_clear_error();
      report->timestamp.problem = "the signature timestamp is not a token";
      report->warnings.push_back(report->timestamp.problem);
      return;
    }
    ASN1_OCTET_STRING* signature = CMS_SignerInfo_get0_signature(si);
    absl::string_view signed_value(reinterpret_cast<const char*>(ASN1_STRING_get0_data(signature)),
                                   static_cast<size_t>(ASN1_STRING_length(signature)));
    SubIndication failure;
    report->timestamp =
        VerifyTimestampToken(token.get(), signed_value, pool_, trust_, now_, &failure);
    if (report->timestamp.valid) {
      CheckTsaRevocation(TimestampSigner(token.get(), pool_), cms_revocation, report);
    }
    if (!report->timestamp.valid) {
      // An unverifiable timestamp is no proof of existence; the signature is
      // judged as if it had none.
      report->warnings.push_back(report->timestamp.problem);
    }
  }

  // The path to an anchor through the certificates the document carries;
  // validity periods are judged against the signature's time by the caller.
  absl::StatusOr<CertificateChain> Chain(X509* leaf) const {
    ChainOptions options;
    options.ignore_validity = true;
    return BuildChain(leaf, trust_, pool_.get(), options);
  }

  // A TSA certificate revoked before its time-stamp's time makes the
  // time-stamp no proof (ETSI EN 319 102-1 §5.4); one whose status is not
  // known only earns a warning: B-T documents rarely carry TSA revocation
  // data, and the signer's own status still decides.
  void CheckTsaRevocation(X509* tsa, const RevocationData& cms_revocation,
                          SignatureReport* report) {
    if (tsa == nullptr) return;
    absl::StatusOr<CertificateChain> chain = Chain(tsa);
    if (!chain.ok()) return;  // the token verified, so this does not happen
    RevocationView all;
    all.Add(cms_revocation);
    all.Add(dss_revocation_);
    for (int i = 0; i + 1 < chain->size(); ++i) {
      X509* cert = chain->at(i);
      CertRevocation status =
          CheckRevocation(cert, chain->at(i + 1), all, pool_.get(), report->timestamp.gen_time,
                          now_, options_);
      const std::string who = i == 0 ? "the TSA certificate"
                                     : "CA certificate " + NameText(X509_get_subject_name(cert));
      if (status.status == RevocationStatus::kRevoked &&
          (!status.revoked_at || *status.revoked_at <= *report->timestamp.gen_time)) {
        report->timestamp.valid = false;
        report->timestamp.problem =
            absl::StrCat(who, " was revoked at ",
                         status.revoked_at ? TimeText(*status.revoked_at) : "an unknown time",
                         ", before the timestamp (", status.source, ")");
        return;
      }
      if (status.status == RevocationStatus::kUnknown && options_.check_revocation) {
        report->warnings.push_back(
            absl::StrCat("no revocation data for ", who, " of the timestamp",
                         status.source.empty() ? "" : " (" + status.source + ")"));
      }
    }
  }

  void CheckCertificates(X509* signer, const RevocationData& cms_revocation,
                         SignatureReport* report) {
    absl::StatusOr<CertificateChain> chain = Chain(signer);
    if (!chain.ok()) {
      if (IsMissingPath(chain.status())) {
        Fail(report, Indication::kIndeterminate, SubIndication::kNoCertificateChainFound,
             absl::StrCat("no chain to a trust anchor: ", chain.status().message()));
      } else {
        Fail(report, Indication::kIndeterminate, SubIndication::kCertificateChainGeneralFailure,
             absl::StrCat("the certificate chain is not valid: ", chain.status().message()));
      }
      return;
    }
    const int length = chain->size();
    for (int i = 0; i < length; ++i) {
      report->chain.push_back(NameText(X509_get_subject_name(chain->at(i))));
    }
    uint32_t usage = X509_get_key_usage(signer);  // UINT32_MAX: no key usage extension
    if (usage != UINT32_MAX && (usage & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION)) == 0) {
      report->warnings.push_back(
          "the signer's certificate is not meant for signatures (key usage)");
    }
    bool has_poe = report->timestamp.valid && report->timestamp.gen_time.has_value();
    absl::Time best_time = has_poe ? *report->timestamp.gen_time : now_;
    for (int i = 0; i < length; ++i) {
      X509* cert = chain->at(i);
      std::optional<absl::Time> not_before = AsnTime(X509_get0_notBefore(cert));
      std::optional<absl::Time> not_after = AsnTime(X509_get0_notAfter(cert));
      std::string who =
          i == 0 ? "the signer's certificate" : absl::StrCat("CA certificate ", report->chain[i]);
      if (!not_before || !not_after) {
        Fail(report, Indication::kIndeterminate, SubIndication::kCertificateChainGeneralFailure,
             absl::StrCat(who, " has an unreadable validity period"));
        return;
      }
      if (best_time < *not_before) {
        Fail(report, Indication::kTotalFailed, SubIndication::kNotYetValid,
             absl::StrCat(who, " is valid only from ", TimeText(*not_before)));
        return;
      }
      if (best_time > *not_after) {
        if (has_poe) {
          Fail(report, Indication::kTotalFailed, SubIndication::kExpired,
               absl::StrCat(who, " expired at ", TimeText(*not_after),
                            ", before the timestamped signing time"));
        } else {
          Fail(report, Indication::kIndeterminate, SubIndication::kOutOfBoundsNoPoe,
               absl::StrCat(who, " expired at ", TimeText(*not_after),
                            " and no timestamp proves the signature existed before"));
        }
        return;
      }
      if (now_ > *not_after) {
        report->warnings.push_back(absl::StrCat(who,
                                                " has expired since; the timestamp proves "
                                                "the signature existed before"));
      }
    }
    RevocationView all;
    all.Add(cms_revocation);
    all.Add(dss_revocation_);
    RevocationStatus overall = RevocationStatus::kGood;
    std::vector<std::string> details;
    // The anchor is trusted as configured; every certificate below it needs
    // revocation data from its issuer.
    for (int i = 0; i + 1 < length; ++i) {
      X509* cert = chain->at(i);
      X509* issuer = chain->at(i + 1);
      CertRevocation status = CheckRevocation(cert, issuer, all, pool_.get(),
                                              has_poe ? report->timestamp.gen_time : std::nullopt,
                                              now_, options_);
      std::string who = i == 0 ? "signer" : report->chain[i];
      if (status.status == RevocationStatus::kRevoked) {
        std::string when = status.revoked_at ? TimeText(*status.revoked_at) : "an unknown time";
        if (!status.revoked_at || *status.revoked_at <= best_time) {
          report->revocation = RevocationStatus::kRevoked;
          report->revocation_detail =
              absl::StrCat(who, " revoked at ", when, " (", status.source, ")");
          Fail(report, Indication::kTotalFailed, SubIndication::kRevoked,
               absl::StrCat(i == 0 ? "the signer's certificate" : "a CA certificate",
                            " was revoked at ", when, has_poe ? ", before the timestamp" : ""));
          return;
        }
        details.push_back(
            absl::StrCat(who, ": revoked at ", when, ", after the timestamped signing time"));
        continue;
      }
      if (status.status == RevocationStatus::kUnknown) {
        overall = RevocationStatus::kUnknown;
        details.push_back(absl::StrCat(who, ": no revocation data",
                                       status.source.empty() ? "" : " (" + status.source + ")"));
      } else {
        details.push_back(absl::StrCat(who, ": good (", status.source, ")"));
      }
    }
    report->revocation = overall;
    report->revocation_detail = absl::StrJoin(details, "; ");
    if (overall == RevocationStatus::kUnknown && options_.check_revocation) {
      Fail(report, Indication::kIndeterminate, SubIndication::kTryLater,
           absl::StrCat("no revocation data (CRL or OCSP) ",
                        has_poe ? "issued after the signature's time-stamp " : "",
                        "for the chain in the signature or the /DSS"));
      return;
    }
    Fail(report, Indication::kTotalPassed, SubIndication::kNone,
         "the signature is valid and its certificate chains to a trust anchor");
  }

  absl::string_view pdf_;
  const PdfStructure& structure_;
  const TrustStore& trust_;
  const VerifyOptions& options_;
  absl::Time now_;
  CertPool pool_;
  RevocationData dss_revocation_;
};

// ---- Rendering -----------------------------------------------------------------

std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
          out += buffer;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out + "\"";
}

std::string JsonStrings(const std::vector<std::string>& items) {
  std::vector<std::string> quoted;
  for (const std::string& item : items) quoted.push_back(JsonString(item));
  return "[" + absl::StrJoin(quoted, ",") + "]";
}

std::string JsonTime(const std::optional<absl::Time>& time) {
  return time ? JsonString(TimeText(*time)) : "null";
}

const char* Bool(bool b) { return b ? "true" : "false"; }

}  // namespace

const char* IndicationName(Indication indication) {
  switch (indication) {
    case Indication::kTotalPassed:
      return "TOTAL_PASSED";
    case Indication::kIndeterminate:
      return "INDETERMINATE";
    case Indication::kTotalFailed:
      return "TOTAL_FAILED";
  }
  return "";
}

const char* SubIndicationName(SubIndication sub) {
  switch (sub) {
    case SubIndication::kNone:
      return "";
    case SubIndication::kFormatFailure:
      return "FORMAT_FAILURE";
    case SubIndication::kHashFailure:
      return "HASH_FAILURE";
    case SubIndication::kSigCryptoFailure:
      return "SIG_CRYPTO_FAILURE";
    case SubIndication::kRevoked:
      return "REVOKED";
    case SubIndication::kExpired:
      return "EXPIRED";
    case SubIndication::kNotYetValid:
      return "NOT_YET_VALID";
    case SubIndication::kNoSigningCertificateFound:
      return "NO_SIGNING_CERTIFICATE_FOUND";
    case SubIndication::kNoCertificateChainFound:
      return "NO_CERTIFICATE_CHAIN_FOUND";
    case SubIndication::kCertificateChainGeneralFailure:
      return "CERTIFICATE_CHAIN_GENERAL_FAILURE";
    case SubIndication::kOutOfBoundsNoPoe:
      return "OUT_OF_BOUNDS_NO_POE";
    case SubIndication::kTryLater:
      return "TRY_LATER";
    case SubIndication::kSignedDataNotFound:
      return "SIGNED_DATA_NOT_FOUND";
  }
  return "";
}


bool VerificationReport::AllPassed() const {
  return !signatures.empty() &&
         std::all_of(signatures.begin(), signatures.end(), [](const SignatureReport& s) {
           return s.indication == Indication::kTotalPassed && !s.modified_after_signing;
         });
}

absl::StatusOr<VerificationReport> VerifyPdf(absl::string_view pdf, const TrustStore& trust,
                                             const VerifyOptions& options) {
  absl::StatusOr<PdfStructure> structure = ParsePdfRevisions(pdf, options.limits);
  if (!structure.ok()) return structure.status();
  VerificationReport report;
  report.file_size = pdf.size();
  report.validation_time = options.validation_time.value_or(absl::Now());
  report.notes = structure->notes;
  for (size_t i = 0; i < structure->revisions.size(); ++i) {
    RevisionReport revision;
    revision.revision = static_cast<int>(i);
    revision.end = structure->revisions[i].end;
    for (const PdfRevisionChanges& changes : structure->changes) {
      if (changes.revision == revision.revision) revision.changes = changes.changes;
    }
    report.revisions.push_back(std::move(revision));
  }
  SignatureVerifier verifier(pdf, *structure, trust, options, report.validation_time);
  for (const PdfSignatureInfo& sig : structure->signatures) {
    report.signatures.push_back(verifier.Verify(sig));
  }
  std::stable_sort(
      report.signatures.begin(), report.signatures.end(),
      [](const SignatureReport& a, const SignatureReport& b) { return a.revision < b.revision; });
  ERR_clear_error();
  return report;
}

std::string ReportToJson(const VerificationReport& report) {
  std::vector<std::string> signatures;
  for (const SignatureReport& s : report.signatures) {
    const ByteRangeCoverage& c = s.coverage;
    const TimestampInfo& t = s.timestamp;
    signatures.push_back(absl::StrCat(
        "{\"field_name\":", JsonString(s.field_name), ",\"type\":", JsonString(s.type),
        ",\"sub_filter\":", JsonString(s.sub_filter), ",\"revision\":", s.revision,
        ",\"indication\":", JsonString(IndicationName(s.indication)), ",\"sub_indication\":",
        JsonString(SubIndicationName(s.sub_indication)), ",\"reason\":", JsonString(s.reason),
        ",\"signer\":{\"subject\":", JsonString(s.signer_subject), ",\"common_name\":",
        JsonString(s.signer_common_name), ",\"certificate_sha256\":", JsonString(s.signer_sha256),
        "}", ",\"claimed_signing_time\":", JsonString(s.claimed_signing_time),
        ",\"claimed_signing_time_utc\":", JsonTime(s.claimed_signing_time_parsed),
        ",\"timestamp\":{\"present\":", Bool(t.present), ",\"valid\":", Bool(t.valid),
        ",\"gen_time\":", JsonTime(t.gen_time), ",\"tsa_subject\":", JsonString(t.tsa_subject),
        ",\"problem\":", JsonString(t.problem), "}", ",\"chain\":", JsonStrings(s.chain),
        ",\"byte_range\":{\"well_formed\":", Bool(c.well_formed), ",\"revision\":", c.revision,
        ",\"covers_whole_document\":", Bool(c.covers_whole_document),
        ",\"signed_bytes\":", c.signed_bytes, ",\"problem\":", JsonString(c.problem), "}",
        ",\"revocation\":{\"status\":", JsonString(RevocationStatusName(s.revocation)),
        ",\"detail\":", JsonString(s.revocation_detail), "}", ",\"modified_after_signing\":",
        Bool(s.modified_after_signing), ",\"later_changes\":", JsonStrings(s.later_changes),
        ",\"warnings\":", JsonStrings(s.warnings), "}"));
  }
  std::vector<std::string> revisions;
  for (const RevisionReport& r : report.revisions) {
    std::vector<std::string> changes;
    for (const PdfObjectChange& change : r.changes) {
      changes.push_back(absl::StrCat("{\"object\":", change.object_number, ",\"generation\":",
                                     change.generation, ",\"flagged\":", Bool(change.flagged),
                                     ",\"description\":", JsonString(change.description), "}"));
    }
    revisions.push_back(absl::StrCat("{\"revision\":", r.revision, ",\"end\":", r.end,
                                     ",\"changes\":[", absl::StrJoin(changes, ","), "]}"));
  }
  return absl::StrCat("{\"file_size\":", report.file_size,
                      ",\"validation_time\":", JsonString(TimeText(report.validation_time)),
                      ",\"all_passed\":", Bool(report.AllPassed()), ",\"signatures\":[",
                      absl::StrJoin(signatures, ","), "],\"revisions\":[",
                      absl::StrJoin(revisions, ","), "],\"notes\":", JsonStrings(report.notes),
                      "}\n");
}

std::string ReportToText(const VerificationReport& report) {
  std::string out =
      absl::StrCat("File: ", report.file_size, " bytes, ", report.revisions.size(),
                   " revision(s), ", report.signatures.size(), " signature(s); validated at ",
                   TimeText(report.validation_time), "\n");
  int number = 0;
  for (const SignatureReport& s : report.signatures) {
    absl::StrAppend(&out, "\nSignature #", ++number, " (field \"", s.field_name, "\", ",
                    s.sub_filter.empty() ? s.type : s.sub_filter, ", revision ", s.revision, ")\n");
    absl::StrAppend(&out, "  Result:        ", IndicationName(s.indication),
                    s.sub_indication == SubIndication::kNone ? "" : " / ",
                    SubIndicationName(s.sub_indication), "\n");
    absl::StrAppend(&out, "  Why:           ", s.reason, "\n");
    if (!s.signer_subject.empty()) {
      absl::StrAppend(&out, "  Signer:        ", s.signer_common_name, " (", s.signer_subject,
                      ")\n");
    }
    if (!s.signer_sha256.empty()) absl::StrAppend(&out, "  Cert SHA-256:  ", s.signer_sha256, "\n");
    if (!s.claimed_signing_time.empty()) {
      absl::StrAppend(&out, "  Claimed time:  ", s.claimed_signing_time,
                      s.claimed_signing_time_parsed
                          ? " (" + TimeText(*s.claimed_signing_time_parsed) + ")"
                          : "",
                      "\n");
    }
    if (s.timestamp.present) {
      absl::StrAppend(
          &out,
          "  Timestamp:     ", s.timestamp.gen_time ? TimeText(*s.timestamp.gen_time) : "(no time)",
          s.timestamp.valid ? " (verified" : " (NOT verified",
          s.timestamp.tsa_subject.empty() ? "" : ", TSA " + s.timestamp.tsa_subject, ")\n");
    }
    for (size_t i = 0; i < s.chain.size(); ++i) {
      absl::StrAppend(&out, i == 0 ? "  Chain:         " : "                 ", s.chain[i], "\n");
    }
    const ByteRangeCoverage& c = s.coverage;
    absl::StrAppend(&out, "  Signed range:  ",
                    !c.well_formed ? "INVALID: " + c.problem
                    : c.covers_whole_document
                        ? "covers the whole document"
                        : absl::StrCat("revision ", c.revision, "; later revisions follow"),
                    "\n");
    absl::StrAppend(&out, "  Revocation:    ", RevocationStatusName(s.revocation),
                    s.revocation_detail.empty() ? "" : " — " + s.revocation_detail, "\n");
    for (const std::string& change : s.later_changes) {
      absl::StrAppend(&out, "  MODIFIED:      ", change, "\n");
    }
    for (const std::string& warning : s.warnings) {
      absl::StrAppend(&out, "  Warning:       ", warning, "\n");
    }
  }
  for (const RevisionReport& r : report.revisions) {
    if (r.revision == 0) continue;
    absl::StrAppend(&out, "\nRevision ", r.revision, " (ends at byte ", r.end, "):\n");
    for (const PdfObjectChange& change : r.changes) {
      absl::StrAppend(&out, change.flagged ? "  FLAGGED  " : "  ok       ", change.description,
                      " (object ", change.object_number, ")\n");
    }
  }
  for (const std::string& note : report.notes) absl::StrAppend(&out, "\nNote: ", note, "\n");
  return out;
}

}  // namespace motcua::signing
