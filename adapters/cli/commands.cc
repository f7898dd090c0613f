#include "adapters/cli/commands.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include <CLI/CLI.hpp>
#include <map>
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <tuple>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "adapters/cli/format.h"
#include "signing/signing_key.h"
#include "storage/files.h"

namespace motcua::cli {
namespace {

// Largest page the API allows (ListDossiers and ListMyTasks).
constexpr int kMaxPageSize = 500;

constexpr char kUsagePayload[] = "motcua.cli/usage";

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("error reading ", path));
  return content.str();
}

}  // namespace

std::string RequestIdFrom(const Args& args) {
  return args.request_id.empty() ? NewRequestId() : args.request_id;
}

absl::Status UsageError(absl::string_view message) {
  absl::Status status = absl::InvalidArgumentError(message);
  status.SetPayload(kUsagePayload, absl::Cord("1"));
  return status;
}

bool IsUsageError(const absl::Status& status) {
  return status.GetPayload(kUsagePayload).has_value();
}

absl::Status ParseJsonFile(const std::string& path, google::protobuf::Message* message) {
  absl::StatusOr<std::string> json = ReadFile(path);
  if (!json.ok()) return json.status();
  google::protobuf::util::JsonParseOptions options;
  // A misspelt field would otherwise be dropped silently and the request
  // sent without it.
  options.ignore_unknown_fields = false;
  const auto status = google::protobuf::util::JsonStringToMessage(*json, message, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a valid ", message->GetTypeName(),
                                                   ": ", std::string(status.message())));
  }
  return absl::OkStatus();
}

namespace {

// Collects text-format parse errors with their position, so a bad
// .textproto is reported as one message instead of on stderr by protobuf.
class CollectErrors : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    absl::StrAppend(&errors_, errors_.empty() ? "" : "; ", "line ", line + 1, " column ",
                    column + 1, ": ", message);
  }
  const std::string& errors() const { return errors_; }

 private:
  std::string errors_;
};

// The request id a JSON request file carries, unless --request-id says
// otherwise; a new one when neither does.
void SetRequestId(const Args& args, std::string* in_file) {
  if (!args.request_id.empty()) {
    *in_file = args.request_id;
  } else if (in_file->empty()) {
    *in_file = NewRequestId();
  }
}

// "HN-SGDDT-250701-0001/receive" -> "HN-SGDDT-250701-0001".
absl::StatusOr<std::string> DossierCodeOfTask(const std::string& task_id) {
  const size_t slash = task_id.find('/');
  if (slash == std::string::npos || slash == 0) {
    return UsageError(absl::StrCat("\"", task_id, "\" is not a task id (<dossier code>/<step>)"));
  }
  return task_id.substr(0, slash);
}

// --version if given; otherwise the dossier's current version, read now.
// Reading it means the caller acts on whatever state the dossier is in at
// this moment; --version pins the decision to the state the officer saw.
absl::StatusOr<int64_t> ExpectedVersion(Client& client, const Args& args, const std::string& code) {
  if (args.version.has_value()) return *args.version;
  absl::StatusOr<v1::Dossier> dossier = client.GetDossier(code);
  if (!dossier.ok()) return dossier.status();
  return dossier->version();
}

void Print(const std::string& text) {
  std::cout << text;
  if (!text.empty() && text.back() != '\n') std::cout << '\n';
  std::cout.flush();
}

void PrintDossier(const Context& context, const v1::Dossier& dossier) {
  Print(context.json() ? ToJson(dossier) : FormatDossier(dossier));
}

// ------------------------------------------------------------------ commands

absl::StatusOr<int> Submit(Context& context, const Args& args) {
  v1::SubmitDossierRequest request;
  if (auto s = ParseJsonFile(args.file, &request); !s.ok()) return s;
  SetRequestId(args, request.mutable_request_id());
  absl::StatusOr<Client*> client = context.client();
  if (!client.ok()) return client.status();
  absl::StatusOr<v1::Dossier> dossier = (*client)->SubmitDossier(request);
  if (!dossier.ok()) return dossier.status();
  PrintDossier(context, *dossier);
  return kExitOk;
}

absl::StatusOr<int> Worklist(Context& context, const Args&) {
  absl::StatusOr<Client*> client = context.client();
  if (!client.ok()) return client.status();
  v1::ListMyTasksResponse all;
  v1::ListMyTasksRequest request;
  request.set_page_size(kMaxPageSize);
  do {
    absl::StatusOr<v1::ListMyTasksResponse> page = (*client)->ListMyTasks(request);
    if (!page.ok()) return page.status();
    for (auto& task : *page->mutable_tasks()) *all.add_tasks() = std::move(task);
    request.set_page_token(page->next_page_token());
  } while (!request.page_token().empty());

  if (context.json()) {
    Print(ToJson(all));
  } else if (all.tasks().empty()) {
    Print("No open tasks.");
  } else {
    Print(FormatTaskTable({all.tasks().begin(), all.tasks().end()}));
  }
  return kExitOk;
}

