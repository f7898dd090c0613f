#include "adapters/log.h"

#include <charconv>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace motcua::adapters {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

// A strict reader for the flat objects the logger writes: string keys,
// values that are strings (returned decoded), numbers or true/false (returned
// as written). nullopt for anything that is not exactly one such object.
bool ReadString(absl::string_view& in, std::string* out) {
  if (!absl::ConsumePrefix(&in, "\"")) return false;
  while (!in.empty()) {
    const char c = in[0];
    in.remove_prefix(1);
    if (c == '"') return true;
    if (static_cast<unsigned char>(c) < 0x20) return false;
    if (c != '\\') {
      out->push_back(c);
      continue;
    }
    if (in.empty()) return false;
    const char escape = in[0];
    in.remove_prefix(1);
    switch (escape) {
      case '"':
      case '\\':
      case '/':
        out->push_back(escape);
        break;
      case 'n':
        out->push_back('\n');
        break;
      case 'r':
        out->push_back('\r');
        break;
      case 't':
        out->push_back('\t');
        break;
      case 'b':
        out->push_back('\b');
        break;
      case 'f':
        out->push_back('\f');
        break;
      case 'u': {
        unsigned code = 0;
        if (in.size() < 4 ||
            std::from_chars(in.data(), in.data() + 4, code, 16).ptr != in.data() + 4 ||
            code >= 0x80) {  // The logger only escapes ASCII control characters.
          return false;
        }
        out->push_back(static_cast<char>(code));
        in.remove_prefix(4);
        break;
      }
      default:
        return false;
    }
  }
  return false;
}

bool ReadScalar(absl::string_view& in, std::string* out) {
  for (absl::string_view literal : {"true", "false"}) {
    if (absl::ConsumePrefix(&in, literal)) {
      *out = std::string(literal);
      return true;
    }
  }
  double number;
  const auto [end, error] = std::from_chars(in.data(), in.data() + in.size(), number);
  if (error != std::errc() || end == in.data()) return false;
  out->assign(in.data(), end);
  in.remove_prefix(end - in.data());
  return true;
}

std::optional<Fields> ReadJsonObject(absl::string_view in) {
  Fields fields;
  if (!absl::ConsumePrefix(&in, "{")) return std::nullopt;
  while (!absl::ConsumePrefix(&in, "}")) {
    if (!fields.empty() && !absl::ConsumePrefix(&in, ",")) return std::nullopt;
    std::string key, value;
    if (!ReadString(in, &key) || !absl::ConsumePrefix(&in, ":")) return std::nullopt;
    if (!(absl::StartsWith(in, "\"") ? ReadString(in, &value) : ReadScalar(in, &value))) {
      return std::nullopt;
    }
    fields.emplace_back(std::move(key), std::move(value));
  }
  if (!in.empty()) return std::nullopt;
  return fields;
}

const absl::Time kTime =
    absl::FromCivil(absl::CivilSecond(2026, 12, 7, 2, 11, 55), absl::UTCTimeZone()) +
    absl::Milliseconds(123);

TEST(FormatLogLineTest, Json_ExactLine) {
  EXPECT_EQ(FormatLogLine(kTime, LogFormat::kJson, LogLevel::kInfo, "serving",
                          {{"address", "127.0.0.1:8443"},
                           {"port", 8443},
                           {"queued", uint64_t{18446744073709551615u}},
                           {"delta", int64_t{-3}},
                           {"ratio", 0.25},
                           {"tls", true}}),
            "{\"time\":\"2026-12-07T02:11:55.123Z\",\"level\":\"info\",\"event\":\"serving\","
            "\"address\":\"127.0.0.1:8443\",\"port\":8443,\"queued\":18446744073709551615,"
            "\"delta\":-3,\"ratio\":0.25,\"tls\":true}\n");
}

TEST(FormatLogLineTest, Json_EscapedValuesParseBack) {
  const std::string tricky = "say \"hi\"\\ \n\r\t\x01\x1f\x7f end";
  const std::string vietnamese = "Bằng tốt nghiệp";
  const std::string line =
      FormatLogLine(kTime, LogFormat::kJson, LogLevel::kError, "odd \"event\"",
                    {{"message", tricky}, {"document", vietnamese}, {"nan", std::nan("")}});
  ASSERT_TRUE(absl::EndsWith(line, "}\n"));
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  EXPECT_TRUE(absl::StrContains(line, vietnamese));  // UTF-8 passes through unescaped.
  std::optional<Fields> fields = ReadJsonObject(absl::StripSuffix(line, "\n"));
  ASSERT_TRUE(fields.has_value()) << line;
  EXPECT_EQ(*fields, (Fields{{"time", "2026-12-07T02:11:55.123Z"},
                             {"level", "error"},
                             {"event", "odd \"event\""},
                             {"message", tricky},
                             {"document", vietnamese},
                             {"nan", "NaN"}}));
}

TEST(FormatLogLineTest, InvalidUtf8_ReplacedSoLineStaysValid) {
  const std::string line = FormatLogLine(kTime, LogFormat::kJson, LogLevel::kWarning, "e",
                                         {{"bytes",
                                           "a\xff"
                                           "b\xc3(\xed\xa0\x80"
                                           "c\xe1\xba"}});
  std::optional<Fields> fields = ReadJsonObject(absl::StripSuffix(line, "\n"));
  ASSERT_TRUE(fields.has_value()) << line;
  const std::string replacement = "\xEF\xBF\xBD";
  EXPECT_EQ(fields->back().second,
            absl::StrCat("a", replacement, "b", replacement, "(", replacement, replacement,
                         replacement, "c", replacement, replacement));
}

