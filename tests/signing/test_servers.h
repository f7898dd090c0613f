#ifndef MOTCUA_TESTS_SIGNING_TEST_SERVERS_H_
#define MOTCUA_TESTS_SIGNING_TEST_SERVERS_H_

// Servers on loopback for the revocation and time-stamping tests: a tiny
// HTTP/1.0 server running a handler in a thread (serves CRLs, fronts
// `openssl ts -reply` as an RFC 3161 TSA) and a real `openssl ocsp`
// responder run as a child process. Header-only.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/signing/signing_test_util.h"

extern char** environ;

namespace motcua::signing::testing_util {

// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read
// it back, close). For servers whose port must be known before they start.
inline int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  EXPECT_GT(port, 0);
  return port;
}

struct HttpRequest {
  std::string method;  // "GET", "POST"
  std::string path;
  std::string content_type;
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/octet-stream";
  std::string body;
};

// An HTTP/1.0 server on 127.0.0.1 (a port of its choosing) answering one
// connection at a time with `handler`, until destroyed.
class TestHttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  explicit TestHttpServer(Handler handler) : handler_(std::move(handler)) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(listen_fd_, 16) != 0 ||
        getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot listen on loopback";
      return;
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~TestHttpServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    close(listen_fd_);
  }
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  int port() const { return port_; }
  std::string url(const std::string& path = "/") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int requests() const { return requests_; }

 private:
  void Serve() {
    while (!stop_) {
      pollfd pfd{listen_fd_, POLLIN, 0};
      if (poll(&pfd, 1, 50) <= 0) continue;
      int fd = accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      Answer(fd);
      close(fd);
    }
  }

  static std::string Header(const std::string& head, const std::string& name) {
    std::string lower_head = head;
    for (char& c : lower_head) c = static_cast<char>(tolower(c));
    size_t at = lower_head.find("\r\n" + name + ":");
    if (at == std::string::npos) return "";
    at += name.size() + 3;
    size_t end = head.find("\r\n", at);
    std::string value = head.substr(at, end - at);
    value.erase(0, value.find_first_not_of(' '));
    return value;
  }

  void Answer(int fd) {
    std::string data;
    char buf[4096];
    size_t head_end = std::string::npos;
    while (head_end == std::string::npos) {
      ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0) return;
      data.append(buf, static_cast<size_t>(n));
      head_end = data.find("\r\n\r\n");
    }
    const std::string head = data.substr(0, head_end);
    HttpRequest request;
    size_t space = head.find(' ');
    request.method = head.substr(0, space);
    request.path = head.substr(space + 1, head.find(' ', space + 1) - space - 1);
    request.content_type = Header(head, "content-type");
    size_t length = std::strtoul(Header(head, "content-length").c_str(), nullptr, 10);
    request.body = data.substr(head_end + 4);
    while (request.body.size() < length) {
      ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0) return;
      request.body.append(buf, static_cast<size_t>(n));
    }
    ++requests_;
    HttpResponse response = handler_(request);
    std::string out = "HTTP/1.0 " + std::to_string(response.status) +
                      (response.status == 200 ? " OK" : " Error") +
                      "\r\nContent-Type: " + response.content_type +
                      "\r\nContent-Length: " + std::to_string(response.body.size()) +
                      "\r\nConnection: close\r\n\r\n" + response.body;
    for (size_t sent = 0; sent < out.size();) {
      ssize_t n = write(fd, out.data() + sent, out.size() - sent);
      if (n <= 0) return;
      sent += static_cast<size_t>(n);
    }
  }

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

// A real `openssl ocsp` responder for the dev PKI in `pki` (its index.txt,
// signed with ocsp.crt unless told otherwise), on 127.0.0.1:`port`. It reads
// the index when it starts: Restart() after a revocation. Its log is
// <pki>/ocsp.log.
class OcspResponder {
 public:
  OcspResponder(fs::path pki, int port, std::string signer_stem = "ocsp")
      : pki_(std::move(pki)), port_(port), signer_stem_(std::move(signer_stem)) {
    Start();
  }
  ~OcspResponder() { Stop(); }
  OcspResponder(const OcspResponder&) = delete;
  OcspResponder& operator=(const OcspResponder&) = delete;

