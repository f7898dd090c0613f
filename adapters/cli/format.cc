#include "adapters/cli/format.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "workflow/work_calendar.h"

namespace motcua::cli {
namespace {

// Decodes the UTF-8 sequence starting at text[*pos], advancing *pos past
// it. A malformed byte decodes as itself (one column), so broken input is
// still printed rather than dropped.
char32_t NextCodePoint(absl::string_view text, size_t* pos) {
  const auto lead = static_cast<unsigned char>(text[*pos]);
  int length = 1;
  char32_t cp = lead;
  if (lead >= 0xF0 && lead < 0xF8) {
    length = 4;
    cp = lead & 0x07;
  } else if (lead >= 0xE0) {
    length = 3;
    cp = lead & 0x0F;
  } else if (lead >= 0xC0) {
    length = 2;
    cp = lead & 0x1F;
  }
  if (length > 1) {
    if (*pos + length > text.size()) {
      ++*pos;
      return lead;
    }
    for (int i = 1; i < length; ++i) {
      const auto next = static_cast<unsigned char>(text[*pos + i]);
      if ((next & 0xC0) != 0x80) {
        ++*pos;
        return lead;
      }
      cp = (cp << 6) | (next & 0x3F);
    }
  }
  *pos += length;
  return cp;
}

// Combining marks take no column of their own (Vietnamese in NFD puts the
// tone marks here).
bool IsCombining(char32_t cp) {
  return (cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
         (cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x20D0 && cp <= 0x20FF) ||
         (cp >= 0xFE20 && cp <= 0xFE2F);
}

// "CHANNEL_IN_PERSON" -> "in person".
std::string EnumLabel(const std::string& full_name, absl::string_view prefix) {
  if (full_name.empty()) return "?";
  absl::string_view name = full_name;
  if (name.substr(0, prefix.size()) == prefix) name.remove_prefix(prefix.size());
  std::string label = absl::AsciiStrToLower(name);
  std::replace(label.begin(), label.end(), '_', ' ');
  return label;
}

std::string YesNo(bool value) { return value ? "yes" : "no"; }

std::string ShortHash(const std::string& hash) { return hash.substr(0, 12); }

std::string StateChange(const std::string& from, const std::string& to) {
  if (from.empty()) return to;
  return absl::StrCat(from, " → ", to);
}

std::string EventDetail(const v1::HistoryEvent& event) {
  std::vector<std::string> parts;
  if (event.decision() != v1::DECISION_UNSPECIFIED) {
    parts.push_back(DecisionName(event.decision()));
  }
  if (!event.reasons().empty()) {
    parts.push_back(absl::StrCat("reasons: ", absl::StrJoin(event.reasons(), "; ")));
  }
  if (!event.missing_items().empty()) {
    parts.push_back(absl::StrCat("missing: ", absl::StrJoin(event.missing_items(), "; ")));
  }
  if (!event.comment().empty()) parts.push_back(absl::StrCat("“", event.comment(), "”"));
  if (!event.attachment_sha256().empty()) {
    parts.push_back(absl::StrCat(event.attachment_sha256_size(), " attachment(s)"));
  }
  if (!event.document_id().empty()) {
    parts.push_back(absl::StrCat("document ", event.document_id(), " ",
                                 ShortHash(event.document_sha256()), ", ",
                                 event.signer_certificate_sha256_size(), " signature(s)"));
  }
  return absl::StrJoin(parts, ", ");
}

std::string ClockSummary(const v1::Clock& clock) {
  if (!clock.started()) return "not started";
  if (clock.stopped_at().seconds() != 0) {
    return absl::StrCat("stopped ", FormatTime(clock.stopped_at()),
                        clock.finished_on_time() ? " (on time)" : " (late)");
  }
  if (clock.paused()) {
    return absl::StrCat("paused since ", FormatTime(clock.paused_at()), ", ",
                        clock.remaining_working_seconds_at_pause() / 60, " working minutes left");
  }
  return "running";
}

}  // namespace

int DisplayWidth(absl::string_view text) {
  int width = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    if (!IsCombining(NextCodePoint(text, &pos))) ++width;
  }
  return width;
}

std::string PadRight(absl::string_view text, int width) {
  std::string out(text);
  const int pad = width - DisplayWidth(text);
  if (pad > 0) out.append(pad, ' ');
  return out;
}

std::string Truncate(absl::string_view text, int width) {
  if (width <= 0 || DisplayWidth(text) <= width) return std::string(text);
  // Keep width-1 columns and their combining marks, then the ellipsis.
  int columns = 0;
  size_t pos = 0;
  size_t keep = 0;
  while (pos < text.size()) {
    const char32_t cp = NextCodePoint(text, &pos);
    if (!IsCombining(cp)) {
      if (columns == width - 1) break;
      ++columns;
    }
    keep = pos;
  }
  return absl::StrCat(text.substr(0, keep), "…");
}

Table::Table(std::vector<std::string> headers)
    : headers_(std::move(headers)),
      right_(headers_.size(), false),
      max_width_(headers_.size(), 0) {}

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  for (size_t i = 0; i < cells.size(); ++i) {
    // A newline would break the alignment of every later column.
    absl::StrReplaceAll({{"\n", " "}, {"\r", " "}, {"\t", " "}}, &cells[i]);
    if (max_width_[i] > 0) cells[i] = Truncate(cells[i], max_width_[i]);
  }
  rows_.push_back(std::move(cells));
}

