// libFuzzer target for what callers send the server outside the protobuf
// messages themselves: page tokens (opened against a query), the request
// line of the metrics endpoint, the per-method request check before
// parsing, PKCS#11 URIs of the configuration, deadlines in form fields (a
// timer's due time) and procedure definitions with their timers. The first
// byte picks the parser; the rest is its input.
//
// Built with clang by -DMOTCUA_FUZZ=ON (scripts/fuzz.sh api_input), and with
// any compiler as api_input_corpus_replay over tests/fuzz/api_input_corpus.

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include <google/protobuf/stubs/logging.h>
#include <grpcpp/support/byte_buffer.h>

#include "absl/strings/string_view.h"
#include "adapters/call.h"
#include "adapters/metrics.h"
#include "motcua/v1/service.pb.h"
#include "signing/signing_key.h"
#include "storage/store.h"
#include "google/protobuf/text_format.h"
#include "workflow/events.h"
#include "workflow/page_token.h"
#include "workflow/procedure.h"

namespace {

// Page tokens with a key for this process only: opened on an empty store
// that is never written, and removed at exit.
class ScratchTokens {
 public:
  ScratchTokens() {
    char dir[] = "/tmp/motcua-fuzz-XXXXXX";
    if (mkdtemp(dir) == nullptr) std::abort();
    dir_ = dir;
    auto store = motcua::storage::Store::Open(dir_ + "/db");
    if (!store.ok()) std::abort();
    auto tokens = motcua::workflow::PageTokens::Open(store->get(), /*may_write=*/false);
    if (!tokens.ok()) std::abort();
    tokens_.emplace(*std::move(tokens));
  }
  ~ScratchTokens() { std::filesystem::remove_all(dir_); }
  const motcua::workflow::PageTokens& get() const { return *tokens_; }

 private:
  std::string dir_;
  std::optional<motcua::workflow::PageTokens> tokens_;
};

const motcua::workflow::PageTokens& Tokens() {
  static const ScratchTokens tokens;
  return tokens.get();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // protobuf logs every string that is not UTF-8: a flood, not a finding.
  static const google::protobuf::LogSilencer* const quiet = new google::protobuf::LogSilencer;
  (void)quiet;
  if (size == 0) return 0;
  const absl::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 6) {
    case 0: {
      // A token sealed for one query must open for it and for no other.
      const std::string query(input.substr(0, input.size() / 2));
      (void)Tokens().Unseal(input, query);
      const std::string sealed = Tokens().Seal(query, {3, std::string(input)});
      auto opened = Tokens().Unseal(sealed, query);
      if (!opened.ok() || opened->part != 3 || opened->key != input) std::abort();
      if (Tokens().Unseal(sealed, query + "x").ok()) std::abort();
      break;
    }
    case 1:
      (void)motcua::adapters::ParseHttpRequestLine(input);
      break;
    case 2: {
      grpc::Slice slice(input.data(), input.size());
      grpc::ByteBuffer bytes(&slice, 1);
      motcua::v1::CompleteTaskRequest complete;
      (void)motcua::adapters::ParseRequest(bytes, &complete);
      motcua::v1::ListDossiersRequest list;
      (void)motcua::adapters::ParseRequest(bytes, &list);
      break;
    }
    case 3:
      (void)motcua::signing::ParsePkcs11Uri(input);
      break;
    case 4:
      (void)motcua::workflow::ParseDeadline(input);
      break;
    case 5: {
      motcua::v1::ProcedureDefinition definition;
      if (google::protobuf::TextFormat::ParseFromString(std::string(input), &definition)) {
        (void)motcua::workflow::Procedure::Compile(definition);
      }
      break;
    }
  }
  return 0;
}