absl::StatusOr<int> Claim(Context& context, const Args& args) {
  const std::string& task_id = args.task_id;
  absl::StatusOr<std::string> code = DossierCodeOfTask(task_id);
  if (!code.ok()) return code.status();
  absl::StatusOr<Client*> client = context.client();
  if (!client.ok()) return client.status();
  absl::StatusOr<int64_t> version = ExpectedVersion(**client, args, *code);
  if (!version.ok()) return version.status();

  v1::ClaimTaskRequest request;
  request.set_task_id(task_id);
  request.set_expected_version(*version);
  request.set_request_id(RequestIdFrom(args));
  absl::StatusOr<v1::Task> task = (*client)->ClaimTask(request);
  if (!task.ok()) return task.status();
  Print(context.json() ? ToJson(*task) : FormatTask(*task));
  return kExitOk;
}

// The officer's own signing key, when the command names one: a PKCS#12
// file, or a key on a PKCS#11 token (which never leaves it). nullptr: none.
absl::StatusOr<std::unique_ptr<signing::SigningKey>> OfficerKey(const Args& args) {
  if (!args.sign_with_p12.empty()) {
    return signing::SigningKey::LoadPkcs12(args.sign_with_p12, args.p12_password);
  }
  if (!args.pkcs11_module.empty()) {
    absl::StatusOr<std::string> pin = ReadFile(args.pin_file);
    if (!pin.ok()) return pin.status();
    signing::Pkcs11KeyRef ref;
    ref.module_path = args.pkcs11_module;
    ref.token_label = args.token;
    ref.key_label = args.key_label;
    ref.pin = std::string(absl::StripTrailingAsciiWhitespace(*pin));
    ref.certificate_chain_path = args.certificate;
    return signing::SigningKey::OpenPkcs11Key(ref);
  }
  return std::unique_ptr<signing::SigningKey>();
}

absl::StatusOr<std::string> CertificatePem(X509* cert) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (bio == nullptr || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return absl::InternalError("cannot write the signing certificate as PEM");
  }
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(length));
}

// What you see is what you sign: the challenge's PDF, its signed bytes
// hashing to the challenge's digest, and that digest in what the key signs.
absl::Status CheckPreview(Client& client, const v1::SignatureChallenge& challenge,
                          const std::string& save_to) {
  absl::StatusOr<v1::SignaturePreview> preview =
      client.GetSignaturePreview(challenge.challenge_id());
  if (!preview.ok()) return preview.status();
  const std::string& pdf = preview->pdf();
  const auto& range = preview->byte_range();
  if (range.size() != 4 || range[0] != 0 || range[1] < 0 || range[2] < range[1] ||
      range[3] < 0 || static_cast<uint64_t>(range[2]) + range[3] != pdf.size()) {
    return absl::DataLossError("the server's preview has no valid /ByteRange: not signing");
  }
  const std::string covered = absl::StrCat(pdf.substr(0, range[1]), pdf.substr(range[2]));
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(covered.data()), covered.size(), digest);
  if (std::string(reinterpret_cast<char*>(digest), sizeof(digest)) !=
          challenge.document_sha256() ||
      challenge.to_be_signed().find(challenge.document_sha256()) == std::string::npos) {
    return absl::DataLossError(
        "the document the server would have you sign is not the one it shows: not signing");
  }
  if (!save_to.empty()) {
    if (absl::Status s = storage::WriteWholeFile(save_to, pdf); !s.ok()) return s;
    std::cerr << "the document being signed is in " << save_to << "\n";
  }
  return absl::OkStatus();
}

// The two phases of an officer's signature: the server prepares the
// document, the CLI checks what it shows against what it asks to sign, the
// key here signs.
absl::Status SignCompletion(Client& client, const signing::SigningKey& key,
                            const std::string& save_preview, v1::CompleteTaskRequest& request) {
  v1::PrepareSignatureRequest prepare;
  prepare.set_task_id(request.task_id());
  prepare.set_expected_version(request.expected_version());
  prepare.set_decision(request.decision());
  absl::StatusOr<std::string> pem = CertificatePem(key.certificate());
  if (!pem.ok()) return pem.status();
  prepare.set_signer_certificate_pem(*pem);
  absl::StatusOr<v1::SignatureChallenge> challenge = client.PrepareSignature(prepare);
  if (!challenge.ok()) return challenge.status();
  if (absl::Status s = CheckPreview(client, *challenge, save_preview); !s.ok()) return s;
  absl::StatusOr<std::string> value = key.Sign(challenge->to_be_signed());
  if (!value.ok()) return value.status();
  request.mutable_signature()->set_challenge_id(challenge->challenge_id());
  request.mutable_signature()->set_signature_value(*value);
  return absl::OkStatus();
}

