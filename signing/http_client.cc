#include "signing/http_client.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/http.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "signing/openssl_util.h"

namespace motcua::signing {
namespace {

// OSSL_HTTP_* take the timeout in whole seconds; 0 would mean "none".
int TimeoutSeconds(const HttpOptions& options) {
  double seconds = std::ceil(absl::ToDoubleSeconds(options.timeout));
  return static_cast<int>(std::clamp(seconds, 1.0, 3600.0));
}

// Empty disables OpenSSL's fallback to the http_proxy environment variable.
const char* Proxy(const HttpOptions& options) { return options.proxy.c_str(); }

absl::Status CheckUrl(absl::string_view url) {
  if (!absl::StartsWithIgnoreCase(url, "http://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("only http:// URLs are supported, not '", url, "'"));
  }
  return absl::OkStatus();
}

absl::Status Unavailable() { return absl::UnavailableError(DrainOpenSslErrors()); }

absl::StatusOr<std::string> ReadAll(BIO* bio, size_t limit) {
  std::string out;
  char buffer[8192];
  for (;;) {
    int n = BIO_read(bio, buffer, sizeof buffer);
    if (n <= 0) break;
    out.append(buffer, static_cast<size_t>(n));
    if (out.size() > limit) {
      return absl::UnavailableError(absl::StrCat("the response is larger than ", limit, " bytes"));
    }
  }
  return out;
}

// Connects to host:port before `deadline`. OpenSSL's own connect
// (BIO_do_connect_retry) retries a refused connection until the timeout, so
// a responder that is down would cost the whole timeout; here it fails at
// once. Non-blocking, as OSSL_HTTP_* need for their own timeout.
absl::StatusOr<BioPtr> Connect(const char* host, const char* port, time_t deadline) {
  BioPtr bio(BIO_new_connect(host));
  if (bio == nullptr || BIO_set_conn_port(bio.get(), port) <= 0 ||
      BIO_set_nbio(bio.get(), 1) <= 0) {
    return Unavailable();
  }
  for (;;) {
    if (BIO_do_connect(bio.get()) > 0) return bio;
    if (!BIO_should_retry(bio.get())) return Unavailable();
    int ready = BIO_wait(bio.get(), deadline, 0);
    if (ready == 0) return absl::UnavailableError("connect timeout");
    if (ready < 0) return Unavailable();
  }
}

// GET when `body` is null, else POST.
absl::StatusOr<std::string> Exchange(absl::string_view url, const std::string* content_type,
                                     const std::string* body,
                                     absl::string_view expected_content_type,
                                     const HttpOptions& options) {
  if (absl::Status s = CheckUrl(url); !s.ok()) return s;
  ERR_clear_error();
  const time_t deadline = time(nullptr) + TimeoutSeconds(options);
  const std::string url_text(url);
  int use_ssl = 0;
  char* host = nullptr;
  char* port = nullptr;
  char* path = nullptr;
  if (OSSL_HTTP_parse_url(url_text.c_str(), &use_ssl, nullptr, &host, &port, nullptr, &path,
                          nullptr, nullptr) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat("'", url, "' is not a valid http:// URL"));
  }
  absl::StatusOr<BioPtr> connection = BioPtr();
  // Through a proxy OpenSSL connects (to the proxy) itself.
  if (options.proxy.empty()) connection = Connect(host, port, deadline);
  BioPtr request;
  if (body != nullptr) request.reset(BIO_new_mem_buf(body->data(), static_cast<int>(body->size())));
  const std::string expected(expected_content_type);
  BioPtr response;
  if (connection.ok() && (body == nullptr || request != nullptr)) {
    // OpenSSL refuses a proxy argument (even "") beside a connected BIO.
    BIO* bio = connection->get();
    response.reset(OSSL_HTTP_transfer(
        nullptr, host, port, path, use_ssl, bio != nullptr ? nullptr : Proxy(options), nullptr, bio,
        nullptr, nullptr, nullptr, 0, nullptr,
        content_type != nullptr ? content_type->c_str() : nullptr, request.get(),
        expected.empty() ? nullptr : expected.c_str(), /*expect_asn1=*/0,
        options.max_response_bytes, static_cast<int>(std::max<time_t>(1, deadline - time(nullptr))),
        /*keep_alive=*/0));
  }
  OPENSSL_free(host);
  OPENSSL_free(port);
  OPENSSL_free(path);
  if (!connection.ok()) return connection.status();
  if (response == nullptr) return Unavailable();
  return ReadAll(response.get(), options.max_response_bytes);
}

}  // namespace

absl::StatusOr<std::string> HttpPost(absl::string_view url, absl::string_view content_type,
                                     absl::string_view body,
                                     absl::string_view expected_content_type,
                                     const HttpOptions& options) {
  const std::string type(content_type);
  const std::string data(body);
  return Exchange(url, &type, &data, expected_content_type, options);
}

absl::StatusOr<std::string> HttpGet(absl::string_view url, const HttpOptions& options) {
  return Exchange(url, nullptr, nullptr, "", options);
}

}  // namespace motcua::signing