void Table::AlignRight(int column) { right_.at(column) = true; }

void Table::LimitWidth(int column, int width) { max_width_.at(column) = width; }

std::string Table::Render() const {
  std::vector<int> widths(headers_.size());
  for (size_t i = 0; i < headers_.size(); ++i) widths[i] = DisplayWidth(headers_[i]);
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], DisplayWidth(row[i]));
    }
  }
  std::string out;
  auto render_row = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (size_t i = 0; i < cells.size(); ++i) {
      const bool last = i + 1 == cells.size();
      if (right_[i]) {
        line.append(widths[i] - DisplayWidth(cells[i]), ' ');
        line += cells[i];
      } else {
        line += last ? cells[i] : PadRight(cells[i], widths[i]);
      }
      if (!last) line += "  ";
    }
    // Trailing blanks of empty last cells only make copy-paste worse.
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  };
  render_row(headers_);
  for (const auto& row : rows_) render_row(row);
  return out;
}

void Fields::Add(std::string label, std::string value) {
  if (value.empty()) return;
  rows_.emplace_back(std::move(label), std::move(value));
}

std::string Fields::Render() const {
  int width = 0;
  for (const auto& [label, value] : rows_) width = std::max(width, DisplayWidth(label));
  std::string out;
  for (const auto& [label, value] : rows_) {
    absl::StrAppend(&out, PadRight(label, width), "  ", value, "\n");
  }
  return out;
}

std::string FormatTime(const google::protobuf::Timestamp& time) {
  if (time.seconds() == 0 && time.nanos() == 0) return "";
  const absl::Time t = absl::FromUnixSeconds(time.seconds()) + absl::Nanoseconds(time.nanos());
  return absl::FormatTime("%d/%m/%Y %H:%M:%S +07:00", t, workflow::WorkCalendar::VietnamTime());
}

std::string NationalStatusLabel(int32_t status) {
  static constexpr const char* kLabels[] = {
      "Mới đăng ký",    "Đã tiếp nhận", "Không tiếp nhận", "Đang xử lý",    "Chờ bổ sung",
      "Chờ thanh toán", "Rút hồ sơ",    "Dừng xử lý",      "Đã xử lý xong", "Đã trả kết quả",
  };
  if (status < 1 || status > 10) return absl::StrCat(status);
  return absl::StrCat(status, " ", kLabels[status - 1]);
}

std::string MaskIdNumber(absl::string_view id_number) {
  if (id_number.size() <= 4) return std::string(id_number.size(), '*');
  return absl::StrCat(std::string(id_number.size() - 4, '*'),
                      id_number.substr(id_number.size() - 4));
}

