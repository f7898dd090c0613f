// motcua_oversized: sends oversized requests to a running motcuad, for the
// memory benchmark (scripts/bench-memory.sh): what is left resident after
// the server refused them. Not a test.
//   motcua_oversized --server 127.0.0.1:PORT --pki-dir DIR [--as portal]
//                    [--method /motcua.v1.TaskService/CompleteTask] [--mib 12] [--count 25]
// Prints one line per code received: "code=RESOURCE_EXHAUSTED calls=25".

#include <CLI/CLI.hpp>
#include <future>
#include <iostream>
#include <map>
#include <string>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include "adapters/tls.h"

int main(int argc, char** argv) {
  std::string server, pki_dir = "var/pki", as = "portal",
                      method = "/motcua.v1.TaskService/CompleteTask";
  int mib = 12, count = 25;
  CLI::App app("Sends oversized requests to motcuad (memory benchmark).", "motcua_oversized");
  app.add_option("--server", server, "host:port of a running motcuad")->required();
  app.add_option("--pki-dir", pki_dir, "development PKI of that server")->capture_default_str();
  app.add_option("--as", as, "development identity")->capture_default_str();
  app.add_option("--method", method, "full method name")->capture_default_str();
  app.add_option("--mib", mib, "size of each request")->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--count", count, "requests, one after the other")->check(CLI::PositiveNumber)
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  auto credentials =
      motcua::adapters::ClientCredentials(motcua::adapters::DevClientFiles(pki_dir, as));
  if (!credentials.ok()) {
    std::cerr << "motcua_oversized: " << credentials.status() << "\n";
    return 1;
  }
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("localhost");
  args.SetMaxSendMessageSize(-1);
  auto channel = grpc::CreateCustomChannel(server, *credentials, args);
  grpc::GenericStub stub(channel);
  // A valid message: field 6 (CompleteTaskRequest.comment), `mib` MiB long.
  const size_t size = static_cast<size_t>(mib) << 20;
  std::string bytes = "\x32";
  for (size_t v = size; ; v >>= 7) {
    if (v < 0x80) { bytes.push_back(static_cast<char>(v)); break; }
    bytes.push_back(static_cast<char>((v & 0x7f) | 0x80));
  }
  bytes.append(size, 'x');
  std::map<std::string, int> codes;
  for (int i = 0; i < count; ++i) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &response,
                   [&done](grpc::Status status) { done.set_value(std::move(status)); });
    const grpc::Status status = done.get_future().get();
    ++codes[std::to_string(status.error_code())];
  }
  for (const auto& [code, calls] : codes) std::cout << "code=" << code << " calls=" << calls << "\n";
  return 0;
}
