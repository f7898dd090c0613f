#include "signing/signed_data.h"

#include <openssl/err.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace motcua::signing {
namespace {

// Enough for every signer, CA, TSA and OCSP responder certificate a
// deployment meets; when full it starts afresh rather than tracking use.
// Larger certificates than real ones are decoded but not kept.
constexpr size_t kMaxCachedCertificates = 1024;
constexpr size_t kMaxCachedCertificateBytes = 16 << 10;

constexpr unsigned char kSequence = 0x30;
constexpr unsigned char kContext0 = 0xA0;  // [0], constructed
// The DER of OID 1.2.840.113549.1.7.2 (id-signedData).
constexpr absl::string_view kSignedDataOid("\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02", 11);

// One DER element: single-byte tag, definite length of at most 4 bytes.
struct Tlv {
  unsigned char tag = 0;
  absl::string_view whole;
  absl::string_view body;
};

// Reads the element at the front of `in` and drops it from `in`.
bool ReadTlv(absl::string_view* in, Tlv* out) {
  if (in->size() < 2) return false;
  const auto byte = [&](size_t i) { return static_cast<unsigned char>((*in)[i]); };
  out->tag = byte(0);
  if ((out->tag & 0x1f) == 0x1f) return false;
  size_t header = 2;
  size_t length = byte(1);
  if (length & 0x80) {
    size_t count = length & 0x7f;
    if (count == 0 || count > 4 || in->size() < 2 + count) return false;  // 0: indefinite
    length = 0;
    for (size_t i = 0; i < count; ++i) length = (length << 8) | byte(2 + i);
    header += count;
  }
  if (length > in->size() - header) return false;
  out->whole = in->substr(0, header + length);
  out->body = in->substr(header, length);
  in->remove_prefix(header + length);
  return true;
}

void AppendElement(unsigned char tag, absl::string_view body, std::string* out) {
  out->push_back(static_cast<char>(tag));
  size_t length = body.size();
  if (length < 0x80) {
    out->push_back(static_cast<char>(length));
  } else {
    int count = 0;
    for (size_t rest = length; rest > 0; rest >>= 8) ++count;
    out->push_back(static_cast<char>(0x80 | count));
    for (int i = count - 1; i >= 0; --i) out->push_back(static_cast<char>(length >> (8 * i)));
  }
  out->append(body.data(), body.size());
}

// What d2i_CMS_ContentInfo and CMS_get1_certs give.
std::optional<SignedDataParts> ReadWhole(absl::string_view der) {
  SignedDataParts parts;
  parts.cms = DecodeCms(der);
  if (parts.cms == nullptr) return std::nullopt;
  if (STACK_OF(X509)* certs = CMS_get1_certs(parts.cms.get())) {
    for (int i = 0; i < sk_X509_num(certs); ++i)
      parts.certificates.emplace_back(sk_X509_value(certs, i));
    sk_X509_free(certs);
  }
  ERR_clear_error();
  return parts;
}

// The ContentInfo `der` without the certificate set of its SignedData, and
// that set's certificates; nothing when `der` is not DER SignedData holding
// only X.509 certificates (trailing bytes, as in a zero-padded /Contents,
// are ignored like d2i ignores them).
struct Split {
  std::string stripped;
  std::vector<absl::string_view> certificates;
};
std::optional<Split> SplitCertificates(absl::string_view der) {
  Tlv content_info, type, explicit_content, signed_data;
  if (!ReadTlv(&der, &content_info) || content_info.tag != kSequence) return std::nullopt;
  absl::string_view rest = content_info.body;
  if (!ReadTlv(&rest, &type) || type.whole != kSignedDataOid) return std::nullopt;
  if (!ReadTlv(&rest, &explicit_content) || explicit_content.tag != kContext0 || !rest.empty())
    return std::nullopt;
  rest = explicit_content.body;
  if (!ReadTlv(&rest, &signed_data) || signed_data.tag != kSequence || !rest.empty())
    return std::nullopt;
  Split split;
  std::string kept;
  bool seen = false;
  for (absl::string_view fields = signed_data.body; !fields.empty();) {
    Tlv field;
    if (!ReadTlv(&fields, &field)) return std::nullopt;
    if (field.tag != kContext0 || seen) {
      kept.append(field.whole.data(), field.whole.size());
      continue;
    }
    seen = true;
    for (absl::string_view set = field.body; !set.empty();) {
      Tlv cert;
      if (!ReadTlv(&set, &cert) || cert.tag != kSequence) return std::nullopt;
      split.certificates.push_back(cert.whole);
    }
  }
  std::string signed_data_der, explicit_der;
  AppendElement(kSequence, kept, &signed_data_der);
  AppendElement(kContext0, signed_data_der, &explicit_der);
  AppendElement(kSequence, absl::StrCat(type.whole, explicit_der), &split.stripped);
  return split;
}

class CertificateCache {
 public:
  X509Ptr Get(absl::string_view der) {
    {
      absl::MutexLock lock(&mutex_);
      auto it = certificates_.find(std::string(der));
      if (it != certificates_.end()) return Ref(it->second.get());
    }
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
    if (cert == nullptr || p != reinterpret_cast<const unsigned char*>(der.data() + der.size())) {
      ERR_clear_error();
      return nullptr;
    }
    if (der.size() > kMaxCachedCertificateBytes) return cert;
    absl::MutexLock lock(&mutex_);
    if (certificates_.size() >= kMaxCachedCertificates) certificates_.clear();
    certificates_.emplace(std::string(der), Ref(cert.get()));
    return cert;
  }

 private:
  static X509Ptr Ref(X509* cert) {
    X509_up_ref(cert);
    return X509Ptr(cert);
  }

  absl::Mutex mutex_;
  std::unordered_map<std::string, X509Ptr> certificates_;
};

CertificateCache& Cache() {
  static auto* cache = new CertificateCache();
  return *cache;
}

}  // namespace

CmsPtr DecodeCms(absl::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
  if (cms == nullptr) ERR_clear_error();
  return cms;
}

X509Ptr DecodeCertificate(absl::string_view der) { return Cache().Get(der); }

std::optional<SignedDataParts> ReadSignedData(absl::string_view der) {
  std::optional<Split> split = SplitCertificates(der);
  if (!split.has_value() || split->certificates.empty()) return ReadWhole(der);
  SignedDataParts parts;
  parts.cms = DecodeCms(split->stripped);
  if (parts.cms == nullptr) return ReadWhole(der);
  for (absl::string_view cert_der : split->certificates) {
    X509Ptr cert = DecodeCertificate(cert_der);
    if (cert == nullptr) return std::nullopt;  // as d2i_CMS_ContentInfo fails then
    parts.certificates.push_back(std::move(cert));
  }
  return parts;
}

}  // namespace motcua::signing
