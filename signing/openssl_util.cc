#include "signing/openssl_util.h"

#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include <cstring>
#include <ctime>

#include "absl/strings/str_cat.h"

namespace motcua::signing {

absl::Status OpenSslError(absl::string_view what) {
  std::string detail;
  while (unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    absl::StrAppend(&detail, detail.empty() ? "" : "; ", buf);
  }
  return absl::InternalError(absl::StrCat(what, detail.empty() ? "" : ": ", detail));
}

std::string DrainOpenSslErrors() {
  std::string text;
  const char* data = nullptr;
  int flags = 0;
  while (unsigned long code = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) {
    // System errors (errno) carry no reason string of their own.
    const char* reason =
        ERR_SYSTEM_ERROR(code) ? strerror(ERR_GET_REASON(code)) : ERR_reason_error_string(code);
    absl::StrAppend(&text, text.empty() ? "" : "; ",
                    reason != nullptr ? reason : absl::StrCat("error ", code));
    if ((flags & ERR_TXT_STRING) != 0 && data != nullptr && *data != '\0') {
      absl::StrAppend(&text, " (", data, ")");
    }
  }
  return text.empty() ? "unknown OpenSSL error" : text;
}

namespace {

std::string Ia5Text(const ASN1_IA5STRING* text) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                     static_cast<size_t>(ASN1_STRING_length(text)));
}

}  // namespace

std::vector<std::string> OcspUrls(X509* cert) {
  std::vector<std::string> urls;
  auto* info = static_cast<AUTHORITY_INFO_ACCESS*>(
      X509_get_ext_d2i(cert, NID_info_access, nullptr, nullptr));
  for (int i = 0; info != nullptr && i < sk_ACCESS_DESCRIPTION_num(info); ++i) {
    ACCESS_DESCRIPTION* ad = sk_ACCESS_DESCRIPTION_value(info, i);
    if (OBJ_obj2nid(ad->method) == NID_ad_OCSP && ad->location->type == GEN_URI) {
      urls.push_back(Ia5Text(ad->location->d.uniformResourceIdentifier));
    }
  }
  AUTHORITY_INFO_ACCESS_free(info);
  ERR_clear_error();
  return urls;
}

std::vector<std::string> CrlUrls(X509* cert) {
  std::vector<std::string> urls;
  auto* points = static_cast<CRL_DIST_POINTS*>(
      X509_get_ext_d2i(cert, NID_crl_distribution_points, nullptr, nullptr));
  for (int i = 0; points != nullptr && i < sk_DIST_POINT_num(points); ++i) {
    DIST_POINT_NAME* name = sk_DIST_POINT_value(points, i)->distpoint;
    if (name == nullptr || name->type != 0) continue;  // 0: fullName
    for (int j = 0; j < sk_GENERAL_NAME_num(name->name.fullname); ++j) {
      GENERAL_NAME* gn = sk_GENERAL_NAME_value(name->name.fullname, j);
      if (gn->type == GEN_URI) urls.push_back(Ia5Text(gn->d.uniformResourceIdentifier));
    }
  }
  CRL_DIST_POINTS_free(points);
  ERR_clear_error();
  return urls;
}

std::string Sha256(absl::string_view data) {
  std::string digest(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         reinterpret_cast<unsigned char*>(digest.data()));
  return digest;
}

std::optional<absl::Time> AsnTime(const ASN1_TIME* time) {
  struct tm tm {};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) return std::nullopt;
  return absl::FromTM(tm, absl::UTCTimeZone());
}

std::string TimeText(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", time, absl::UTCTimeZone());
}

}  // namespace motcua::signing