  void Start() {
    const std::string index = (pki_ / "index.txt").string();
    const std::string ca = (pki_ / "ca.crt").string();
    const std::string rsigner = (pki_ / (signer_stem_ + ".crt")).string();
    const std::string rkey = (pki_ / (signer_stem_ + ".key")).string();
    const std::string port = std::to_string(port_);
    const std::string log = (pki_ / "ocsp.log").string();
    // Under `timeout`: should the test process die, the responder follows
    // within minutes instead of lingering on a shared machine.
    std::vector<std::string> args = {"timeout", "300", "openssl", "ocsp",     "-index",
                                     index,     "-CA", ca,        "-rsigner", rsigner,
                                     "-rkey",   rkey,  "-port",   port,       "-ignore_err"};
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    int rc = posix_spawnp(&pid_, "timeout", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ASSERT_EQ(rc, 0) << "cannot start openssl ocsp";
    // Not a probing connect: openssl ocsp serves one connection at a time
    // and hangs on one that sends nothing.
    for (int attempt = 0; attempt < 500; ++attempt) {
      if (ReadFileOrDie(log).find("waiting for OCSP client connections") != std::string::npos) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL() << "openssl ocsp did not start: " << ReadFileOrDie(log);
  }

  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  void Restart() {
    Stop();
    Start();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }

 private:
  fs::path pki_;
  int port_;
  std::string signer_stem_;
  pid_t pid_ = -1;
};

// An RFC 3161 TSA over HTTP: the real `openssl ts -reply` with the dev PKI's
// tsa.crt/tsa.key in `pki`, behind a TestHttpServer. Its work files are
// under `dir`.
class TestTsaServer {
 public:
  TestTsaServer(const fs::path& pki, const fs::path& dir)
      : dir_(dir), server_([this](const HttpRequest& r) { return Answer(r); }) {
    fs::create_directories(dir_);
    WriteFileOrDie(dir_ / "serial", "01\n");
    WriteFileOrDie(dir_ / "tsa.cnf",
                   "[ tsa ]\ndefault_tsa = tsa1\n[ tsa1 ]\nserial = " + (dir_ / "serial").string() +
                       "\nsigner_cert = " + (pki / "tsa.crt").string() +
                       "\nsigner_key = " + (pki / "tsa.key").string() +
                       "\nsigner_digest = sha256\ndefault_policy = 1.2.3.4.1\n"
                       "digests = sha256\naccuracy = secs:1\ness_cert_id_alg = sha256\n"
                       "ess_cert_id_chain = no\n");
  }

  std::string url() const { return server_.url("/tsa"); }
  int requests() const { return server_.requests(); }

 private:
  HttpResponse Answer(const HttpRequest& request) {
    if (request.method != "POST" || request.content_type != "application/timestamp-query") {
      return {400, "text/plain", "POST application/timestamp-query only"};
    }
    WriteFileOrDie(dir_ / "query.tsq", request.body);
    CommandResult r = RunCommand("openssl ts -reply -config " + Quote((dir_ / "tsa.cnf").string()) +
                                 " -queryfile " + Quote((dir_ / "query.tsq").string()) + " -out " +
                                 Quote((dir_ / "reply.tsr").string()));
    if (r.exit_code != 0) return {500, "text/plain", r.output};
    return {200, "application/timestamp-reply", ReadFileOrDie(dir_ / "reply.tsr")};
  }

  fs::path dir_;
  TestHttpServer server_;
};

// A copy of the shared dev PKI under `dir`, with signing certificates
// re-issued (same keys) to name `options`' revocation services. Copying
// avoids generating RSA keys; revocations then touch only the copy.
inline fs::path DevPkiCopy(const fs::path& dir, const DevPkiOptions& options) {
  fs::path pki = dir / "pki";
  fs::copy(SharedDevPki(), pki, fs::copy_options::recursive);
  absl::Status status = EnsureDevPki(pki.string(), options);
  EXPECT_TRUE(status.ok()) << status;
  return pki;
}

// A copy of the dev PKI under `dir` whose signing and TSA certificates name
// a real `openssl ocsp` responder and a CRL distribution point serving the
// copy's current ca.crl, both on loopback and running.
struct DevPkiWithRevocationServices {
  explicit DevPkiWithRevocationServices(const fs::path& dir)
      : crl_server(std::make_unique<TestHttpServer>([this](const HttpRequest& r) -> HttpResponse {
          if (r.method != "GET" || r.path != "/ca.crl") return {404, "text/plain", "no"};
          return {200, "application/pkix-crl", ReadFileOrDie(pki / "ca.crl")};
        })),
        ocsp_port(FreeLoopbackPort()),
        options{"http://127.0.0.1:" + std::to_string(ocsp_port) + "/", crl_server->url("/ca.crl")},
        pki(DevPkiCopy(dir, options)),
        responder(std::make_unique<OcspResponder>(pki, ocsp_port)) {}

  std::unique_ptr<TestHttpServer> crl_server;  // reset it to take it down
  int ocsp_port;
  DevPkiOptions options;
  fs::path pki;
  std::unique_ptr<OcspResponder> responder;
};

}  // namespace motcua::signing::testing_util

#endif  // MOTCUA_TESTS_SIGNING_TEST_SERVERS_H_
