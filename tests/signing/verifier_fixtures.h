#ifndef MOTCUA_TESTS_SIGNING_VERIFIER_FIXTURES_H_
#define MOTCUA_TESTS_SIGNING_VERIFIER_FIXTURES_H_

// Test material for the verifier, produced independently of signing/'s own
// signer: a test PKI made with OpenSSL, a hand-written one-page PDF, and a
// hand-written incremental update that adds a CMS signature (so tests control
// every byte, including broken ones). Header-only: the test glob compiles
// *_test.cc files only.

#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "signing/trust_store.h"
#include "tests/signing/hand_pdf.h"
#include "tests/signing/signing_test_util.h"

namespace motcua::signing::fixtures {

struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using X509Ptr = TrustStore::Cert;

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  out << data;
}

// A fresh directory under the test temp dir.
inline std::string MakeTempDir(const std::string& stem) {
  std::string tmpl = ::testing::TempDir() + "/" + stem + "_XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) return "";
  return tmpl;
}

// Runs a shell command; returns its exit code and puts stdout+stderr in `output`.
inline int RunCommand(const std::string& command, std::string* output = nullptr) {
  std::string log = MakeTempDir("run") + "/out.txt";
  int rc = std::system((command + " >" + log + " 2>&1").c_str());
  if (output != nullptr) *output = ReadFile(log);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// ---- PKI ------------------------------------------------------------------------

inline PkeyPtr NewEcKey() { return PkeyPtr(EVP_EC_gen("P-256")); }
inline PkeyPtr NewRsaKey() { return PkeyPtr(EVP_RSA_gen(2048)); }

struct CertSpec {
  std::string common_name = "";
  std::string organization = "motcua test";
  absl::Time not_before = absl::Now() - absl::Hours(24);
  absl::Time not_after = absl::Now() + absl::Hours(24 * 30);
  bool ca = false;
  long serial = 1;
  bool timestamping = false;  // EKU timeStamping (critical), for a TSA
};

inline void AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A certificate for `key` issued by `issuer`/`issuer_key` (self-signed when
// issuer is null).
inline X509Ptr IssueCert(const CertSpec& spec, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key) {
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), spec.serial);
  ASN1_TIME_set(X509_getm_notBefore(cert.get()), absl::ToTimeT(spec.not_before));
  ASN1_TIME_set(X509_getm_notAfter(cert.get()), absl::ToTimeT(spec.not_after));
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(spec.organization.c_str()), -1,
                             -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(cert.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name);
  X509_set_pubkey(cert.get(), key);
  X509* ext_issuer = issuer != nullptr ? issuer : cert.get();
  AddExtension(cert.get(), ext_issuer, NID_subject_key_identifier, "hash");
  AddExtension(cert.get(), ext_issuer, NID_authority_key_identifier, "keyid:always");
  if (spec.ca) {
    AddExtension(cert.get(), ext_issuer, NID_basic_constraints, "critical,CA:TRUE");
    AddExtension(cert.get(), ext_issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else if (spec.timestamping) {
    AddExtension(cert.get(), ext_issuer, NID_key_usage, "critical,digitalSignature");
    AddExtension(cert.get(), ext_issuer, NID_ext_key_usage, "critical,timeStamping");
  } else {
    AddExtension(cert.get(), ext_issuer, NID_key_usage, "critical,digitalSignature,nonRepudiation");
  }
  X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256());
  return cert;
}

inline std::string CertPem(X509* cert) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  PEM_write_bio_X509(bio.get(), cert);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

inline std::string CertDer(X509* cert) {
  unsigned char* der = nullptr;
  int len = i2d_X509(cert, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

// A DER CRL by `issuer` listing `revoked` serials (revoked at `revoked_at`),
// issued at `issued` (default: five minutes ago), valid until `valid_for`
// from now.
inline std::string MakeCrl(X509* issuer, EVP_PKEY* issuer_key, const std::vector<long>& revoked,
                           absl::Time revoked_at, absl::Duration valid_for = absl::Hours(24 * 7),
                           std::optional<absl::Time> issued = std::nullopt) {
  X509_CRL* crl = X509_CRL_new();
  X509_CRL_set_version(crl, 1);
  X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer));
  ASN1_TIME* now =
      ASN1_TIME_set(nullptr, absl::ToTimeT(issued.value_or(absl::Now() - absl::Minutes(5))));
  ASN1_TIME* next = ASN1_TIME_set(nullptr, absl::ToTimeT(absl::Now() + valid_for));
  X509_CRL_set1_lastUpdate(crl, now);
  X509_CRL_set1_nextUpdate(crl, next);
  for (long serial : revoked) {
    X509_REVOKED* entry = X509_REVOKED_new();
    ASN1_INTEGER* number = ASN1_INTEGER_new();
    ASN1_INTEGER_set(number, serial);
    X509_REVOKED_set_serialNumber(entry, number);
    ASN1_TIME* when = ASN1_TIME_set(nullptr, absl::ToTimeT(revoked_at));
    X509_REVOKED_set_revocationDate(entry, when);
    X509_CRL_add0_revoked(crl, entry);
    ASN1_INTEGER_free(number);
    ASN1_TIME_free(when);
  }
  X509_CRL_sort(crl);
  X509_CRL_sign(crl, issuer_key, EVP_sha256());
  unsigned char* der = nullptr;
  int len = i2d_X509_CRL(crl, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  ASN1_TIME_free(now);
  ASN1_TIME_free(next);
  X509_CRL_free(crl);
  return out;
}

// A DER OCSP response from `issuer` (signing it itself) on `cert`: good, or
// revoked at `revoked_at` when set.
inline std::string MakeOcspResponse(X509* cert, X509* issuer, EVP_PKEY* issuer_key,
                                    std::optional<absl::Time> revoked_at) {
  OCSP_BASICRESP* basic = OCSP_BASICRESP_new();
  OCSP_CERTID* id = OCSP_cert_to_id(nullptr, cert, issuer);
  ASN1_TIME* now = ASN1_TIME_set(nullptr, absl::ToTimeT(absl::Now() - absl::Minutes(1)));
  ASN1_TIME* revoked = revoked_at ? ASN1_TIME_set(nullptr, absl::ToTimeT(*revoked_at)) : nullptr;
  OCSP_basic_add1_status(basic, id, revoked_at ? V_OCSP_CERTSTATUS_REVOKED : V_OCSP_CERTSTATUS_GOOD,
                         revoked_at ? OCSP_REVOKED_STATUS_KEYCOMPROMISE : -1, revoked, now,
                         nullptr);
  OCSP_basic_sign(basic, issuer, issuer_key, EVP_sha256(), nullptr, 0);
  OCSP_RESPONSE* response = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic);
  unsigned char* der = nullptr;
  int len = i2d_OCSP_RESPONSE(response, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(std::max(len, 0)));
  OPENSSL_free(der);
  OCSP_RESPONSE_free(response);
  ASN1_TIME_free(now);
  ASN1_TIME_free(revoked);
  OCSP_CERTID_free(id);
  OCSP_BASICRESP_free(basic);
  return out;
}

// ---- A hand-written PDF ---------------------------------------------------------

// A PDF we wrote ourselves, and the object numbers an update needs.
struct HandPdf {
  std::string bytes;
  int catalog = 1, pages = 2, page = 3, content = 4, font = 5;
  int next_object = 6;
  std::vector<int> fields;  // signature fields so far (also the page's /Annots)
};

using testing_pdf::PageContent;
using testing_pdf::StreamObject;
using testing_pdf::WritePdf;

// A one-page PDF with `text` in Helvetica and a classic xref table.
inline HandPdf MinimalPdf(absl::string_view text = "Hello motcua") {
  HandPdf pdf;
  pdf.bytes = testing_pdf::OnePagePdf(text);
  return pdf;
}

// The same page rewritten by qpdf with object streams and a cross-reference
// stream (qpdf renumbers: catalog 2, pages 3, page 4, font 5, content 6).
inline HandPdf XrefStreamPdf(const std::string& dir) {
  HandPdf plain = MinimalPdf();
  WriteFile(dir + "/plain.pdf", plain.bytes);
  RunCommand("qpdf --object-streams=generate " + dir + "/plain.pdf " + dir + "/xref_stream.pdf");
  HandPdf pdf;
  pdf.bytes = ReadFile(dir + "/xref_stream.pdf");
  pdf.catalog = 2, pdf.pages = 3, pdf.page = 4, pdf.font = 5, pdf.content = 6;
  pdf.next_object = 8;
  return pdf;
}

inline long LastStartXref(const std::string& pdf) {
  size_t pos = pdf.rfind("startxref");
  return pos == std::string::npos ? 0 : std::strtol(pdf.c_str() + pos + 9, nullptr, 10);
}

// Appends an incremental update defining `objects` (number -> body), with a
// classic xref table whose /Prev points at the previous one.
inline std::string AppendUpdate(const std::string& pdf, const std::map<int, std::string>& objects,
                                int root, int size, absl::string_view extra_trailer = "") {
  std::string out = pdf;
  if (!out.empty() && out.back() != '\n') out += "\n";
  std::map<int, size_t> offsets;
  for (const auto& [number, body] : objects) {
    offsets[number] = out.size();
    absl::StrAppend(&out, number, " 0 obj\n", body, "\nendobj\n");
  }
  size_t xref = out.size();
  out += "xref\n0 1\n0000000000 65535 f \n";
  for (const auto& [number, offset] : offsets) {
    out += absl::StrFormat("%d 1\n%010d 00000 n \n", number, offset);
  }
  absl::StrAppend(&out, "trailer\n<< /Size ", size, " /Root ", root, " 0 R", extra_trailer,
                  " /Prev ", LastStartXref(pdf), " >>\nstartxref\n", xref, "\n%%EOF\n");
  return out;
}

inline std::string PageDict(const HandPdf& pdf) {
  std::vector<std::string> annots;
  for (int field : pdf.fields) annots.push_back(absl::StrCat(field, " 0 R"));
  return absl::StrCat("<< /Type /Page /Parent ", pdf.pages,
                      " 0 R /MediaBox [0 0 595 842] /Contents ", pdf.content,
                      " 0 R /Resources << /Font << /F1 ", pdf.font, " 0 R >> >>",
                      annots.empty() ? "" : " /Annots [" + absl::StrJoin(annots, " ") + "]", " >>");
}

// Appends an update replacing the page's content stream with `text`.
inline void ChangePageText(HandPdf* pdf, absl::string_view text) {
  pdf->bytes = AppendUpdate(pdf->bytes, {{pdf->content, StreamObject(PageContent(text))}},
                            pdf->catalog, pdf->next_object);
}

struct SignSpec {
  std::string field = "Sig1";
  std::string sub_filter = "ETSI.CAdES.detached";
  std::string signing_time = "D:20261123090000+07'00'";
  bool signing_certificate_v2 = true;   // CMS_CADES
  std::vector<X509*> extra_certs = {};  // intermediates to embed
  std::string crl_in_cms = "";          // DER CRL to embed in the CMS
  std::string crl_in_dss = "";          // DER CRL for a /DSS in the same update
  std::string ocsp_in_dss = "";         // DER OCSP response for that /DSS
  // A document timestamp (/Type /DocTimeStamp, ETSI.RFC3161) instead of a
  // signature: the token from tsa_cert/tsa_key over the byte range.
  bool document_timestamp = false;
  // An RFC 3161 TSA to timestamp the signature value with (optional).
  X509* tsa_cert = nullptr;
  EVP_PKEY* tsa_key = nullptr;
  size_t reserve = 8192;  // bytes of DER room in /Contents
};

// A timestamp token (DER ContentInfo) over `data` from a TSA we run in-process.
inline std::string TimestampToken(absl::string_view data, X509* tsa_cert, EVP_PKEY* tsa_key) {
  unsigned char digest[32];
  EVP_Digest(data.data(), data.size(), digest, nullptr, EVP_sha256(), nullptr);
  TS_REQ* request = TS_REQ_new();
  TS_REQ_set_version(request, 1);
  TS_MSG_IMPRINT* imprint = TS_MSG_IMPRINT_new();
  X509_ALGOR* algo = X509_ALGOR_new();
  X509_ALGOR_set0(algo, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, nullptr);
  TS_MSG_IMPRINT_set_algo(imprint, algo);
  TS_MSG_IMPRINT_set_msg(imprint, digest, sizeof digest);
  TS_REQ_set_msg_imprint(request, imprint);
  TS_REQ_set_cert_req(request, 1);
  std::unique_ptr<BIO, decltype(&BIO_free)> request_bio(BIO_new(BIO_s_mem()), &BIO_free);
  i2d_TS_REQ_bio(request_bio.get(), request);
  TS_RESP_CTX* ctx = TS_RESP_CTX_new();
  TS_RESP_CTX_set_signer_cert(ctx, tsa_cert);
  TS_RESP_CTX_set_signer_key(ctx, tsa_key);
  TS_RESP_CTX_set_signer_digest(ctx, EVP_sha256());
  TS_RESP_CTX_set_ess_cert_id_digest(ctx, EVP_sha256());
  ASN1_OBJECT* policy = OBJ_txt2obj("1.2.3.4.1", 1);
  TS_RESP_CTX_set_def_policy(ctx, policy);
  TS_RESP_CTX_add_md(ctx, EVP_sha256());
  TS_RESP* response = TS_RESP_create_response(ctx, request_bio.get());
  std::string out;
  if (response != nullptr && TS_RESP_get_token(response) != nullptr) {
    unsigned char* der = nullptr;
    int len = i2d_PKCS7(TS_RESP_get_token(response), &der);
    if (len > 0) out.assign(reinterpret_cast<char*>(der), static_cast<size_t>(len));
    OPENSSL_free(der);
  }
  TS_RESP_free(response);
  TS_RESP_CTX_free(ctx);
  ASN1_OBJECT_free(policy);
  X509_ALGOR_free(algo);
  TS_MSG_IMPRINT_free(imprint);
  TS_REQ_free(request);
  return out;
}

// Detached CMS SignedData over `data`.
inline std::string BuildCms(absl::string_view data, X509* cert, EVP_PKEY* key,
                            const SignSpec& spec) {
  STACK_OF(X509)* extra = sk_X509_new_null();
  for (X509* c : spec.extra_certs) sk_X509_push(extra, c);
  std::unique_ptr<BIO, decltype(&BIO_free)> in(
      BIO_new_mem_buf(data.data(), static_cast<int>(data.size())), &BIO_free);
  int flags = CMS_DETACHED | CMS_BINARY | CMS_NOSMIMECAP | CMS_PARTIAL;
  if (spec.signing_certificate_v2) flags |= CMS_CADES;
  CMS_ContentInfo* cms = CMS_sign(nullptr, nullptr, extra, nullptr, flags);
  CMS_SignerInfo* si = CMS_add1_signer(cms, cert, key, EVP_sha256(), flags);
  if (!spec.crl_in_cms.empty()) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(spec.crl_in_cms.data());
    X509_CRL* crl = d2i_X509_CRL(nullptr, &p, static_cast<long>(spec.crl_in_cms.size()));
    CMS_add1_crl(cms, crl);
    X509_CRL_free(crl);
  }
  CMS_final(cms, in.get(), nullptr, flags);
  if (spec.tsa_cert != nullptr && si != nullptr) {
    ASN1_OCTET_STRING* value = CMS_SignerInfo_get0_signature(si);
    std::string token = TimestampToken(
        absl::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                          static_cast<size_t>(ASN1_STRING_length(value))),
        spec.tsa_cert, spec.tsa_key);
    CMS_unsigned_add1_attr_by_NID(si, NID_id_smime_aa_timeStampToken, V_ASN1_SEQUENCE, token.data(),
                                  static_cast<int>(token.size()));
  }
  unsigned char* der = nullptr;
  int len = i2d_CMS_ContentInfo(cms, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(std::max(len, 0)));
  OPENSSL_free(der);
  CMS_ContentInfo_free(cms);
  sk_X509_free(extra);
  return out;
}