std::string ChannelName(v1::Channel channel) {
  return EnumLabel(v1::Channel_Name(channel), "CHANNEL_");
}

std::string RoleName(v1::Role role) { return EnumLabel(v1::Role_Name(role), "ROLE_"); }

std::string DecisionName(v1::Decision decision) {
  return EnumLabel(v1::Decision_Name(decision), "DECISION_");
}

std::string FormatTask(const v1::Task& task) {
  Fields f;
  f.Add("Task", task.id());
  f.Add("Title", task.title());
  f.Add("Dossier", task.dossier_code());
  f.Add("Procedure", task.procedure_code());
  f.Add("State", task.state());
  f.Add("Unit", task.unit_code());
  f.Add("Role", task.role() == v1::ROLE_UNSPECIFIED ? "" : RoleName(task.role()));
  f.Add("Position", task.position());
  std::vector<std::string> decisions;
  for (int d : task.decisions()) decisions.push_back(DecisionName(static_cast<v1::Decision>(d)));
  f.Add("Decisions", absl::StrJoin(decisions, ", "));
  f.Add("Claimed by", task.claimed_by().empty() ? "(unclaimed)" : task.claimed_by());
  f.Add("Created", FormatTime(task.created_at()));
  f.Add("Appointment", FormatTime(task.appointment_at()));
  f.Add("Dossier version", absl::StrCat(task.dossier_version()));
  return f.Render();
}

std::string FormatDossier(const v1::Dossier& d) {
  Fields f;
  f.Add("Dossier", d.code());
  f.Add("Procedure", absl::StrCat(d.procedure_code(), " (version ", d.procedure_version(), ")"));
  f.Add("Unit", d.unit_code());
  f.Add("Channel", ChannelName(d.channel()));
  f.Add("Status", NationalStatusLabel(d.national_status()));
  f.Add("State", absl::StrCat(d.state(), d.closed() ? " (closed)" : ""));
  f.Add("Version", absl::StrCat(d.version()));
  f.Add("Submitted", FormatTime(d.submitted_at()));
  f.Add("Submitted by", d.submitted_by());
  f.Add("Updated", FormatTime(d.updated_at()));
  f.Add("Applicant", d.applicant().full_name());
  f.Add("ID number", d.applicant().id_number());
  f.Add("Phone", d.applicant().phone());
  f.Add("Email", d.applicant().email());
  f.Add("Address", d.applicant().address());
  if (d.has_receipt()) {
    f.Add("Received", FormatTime(d.receipt().received_at()));
    f.Add("Received by", d.receipt().received_by());
    f.Add("Appointment", FormatTime(d.receipt().appointment_at()));
  }
  if (d.has_clock()) f.Add("Clock", ClockSummary(d.clock()));
  if (d.overdue()) f.Add("Overdue", "YES");
  if (d.supplement_request_count() > 0) {
    f.Add("Supplement requests", absl::StrCat(d.supplement_request_count()));
  }
  if (d.has_pending_supplement()) {
    const auto& s = d.pending_supplement();
    f.Add("Awaiting supplement", absl::StrJoin(s.missing_items(), "; "));
    f.Add("  requested", absl::StrCat(FormatTime(s.requested_at()), " by ", s.requested_by()));
    f.Add("  note", s.note());
  }
  if (!d.rejection_reasons().empty()) {
    f.Add("Reasons", absl::StrJoin(d.rejection_reasons(), "; "));
  }
  if (d.has_task()) {
    const auto& t = d.task();
    f.Add("Open task", absl::StrCat(t.id(), " — ", t.title()));
    f.Add("  for", absl::StrCat(RoleName(t.role()), t.position().empty() ? "" : "/", t.position(),
                                " at ", t.unit_code()));
    f.Add("  claimed by", t.claimed_by());
  }
  f.Add("History", absl::StrCat(d.history_length(), " events, head ", ShortHash(d.history_head())));
  std::string out = f.Render();

  if (!d.form().empty()) {
    // Sorted, so the same dossier always prints the same way.
    std::map<std::string, std::string> form(d.form().begin(), d.form().end());
    Table t({"FORM FIELD", "VALUE"});
    for (const auto& [key, value] : form) t.AddRow({key, value});
    absl::StrAppend(&out, "\n", t.Render());
  }
  if (!d.attachments().empty()) {
    Table t({"ATTACHMENT", "NAME", "TYPE", "BYTES", "SHA-256", "ADDED"});
    t.AlignRight(3);
    for (const auto& a : d.attachments()) {
      t.AddRow({a.id(), a.name(), a.media_type(), absl::StrCat(a.size_bytes()),
                ShortHash(a.sha256()), FormatTime(a.added_at())});
    }
    absl::StrAppend(&out, "\n", t.Render());
  }
  if (!d.documents().empty()) {
    Table t({"DOCUMENT", "KIND", "SIGNED BY", "BYTES", "SHA-256", "SIGNED"});
    t.AlignRight(3);
    for (const auto& doc : d.documents()) {
      std::vector<std::string> signers;
      for (const auto& signer : doc.signers()) signers.push_back(signer.common_name());
      t.AddRow({doc.id(), doc.kind(), absl::StrJoin(signers, ", "), absl::StrCat(doc.size_bytes()),
                ShortHash(doc.sha256()), FormatTime(doc.signed_at())});
    }
    absl::StrAppend(&out, "\n", t.Render());
  }
  return out;
}