// approve, reject and request-supplement: CompleteTask with a decision,
// signed two-phase when a key is given.
// (--reason and --item are required by the parser as well as by the
// server: the law wants them in writing, and a usage error is quicker to
// fix than a server round trip.)
absl::StatusOr<int> Complete(Context& context, const Args& args, v1::Decision decision) {
  v1::CompleteTaskRequest request;
  request.set_task_id(args.task_id);
  request.set_decision(decision);
  if (decision == v1::DECISION_REJECT) {
    for (const auto& reason : args.reasons) request.add_reasons(reason);
  }
  if (decision == v1::DECISION_REQUEST_SUPPLEMENT) {
    for (const auto& item : args.items) request.add_missing_items(item);
  }
  request.set_comment(args.comment);

  absl::StatusOr<std::string> code = DossierCodeOfTask(request.task_id());
  if (!code.ok()) return code.status();
  absl::StatusOr<Client*> client = context.client();
  if (!client.ok()) return client.status();
  absl::StatusOr<int64_t> version = ExpectedVersion(**client, args, *code);
  if (!version.ok()) return version.status();
  request.set_expected_version(*version);
  request.set_request_id(RequestIdFrom(args));
  absl::StatusOr<std::unique_ptr<signing::SigningKey>> key = OfficerKey(args);
  if (!key.ok()) return key.status();
  if (*key != nullptr) {
    if (absl::Status s = SignCompletion(**client, **key, args.save_preview, request); !s.ok()) {
      return s;
    }
  }

  absl::StatusOr<v1::Dossier> dossier = (*client)->CompleteTask(request);
  if (!dossier.ok()) return dossier.status();
  PrintDossier(context, *dossier);
  return kExitOk;
}

// The TASK_IDs of a --batch file, one a line; blank lines and "#" comments
// skipped.
absl::StatusOr<std::vector<std::string>> BatchTaskIds(const std::string& path) {
  std::string text;
  if (path == "-") {
    std::ostringstream in;
    in << std::cin.rdbuf();
    text = in.str();
  } else {
    absl::StatusOr<std::string> read = storage::ReadWholeFile(path);
    if (!read.ok()) return read.status();
    text = *std::move(read);
  }
  std::vector<std::string> ids;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    ids.emplace_back(line);
  }
  if (ids.empty()) return UsageError(absl::StrCat(path, " lists no TASK_ID"));
  return ids;
}

// `approve --batch FILE`: every task approved, and signed with one key
// session when a key is given: all prepared (PrepareSignatures), each
// preview checked, all signed, all completed (CompleteTasks), in rounds of
// at most 1,000. Each task succeeds or fails on its own; one line per task
// says which. Exit 0 when all were approved.
absl::StatusOr<int> ApproveBatch(Context& context, const Args& args) {
  constexpr size_t kRound = 1000;
  absl::StatusOr<std::vector<std::string>> ids = BatchTaskIds(args.batch);
  if (!ids.ok()) return ids.status();
  absl::StatusOr<Client*> client = context.client();
  if (!client.ok()) return client.status();
  absl::StatusOr<std::unique_ptr<signing::SigningKey>> key = OfficerKey(args);
  if (!key.ok()) return key.status();
  std::string certificate;
  if (*key != nullptr) {
    absl::StatusOr<std::string> pem = CertificatePem((*key)->certificate());
    if (!pem.ok()) return pem.status();
    certificate = *std::move(pem);
  }
  const std::string request_id = RequestIdFrom(args);
  std::map<std::string, std::string> failed;  // task -> why
  size_t approved = 0;
  auto progress = [&](const char* what, size_t done) {
    std::cerr << "\r" << what << " " << done << "/" << ids->size() << std::flush;
  };
  for (size_t first = 0; first < ids->size(); first += kRound) {
    const size_t end = std::min(ids->size(), first + kRound);
    // The tasks, each at its dossier's current version.
    std::vector<v1::CompleteTaskRequest> tasks;
    for (size_t i = first; i < end; ++i) {
      v1::CompleteTaskRequest task;
      task.set_task_id((*ids)[i]);
      task.set_decision(v1::DECISION_APPROVE);
      task.set_comment(args.comment);
      task.set_request_id(absl::StrCat(request_id, "-", i));
      absl::StatusOr<std::string> code = DossierCodeOfTask(task.task_id());
      absl::StatusOr<v1::Dossier> dossier =
          code.ok() ? (*client)->GetDossier(*code) : absl::StatusOr<v1::Dossier>(code.status());
      if (!dossier.ok()) {
        failed[task.task_id()] = std::string(dossier.status().message());
        continue;
      }
      task.set_expected_version(dossier->version());
      tasks.push_back(std::move(task));
    }
    if (*key != nullptr && !tasks.empty()) {
      v1::PrepareSignaturesRequest prepare;
      prepare.set_signer_certificate_pem(certificate);
      for (const auto& task : tasks) {
        auto* item = prepare.add_items();
        item->set_task_id(task.task_id());
        item->set_expected_version(task.expected_version());
        item->set_decision(task.decision());
      }
      absl::StatusOr<v1::PrepareSignaturesResponse> prepared =
          (*client)->PrepareSignatures(prepare);
      if (!prepared.ok()) return prepared.status();
      std::vector<v1::CompleteTaskRequest> signed_tasks;
      for (int i = 0; i < prepared->results_size(); ++i) {
        const auto& result = prepared->results(i);
        progress("prepared and signed", first + i + 1);
        if (!result.has_challenge()) {
          failed[result.task_id()] = result.error().message();
          continue;
        }
        absl::Status checked = CheckPreview(**client, result.challenge(), "");
        absl::StatusOr<std::string> value =
            checked.ok() ? (*key)->Sign(result.challenge().to_be_signed())
                         : absl::StatusOr<std::string>(checked);
        if (!value.ok()) {
          failed[result.task_id()] = std::string(value.status().message());
          continue;
        }
        v1::CompleteTaskRequest task = tasks[i];
        task.mutable_signature()->set_challenge_id(result.challenge().challenge_id());
        task.mutable_signature()->set_signature_value(*value);
        signed_tasks.push_back(std::move(task));
      }
      std::cerr << "\n";
      tasks = std::move(signed_tasks);
    }
    if (tasks.empty()) continue;
    v1::CompleteTasksRequest complete;
    for (auto& task : tasks) *complete.add_tasks() = std::move(task);
    absl::StatusOr<v1::CompleteTasksResponse> completed = (*client)->CompleteTasks(complete);
    if (!completed.ok()) return completed.status();
    for (const auto& result : completed->results()) {
      if (result.has_dossier()) {
        ++approved;
        Print(context.json() ? ToJson(result.dossier())
                             : absl::StrCat(result.task_id(), "  approved -> ",
                                            result.dossier().state(), "\n"));
      } else {
        failed[result.task_id()] = result.error().message();
      }
    }
  }
  for (const auto& [task, why] : failed) {
    if (!context.json()) Print(absl::StrCat(task, "  FAILED: ", why, "\n"));
  }
  std::cerr << "approved " << approved << " of " << ids->size() << " tasks\n";
  return failed.empty() ? kExitOk : kExitError;
}

