#ifndef MOTCUA_TESTS_INTEGRATION_SERVER_PROCESS_H_
#define MOTCUA_TESTS_INTEGRATION_SERVER_PROCESS_H_

// The real motcuad binary as a child process, for integration tests.
//
// A ServerProcess owns a temporary directory (mkdtemp under /tmp) holding the
// RocksDB data dir, the port file and the server's log. It starts
// MOTCUAD_PATH listening on 127.0.0.1 with an ephemeral port, waits until the
// port file appears, and hands out mutual-TLS clients per development
// identity ("portal", "receiver", "head", ...). The development PKI lives in
// one directory shared by every server of the test process (the first start
// creates it); it is removed when the process exits.

#include <grpcpp/channel.h>
#include <grpcpp/support/channel_arguments.h>
#include <sys/types.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/integration/client.h"

namespace motcua::itest {

// The PKI directory shared by every ServerProcess of this test process.
const std::string& SharedPkiDir();

class ServerProcess {
 public:
  // Starts a fresh server (empty data dir) and waits until it serves, at most
  // 30 s. Fails with the server's log tail when it exits or never writes its
  // port file. `extra_args` go after the harness's own flags (a repeated
  // flag wins, e.g. "--data-dir" of a restored copy).
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Start(
      std::vector<std::string> extra_args = {});

  // Starts `motcuad --config <config_path>` (production mode: no
  // development PKI; pki_dir() is empty, so reach it with NewChannelWith).
  // Its data dir is the configuration's, not data_dir().
  static absl::StatusOr<std::unique_ptr<ServerProcess>> StartWithConfig(
      const std::string& config_path);

  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Stops the server if it runs (SIGTERM, then SIGKILL after 10 s) and
  // removes the temporary directory.
  ~ServerProcess();

  // SIGKILL and reap: a crash, no chance to flush anything.
  absl::Status Kill();

  // SIGTERM and reap, waiting at most `timeout_seconds`. Returns the wait
  // status (see <sys/wait.h>). DEADLINE_EXCEEDED (after a SIGKILL) when the
  // server did not exit in time.
  absl::StatusOr<int> Stop(int timeout_seconds = 30);

  // Starts the server again on the same data dir after Kill() or Stop().
  // The port changes; clients obtained before are stale.
  absl::Status Restart();

  // Whether the child process is still running (not exited, not reaped).
  bool Running();

  int port() const { return port_; }
  // The running server's process id (-1 when stopped).
  pid_t pid() const { return pid_; }
  // "127.0.0.1:<port>".
  std::string target() const;
  const std::string& data_dir() const { return data_dir_; }
  const std::string& pki_dir() const { return pki_dir_; }
  // A scratch directory removed with the server, for tests' own files.
  const std::string& scratch_dir() const { return root_dir_; }

  // A mutual-TLS channel presenting <pki>/clients/<name>.crt; cached per
  // name until the next Restart(). Thread-safe.
  std::shared_ptr<grpc::Channel> Channel(const std::string& name);

  // A new channel of its own (own connection), not cached.
  std::shared_ptr<grpc::Channel> NewChannel(const std::string& name);

  // A new mutual-TLS channel presenting `cert`/`key`, trusting `ca`.
  std::shared_ptr<grpc::Channel> NewChannelWith(const std::string& ca, const std::string& cert,
                                                const std::string& key);

  // Typed client for a development identity, e.g. As("receiver").
  Client As(const std::string& name) { return Client(Channel(name)); }

  // The last `max_bytes` of the server's stdout+stderr, for failure output.
  std::string LogTail(size_t max_bytes = 4000) const;

 private:
  ServerProcess() = default;
  absl::Status Spawn();
  absl::Status WaitForPort();
  void ClearChannels();

  std::string root_dir_;
  std::string data_dir_;
  std::string pki_dir_;
  std::string port_file_;
  std::string log_file_;
  std::vector<std::string> extra_args_;
  std::string config_path_;  // production mode when set
  pid_t pid_ = -1;
  int port_ = 0;
  std::mutex channels_mutex_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;
};

// Channel arguments every test channel uses: TLS name "localhost" (the dev
// server certificate's DNS SAN) and no receive limit on responses.
grpc::ChannelArguments TestChannelArguments();

}  // namespace motcua::itest

#endif  // MOTCUA_TESTS_INTEGRATION_SERVER_PROCESS_H_