std::string FormatHistory(const std::vector<v1::HistoryEvent>& events) {
  Table t({"SEQ", "TIME", "ACTOR", "ROLE", "ACTION", "STATE", "STATUS", "DETAIL", "HASH"});
  t.AlignRight(0);
  t.LimitWidth(7, 60);
  for (const auto& e : events) {
    t.AddRow({absl::StrCat(e.sequence()), FormatTime(e.time()), e.actor(), RoleName(e.actor_role()),
              e.action(), StateChange(e.from_state(), e.to_state()),
              NationalStatusLabel(e.national_status()), EventDetail(e), ShortHash(e.hash())});
  }
  return t.Render();
}

std::string FormatEventLine(const v1::HistoryEvent& e) {
  std::string detail = EventDetail(e);
  return absl::StrCat(FormatTime(e.time()), "  ", PadRight(e.dossier_code(), 22), " #",
                      PadRight(absl::StrCat(e.sequence()), 4), PadRight(e.actor(), 14), " ",
                      PadRight(e.action(), 26), " ",
                      PadRight(StateChange(e.from_state(), e.to_state()), 30), " ",
                      detail.empty() ? NationalStatusLabel(e.national_status())
                                     : PadRight(NationalStatusLabel(e.national_status()), 18),
                      detail);
}

std::string FormatTaskTable(const std::vector<v1::Task>& tasks) {
  Table t({"TASK", "TITLE", "STATE", "VERSION", "CLAIMED BY", "APPOINTMENT", "CREATED"});
  t.AlignRight(3);
  for (const auto& task : tasks) {
    t.AddRow({task.id(), task.title(), task.state(), absl::StrCat(task.dossier_version()),
              task.claimed_by(), FormatTime(task.appointment_at()), FormatTime(task.created_at())});
  }
  return t.Render();
}

std::string FormatDossierTable(const std::vector<v1::Dossier>& dossiers) {
  Table t({"DOSSIER", "PROCEDURE", "STATUS", "APPLICANT", "ID NUMBER", "SUBMITTED", "APPOINTMENT",
           "FLAGS"});
  t.LimitWidth(3, 28);
  for (const auto& d : dossiers) {
    std::vector<std::string> flags;
    if (d.overdue()) flags.push_back("overdue");
    if (d.closed()) flags.push_back("closed");
    t.AddRow({d.code(), d.procedure_code(), NationalStatusLabel(d.national_status()),
              d.applicant().full_name(), MaskIdNumber(d.applicant().id_number()),
              FormatTime(d.submitted_at()),
              d.has_receipt() ? FormatTime(d.receipt().appointment_at()) : "",
              absl::StrJoin(flags, ",")});
  }
  return t.Render();
}

