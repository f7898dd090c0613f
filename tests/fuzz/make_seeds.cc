// Writes the seed corpus of verify_pdf_fuzzer into a directory: small PDFs
// signed with a fresh development PKI, intact and damaged in the ways the
// verifier distinguishes. The committed tests/fuzz/corpus/ was made by it:
//   cmake --build build --target verify_pdf_fuzz_seeds
//   build/tests/verify_pdf_fuzz_seeds tests/fuzz/corpus

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "signing/dev/dev_pki.h"
#include "signing/pades.h"
#include "signing/signing_key.h"
#include "tests/signing/hand_pdf.h"

namespace {

namespace fs = std::filesystem;
using motcua::signing::SignatureRequest;
using motcua::signing::SigningKey;

std::string PlainPdf() { return ::motcua::testing_pdf::OnePagePdf("Quyet dinh so 42"); }

int64_t NumberAfter(const std::string& pdf, const std::string& key) {
  size_t at = pdf.rfind(key);
  if (at == std::string::npos) return 0;
  at = pdf.find_first_of("0123456789", at + key.size());
  int64_t value = 0;
  (void)absl::SimpleAtoi(pdf.substr(at, pdf.find_first_not_of("0123456789", at) - at), &value);
  return value;
}

// `pdf` with one more revision holding `objects` (number -> body).
std::string Update(const std::string& pdf,
                   const std::vector<std::pair<int64_t, std::string>>& objects, int64_t size) {
  std::string out = pdf;
  std::string xref_rows;
  std::vector<size_t> offsets;
  for (const auto& [number, body] : objects) {
    offsets.push_back(out.size());
    absl::StrAppend(&out, number, " 0 obj\n", body, "\nendobj\n");
  }
  const size_t xref = out.size();
  absl::StrAppend(&out, "xref\n0 1\n0000000000 65535 f \n");
  for (size_t i = 0; i < objects.size(); ++i) {
    absl::StrAppend(&out, objects[i].first, " 1\n",
                    absl::StrFormat("%010d 00000 n \n", offsets[i]));
  }
  absl::StrAppend(&out, "trailer\n<< /Size ", size, " /Root 1 0 R /Prev ",
                  NumberAfter(pdf, "startxref"), " >>\nstartxref\n", xref, "\n%%EOF\n");
  return out;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

std::string PemToDer(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  unsigned char* der = nullptr;
  const int len = cert != nullptr ? i2d_X509(cert, &der) : 0;
  std::string out(reinterpret_cast<char*>(der), len > 0 ? len : 0);
  OPENSSL_free(der);
  X509_free(cert);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " OUT_DIR\n";
    return 64;
  }
  const fs::path out = argv[1];
  fs::create_directories(out);
  std::string pki_template = (fs::temp_directory_path() / "motcua-seeds-XXXXXX").string();
  const std::string pki = mkdtemp(pki_template.data());
  if (absl::Status s = motcua::signing::EnsureDevPki(pki); !s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }
  auto sign = [&](const std::string& pdf, const std::string& signer,
                  const std::string& field) -> std::string {
    auto key = SigningKey::LoadPkcs12(pki + "/signers/" + signer + ".p12",
                                      motcua::signing::kDevPkcs12Password);
    SignatureRequest request;
    request.field_name = field;
    request.signing_time = absl::FromUnixSeconds(1795000000);
    request.reserved_size = 4096;  // keeps each seed near 10 KB
    absl::StatusOr<std::string> signed_pdf =
        key.ok() ? motcua::signing::SignPdf(pdf, request, **key) : key.status();
    if (!signed_pdf.ok()) {
      std::cerr << signer << ": " << signed_pdf.status() << "\n";
      std::exit(1);
    }
    return *signed_pdf;
  };
  auto write = [&](const std::string& name, const std::string& bytes) {
    std::ofstream(out / name, std::ios::binary) << bytes;
  };

  const std::string plain = PlainPdf();
  const std::string once = sign(plain, "head", "Officer");
  const std::string twice = sign(once, "seal-HN-SGDDT", "Seal");
  write("plain.pdf", plain);
  write("signed.pdf", once);
  write("signed_twice.pdf", twice);

  std::string tampered = once;
  tampered[tampered.find("Quyet dinh")] = 'X';
  write("tampered.pdf", tampered);

  const std::string content = "BT /F1 24 Tf 72 720 Td (Quyet dinh so 99) Tj ET";
  write("modified_after.pdf", Update(once,
                                     {{4, absl::StrCat("<< /Length ", content.size(),
                                                       " >>\nstream\n", content, "\nendstream")}},
                                     NumberAfter(once, "/Size")));

  // A /DSS holding the CA certificate and an OCSP response that only says
  // "malformedRequest", added after the signatures as PAdES B-LT does.
  const int64_t size = NumberAfter(twice, "/Size");
  const size_t catalog_at = twice.rfind("\n1 0 obj");
  std::string catalog =
      twice.substr(catalog_at + 8, twice.find("endobj", catalog_at) - (catalog_at + 8));
  catalog.insert(catalog.find("<<") + 2, absl::StrCat(" /DSS ", size, " 0 R"));
  const std::string ca_der = PemToDer(ReadAll(pki + "/ca.crt"));
  write(
      "with_dss.pdf",
      Update(twice,
             {{1, catalog},
              {size, absl::StrCat("<< /Certs [", size + 1, " 0 R] /OCSPs [", size + 2, " 0 R] >>")},
              {size + 1,
               absl::StrCat("<< /Length ", ca_der.size(), " >>\nstream\n", ca_der, "\nendstream")},
              {size + 2, "<< /Length 5 >>\nstream\n\x30\x03\x0a\x01\x01\nendstream"}},
             size + 3));
  // The signed document rewritten with object streams and a cross-reference
  // stream (the signature no longer matches; the structure is the point).
  const std::string qpdf =
      absl::StrCat("qpdf --object-streams=generate ", (out / "signed.pdf").string(), " ",
                   (out / "xref_stream.pdf").string());
  if (std::system(qpdf.c_str()) != 0) std::cerr << "qpdf failed; xref_stream.pdf not written\n";
  fs::remove_all(pki);
  std::cout << "seeds written to " << out << "\n";
  return 0;
}