TEST(FormatLogLineTest, Text_QuotesOnlyWhatNeedsIt) {
  EXPECT_EQ(FormatLogLine(kTime, LogFormat::kText, LogLevel::kWarning, "serving",
                          {{"tls", "mutual"},
                           {"note", "value with spaces"},
                           {"empty", ""},
                           {"eq", "a=b"},
                           {"quote", "say \"hi\""},
                           {"lines", "one\ntwo"},
                           {"document", "Bằng"},
                           {"port", 8443},
                           {"ok", false},
                           {"bad key!", "x"}}),
            "time=2026-12-07T02:11:55.123Z level=warning event=serving tls=mutual "
            "note=\"value with spaces\" empty=\"\" eq=\"a=b\" quote=\"say \\\"hi\\\"\" "
            "lines=\"one\\ntwo\" document=\"Bằng\" port=8443 ok=false bad_key_=x\n");
}

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override { SetLogSink(&out_); }
  void TearDown() override {
    SetLogSink(nullptr);
    SetLogFormat(LogFormat::kText);
  }

  std::vector<std::string> Lines() const {
    std::vector<std::string> lines = absl::StrSplit(out_.str(), '\n');
    EXPECT_EQ(lines.back(), "");  // Every line ends with '\n'.
    lines.pop_back();
    return lines;
  }

  std::ostringstream out_;
};

// True for "2026-12-07T02:11:55.123Z": UTC, milliseconds, nothing else.
bool IsUtcMillis(absl::string_view text) {
  constexpr char kFormat[] = "%Y-%m-%dT%H:%M:%E3SZ";
  absl::Time time;
  return absl::ParseTime(kFormat, text, absl::UTCTimeZone(), &time, nullptr) &&
         absl::FormatTime(kFormat, time, absl::UTCTimeZone()) == text;
}

TEST_F(LogTest, Log_WritesOneLineInChosenFormat) {
  SetLogFormat(LogFormat::kJson);
  Log(LogLevel::kInfo, "serving", {{"address", "127.0.0.1:8443"}, {"tls", "mutual"}});
  SetLogFormat(LogFormat::kText);
  Log(LogLevel::kError, "stopped");
  const std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 2u);

  std::optional<Fields> json = ReadJsonObject(lines[0]);
  ASSERT_TRUE(json.has_value()) << lines[0];
  ASSERT_EQ(json->size(), 5u);
  EXPECT_EQ((*json)[0].first, "time");
  EXPECT_TRUE(IsUtcMillis((*json)[0].second)) << lines[0];
  EXPECT_EQ(Fields(json->begin() + 1, json->end()), (Fields{{"level", "info"},
                                                            {"event", "serving"},
                                                            {"address", "127.0.0.1:8443"},
                                                            {"tls", "mutual"}}));

  std::vector<absl::string_view> text = absl::StrSplit(lines[1], ' ');
  ASSERT_EQ(text.size(), 3u) << lines[1];
  EXPECT_TRUE(absl::ConsumePrefix(&text[0], "time=") && IsUtcMillis(text[0])) << lines[1];
  EXPECT_EQ(text[1], "level=error");
  EXPECT_EQ(text[2], "event=stopped");
}

TEST_F(LogTest, ConcurrentLogging_WholeLines) {
  SetLogFormat(LogFormat::kJson);
  constexpr int kThreads = 8, kPerThread = 300;
  const std::string payload(500, 'x');
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Log(LogLevel::kInfo, "tick", {{"thread", t}, {"i", i}, {"payload", payload}});
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), static_cast<size_t>(kThreads * kPerThread));
  for (const std::string& line : lines) {
    std::optional<Fields> fields = ReadJsonObject(line);
    ASSERT_TRUE(fields.has_value()) << line;
    ASSERT_EQ(fields->size(), 6u);
    EXPECT_EQ((*fields)[5].second, payload);
  }
}

TEST(ParseLogFormatTest, KnowsTextAndJson) {
  EXPECT_EQ(*ParseLogFormat("text"), LogFormat::kText);
  EXPECT_EQ(*ParseLogFormat("json"), LogFormat::kJson);
  EXPECT_EQ(ParseLogFormat("JSON").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseLogFormat("").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(MaskIdNumberTest, KeepsTwoAtEachEnd) {
  EXPECT_EQ(MaskIdNumber("001204012345"), "00********45");  // CCCD, 12 digits.
  EXPECT_EQ(MaskIdNumber("123456789"), "12*****89");        // CMND, 9 digits.
  EXPECT_EQ(MaskIdNumber("12345678"), "12****78");
}

TEST(MaskIdNumberTest, ShortValuesFullyMasked) {
  EXPECT_EQ(MaskIdNumber("1234567"), "*******");
  EXPECT_EQ(MaskIdNumber("12"), "**");
  EXPECT_EQ(MaskIdNumber(""), "");
}

TEST(MaskIdNumberTest, MultibyteCharactersKeptOrMaskedWhole) {
  EXPECT_EQ(MaskIdNumber("ĐàNẵngAB"), "Đà****AB");
  EXPECT_EQ(MaskIdNumber("Đà"), "**");
}

}  // namespace
}  // namespace motcua::adapters
