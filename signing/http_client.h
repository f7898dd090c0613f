#ifndef MOTCUA_SIGNING_HTTP_CLIENT_H_
#define MOTCUA_SIGNING_HTTP_CLIENT_H_

// A minimal HTTP/1.x client for the plain-http services a signature needs:
// OCSP responders (POST application/ocsp-request), CRL distribution points
// (GET) and RFC 3161 time-stamping authorities (POST
// application/timestamp-query). Built on OpenSSL's own client
// (OSSL_HTTP_transfer), so no new library. Internal to signing/.
//
// Only http:// URLs: these services sign their answers, so TLS adds nothing
// the caller checks, and RFC 5280/6960/3161 publish them over http anyway.
// Every call opens and closes its own connection; thread-safe. A refused
// connection fails at once (OpenSSL alone would retry until the timeout).

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace motcua::signing {

struct HttpOptions {
  // The whole exchange (connect, send, receive) must finish within this.
  // Rounded up to whole seconds (OpenSSL's unit). Default: 10 s, what a
  // person waiting on a signature tolerates.
  absl::Duration timeout = absl::Seconds(10);
  // A longer response is refused. Default 4 MiB: big enough for the CRL of a
  // national CA, small enough that a hostile server cannot exhaust memory.
  size_t max_response_bytes = 4u << 20;
  // "host:port" of an HTTP proxy; empty (default): connect directly. The
  // environment (http_proxy) is deliberately not consulted.
  std::string proxy;
};

// POSTs `body` as `content_type` to `url` and returns the response body.
// The response must be 200 with content type `expected_content_type` (empty:
// any). INVALID_ARGUMENT for a URL that is not http://host[:port][/path];
// UNAVAILABLE when the server cannot be reached, times out or answers with
// an error or a wrong content type; the message is OpenSSL's reason only,
// for the caller to put in context ("OCSP responder <url> unreachable: ...").
absl::StatusOr<std::string> HttpPost(absl::string_view url, absl::string_view content_type,
                                     absl::string_view body,
                                     absl::string_view expected_content_type,
                                     const HttpOptions& options = {});

// GETs `url` (redirects are not followed); errors as HttpPost.
absl::StatusOr<std::string> HttpGet(absl::string_view url, const HttpOptions& options = {});

}  // namespace motcua::signing

#endif  // MOTCUA_SIGNING_HTTP_CLIENT_H_