absl::StatusOr<int> Approve(Context& context, const Args& args) {
  if (!args.batch.empty()) return ApproveBatch(context, args);
  return Complete(context, args, v1::DECISION_APPROVE);
}
absl::StatusOr<int> Reject(Context& context, const Args& args) {
  return Complete(context, args, v1::DECISION_REJECT);
}
absl::StatusOr<int> RequestSupplement(Context& context, const Args& args) {
  return Complete(context, args, v1::DECISION_REQUEST_SUPPLEMENT);
}

// `document CODE ID -o FILE.pdf` (or --output FILE.pdf): a signed document.
absl::StatusOr<int> Document(Context& context, const Args& args) {
  absl::StatusOr<Client*> client = context.client();
  if (!client.ok()) return client.status();
  absl::StatusOr<v1::DocumentContent> content = (*client)->GetDocument(args.code, args.document_id);
  if (!content.ok()) return content.status();
  std::ofstream out(args.output, std::ios::binary | std::ios::trunc);
  out << content->content();
  out.close();
  if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", args.output));
  Print(context.json()
            ? ToJson(content->document())
            : absl::StrCat(content->document().kind(), " ", content->document().id(), " sha256 ",
                           content->document().sha256(), " -> ", args.output, "\n"));
  return kExitOk;
}

absl::StatusOr<int> Show(Context& context, const Args& args) {
  const std::string& code = args.code;
  absl::StatusOr<Client*> client = context.client();
  if (!client.ok()) return client.status();
  absl::StatusOr<v1::Dossier> dossier = (*client)->GetDossier(code);
  if (!dossier.ok()) return dossier.status();
  absl::StatusOr<v1::GetDossierHistoryResponse> history = (*client)->GetDossierHistory(code);
  if (!history.ok()) return history.status();

  if (context.json()) {
    // Two messages, one JSON document: {"dossier": ..., "history": [...]}.
    Print(absl::StrCat("{\n\"dossier\": ", ToJson(*dossier), ",\n\"history\": ", ToJson(*history),
                       "\n}"));
  } else {
    Print(absl::StrCat(FormatDossier(*dossier), "\n",
                       FormatHistory({history->events().begin(), history->events().end()})));
  }
  return kExitOk;
}

absl::StatusOr<int> List(Context& context, const Args& args) {
  v1::ListDossiersRequest request;
  request.set_applicant_id_number(args.applicant);
  request.set_unit_code(args.unit);
  if (args.status.has_value()) request.set_national_status(static_cast<int32_t>(*args.status));
  request.set_submitted_from(args.from);
  request.set_submitted_to(args.to);
  const int64_t limit = args.limit;  // 0: no limit
  if (limit < 0) return UsageError("--limit must be positive");
  request.set_page_size(
      static_cast<int32_t>(limit > 0 && limit < kMaxPageSize ? limit : kMaxPageSize));

  absl::StatusOr<Client*> client = context.client();
  if (!client.ok()) return client.status();
  v1::ListDossiersResponse all;
  do {
    absl::StatusOr<v1::ListDossiersResponse> page = (*client)->ListDossiers(request);
    if (!page.ok()) return page.status();
    for (auto& dossier : *page->mutable_dossiers()) {
      if (limit > 0 && all.dossiers_size() >= limit) break;
      *all.add_dossiers() = std::move(dossier);
    }
    request.set_page_token(page->next_page_token());
  } while (!request.page_token().empty() && (limit == 0 || all.dossiers_size() < limit));

  if (context.json()) {
    Print(ToJson(all));
  } else if (all.dossiers().empty()) {
    Print("No dossiers match.");
  } else {
    Print(FormatDossierTable({all.dossiers().begin(), all.dossiers().end()}));
  }
  return kExitOk;
}