std::string FormatVerifyResult(const v1::VerifyDossierHistoryResponse& r) {
  Fields f;
  f.Add("Intact", r.intact() ? "yes" : "NO");
  f.Add("Events checked", absl::StrCat(r.events_checked()));
  if (!r.intact()) f.Add("First broken event", absl::StrCat(r.first_broken_sequence()));
  f.Add("Detail", r.detail());
  f.Add("Head hash", r.head_hash());
  return f.Render();
}

std::string FormatProcedureList(const v1::ListProceduresResponse& list) {
  Table t({"CODE", "LATEST", "VERSIONS", "EFFECTIVE", "DEPLOYED", "NAME"});
  t.AlignRight(1);
  for (const auto& entry : list.procedures()) {
    const auto& p = entry.latest();
    t.AddRow({p.code(), absl::StrCat(p.version()), absl::StrJoin(entry.versions(), ","),
              p.effective_from(), FormatTime(p.deployed_at()), p.name()});
  }
  return t.Render();
}

std::string FormatProcedure(const v1::ProcedureDefinition& p) {
  Fields f;
  f.Add("Procedure", p.code());
  f.Add("Name", p.name());
  f.Add("Version", absl::StrCat(p.version()));
  f.Add("Effective from", p.effective_from());
  f.Add("Deployed", absl::StrCat(FormatTime(p.deployed_at()), p.deployed_by().empty() ? "" : " by ",
                                 p.deployed_by()));
  f.Add("Time limit",
        absl::StrCat(
            p.time_limit().working_days(), " working day(s)",
            p.time_limit().after_15h_next_day() ? ", after 15:00 counts from next day" : ""));
  f.Add("Initial state", p.initial_state());
  std::string out = f.Render();

  if (!p.form_fields().empty()) {
    Table t({"FORM FIELD", "REQUIRED", "TITLE"});
    for (const auto& field : p.form_fields()) {
      t.AddRow({field.name(), YesNo(field.required()), field.title()});
    }
    absl::StrAppend(&out, "\n", t.Render());
  }
  Table states({"STATE", "STATUS", "TERMINAL", "TITLE", "TASK"});
  for (const auto& s : p.states()) {
    states.AddRow({s.id(), NationalStatusLabel(s.national_status()), s.terminal() ? "yes" : "",
                   s.title(), s.task_title()});
  }
  absl::StrAppend(&out, "\n", states.Render());

  Table transitions({"TRANSITION", "FROM → TO", "TRIGGER", "WHO", "CLOCK", "NOTES"});
  for (const auto& tr : p.transitions()) {
    std::vector<std::string> notes;
    if (tr.issues_receipt()) notes.push_back("receipt");
    if (!tr.produces_document().empty()) notes.push_back("doc: " + tr.produces_document());
    if (!tr.actor_differs_from().empty()) {
      notes.push_back("not who did: " + absl::StrJoin(tr.actor_differs_from(), ","));
    }
    const std::string clock = tr.clock() == v1::CLOCK_ACTION_UNSPECIFIED
                                  ? ""
                                  : EnumLabel(v1::ClockAction_Name(tr.clock()), "CLOCK_ACTION_");
    transitions.AddRow(
        {tr.id(), StateChange(tr.from_state(), tr.to_state()),
         EnumLabel(v1::Trigger_Name(tr.trigger()), "TRIGGER_"),
         absl::StrCat(RoleName(tr.role()), tr.position().empty() ? "" : "/", tr.position()), clock,
         absl::StrJoin(notes, "; ")});
  }
  absl::StrAppend(&out, "\n", transitions.Render());
  return out;
}

std::string ToJson(const google::protobuf::Message& message, bool pretty) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = pretty;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  const auto status = google::protobuf::util::MessageToJsonString(message, &out, options);
  // Only fails on malformed Any types, which the API does not use.
  if (!status.ok()) return absl::StrCat("{\"error\": \"", status.ToString(), "\"}");
  if (pretty && !out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace motcua::cli
