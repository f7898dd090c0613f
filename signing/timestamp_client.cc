#include "signing/timestamp_client.h"

#include <openssl/err.h>
#include <openssl/ts.h>

#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "signing/cades.h"
#include "signing/openssl_util.h"

namespace motcua::signing {
namespace {

using TsReqPtr = std::unique_ptr<TS_REQ, OpenSslDeleter<TS_REQ_free>>;
using TsRespPtr = std::unique_ptr<TS_RESP, OpenSslDeleter<TS_RESP_free>>;
using TsVerifyCtxPtr = std::unique_ptr<TS_VERIFY_CTX, OpenSslDeleter<TS_VERIFY_CTX_free>>;

// "rejection: <text>" from the PKIStatusInfo of a reply that grants nothing.
std::string StatusText(TS_RESP* response) {
  TS_STATUS_INFO* info = TS_RESP_get_status_info(response);
  long status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(info));
  static const char* const kNames[] = {"granted", "grantedWithMods",   "rejection",
                                       "waiting", "revocationWarning", "revocationNotification"};
  std::string text = status >= 0 && status < 6 ? kNames[status] : absl::StrCat("status ", status);
  const STACK_OF(ASN1_UTF8STRING)* texts = TS_STATUS_INFO_get0_text(info);
  for (int i = 0; texts != nullptr && i < sk_ASN1_UTF8STRING_num(texts); ++i) {
    const ASN1_UTF8STRING* line = sk_ASN1_UTF8STRING_value(texts, i);
    absl::StrAppend(&text, i == 0 ? ": " : "; ",
                    absl::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(line)),
                                      static_cast<size_t>(ASN1_STRING_length(line))));
  }
  return text;
}

class HttpAuthority : public TimestampAuthority {
 public:
  HttpAuthority(std::string url, HttpOptions http)
      : url_(std::move(url)), name_("TSA " + url_), http_(std::move(http)) {}

  absl::StatusOr<std::string> Answer(absl::string_view request) const override {
    absl::StatusOr<std::string> reply = HttpPost(url_, "application/timestamp-query", request,
                                                 "application/timestamp-reply", http_);
    if (!reply.ok()) {
      return absl::UnavailableError(
          absl::StrCat(name_, " unreachable: ", reply.status().message()));
    }
    return reply;
  }
  const std::string& name() const override { return name_; }

 private:
  const std::string url_;
  const std::string name_;
  const HttpOptions http_;
};

}  // namespace

std::unique_ptr<TimestampAuthority> HttpTimestampAuthority(std::string url, HttpOptions http) {
  return std::make_unique<HttpAuthority>(std::move(url), std::move(http));
}

absl::StatusOr<std::string> RequestTimestamp(const TimestampAuthority& tsa,
                                             absl::string_view signature_value,
                                             const TimestampOptions& options) {
  absl::StatusOr<std::string> request_der = BuildTimestampRequest(signature_value);
  if (!request_der.ok()) return request_der.status();
  absl::StatusOr<std::string> reply = tsa.Answer(*request_der);
  if (!reply.ok()) return reply.status();
  const std::string& who = tsa.name();
  const auto* p = reinterpret_cast<const unsigned char*>(reply->data());
  TsRespPtr response(d2i_TS_RESP(nullptr, &p, static_cast<long>(reply->size())));
  if (response == nullptr) {
    ERR_clear_error();
    return absl::FailedPreconditionError(
        absl::StrCat(who, " sent something that is not a time-stamp reply"));
  }
  if (TS_RESP_get_token(response.get()) == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(who, " refused: ", StatusText(response.get())));
  }
  p = reinterpret_cast<const unsigned char*>(request_der->data());
  TsReqPtr request(d2i_TS_REQ(nullptr, &p, static_cast<long>(request_der->size())));
  TsVerifyCtxPtr ctx(request != nullptr ? TS_REQ_to_TS_VERIFY_CTX(request.get(), nullptr)
                                        : nullptr);
  if (ctx == nullptr) return OpenSslError("TS_REQ_to_TS_VERIFY_CTX");
  X509_STORE* store = X509_STORE_new();
  if (store == nullptr) return OpenSslError("X509_STORE_new");
  TS_VERIFY_CTX_set_store(ctx.get(), store);
  X509_VERIFY_PARAM_set_flags(X509_STORE_get0_param(store), X509_V_FLAG_PARTIAL_CHAIN);
  PKCS7* token = TS_RESP_get_token(response.get());
  if (options.trust != nullptr) {
    for (const TrustStore::Cert& anchor : options.trust->anchors()) {
      X509_STORE_add_cert(store, anchor.get());
    }
    STACK_OF(X509)* intermediates = sk_X509_new_null();
    for (const TrustStore::Cert& cert : options.trust->intermediates()) {
      X509_up_ref(cert.get());
      sk_X509_push(intermediates, cert.get());
    }
    TS_VERIFY_CTS_set_certs(ctx.get(), intermediates);
  } else if (PKCS7_type_is_signed(token) && token->d.sign->cert != nullptr) {
    // No anchors: trusting the certificates the token carries still proves
    // it is signed by the one it names, for time-stamping.
    for (int i = 0; i < sk_X509_num(token->d.sign->cert); ++i) {
      X509_STORE_add_cert(store, sk_X509_value(token->d.sign->cert, i));
    }
  }
  // With what TS_REQ_to_TS_VERIFY_CTX set: version, message imprint and
  // nonce as asked, status granted.
  TS_VERIFY_CTX_add_flags(ctx.get(), TS_VFY_SIGNATURE);
  if (TS_RESP_verify_response(ctx.get(), response.get()) != 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("the reply of ", who, " does not check out: ", DrainOpenSslErrors()));
  }
  unsigned char* der = nullptr;
  int len = i2d_PKCS7(token, &der);
  if (len <= 0) return OpenSslError("i2d_PKCS7");
  std::string token_der(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return token_der;
}

absl::StatusOr<std::string> TimestampSignature(absl::string_view cms_der,
                                               const TimestampAuthority& tsa,
                                               const TimestampOptions& options) {
  absl::StatusOr<std::string> value = SignatureValue(cms_der);
  if (!value.ok()) return value.status();
  absl::StatusOr<std::string> token = RequestTimestamp(tsa, *value, options);
  if (!token.ok()) return token.status();
  return AddSignatureTimestamp(cms_der, *token);
}

}  // namespace motcua::signing
