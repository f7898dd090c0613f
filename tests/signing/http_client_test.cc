#include "signing/http_client.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/signing/test_servers.h"

namespace motcua::signing {
namespace {

using ::testing::HasSubstr;
using testing_util::HttpRequest;
using testing_util::HttpResponse;
using testing_util::TestHttpServer;

// Echoes what it received: method, path, content type, then the body.
HttpResponse Echo(const HttpRequest& request) {
  if (request.path == "/missing") return {404, "text/plain", "not here"};
  if (request.path == "/big") return {200, "application/octet-stream", std::string(5000, 'x')};
  return {200, "application/test-reply",
          request.method + " " + request.path + " " + request.content_type + "\n" + request.body};
}

TEST(HttpClientTest, Post_SendsBodyAndContentType) {
  TestHttpServer server(Echo);
  const std::string body("\x30\x03\x02\x01\x00", 5);  // binary, with a NUL
  absl::StatusOr<std::string> reply =
      HttpPost(server.url("/tsa"), "application/timestamp-query", body, "application/test-reply");
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(*reply, "POST /tsa application/timestamp-query\n" + body);
}

TEST(HttpClientTest, Get_ReturnsBody) {
  TestHttpServer server(Echo);
  absl::StatusOr<std::string> reply = HttpGet(server.url("/ca.crl"));
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(*reply, "GET /ca.crl \n");
}

TEST(HttpClientTest, UnexpectedContentType_IsUnavailable) {
  TestHttpServer server(Echo);
  absl::StatusOr<std::string> reply =
      HttpPost(server.url("/ocsp"), "application/ocsp-request", "x", "application/ocsp-response");
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
}

TEST(HttpClientTest, ErrorStatus_IsUnavailableWithTheCode) {
  TestHttpServer server(Echo);
  absl::StatusOr<std::string> reply = HttpGet(server.url("/missing"));
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(reply.status().message()), HasSubstr("404"));
}

TEST(HttpClientTest, ResponseOverTheCap_IsUnavailable) {
  TestHttpServer server(Echo);
  HttpOptions options;
  options.max_response_bytes = 1000;
  EXPECT_EQ(HttpGet(server.url("/big"), options).status().code(), absl::StatusCode::kUnavailable);
  options.max_response_bytes = 10000;
  EXPECT_TRUE(HttpGet(server.url("/big"), options).ok());
}

TEST(HttpClientTest, NobodyListening_IsUnavailable) {
  const int port = testing_util::FreeLoopbackPort();
  HttpOptions options;
  options.timeout = absl::Seconds(1);  // OpenSSL retries a refused connect until then
  absl::StatusOr<std::string> reply =
      HttpGet("http://127.0.0.1:" + std::to_string(port) + "/", options);
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(reply.status().message()), HasSubstr("Connection refused"));
}

TEST(HttpClientTest, ServerThatNeverAnswers_TimesOut) {
  // Listening but never accepting: the kernel completes the handshake and
  // buffers the request; no answer ever comes.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 4), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  HttpOptions options;
  options.timeout = absl::Seconds(1);
  absl::StatusOr<std::string> reply = HttpPost(
      "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/", "a/b", "x", "", options);
  close(fd);
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(reply.status().message()), HasSubstr("timeout"));
}

TEST(HttpClientTest, Proxy_GetsTheAbsoluteUrl) {
  TestHttpServer proxy(Echo);
  HttpOptions options;
  options.proxy = "127.0.0.1:" + std::to_string(proxy.port());
  absl::StatusOr<std::string> reply =
      HttpPost("http://ocsp.example.invalid/x", "application/ocsp-request", "q", "", options);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(*reply, "POST http://ocsp.example.invalid:80/x application/ocsp-request\nq");
}

TEST(HttpClientTest, NotHttp_IsInvalidArgument) {
  EXPECT_EQ(HttpGet("https://example.org/ca.crl").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(HttpPost("ldap://x/y", "a/b", "", "").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace motcua::signing