// Appends an incremental update that signs `pdf` in a new signature field
// (widget on the page, field in the AcroForm) the way PAdES writers do.
inline void SignHand(HandPdf* pdf, X509* cert, EVP_PKEY* key, const SignSpec& spec) {
  int sig = pdf->next_object++;
  int field = pdf->next_object++;
  int acroform = pdf->next_object++;
  pdf->fields.push_back(field);
  std::vector<std::string> fields;
  for (int f : pdf->fields) fields.push_back(absl::StrCat(f, " 0 R"));
  std::map<int, std::string> objects;
  objects[sig] = absl::StrCat(
      "<< /Type /", spec.document_timestamp ? "DocTimeStamp" : "Sig",
      " /Filter /Adobe.PPKLite /SubFilter /",
      spec.document_timestamp ? "ETSI.RFC3161" : spec.sub_filter, " /M (", spec.signing_time,
      ") /Name (motcua test) /Reason (test) /ByteRange [0 0000000000 0000000000 "
      "0000000000] /Contents <",
      std::string(spec.reserve * 2, '0'), "> >>");
  objects[field] =
      absl::StrCat("<< /Type /Annot /Subtype /Widget /FT /Sig /T (", spec.field, ") /V ", sig,
                   " 0 R /P ", pdf->page, " 0 R /Rect [0 0 0 0] /F 132 >>");
  objects[acroform] = absl::StrCat("<< /Fields [", absl::StrJoin(fields, " "), "] /SigFlags 3 >>");
  objects[pdf->page] = PageDict(*pdf);
  std::string dss;
  if (!spec.crl_in_dss.empty() || !spec.ocsp_in_dss.empty()) {
    int dss_object = pdf->next_object++;
    std::string entries;
    for (auto [key, der] : {std::pair<const char*, const std::string*>{"CRLs", &spec.crl_in_dss},
                            {"OCSPs", &spec.ocsp_in_dss}}) {
      if (der->empty()) continue;
      int stream = pdf->next_object++;
      objects[stream] = StreamObject(*der);
      absl::StrAppend(&entries, " /", key, " [", stream, " 0 R]");
    }
    objects[dss_object] = absl::StrCat("<<", entries, " >>");
    dss = absl::StrCat(" /DSS ", dss_object, " 0 R");
  }
  objects[pdf->catalog] = absl::StrCat("<< /Type /Catalog /Pages ", pdf->pages, " 0 R /AcroForm ",
                                       acroform, " 0 R", dss, " >>");
  size_t base = pdf->bytes.size();
  std::string out = AppendUpdate(pdf->bytes, objects, pdf->catalog, pdf->next_object);
  size_t range = out.find("/ByteRange [0 ", base);
  size_t open = out.find("/Contents <", range) + 10;
  size_t close = out.find('>', open) + 1;
  std::string numbers = absl::StrFormat("%010d %010d %010d", open, close, out.size() - close);
  out.replace(range + 14, numbers.size(), numbers);
  std::string signed_bytes = out.substr(0, open) + out.substr(close);
  std::string der = spec.document_timestamp
                        ? TimestampToken(signed_bytes, spec.tsa_cert, spec.tsa_key)
                        : BuildCms(signed_bytes, cert, key, spec);
  std::string hex;
  for (unsigned char c : der) hex += absl::StrFormat("%02x", c);
  if (hex.size() <= spec.reserve * 2) out.replace(open + 1, hex.size(), hex);
  pdf->bytes = out;
}

