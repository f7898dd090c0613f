// What an operator watches: /metrics scraped while the server works, and its
// logs, one JSON object per line with no personal data in them.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/integration/fixtures.h"
#include "tests/integration/server_process.h"

namespace motcua::itest {
namespace {

// The body of GET /metrics on 127.0.0.1:`port`; empty on any failure.
std::string Scrape(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    const std::string request = "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n";
    if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buffer[65536];
      for (ssize_t n; (n = read(fd, buffer, sizeof(buffer))) > 0;) response.append(buffer, n);
    }
  }
  close(fd);
  const size_t body = response.find("\r\n\r\n");
  if (response.rfind("HTTP/1.1 200", 0) != 0 || body == std::string::npos) return "";
  return response.substr(body + 4);
}

// Sample name with labels ("motcua_store_commits_total",
// "motcua_grpc_requests_total{method=\"SubmitDossier\",code=\"OK\"}") -> value.
std::map<std::string, double> Samples(const std::string& text) {
  std::map<std::string, double> samples;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    double value = 0;
    if (space != absl::string_view::npos && absl::SimpleAtod(line.substr(space + 1), &value)) {
      samples[std::string(line.substr(0, space))] = value;
    }
  }
  return samples;
}

// The metrics port the server logged in its "serving" line.
int MetricsPort(const ServerProcess& server) {
  std::smatch match;
  const std::string log = server.LogTail(1 << 20);
  static const std::regex kPort("\"metrics_port\":([0-9]+)");
  return std::regex_search(log, match, kPort) ? std::stoi(match[1]) : 0;
}

TEST(ObservabilityTest, MetricsScrapedUnderLoad_EverySeriesPresentAndMoving) {
  auto server = ServerProcess::Start({"--metrics-listen", "127.0.0.1:0"});
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = MetricsPort(**server);
  ASSERT_GT(port, 0) << (*server)->LogTail();

  // Work while the metrics are scraped: submissions and sealed receipts.
  std::atomic<bool> stop{false};
  std::atomic<int> received{0};
  std::thread load([&] {
    while (!stop) {
      if (SubmitAndReceive(**server).ok()) ++received;
    }
  });
  // Waits until `count` dossiers were received, at most a minute.
  auto wait_for = [&](int count) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
    while (received < count && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return received >= count;
  };
  const bool loaded = wait_for(3);
  const std::map<std::string, double> first = Samples(Scrape(port));
  const bool moved = loaded && wait_for(received + 5);
  const std::map<std::string, double> second = Samples(Scrape(port));
  stop = true;
  load.join();
  ASSERT_TRUE(loaded && moved) << "the load made no progress; log:\n" << (*server)->LogTail();

  ASSERT_FALSE(first.empty());
  auto value = [](const std::map<std::string, double>& samples, const std::string& name) {
    auto it = samples.find(name);
    return it == samples.end() ? -1.0 : it->second;
  };
  // Counters that must grow while dossiers are submitted and received.
  for (const std::string& name :
       {std::string("motcua_grpc_requests_total{method=\"SubmitDossier\",code=\"OK\"}"),
        std::string("motcua_grpc_requests_total{method=\"CompleteTask\",code=\"OK\"}"),
        std::string("motcua_grpc_request_seconds_count{method=\"SubmitDossier\"}"),
        std::string("motcua_store_commits_total"), std::string("motcua_store_write_groups_total"),
        std::string("motcua_store_grouped_writes_total"), std::string("motcua_store_wal_syncs_total"),
        std::string("motcua_store_wal_sync_seconds_total"),
        std::string("motcua_signatures_total{kind=\"unit_seal\",outcome=\"made\"}")}) {
    SCOPED_TRACE(name);
    ASSERT_GE(value(first, name), 0) << "series missing";
    EXPECT_GT(value(second, name), value(first, name)) << "did not move";
  }
  // Present, whatever their value.
  for (const char* name :
       {"motcua_grpc_request_seconds_bucket{method=\"SubmitDossier\",le=\"+Inf\"}",
        "motcua_store_failed_commits_total", "motcua_store_stall_seconds_total",
        "motcua_store_write_stopped", "motcua_store_compaction_read_bytes_total",
        "motcua_store_compaction_write_bytes_total", "motcua_store_running_compactions",
        "motcua_store_pending_compaction_bytes", "motcua_store_wal_sync_p99_seconds",
        "motcua_work_pool_queued", "motcua_backup_policy_compliant"}) {
    EXPECT_GE(value(second, name), 0) << name << " missing";
  }
  // The backup schedule takes copy 2 at start; its age is then exported.
  for (int i = 0; i < 100 && value(Samples(Scrape(port)),
                                   "motcua_backup_copy_age_seconds{copy=\"backup\"}") < 0;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const auto last = Samples(Scrape(port));
  EXPECT_GE(value(last, "motcua_backup_copy_age_seconds{copy=\"backup\"}"), 0);
  EXPECT_EQ(value(last, "motcua_backup_copy_counts{copy=\"live\"}"), 1);
}

TEST(ObservabilityTest, Logs_OneJsonObjectPerLine_NoIdNumbersOrNames) {
  auto server = ServerProcess::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  std::set<std::string> id_numbers;
  for (int i = 0; i < 5; ++i) {
    v1::SubmitDossierRequest request = ValidSubmission();
    id_numbers.insert(request.applicant().id_number());
    Reply<v1::Dossier> submitted = (*server)->As("portal").Submit(request);
    ASSERT_RPC_OK(submitted);
    ASSERT_RPC_OK((*server)->As("receiver").CompleteTask(Approval(submitted.value)));
  }
  // Refusals are logged too when they are the server's fault; make some
  // noise of the caller's kind as well.
  EXPECT_FALSE((*server)->As("portal").Submit(v1::SubmitDossierRequest()).ok());
  ASSERT_TRUE((*server)->Stop().ok());

  const std::string log = (*server)->LogTail(1 << 20);
  int lines = 0;
  std::set<std::string> events;
  for (absl::string_view line : absl::StrSplit(log, '\n', absl::SkipEmpty())) {
    ++lines;
    google::protobuf::Struct object;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(std::string(line), &object).ok())
        << "not one JSON object: " << line;
    ASSERT_TRUE(object.fields().contains("time")) << line;
    ASSERT_TRUE(object.fields().contains("level")) << line;
    ASSERT_TRUE(object.fields().contains("event")) << line;
    events.insert(object.fields().at("event").string_value());
  }
  EXPECT_GE(lines, 3);
  EXPECT_TRUE(events.contains("starting"));
  EXPECT_TRUE(events.contains("serving"));
  EXPECT_TRUE(events.contains("stopped"));
  for (const std::string& id : id_numbers) EXPECT_EQ(log.find(id), std::string::npos) << id;
  // The applicant's name of every test submission (fixtures.cc).
  EXPECT_EQ(log.find("Nguyễn Thị Minh Khai"), std::string::npos);
  EXPECT_EQ(log.find("Minh Khai"), std::string::npos);
}

TEST(ObservabilityTest, LogFormatText_KeyValueLinesForPeople) {
  auto server = ServerProcess::Start({"--log-format", "text"});
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string log = (*server)->LogTail();
  EXPECT_THAT(log, ::testing::HasSubstr(" event=serving "));
  EXPECT_THAT(log, ::testing::HasSubstr("mode=development"));
  EXPECT_EQ(log.find("{\""), std::string::npos) << "a JSON line in text mode: " << log;
}

}  // namespace
}  // namespace motcua::itest