absl::StatusOr<int> History(Context& context, const Args& args) {
  absl::StatusOr<Client*> client = context.client();
  if (!client.ok()) return client.status();
  absl::StatusOr<v1::GetDossierHistoryResponse> history = (*client)->GetDossierHistory(args.code);
  if (!history.ok()) return history.status();
  Print(context.json() ? ToJson(*history)
                       : FormatHistory({history->events().begin(), history->events().end()}));
  return kExitOk;
}

absl::StatusOr<int> VerifyHistory(Context& context, const Args& args) {
  absl::StatusOr<Client*> client = context.client();
  if (!client.ok()) return client.status();
  absl::StatusOr<v1::VerifyDossierHistoryResponse> result =
      (*client)->VerifyDossierHistory(args.code);
  if (!result.ok()) return result.status();
  Print(context.json() ? ToJson(*result) : FormatVerifyResult(*result));
  return result->intact() ? kExitOk : kExitCheckFailed;
}

absl::StatusOr<int> Withdraw(Context& context, const Args& args) {
  v1::WithdrawDossierRequest request;
  request.set_code(args.code);
  request.set_reason(args.reason);
  absl::StatusOr<Client*> client = context.client();
  if (!client.ok()) return client.status();
  absl::StatusOr<int64_t> version = ExpectedVersion(**client, args, request.code());
  if (!version.ok()) return version.status();
  request.set_expected_version(*version);
  request.set_request_id(RequestIdFrom(args));
  absl::StatusOr<v1::Dossier> dossier = (*client)->WithdrawDossier(request);
  if (!dossier.ok()) return dossier.status();
  PrintDossier(context, *dossier);
  return kExitOk;
}

absl::StatusOr<int> Supplement(Context& context, const Args& args) {
  v1::AddSupplementRequest request;
  if (auto s = ParseJsonFile(args.file, &request); !s.ok()) return s;
  request.set_code(args.code);
  absl::StatusOr<Client*> client = context.client();
  if (!client.ok()) return client.status();
  absl::StatusOr<int64_t> version = ExpectedVersion(**client, args, request.code());
  if (!version.ok()) return version.status();
  request.set_expected_version(*version);
  SetRequestId(args, request.mutable_request_id());
  absl::StatusOr<v1::Dossier> dossier = (*client)->AddSupplement(request);
  if (!dossier.ok()) return dossier.status();
  PrintDossier(context, *dossier);
  return kExitOk;
}

absl::StatusOr<int> ProceduresList(Context& context, const Args&) {
  absl::StatusOr<Client*> client = context.client();
  if (!client.ok()) return client.status();
  absl::StatusOr<v1::ListProceduresResponse> list = (*client)->ListProcedures();
  if (!list.ok()) return list.status();
  Print(context.json() ? ToJson(*list) : FormatProcedureList(*list));
  return kExitOk;
}

absl::StatusOr<int> ProceduresGet(Context& context, const Args& args) {
  absl::StatusOr<Client*> client = context.client();
  if (!client.ok()) return client.status();
  absl::StatusOr<v1::ProcedureDefinition> definition =
      (*client)->GetProcedure(args.code, static_cast<int32_t>(args.version.value_or(0)));
  if (!definition.ok()) return definition.status();
  Print(context.json() ? ToJson(*definition) : FormatProcedure(*definition));
  return kExitOk;
}

absl::StatusOr<int> ProceduresDeploy(Context& context, const Args& args) {
  absl::StatusOr<std::string> text = ReadFile(args.file);
  if (!text.ok()) return text.status();
  v1::DeployProcedureRequest request;
  google::protobuf::TextFormat::Parser parser;
  CollectErrors errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(*text, request.mutable_definition())) {
    return absl::InvalidArgumentError(absl::StrCat(args.file, ": ", errors.errors()));
  }
  request.set_request_id(RequestIdFrom(args));
  absl::StatusOr<Client*> client = context.client();
  if (!client.ok()) return client.status();
  absl::StatusOr<v1::ProcedureDefinition> deployed = (*client)->DeployProcedure(request);
  if (!deployed.ok()) return deployed.status();
  Print(context.json() ? ToJson(*deployed) : FormatProcedure(*deployed));
  return kExitOk;
}