// Flips one byte of the page text ("Hello" -> "Jello") inside the signed range.
inline std::string FlipSignedByte(std::string pdf) {
  size_t pos = pdf.find("(Hello");
  if (pos != std::string::npos) pdf[pos + 1] = 'J';
  return pdf;
}

// ---- The shared test PKI ------------------------------------------------------

struct TestPki {
  PkeyPtr root_key, other_root_key, signer_key, second_key, expired_key, revoked_key, rsa_key,
      tsa_key, intermediate_key, leaf_key;
  X509Ptr root, other_root, signer, second, expired, revoked, rsa_signer, tsa, intermediate, leaf;
  std::string crl_none_revoked;  // DER CRL of root revoking nothing
  std::string crl_revoked;       // DER CRL of root revoking `revoked`
  absl::Time revoked_at;

  TestPki() {
    root_key = NewEcKey();
    root = IssueCert({.common_name = "motcua test root", .ca = true, .serial = 1}, root_key.get(),
                     nullptr, nullptr);
    other_root_key = NewEcKey();
    other_root = IssueCert({.common_name = "some other root", .ca = true, .serial = 1},
                           other_root_key.get(), nullptr, nullptr);
    signer_key = NewEcKey();
    signer = IssueCert({.common_name = "Nguyễn Văn An", .serial = 10}, signer_key.get(), root.get(),
                       root_key.get());
    second_key = NewEcKey();
    second = IssueCert({.common_name = "Sở Giáo dục và Đào tạo", .serial = 11}, second_key.get(),
                       root.get(), root_key.get());
    expired_key = NewEcKey();
    expired = IssueCert({.common_name = "expired signer",
                         .not_before = absl::Now() - absl::Hours(24 * 400),
                         .not_after = absl::Now() - absl::Hours(24 * 30),
                         .serial = 12},
                        expired_key.get(), root.get(), root_key.get());
    revoked_key = NewEcKey();
    revoked = IssueCert({.common_name = "revoked signer", .serial = 13}, revoked_key.get(),
                        root.get(), root_key.get());
    rsa_key = NewRsaKey();
    rsa_signer = IssueCert({.common_name = "Trần Thị Bình", .serial = 14}, rsa_key.get(),
                           root.get(), root_key.get());
    tsa_key = NewEcKey();
    tsa = IssueCert({.common_name = "motcua test TSA", .serial = 15, .timestamping = true},
                    tsa_key.get(), root.get(), root_key.get());
    intermediate_key = NewEcKey();
    intermediate = IssueCert({.common_name = "motcua issuing CA", .ca = true, .serial = 16},
                             intermediate_key.get(), root.get(), root_key.get());
    leaf_key = NewEcKey();
    leaf = IssueCert({.common_name = "leaf under intermediate", .serial = 100}, leaf_key.get(),
                     intermediate.get(), intermediate_key.get());
    revoked_at = absl::Now() - absl::Hours(1);
    crl_none_revoked = MakeCrl(root.get(), root_key.get(), {}, revoked_at);
    crl_revoked = MakeCrl(root.get(), root_key.get(), {13}, revoked_at);
  }

