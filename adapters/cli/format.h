// Human-readable output of the motcua CLI: aligned tables, Vietnam time,
// national status labels. Scripts use --json instead; nothing here is meant
// to be parsed.
#ifndef MOTCUA_ADAPTERS_CLI_FORMAT_H_
#define MOTCUA_ADAPTERS_CLI_FORMAT_H_

#include <google/protobuf/message.h>
#include <google/protobuf/timestamp.pb.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "motcua/v1/service.pb.h"

namespace motcua::cli {

// Display width of UTF-8 text: one column per code point, none for
// combining marks (so decomposed Vietnamese lines up with precomposed).
int DisplayWidth(absl::string_view text);

// `text` padded with spaces on the right to `width` columns.
std::string PadRight(absl::string_view text, int width);

// `text` cut to at most `width` columns, ending in "…" when cut. Never
// splits a UTF-8 sequence.
std::string Truncate(absl::string_view text, int width);

// A table printed with columns aligned; the last column is not padded.
class Table {
 public:
  explicit Table(std::vector<std::string> headers);

  // Cells beyond the header count are dropped; missing ones print empty.
  void AddRow(std::vector<std::string> cells);
  // Numbers read better aligned to the right.
  void AlignRight(int column);
  // Long cells of this column are truncated to `width` columns.
  void LimitWidth(int column, int width);
  bool empty() const { return rows_.empty(); }

  // The table, header first, one line per row, each ending in '\n'.
  std::string Render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<bool> right_;
  std::vector<int> max_width_;
};

// "label  value" lines with the labels aligned; empty values are skipped so
// a dossier without a receipt does not show blank receipt lines.
class Fields {
 public:
  void Add(std::string label, std::string value);
  std::string Render() const;

 private:
  std::vector<std::pair<std::string, std::string>> rows_;
};

// "dd/mm/yyyy hh:mm:ss +07:00" in Vietnam time (UTC+7, no DST); empty for
// an unset timestamp.
std::string FormatTime(const google::protobuf::Timestamp& time);

// "4 Đang xử lý"; the bare number when it is outside 1..10.
std::string NationalStatusLabel(int32_t status);

// A citizen ID number with all but its last 4 characters replaced by '*'.
std::string MaskIdNumber(absl::string_view id_number);

// Short English names of enum values, without the type prefix.
std::string ChannelName(v1::Channel channel);
std::string RoleName(v1::Role role);
std::string DecisionName(v1::Decision decision);

// The full record of a dossier, for officers: the ID number is shown.
std::string FormatDossier(const v1::Dossier& dossier);
std::string FormatTask(const v1::Task& task);
std::string FormatHistory(const std::vector<v1::HistoryEvent>& events);
// One line for a streamed event (watch): fixed columns, since later lines
// are not known when one is printed.
std::string FormatEventLine(const v1::HistoryEvent& event);
std::string FormatTaskTable(const std::vector<v1::Task>& tasks);
// Dossier search results; ID numbers are masked.
std::string FormatDossierTable(const std::vector<v1::Dossier>& dossiers);
std::string FormatVerifyResult(const v1::VerifyDossierHistoryResponse& result);
std::string FormatProcedureList(const v1::ListProceduresResponse& list);
std::string FormatProcedure(const v1::ProcedureDefinition& definition);

// Protobuf JSON with the .proto field names and every scalar field present
// (a script reading "closed" gets false rather than nothing).
// `pretty` adds line breaks and indentation.
std::string ToJson(const google::protobuf::Message& message, bool pretty = true);

}  // namespace motcua::cli

#endif  // MOTCUA_ADAPTERS_CLI_FORMAT_H_