absl::StatusOr<int> Watch(Context& context, const Args& args) {
  if (args.dossier.empty() == args.unit.empty()) {
    return UsageError("watch needs exactly one of --dossier CODE or --unit U");
  }
  v1::WatchEventsRequest request;
  if (!args.dossier.empty()) {
    request.set_dossier_code(args.dossier);
  } else {
    request.set_unit_code(args.unit);
  }
  request.set_after_sequence(args.after);

  absl::StatusOr<Client*> client = context.client();
  if (!client.ok()) return client.status();
  const bool json = context.json();
  absl::Status status = (*client)->WatchEvents(request, [json](const v1::HistoryEvent& event) {
    // One line per event in both forms, so `| while read` and `jq` both work.
    Print(json ? ToJson(event, /*pretty=*/false) : FormatEventLine(event));
    return true;
  });
  if (!status.ok()) return status;
  return kExitOk;
}

}  // namespace

absl::StatusOr<Client*> Context::client() {
  if (client_ == nullptr) {
    absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(connection_);
    if (!client.ok()) return client.status();
    client_ = *std::move(client);
  }
  return client_.get();
}

// Every command, in the order `motcua --help` lists them, each with its
// arguments, its options and its handler; the helpers above the list
// declare what several commands share.
void AddCommands(CLI::App& app, Args& a, Handler* chosen) {
  std::string group;  // of the commands declared next, in the help
  auto command = [&](CLI::App* parent, const char* name, const char* description,
                     Handler handler) -> CLI::App* {
    CLI::App* c = parent->add_subcommand(name, description)->group(group);
    if (handler != nullptr) c->callback([chosen, handler] { *chosen = handler; });
    return c;
  };
  auto arg = [](CLI::App* c, const char* name, std::string& value, const char* description) {
    c->add_option(name, value, description)->type_name("")->required();
  };
  auto request_id = [&](CLI::App* c) {
    c->add_option("--request-id", a.request_id,
                  "a retry with the same ID is safe (default: a new random ID)")
        ->type_name("ID");
  };
  // Commands that change a dossier or a task.
  auto change = [&](CLI::App* c) {
    c->add_option("--version", a.version,
                  "the dossier's version you decided on; refused if it moved on "
                  "(default: its current version, read first)")
        ->type_name("N");
    request_id(c);
  };
  // Each --flag takes one value; every one given is kept, in order.
  auto repeated = [](CLI::Option* option) {
    option->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)->allow_extra_args(false);
  };
  // approve, reject, request-supplement: a decision, signed two-phase with
  // the officer's key when the step needs it (the key stays here).
  auto decision = [&](CLI::App* c, bool batch = false) {
    if (batch) {
      CLI::Option* task =
          c->add_option("TASK_ID", a.task_id, "<dossier code>/<step>, from worklist")->type_name("");
      c->add_option("--batch", a.batch,
                    "or every task listed in FILE, one TASK_ID a line (- for stdin), signed in "
                    "one key session")
          ->type_name("FILE")
          ->excludes(task);
      c->parse_complete_callback([&a] {
        if (a.task_id.empty() && a.batch.empty()) throw CLI::RequiredError("TASK_ID or --batch");
      });
    } else {
      arg(c, "TASK_ID", a.task_id, "<dossier code>/<step>, from worklist");
    }
    c->add_option("--comment", a.comment, "a note kept with the decision")->type_name("C");
    change(c);
    const std::string key = "Signing key (when the step needs the officer's signature)";
    CLI::Option* p12 = c->add_option("--sign-with-p12", a.sign_with_p12, "a PKCS#12 file")
                           ->type_name("FILE")
                           ->group(key);
    c->add_option("--p12-password", a.p12_password, "its password")->type_name("P")->group(key);
    CLI::Option* module =
        c->add_option("--pkcs11-module", a.pkcs11_module, "or a key on a PKCS#11 token: the module")
            ->type_name("M")
            ->group(key)
            ->excludes(p12);
    for (auto [name, value, type, description] :
         {std::tuple{"--token", &a.token, "T", "the token's label"},
          {"--key-label", &a.key_label, "K", "the key's label"},
          {"--pin-file", &a.pin_file, "F", "a file holding the PIN"}}) {
      module->needs(c->add_option(name, *value, description)->type_name(type)->group(key));
    }
    c->add_option("--certificate", a.certificate,
                  "the key's certificate chain (default: on the token)")
        ->type_name("CHAIN.pem")
        ->group(key);
    c->add_option("--save-preview", a.save_preview,
                  "keep the exact PDF being signed (checked against the challenge) in FILE")
        ->type_name("FILE")
        ->group(key);
  };
  auto offline_check = [&](CLI::App* c) {
    c->add_option("--trust", a.trust,
                  "trust anchors: a directory or a certificate file (default <pki-dir>/ca.crt)")
        ->type_name("PATH");
    c->add_flag("--no-revocation", a.no_revocation,
                "judge signatures without revocation data (CRL/OCSP); without it, a document "
                "carrying none is INDETERMINATE/TRY_LATER");
    c->add_option("--max-revocation-age", a.max_revocation_age_seconds,
                  "accept CRL/OCSP evidence issued up to D before a signature's time-stamp "
                  "(e.g. 12h; default 0: issued after it, EN 319 102-1's strict freshness)")
        ->type_name("D")
        ->transform(CLI::Validator(
            [](std::string& text) -> std::string {
              absl::Duration d;
              if (!absl::ParseDuration(text, &d) || d < absl::ZeroDuration()) {
                return absl::StrCat("must be a duration such as 12h or 90m, got ", text);
              }
              text = absl::StrCat(absl::ToInt64Seconds(d));
              return "";
            },
            ""));
  };
  CLI::Validator date(
      [](std::string& text) -> std::string {
        bool ok = text.size() == 10 && text[4] == '-' && text[7] == '-';
        for (int i : {0, 1, 2, 3, 5, 6, 8, 9}) ok = ok && absl::ascii_isdigit(text[i]);
        return ok ? "" : absl::StrCat("must be YYYY-MM-DD, got ", text);
      },
      "");

  group = "Dossiers (hồ sơ)";
  CLI::App* c = command(&app, "submit", "file a SubmitDossierRequest (JSON)", Submit);
  arg(c, "FILE.json", a.file, "the request");
  request_id(c);
  c = command(&app, "show", "the dossier and its history", Show);
  arg(c, "CODE", a.code, "the dossier");
  c = command(&app, "document", "save a signed document of the dossier", Document);
  arg(c, "CODE", a.code, "the dossier");
  arg(c, "DOCUMENT_ID", a.document_id, "d1, d2, ... (show lists them)");
  c->add_option("-o,--output", a.output, "where to write it")->type_name("FILE.pdf")->required();
  c = command(&app, "list", "search dossiers, newest first", List);
  c->add_option("--applicant", a.applicant, "the applicant's ID number")->type_name("ID");
  c->add_option("--unit", a.unit, "the unit's code")->type_name("U");
  c->add_option("--status", a.status, "national status 1..10 (0 for any)")
      ->type_name("N")
      ->check(CLI::Range(0, 10).description(""));
  c->add_option("--from", a.from, "submitted on or after")->type_name("YYYY-MM-DD")->check(date);
  c->add_option("--to", a.to, "submitted on or before")->type_name("YYYY-MM-DD")->check(date);
  c->add_option("--limit", a.limit, "at most N (default: all)")->type_name("N");
  c = command(&app, "withdraw", "the applicant withdraws the dossier", Withdraw);
  arg(c, "CODE", a.code, "the dossier");
  c->add_option("--reason", a.reason, "why")->type_name("R")->required();
  change(c);
  c = command(&app, "supplement", "add what was asked for (an AddSupplementRequest, JSON)",
              Supplement);
  arg(c, "CODE", a.code, "the dossier");
  arg(c, "FILE.json", a.file, "the supplement");
  change(c);
  c = command(&app, "watch", "print events as they happen, one line each", Watch);
  c->add_option("--dossier", a.dossier, "the events of one dossier")->type_name("CODE");
  c->add_option("--unit", a.unit, "or of every dossier of a unit")->type_name("U");
  c->add_option("--after", a.after, "only events after this sequence number")->type_name("SEQ");

  group = "Tasks (officers)";
  command(&app, "worklist", "your open tasks, with their TASK_IDs", Worklist);
  c = command(&app, "claim", "take a task of your position for yourself", Claim);
  arg(c, "TASK_ID", a.task_id, "<dossier code>/<step>, from worklist");
  change(c);
  c = command(&app, "approve", "complete the task: approve (or many: --batch)", Approve);
  decision(c, /*batch=*/true);
  c = command(&app, "reject", "complete the task: refuse the dossier", Reject);
  decision(c);
  repeated(
      c->add_option("--reason", a.reasons, "why; repeat for several")->type_name("R")->required());
  c = command(&app, "request-supplement", "complete the task: ask the applicant for more",
              RequestSupplement);
  decision(c);
  repeated(c->add_option("--item", a.items, "what is missing; repeat for several")
               ->type_name("I")
               ->required());

  group = "Audit";
  c = command(&app, "history", "every event of the dossier with its hash", History);
  arg(c, "CODE", a.code, "the dossier");
  c = command(&app, "verify-history", "recheck the dossier's hash chain; exit 1 if broken",
              VerifyHistory);
  arg(c, "CODE", a.code, "the dossier");
  c = command(&app, "verify",
              "check a PDF's signatures offline, with no server: exit 1 unless every\n"
              "signature is TOTAL_PASSED and nothing was changed after signing",
              Verify);
  arg(c, "FILE.pdf", a.file, "the document");
  offline_check(c);
  c = command(&app, "export",
              "the dossier, its history and its signed documents, for checking with no server",
              Export);
  arg(c, "CODE", a.code, "the dossier");
  arg(c, "DIR", a.dir, "a new or empty directory");
  c = command(&app, "verify-dossier",
              "the whole dossier: history chain, each document's hash against its event,\n"
              "every signature, and that each was made by whom the event names; exit 1 if\n"
              "not. On the server (CODE), or offline on an export (--from DIR)",
              VerifyDossier);
  c->add_option("CODE", a.code, "the dossier, on the server")->type_name("");
  c->add_option("--from", a.from, "check the export in DIR instead, offline")->type_name("DIR");
  offline_check(c);

  group = "Procedures (thủ tục)";
  CLI::App* procedures = command(&app, "procedures", "list, get or deploy", nullptr);
  procedures->require_subcommand(1);
  group = "Commands";
  command(procedures, "list", "every procedure deployed", ProceduresList);
  c = command(procedures, "get", "one procedure's definition", ProceduresGet);
  arg(c, "CODE", a.code, "the procedure");
  c->add_option("--version", a.version, "that version (default: the latest)")->type_name("N");
  c = command(procedures, "deploy", "a new procedure or version (text-format definition)",
              ProceduresDeploy);
  arg(c, "FILE.textproto", a.file, "the ProcedureDefinition");
  request_id(c);

  group = "Operations (the engine's long work; admin)";
  c = command(&app, "transition-all",
              "fire a TRIGGER_SYSTEM transition on every dossier of the procedure in its\n"
              "state, as an operation; follows it with a progress bar",
              operations::TransitionAll);
  arg(c, "CODE", a.code, "the procedure");
  arg(c, "TRANSITION", a.transition, "the transition's id");
  c->add_option("--unit", a.unit, "only this unit's dossiers")->type_name("UNIT");
  c->add_flag("--no-wait", a.no_wait, "print the operation's name and return");
  request_id(c);
  c = command(&app, "renew-documents",
              "renew the evidence (PAdES B-LTA: TSA revocation data and a new document\n"
              "time-stamp) of every issued document lapsing before a day, as an operation",
              operations::RenewDocuments);
  c->add_option("--before", a.before, "renew what lapses before this day")
      ->type_name("YYYY-MM-DD")
      ->required()
      ->check(date);
  c->add_option("--unit", a.unit, "only this unit's dossiers")->type_name("UNIT");
  c->add_flag("--no-wait", a.no_wait, "print the operation's name and return");
  request_id(c);
  command(&app, "status",
          "the engine's own work: event log, timers due, documents waiting to be issued,\n"
          "operations; exit 1 while issuing documents fails",
          operations::EngineStatus);
  CLI::App* ops = command(&app, "operations", "list, show, cancel, wait", nullptr);
  ops->require_subcommand(1);
  group = "Commands";
  command(ops, "list", "every operation, newest first", operations::List);
  c = command(ops, "show", "one operation and its progress", operations::Show);
  arg(c, "NAME", a.code, "operations/<id>");
  c = command(ops, "cancel",
              "stop between items (each done or untouched) and wait until it stopped",
              operations::Cancel);
  arg(c, "NAME", a.code, "operations/<id>");
  c = command(ops, "wait", "follow it to its end with a progress bar; exit 1 if it failed",
              operations::Wait);
  arg(c, "NAME", a.code, "operations/<id>");

  group = "Backups (3-2-1 policy; admin, status also auditor)";
  CLI::App* backup = command(
      &app, "backup", "status, list, run, verify, export-offline, confirm-detached, drill, restore",
      nullptr);
  backup->require_subcommand(1);
  group = "Commands";
  command(backup, "status", "COMPLIANT or not, and why; exit 1 if not", backup::Status);
  command(backup, "list", "every copy and drill on record", backup::List);
  // The long ones run as operations: Ctrl-C leaves them running
  // (`motcua operations wait|cancel NAME`).
  request_id(command(backup, "run", "take and verify a backup (copy 2) now", backup::Run));
  auto offline = [&](CLI::App* c) {
    c->add_option("--offline", a.offline, "the offline copy mounted at DIR too")->type_name("DIR");
    request_id(c);
  };
  offline(command(backup, "verify", "re-verify the backups (and a mounted offline copy)",
                  backup::Verify));
  c = command(backup, "export-offline", "an encrypted, signed copy to the medium at DIR",
              backup::ExportOffline);
  arg(c, "DIR", a.dir, "the mounted medium");
  request_id(c);
  c = command(backup, "confirm-detached",
              "record who took the copy away and where it is kept; only then it counts as "
              "offline",
              backup::ConfirmDetached);
  arg(c, "COPY_ID", a.copy_id, "the offline copy");
  c->add_option("--by", a.by, "who detached it")->type_name("NAME")->required();
  c->add_option("--kept-at", a.kept_at, "where it is kept")->type_name("PLACE")->required();
  offline(
      command(backup, "drill", "timed restore into scratch, recorded as evidence", backup::Drill));
  c = command(backup, "restore",
              "local, no server: restore copy 2 or an offline copy into a new data directory,\n"
              "checked end to end",
              backup::Restore);
  c->add_option("--from", a.from, "the copy")->type_name("COPY_DIR")->required();
  c->add_option("--to", a.to, "the new data directory")->type_name("NEW_DATA_DIR")->required();
  c->add_option("--backup-id", a.backup_id, "which backup of copy 2 (default: the latest)")
      ->type_name("N");
  c->add_option("--key-file", a.key_file, "the offline copy's key (an offline copy needs it)")
      ->type_name("FILE");
  c->add_option("--trust", a.trust, "the CA that signs offline manifests (default var/pki/ca.crt)")
      ->type_name("CA.pem");
}

}  // namespace motcua::cli
