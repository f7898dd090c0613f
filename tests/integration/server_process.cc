#include "tests/integration/server_process.h"

#include <fcntl.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "adapters/tls.h"

#ifndef MOTCUAD_PATH
#error "MOTCUAD_PATH must name the motcuad binary (tests/CMakeLists.txt sets it)"
#endif

namespace motcua::itest {
namespace {

constexpr auto kStartTimeout = std::chrono::seconds(30);

std::string MakeTempDir(const char* prefix) {
  std::string templ = absl::StrCat("/tmp/", prefix, "-XXXXXX");
  std::vector<char> buffer(templ.begin(), templ.end());
  buffer.push_back('\0');
  if (mkdtemp(buffer.data()) == nullptr) {
    std::fprintf(stderr, "mkdtemp(%s) failed: %s\n", templ.c_str(), std::strerror(errno));
    std::abort();
  }
  return std::string(buffer.data());
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

// Owns the shared PKI directory; removes it when the test process exits.
struct SharedPki {
  std::string dir = MakeTempDir("motcua-it-pki");
  ~SharedPki() {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
};

// Waits up to `timeout` for `pid` to exit; returns its wait status or -1.
int WaitWithTimeout(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int wstatus = 0;
    const pid_t r = waitpid(pid, &wstatus, WNOHANG);
    if (r == pid) return wstatus;
    if (r < 0 && errno != EINTR) return -1;
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace

const std::string& SharedPkiDir() {
  static SharedPki pki;
  return pki.dir;
}

grpc::ChannelArguments TestChannelArguments() {
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("localhost");
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  return args;
}

absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::Start(
    std::vector<std::string> extra_args) {
  std::unique_ptr<ServerProcess> server(new ServerProcess());
  server->extra_args_ = std::move(extra_args);
  server->root_dir_ = MakeTempDir("motcua-it");
  server->data_dir_ = server->root_dir_ + "/data";
  server->port_file_ = server->root_dir_ + "/port";
  server->log_file_ = server->root_dir_ + "/motcuad.log";
  server->pki_dir_ = SharedPkiDir();
  if (mkdir(server->data_dir_.c_str(), 0700) != 0) {
    return absl::InternalError(
        absl::StrCat("mkdir ", server->data_dir_, ": ", std::strerror(errno)));
  }
  if (absl::Status s = server->Spawn(); !s.ok()) return s;
  return server;
}

absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::StartWithConfig(
    const std::string& config_path) {
  std::unique_ptr<ServerProcess> server(new ServerProcess());
  server->config_path_ = config_path;
  server->root_dir_ = MakeTempDir("motcua-it");
  server->port_file_ = server->root_dir_ + "/port";
  server->log_file_ = server->root_dir_ + "/motcuad.log";
  if (absl::Status s = server->Spawn(); !s.ok()) return s;
  return server;
}

ServerProcess::~ServerProcess() {
  ClearChannels();
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    if (WaitWithTimeout(pid_, std::chrono::seconds(10)) == -1) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    pid_ = -1;
  }
  ClearChannels();
  std::error_code ignored;
  if (!root_dir_.empty()) std::filesystem::remove_all(root_dir_, ignored);
}

absl::Status ServerProcess::Spawn() {
  unlink(port_file_.c_str());
  port_ = 0;
  ClearChannels();

  // Everything the child needs is prepared before fork(): after it, only
  // async-signal-safe calls until exec.
  std::vector<std::string> args = {MOTCUAD_PATH,  "--dev",       "--data-dir",  data_dir_,
                                   "--pki-dir",   pki_dir_,      "--listen",
                                   "127.0.0.1:0", "--port-file", port_file_};
  if (!config_path_.empty()) {
    args = {MOTCUAD_PATH, "--config", config_path_, "--port-file", port_file_};
  }
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const int log_fd = open(log_file_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0) {
    return absl::InternalError(absl::StrCat("open ", log_file_, ": ", std::strerror(errno)));
  }
  const pid_t parent = getpid();

  const pid_t pid = fork();
  if (pid < 0) {
    close(log_fd);
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  if (pid == 0) {
    // The server dies with the test process, even when the test crashes.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(126);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(log_fd);
  pid_ = pid;
  return WaitForPort();
}

absl::Status ServerProcess::WaitForPort() {
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  std::string previous;
  while (std::chrono::steady_clock::now() < deadline) {
    int wstatus = 0;
    if (waitpid(pid_, &wstatus, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::InternalError(absl::StrCat("motcuad exited before serving (wait status ",
                                              wstatus, "); log:\n", LogTail()));
    }
    // The port must read the same twice in a row, so a half-written file is
    // never taken for a port.
    std::string content(absl::StripAsciiWhitespace(ReadFile(port_file_)));
    int port = 0;
    if (!content.empty() && content == previous && absl::SimpleAtoi(content, &port) && port > 0 &&
        port < 65536) {
      port_ = port;
      return absl::OkStatus();
    }
    previous = content;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("motcuad wrote no port to ", port_file_, " within 30 s; log:\n", LogTail()));
}

absl::Status ServerProcess::Kill() {
  if (pid_ <= 0) return absl::FailedPreconditionError("server is not running");
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
  ClearChannels();
  return absl::OkStatus();
}

absl::StatusOr<int> ServerProcess::Stop(int timeout_seconds) {
  if (pid_ <= 0) return absl::FailedPreconditionError("server is not running");
  ClearChannels();
  kill(pid_, SIGTERM);
  const int wstatus = WaitWithTimeout(pid_, std::chrono::seconds(timeout_seconds));
  if (wstatus == -1) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
    return absl::DeadlineExceededError(
        absl::StrCat("motcuad did not exit within ", timeout_seconds, " s of SIGTERM"));
  }
  pid_ = -1;
  return wstatus;
}

absl::Status ServerProcess::Restart() {
  if (pid_ > 0) return absl::FailedPreconditionError("server is still running");
  return Spawn();
}

bool ServerProcess::Running() {
  if (pid_ <= 0) return false;
  int wstatus = 0;
  if (waitpid(pid_, &wstatus, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

void ServerProcess::ClearChannels() {
  std::lock_guard<std::mutex> lock(channels_mutex_);
  channels_.clear();
}

std::string ServerProcess::target() const { return absl::StrCat("127.0.0.1:", port_); }

std::shared_ptr<grpc::Channel> ServerProcess::Channel(const std::string& name) {
  std::lock_guard<std::mutex> lock(channels_mutex_);
  auto it = channels_.find(name);
  if (it != channels_.end()) return it->second;
  std::shared_ptr<grpc::Channel> channel = NewChannel(name);
  channels_[name] = channel;
  return channel;
}

std::shared_ptr<grpc::Channel> ServerProcess::NewChannel(const std::string& name) {
  const adapters::ClientIdentityFiles files = adapters::DevClientFiles(pki_dir_, name);
  return NewChannelWith(files.ca_cert, files.cert, files.key);
}

std::shared_ptr<grpc::Channel> ServerProcess::NewChannelWith(const std::string& ca,
                                                             const std::string& cert,
                                                             const std::string& key) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      adapters::ClientCredentials({.ca_cert = ca, .cert = cert, .key = key});
  if (!credentials.ok()) {
    // Every call on it fails (the server speaks TLS only), and the test says why.
    ADD_FAILURE() << "no client credentials from " << cert << ": " << credentials.status();
    return grpc::CreateChannel(target(), grpc::InsecureChannelCredentials());
  }
  grpc::ChannelArguments args = TestChannelArguments();
  // Its own connection: no subchannel shared with other channels.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(target(), *credentials, args);
}

std::string ServerProcess::LogTail(size_t max_bytes) const {
  std::string log = ReadFile(log_file_);
  if (log.size() > max_bytes) log = "..." + log.substr(log.size() - max_bytes);
  return log;
}

}  // namespace motcua::itest
