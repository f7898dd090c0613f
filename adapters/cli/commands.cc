#include "adapters/cli/commands.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>

#include <openssl/pem.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "adapters/cli/format.h"
#include "signing/signing_key.h"

namespace motcua::cli {
namespace {

// Largest page the API allows (ListDossiers and ListMyTasks).
constexpr int kMaxPageSize = 500;

using Handler = absl::StatusOr<int> (*)(Context&, Args&);

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("error reading ", path));
  return content.str();
}

}  // namespace

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

}  // namespace

// Exactly `count` positional words, or a usage error naming what is missing.
absl::Status ExpectPositional(const Args& args, size_t count, absl::string_view what) {
  if (args.positional().size() < count) return UsageError(absl::StrCat("missing ", what));
  if (args.positional().size() > count) {
    return UsageError(absl::StrCat("unexpected argument \"", args.positional()[count], "\""));
  }
  return absl::OkStatus();
}

namespace {

std::string RequestIdFrom(const Args& args) {
  std::optional<std::string> given = args.Get("request-id");
  return given.has_value() ? *given : NewRequestId();
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
  absl::StatusOr<std::optional<int64_t>> given = args.GetInt("version");
  if (!given.ok()) return given.status();
  if (given->has_value()) return **given;
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

// A "YYYY-MM-DD" date, checked here so a typo is a usage error rather than
// a round trip.
absl::Status CheckDate(const std::optional<std::string>& date, absl::string_view flag) {
  if (!date.has_value()) return absl::OkStatus();
  bool ok = date->size() == 10 && (*date)[4] == '-' && (*date)[7] == '-';
  for (int i : {0, 1, 2, 3, 5, 6, 8, 9}) ok = ok && absl::ascii_isdigit((*date)[i]);
  if (!ok) return UsageError(absl::StrCat("--", flag, " must be YYYY-MM-DD, got ", *date));
  return absl::OkStatus();
}

// ------------------------------------------------------------------ commands

absl::StatusOr<int> Submit(Context& context, Args& args) {
  if (auto s = args.CheckOnly({"request-id"}); !s.ok()) return s;
  if (auto s = ExpectPositional(args, 1, "FILE.json"); !s.ok()) return s;
  v1::SubmitDossierRequest request;
  if (auto s = ParseJsonFile(args.positional()[0], &request); !s.ok()) return s;
  if (args.Has("request-id")) {
    request.set_request_id(*args.Get("request-id"));
  } else if (request.request_id().empty()) {
    request.set_request_id(NewRequestId());
  }
  absl::StatusOr<Client*> client = context.client();
  if (!client.ok()) return client.status();
  absl::StatusOr<v1::Dossier> dossier = (*client)->SubmitDossier(request);
  if (!dossier.ok()) return dossier.status();
  PrintDossier(context, *dossier);
  return kExitOk;
}

absl::StatusOr<int> Worklist(Context& context, Args& args) {
  if (auto s = args.CheckOnly({}); !s.ok()) return s;
  if (auto s = ExpectPositional(args, 0, ""); !s.ok()) return s;
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

absl::StatusOr<int> Claim(Context& context, Args& args) {
  if (auto s = args.CheckOnly({"version", "request-id"}); !s.ok()) return s;
  if (auto s = ExpectPositional(args, 1, "TASK_ID"); !s.ok()) return s;
  const std::string& task_id = args.positional()[0];
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
  if (args.Has("sign-with-p12") && args.Has("pkcs11-module")) {
    return UsageError("give either --sign-with-p12 or --pkcs11-module, not both");
  }
  if (auto p12 = args.Get("sign-with-p12")) {
    return signing::SigningKey::LoadPkcs12(*p12, args.Get("p12-password").value_or(""));
  }
  if (auto module = args.Get("pkcs11-module")) {
    if (!args.Has("token") || !args.Has("key-label") || !args.Has("pin-file")) {
      return UsageError("--pkcs11-module needs --token, --key-label and --pin-file");
    }
    absl::StatusOr<std::string> pin = ReadFile(*args.Get("pin-file"));
    if (!pin.ok()) return pin.status();
    signing::Pkcs11KeyRef ref;
    ref.module_path = *module;
    ref.token_label = *args.Get("token");
    ref.key_label = *args.Get("key-label");
    ref.pin = std::string(absl::StripTrailingAsciiWhitespace(*pin));
    ref.certificate_chain_path = args.Get("certificate").value_or("");
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

// The two phases of an officer's signature: the server prepares the
// document, the key here signs what it returns.
absl::Status SignCompletion(Client& client, const signing::SigningKey& key,
                            v1::CompleteTaskRequest& request) {
  v1::PrepareSignatureRequest prepare;
  prepare.set_task_id(request.task_id());
  prepare.set_expected_version(request.expected_version());
  prepare.set_decision(request.decision());
  absl::StatusOr<std::string> pem = CertificatePem(key.certificate());
  if (!pem.ok()) return pem.status();
  prepare.set_signer_certificate_pem(*pem);
  absl::StatusOr<v1::SignatureChallenge> challenge = client.PrepareSignature(prepare);
  if (!challenge.ok()) return challenge.status();
  absl::StatusOr<std::string> value = key.Sign(challenge->to_be_signed());
  if (!value.ok()) return value.status();
  request.mutable_signature()->set_challenge_id(challenge->challenge_id());
  request.mutable_signature()->set_signature_value(*value);
  return absl::OkStatus();
}

// approve, reject and request-supplement: CompleteTask with a decision,
// signed two-phase when a key is given.
absl::StatusOr<int> Complete(Context& context, Args& args, v1::Decision decision) {
  std::set<std::string> allowed = {"version",       "request-id", "comment",  "sign-with-p12",
                                   "p12-password",  "pkcs11-module", "token", "key-label",
                                   "pin-file",      "certificate"};
  if (decision == v1::DECISION_REJECT) allowed.insert("reason");
  if (decision == v1::DECISION_REQUEST_SUPPLEMENT) allowed.insert("item");
  if (auto s = args.CheckOnly(allowed); !s.ok()) return s;
  if (auto s = ExpectPositional(args, 1, "TASK_ID"); !s.ok()) return s;

  v1::CompleteTaskRequest request;
  request.set_task_id(args.positional()[0]);
  request.set_decision(decision);
  // Checked here as well as by the server: the law wants them in writing,
  // and a usage error is quicker to fix than a server round trip.
  if (decision == v1::DECISION_REJECT) {
    const std::vector<std::string> reasons = args.GetAll("reason");
    if (reasons.empty()) return UsageError("reject needs at least one --reason");
    for (const auto& reason : reasons) request.add_reasons(reason);
  }
  if (decision == v1::DECISION_REQUEST_SUPPLEMENT) {
    const std::vector<std::string> items = args.GetAll("item");
    if (items.empty()) return UsageError("request-supplement needs at least one --item");
    for (const auto& item : items) request.add_missing_items(item);
  }
  if (auto comment = args.Get("comment")) request.set_comment(*comment);

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
    if (absl::Status s = SignCompletion(**client, **key, request); !s.ok()) return s;
  }

  absl::StatusOr<v1::Dossier> dossier = (*client)->CompleteTask(request);
  if (!dossier.ok()) return dossier.status();
  PrintDossier(context, *dossier);
  return kExitOk;
}

absl::StatusOr<int> Approve(Context& context, Args& args) {
  return Complete(context, args, v1::DECISION_APPROVE);
}
absl::StatusOr<int> Reject(Context& context, Args& args) {
  return Complete(context, args, v1::DECISION_REJECT);
}
absl::StatusOr<int> RequestSupplement(Context& context, Args& args) {
  return Complete(context, args, v1::DECISION_REQUEST_SUPPLEMENT);
}

// `document CODE ID -o FILE.pdf` (or --output FILE.pdf): a signed document.
absl::StatusOr<int> Document(Context& context, Args& args) {
  if (auto s = args.CheckOnly({"output"}); !s.ok()) return s;
  std::vector<std::string> words = args.positional();
  std::optional<std::string> output = args.Get("output");
  if (words.size() == 4 && words[2] == "-o") {
    output = words[3];
    words.resize(2);
  }
  if (words.size() != 2 || !output) return UsageError("usage: document CODE DOCUMENT_ID -o FILE.pdf");
  absl::StatusOr<Client*> client = context.client();
  if (!client.ok()) return client.status();
  absl::StatusOr<v1::DocumentContent> content = (*client)->GetDocument(words[0], words[1]);
  if (!content.ok()) return content.status();
  std::ofstream out(*output, std::ios::binary | std::ios::trunc);
  out << content->content();
  out.close();
  if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", *output));
  Print(context.json() ? ToJson(content->document())
                       : absl::StrCat(content->document().kind(), " ", content->document().id(),
                                      " sha256 ", content->document().sha256(), " -> ", *output,
                                      "\n"));
  return kExitOk;
}

absl::StatusOr<int> Show(Context& context, Args& args) {
  if (auto s = args.CheckOnly({}); !s.ok()) return s;
  if (auto s = ExpectPositional(args, 1, "CODE"); !s.ok()) return s;
  const std::string& code = args.positional()[0];
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

absl::StatusOr<int> List(Context& context, Args& args) {
  if (auto s = args.CheckOnly({"applicant", "unit", "status", "from", "to", "limit"}); !s.ok()) {
    return s;
  }
  if (auto s = ExpectPositional(args, 0, ""); !s.ok()) return s;
  v1::ListDossiersRequest request;
  if (auto v = args.Get("applicant")) request.set_applicant_id_number(*v);
  if (auto v = args.Get("unit")) request.set_unit_code(*v);
  absl::StatusOr<std::optional<int64_t>> status = args.GetInt("status");
  if (!status.ok()) return status.status();
  if (status->has_value()) {
    if (**status < 0 || **status > 10) return UsageError("--status must be 1..10 (0 for any)");
    request.set_national_status(static_cast<int32_t>(**status));
  }
  if (auto s = CheckDate(args.Get("from"), "from"); !s.ok()) return s;
  if (auto s = CheckDate(args.Get("to"), "to"); !s.ok()) return s;
  if (auto v = args.Get("from")) request.set_submitted_from(*v);
  if (auto v = args.Get("to")) request.set_submitted_to(*v);
  absl::StatusOr<std::optional<int64_t>> limit_flag = args.GetInt("limit");
  if (!limit_flag.ok()) return limit_flag.status();
  const int64_t limit = limit_flag->value_or(0);  // 0: no limit
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

absl::StatusOr<int> History(Context& context, Args& args) {
  if (auto s = args.CheckOnly({}); !s.ok()) return s;
  if (auto s = ExpectPositional(args, 1, "CODE"); !s.ok()) return s;
  absl::StatusOr<Client*> client = context.client();
  if (!client.ok()) return client.status();
  absl::StatusOr<v1::GetDossierHistoryResponse> history =
      (*client)->GetDossierHistory(args.positional()[0]);
  if (!history.ok()) return history.status();
  Print(context.json() ? ToJson(*history)
                       : FormatHistory({history->events().begin(), history->events().end()}));
  return kExitOk;
}

absl::StatusOr<int> VerifyHistory(Context& context, Args& args) {
  if (auto s = args.CheckOnly({}); !s.ok()) return s;
  if (auto s = ExpectPositional(args, 1, "CODE"); !s.ok()) return s;
  absl::StatusOr<Client*> client = context.client();
  if (!client.ok()) return client.status();
  absl::StatusOr<v1::VerifyDossierHistoryResponse> result =
      (*client)->VerifyDossierHistory(args.positional()[0]);
  if (!result.ok()) return result.status();
  Print(context.json() ? ToJson(*result) : FormatVerifyResult(*result));
  return result->intact() ? kExitOk : kExitCheckFailed;
}

absl::StatusOr<int> Withdraw(Context& context, Args& args) {
  if (auto s = args.CheckOnly({"reason", "version", "request-id"}); !s.ok()) return s;
  if (auto s = ExpectPositional(args, 1, "CODE"); !s.ok()) return s;
  if (!args.Has("reason")) return UsageError("withdraw needs --reason");
  v1::WithdrawDossierRequest request;
  request.set_code(args.positional()[0]);
  request.set_reason(*args.Get("reason"));
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

absl::StatusOr<int> Supplement(Context& context, Args& args) {
  if (auto s = args.CheckOnly({"version", "request-id"}); !s.ok()) return s;
  if (auto s = ExpectPositional(args, 2, "CODE FILE.json"); !s.ok()) return s;
  v1::AddSupplementRequest request;
  if (auto s = ParseJsonFile(args.positional()[1], &request); !s.ok()) return s;
  request.set_code(args.positional()[0]);
  absl::StatusOr<Client*> client = context.client();
  if (!client.ok()) return client.status();
  absl::StatusOr<int64_t> version = ExpectedVersion(**client, args, request.code());
  if (!version.ok()) return version.status();
  request.set_expected_version(*version);
  if (args.Has("request-id")) {
    request.set_request_id(*args.Get("request-id"));
  } else if (request.request_id().empty()) {
    request.set_request_id(NewRequestId());
  }
  absl::StatusOr<v1::Dossier> dossier = (*client)->AddSupplement(request);
  if (!dossier.ok()) return dossier.status();
  PrintDossier(context, *dossier);
  return kExitOk;
}

absl::StatusOr<int> Procedures(Context& context, Args& args) {
  if (args.positional().empty()) return UsageError("procedures needs list, get or deploy");
  const std::string sub = args.positional()[0];
  const std::vector<std::string> rest(args.positional().begin() + 1, args.positional().end());
  absl::StatusOr<Client*> client;

  if (sub == "list") {
    if (auto s = args.CheckOnly({}); !s.ok()) return s;
    if (!rest.empty()) return UsageError("procedures list takes no argument");
    if (client = context.client(); !client.ok()) return client.status();
    absl::StatusOr<v1::ListProceduresResponse> list = (*client)->ListProcedures();
    if (!list.ok()) return list.status();
    Print(context.json() ? ToJson(*list) : FormatProcedureList(*list));
    return kExitOk;
  }
  if (sub == "get") {
    if (auto s = args.CheckOnly({"version"}); !s.ok()) return s;
    if (rest.size() != 1) return UsageError("procedures get needs exactly one CODE");
    absl::StatusOr<std::optional<int64_t>> version = args.GetInt("version");
    if (!version.ok()) return version.status();
    if (client = context.client(); !client.ok()) return client.status();
    absl::StatusOr<v1::ProcedureDefinition> definition =
        (*client)->GetProcedure(rest[0], static_cast<int32_t>(version->value_or(0)));
    if (!definition.ok()) return definition.status();
    Print(context.json() ? ToJson(*definition) : FormatProcedure(*definition));
    return kExitOk;
  }
  if (sub == "deploy") {
    if (auto s = args.CheckOnly({"request-id"}); !s.ok()) return s;
    if (rest.size() != 1) return UsageError("procedures deploy needs exactly one FILE.textproto");
    absl::StatusOr<std::string> text = ReadFile(rest[0]);
    if (!text.ok()) return text.status();
    v1::DeployProcedureRequest request;
    google::protobuf::TextFormat::Parser parser;
    CollectErrors errors;
    parser.RecordErrorsTo(&errors);
    if (!parser.ParseFromString(*text, request.mutable_definition())) {
      return absl::InvalidArgumentError(absl::StrCat(rest[0], ": ", errors.errors()));
    }
    request.set_request_id(RequestIdFrom(args));
    if (client = context.client(); !client.ok()) return client.status();
    absl::StatusOr<v1::ProcedureDefinition> deployed = (*client)->DeployProcedure(request);
    if (!deployed.ok()) return deployed.status();
    Print(context.json() ? ToJson(*deployed) : FormatProcedure(*deployed));
    return kExitOk;
  }
  return UsageError(absl::StrCat("unknown procedures command \"", sub, "\""));
}

absl::StatusOr<int> Watch(Context& context, Args& args) {
  if (auto s = args.CheckOnly({"dossier", "unit", "after"}); !s.ok()) return s;
  if (auto s = ExpectPositional(args, 0, ""); !s.ok()) return s;
  if (args.Has("dossier") == args.Has("unit")) {
    return UsageError("watch needs exactly one of --dossier CODE or --unit U");
  }
  v1::WatchEventsRequest request;
  if (args.Has("dossier")) {
    request.set_dossier_code(*args.Get("dossier"));
  } else {
    request.set_unit_code(*args.Get("unit"));
  }
  absl::StatusOr<std::optional<int64_t>> after = args.GetInt("after");
  if (!after.ok()) return after.status();
  request.set_after_sequence(after->value_or(0));

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

struct CommandEntry {
  const char* name;
  Handler handler;
};

constexpr CommandEntry kCommands[] = {
    {"submit", Submit},
    {"worklist", Worklist},
    {"claim", Claim},
    {"approve", Approve},
    {"reject", Reject},
    {"request-supplement", RequestSupplement},
    {"show", Show},
    {"document", Document},
    {"list", List},
    {"history", History},
    {"verify-history", VerifyHistory},
    {"verify", Verify},
    {"export", Export},
    {"verify-dossier", VerifyDossier},
    {"withdraw", Withdraw},
    {"supplement", Supplement},
    {"procedures", Procedures},
    {"watch", Watch},
    {"backup", Backup},
};

}  // namespace

absl::StatusOr<Client*> Context::client() {
  if (client_ == nullptr) {
    absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(connection_);
    if (!client.ok()) return client.status();
    client_ = *std::move(client);
  }
  return client_.get();
}

absl::StatusOr<int> RunCommand(const std::string& name, Context& context, Args& args) {
  for (const CommandEntry& command : kCommands) {
    if (name == command.name) return command.handler(context, args);
  }
  return UsageError(absl::StrCat("unknown command \"", name, "\""));
}

const char* UsageText() {
  return R"(usage: motcua [OPTIONS] COMMAND [ARGS]

Options (anywhere on the line):
  --server HOST:PORT   server address ($MOTCUA_SERVER, default 127.0.0.1:50051)
  --pki-dir DIR        dev PKI directory ($MOTCUA_PKI_DIR, default ./var/pki)
Who you are (required for every command that talks to the server; there is
no default identity):
  --cert F --key F     your client certificate and key
  --ca F               CA of the server certificate (default <pki-dir>/ca.crt)
  --profile F          a file of "server = ...", "ca = ...", "cert = ...",
                       "key = ..." lines ($MOTCUA_PROFILE)
  --as NAME            development: a client of the dev PKI ($MOTCUA_AS):
                       portal, receiver, head, clerk, auditor, admin, ...
  --insecure           plain-text connection (server started with --insecure)
  --timeout SECONDS    deadline of each call (default 30)
  --json               print protobuf JSON instead of tables
  --help               this text

Dossiers (hồ sơ):
  submit FILE.json [--request-id ID]         file a SubmitDossierRequest
  show CODE                                  the dossier and its history
  document CODE DOCUMENT_ID -o FILE.pdf      save a signed document (d1, d2, ...)
  list [--applicant ID] [--unit U] [--status 1..10] [--from YYYY-MM-DD]
       [--to YYYY-MM-DD] [--limit N]         search, newest first
  withdraw CODE --reason R                   the applicant withdraws
  supplement CODE FILE.json                  add an AddSupplementRequest
  watch (--dossier CODE [--after SEQ] | --unit U)
                                             print events as they happen

Tasks (officers):
  worklist                                   the caller's open tasks
  claim TASK_ID
  approve TASK_ID [--comment C] [SIGNING KEY]
                                             SIGNING KEY, when the step needs the
                                             officer's signature (two-phase; the
                                             key stays here):
                                               --sign-with-p12 FILE [--p12-password P]
                                               --pkcs11-module M --token T --key-label K
                                               --pin-file F [--certificate CHAIN.pem]
  reject TASK_ID --reason R [--reason R2 ...] [--comment C]
  request-supplement TASK_ID --item I [--item I2 ...] [--comment C]

Audit:
  history CODE                               every event with its hash
  verify-history CODE                        recheck the hash chain; exit 1 if broken
  verify FILE.pdf [--trust PATH] [--no-revocation]
                                             check a PDF's signatures, offline, no server:
                                             anchors from PATH (directory or certificate
                                             file; default <pki-dir>/ca.crt); exit 1 unless
                                             every signature is TOTAL_PASSED and unmodified.
                                             Without CRL/OCSP in the PDF a signature is
                                             INDETERMINATE/TRY_LATER unless --no-revocation
  export CODE DIR                            the dossier, its history and its signed
                                             documents, for checking with no server
  verify-dossier CODE [--no-revocation]      the whole dossier, on the server: history
                                             chain, every document's hash against its
                                             event, every signature, and that each was
                                             made by whom the event names; exit 1 if not
  verify-dossier --from DIR [--trust PATH] [--no-revocation]
                                             the same check offline, on an export

Procedures (thủ tục):
  procedures list
  procedures get CODE [--version N]
  procedures deploy FILE.textproto

Backups (3-2-1 policy; admin, status also auditor):
  backup status                              COMPLIANT or not, and why; exit 1 if not
  backup list                                every copy and drill on record
  backup run                                 take and verify a backup (copy 2) now
  backup verify [--offline DIR]              re-verify backups (and a mounted offline copy)
  backup export-offline DIR                  encrypted, signed copy to the medium at DIR
  backup confirm-detached COPY_ID --by NAME --kept-at PLACE
                                             record custody; only then it counts as offline
  backup drill [--offline DIR]               timed restore into scratch, recorded as evidence
  backup restore --from COPY_DIR --to NEW_DATA_DIR [--backup-id N]
                 [--key-file FILE] [--trust CA.pem]
                                             local, no server: copy 2 or an offline copy
                                             (offline needs the key; manifest checked
                                             against --trust, default var/pki/ca.crt)

Commands that change a dossier or task take --version N (expected version;
default: the dossier's current version, read first) and --request-id ID
(default: a new random id; pass the same id to retry safely).

Exit status: 0 ok, 1 a check failed (broken chain, policy not met, failed
verification or drill), 2 error
(printed as "error: CODE: message"), 64 usage error.
)";
}

}  // namespace motcua::cli