  TrustStore RootStore() const {
    TrustStore store;
    (void)store.AddAnchors(CertPem(root.get()));
    return store;
  }
};

inline const TestPki& Pki() {
  static const TestPki* pki = new TestPki();
  return *pki;
}

// Replaces <pki_dir>/ca.crl by a CRL of the dev CA there that lists nothing
// and expires `valid_for` from now: what a server left running finds once
// the development CRL has aged.
inline void WriteAgedDevCrl(const std::string& pki_dir, absl::Duration valid_for) {
  testing_util::DevCa ca = testing_util::LoadDevCa(pki_dir);
  ASSERT_TRUE(ca.cert != nullptr && ca.key != nullptr) << pki_dir;
  WriteFile(pki_dir + "/ca.crl", MakeCrl(ca.cert.get(), ca.key.get(), {}, absl::Now(), valid_for));
}

// How long the DER CRL at `path` stays valid from now; nothing when it
// cannot be read.
inline std::optional<absl::Duration> CrlValidFor(const std::string& path) {
  const std::string der = ReadFile(path);
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509_CRL* crl = d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size()));
  int days = 0, seconds = 0;
  bool ok = crl != nullptr && X509_CRL_get0_nextUpdate(crl) != nullptr &&
            ASN1_TIME_diff(&days, &seconds, nullptr, X509_CRL_get0_nextUpdate(crl)) == 1;
  X509_CRL_free(crl);
  if (!ok) return std::nullopt;
  return absl::Hours(24) * days + absl::Seconds(seconds);
}

}  // namespace motcua::signing::fixtures

#endif  // MOTCUA_TESTS_SIGNING_VERIFIER_FIXTURES_H_
