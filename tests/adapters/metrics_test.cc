#include "adapters/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace motcua::adapters {
namespace {

TEST(MetricsRegistryTest, RenderText_SmallRegistry_ExactText) {
  MetricsRegistry registry;
  absl::StatusOr<CounterFamily*> requests = registry.AddCounter(
      "motcua_grpc_requests_total", "gRPC requests handled.", {"method", "code"});
  absl::StatusOr<GaugeFamily*> queue =
      registry.AddGauge("motcua_work_queue_length", "Calls waiting for a worker.", {});
  absl::StatusOr<HistogramFamily*> commit = registry.AddHistogram(
      "motcua_commit_seconds", "Time to commit.", {"store"}, {0.125, 0.25, 1});
  ASSERT_TRUE(requests.ok() && queue.ok() && commit.ok());

  (*requests)->WithLabels({"SubmitDossier", "OK"}).Increment();
  (*requests)->WithLabels({"SubmitDossier", "OK"}).Increment(2);
  (*requests)->WithLabels({"GetDossier", "NOT_FOUND"}).Increment();
  (*queue)->WithLabels({}).Set(5);
  (*queue)->WithLabels({}).Add(-2);
  Histogram& main_store = (*commit)->WithLabels({"main"});
  for (double seconds : {0.125, 0.25, 0.5, 2.5}) main_store.Observe(seconds);

  EXPECT_EQ(registry.RenderText(),
            "# HELP motcua_commit_seconds Time to commit.\n"
            "# TYPE motcua_commit_seconds histogram\n"
            "motcua_commit_seconds_bucket{store=\"main\",le=\"0.125\"} 1\n"
            "motcua_commit_seconds_bucket{store=\"main\",le=\"0.25\"} 2\n"
            "motcua_commit_seconds_bucket{store=\"main\",le=\"1\"} 3\n"
            "motcua_commit_seconds_bucket{store=\"main\",le=\"+Inf\"} 4\n"
            "motcua_commit_seconds_sum{store=\"main\"} 3.375\n"
            "motcua_commit_seconds_count{store=\"main\"} 4\n"
            "# HELP motcua_grpc_requests_total gRPC requests handled.\n"
            "# TYPE motcua_grpc_requests_total counter\n"
            "motcua_grpc_requests_total{method=\"GetDossier\",code=\"NOT_FOUND\"} 1\n"
            "motcua_grpc_requests_total{method=\"SubmitDossier\",code=\"OK\"} 3\n"
            "# HELP motcua_work_queue_length Calls waiting for a worker.\n"
            "# TYPE motcua_work_queue_length gauge\n"
            "motcua_work_queue_length 3\n");
}

TEST(MetricsRegistryTest, RenderText_UnlabelledFamily_ExportedAtZero) {
  MetricsRegistry registry;
  ASSERT_TRUE(registry.AddCounter("restarts_total", "Restarts.", {}).ok());
  EXPECT_EQ(registry.RenderText(),
            "# HELP restarts_total Restarts.\n# TYPE restarts_total counter\nrestarts_total 0\n");
}

TEST(MetricsRegistryTest, RenderText_EscapesLabelValuesAndHelp) {
  MetricsRegistry registry;
  absl::StatusOr<CounterFamily*> family =
      registry.AddCounter("errors_total", "Errors, \\ and \"quotes\"\nsecond line.", {"what"});
  ASSERT_TRUE(family.ok());
  (*family)->WithLabels({"a\\b \"c\"\nd"}).Increment();
  EXPECT_EQ(registry.RenderText(),
            "# HELP errors_total Errors, \\\\ and \"quotes\"\\nsecond line.\n"
            "# TYPE errors_total counter\n"
            "errors_total{what=\"a\\\\b \\\"c\\\"\\nd\"} 1\n");
}

TEST(MetricsRegistryTest, RenderText_NumbersRoundTripIntegersWithoutExponent) {
  MetricsRegistry registry;
  const std::vector<double> values = {123456789012.0,
                                      0.1,
                                      -2.5,
                                      1e-9,
                                      1e21,
                                      std::numeric_limits<double>::quiet_NaN(),
                                      std::numeric_limits<double>::infinity()};
  ASSERT_TRUE(registry
                  .AddCollector(MetricType::kGauge, "v", "Values.", {"i"},
                                [&values] {
                                  std::vector<MetricSample> samples;
                                  for (size_t i = 0; i < values.size(); ++i) {
                                    samples.push_back({{absl::StrCat(i)}, values[i]});
                                  }
                                  return samples;
                                })
                  .ok());
  EXPECT_EQ(registry.RenderText(),
            "# HELP v Values.\n# TYPE v gauge\n"
            "v{i=\"0\"} 123456789012\nv{i=\"1\"} 0.1\nv{i=\"2\"} -2.5\nv{i=\"3\"} 1e-09\n"
            "v{i=\"4\"} 1e+21\nv{i=\"5\"} NaN\nv{i=\"6\"} +Inf\n");
}

TEST(MetricsRegistryTest, Callback_ReadAtScrapeTime) {
  MetricsRegistry registry;
  double age_main = 10, age_offline = 20;
  ASSERT_TRUE(registry
                  .AddCallback(MetricType::kGauge, "backup_age_seconds", "Age of the newest copy.",
                               {"copy"}, {"offline"}, [&] { return age_offline; })
                  .ok());
  ASSERT_TRUE(registry
                  .AddCallback(MetricType::kGauge, "backup_age_seconds", "Age of the newest copy.",
                               {"copy"}, {"main"}, [&] { return age_main; })
                  .ok());
  const std::string header =
      "# HELP backup_age_seconds Age of the newest copy.\n# TYPE backup_age_seconds gauge\n";
  EXPECT_EQ(registry.RenderText(), header +
                                       "backup_age_seconds{copy=\"main\"} 10\n"
                                       "backup_age_seconds{copy=\"offline\"} 20\n");
  age_main = 0.5;
  EXPECT_EQ(registry.RenderText(), header +
                                       "backup_age_seconds{copy=\"main\"} 0.5\n"
                                       "backup_age_seconds{copy=\"offline\"} 20\n");
}

TEST(MetricsRegistryTest, Callback_SameLabelValuesTwice_AlreadyExists) {
  MetricsRegistry registry;
  auto read = [] { return 1.0; };
  ASSERT_TRUE(registry.AddCallback(MetricType::kCounter, "c_total", "C.", {}, {}, read).ok());
  EXPECT_EQ(registry.AddCallback(MetricType::kCounter, "c_total", "C.", {}, {}, read).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(registry.AddCallback(MetricType::kCounter, "d_total", "D.", {"x"}, {}, read).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddCallback(MetricType::kHistogram, "h", "H.", {}, {}, read).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MetricsRegistryTest, Collector_DropsSamplesWithWrongLabelCount) {
  MetricsRegistry registry;
  ASSERT_TRUE(registry
                  .AddCollector(MetricType::kCounter, "rocksdb_bytes_written_total", "Bytes.",
                                {"cf"},
                                [] {
                                  return std::vector<MetricSample>{{{"default"}, 7}, {{}, 1}};
                                })
                  .ok());
  EXPECT_EQ(registry.RenderText(),
            "# HELP rocksdb_bytes_written_total Bytes.\n"
            "# TYPE rocksdb_bytes_written_total counter\n"
            "rocksdb_bytes_written_total{cf=\"default\"} 7\n");
}

TEST(MetricsRegistryTest, ConcurrentUpdates_SumCorrectly) {
  MetricsRegistry registry;
  absl::StatusOr<CounterFamily*> counter = registry.AddCounter("n_total", "N.", {"t"});
  absl::StatusOr<HistogramFamily*> histogram =
      registry.AddHistogram("h", "H.", {}, ExponentialBuckets(1, 2, 4));
  ASSERT_TRUE(counter.ok() && histogram.ok());
  constexpr int kThreads = 4, kPerThread = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        // Looking the child up every time also exercises the family's map.
        (*counter)->WithLabels({"same"}).Increment();
        (*histogram)->WithLabels({}).Observe(i % 10);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ((*counter)->WithLabels({"same"}).Value(), kThreads * kPerThread);
  const std::string text = registry.RenderText();
  EXPECT_TRUE(absl::StrContains(text, absl::StrCat("h_count ", kThreads * kPerThread, "\n")));
  EXPECT_TRUE(
      absl::StrContains(text, absl::StrCat("h_sum ", kThreads * kPerThread / 10 * 45, "\n")));
  // 0 and 1 are <= 1; 2 <= 2; 3, 4 <= 4; 5..8 <= 8.
  EXPECT_TRUE(absl::StrContains(text, absl::StrCat("h_bucket{le=\"8\"} ", kThreads * 9 * 2000)));
}

TEST(MetricsRegistryTest, Counter_NegativeIncrement_Ignored) {
  MetricsRegistry registry;
  absl::StatusOr<CounterFamily*> family = registry.AddCounter("c_total", "C.", {});
  ASSERT_TRUE(family.ok());
  Counter& counter = (*family)->WithLabels({});
  counter.Increment(2);
  counter.Increment(-1);
  EXPECT_EQ(counter.Value(), 2);
}

TEST(MetricsRegistryTest, Register_SameFamilyTwice_ReturnsIt) {
  MetricsRegistry registry;
  absl::StatusOr<CounterFamily*> first = registry.AddCounter("c_total", "C.", {"a"});
  absl::StatusOr<CounterFamily*> second = registry.AddCounter("c_total", "C.", {"a"});
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(*first, *second);
}

TEST(MetricsRegistryTest, Register_ConflictingFamily_AlreadyExists) {
  MetricsRegistry registry;
  ASSERT_TRUE(registry.AddCounter("m", "M.", {"a"}).ok());
  ASSERT_TRUE(registry.AddHistogram("h", "H.", {}, {1, 2}).ok());
  EXPECT_EQ(registry.AddGauge("m", "M.", {"a"}).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(registry.AddCounter("m", "M.", {"b"}).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(registry.AddCounter("m", "Other help.", {"a"}).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(registry.AddHistogram("h", "H.", {}, {1, 3}).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(registry.AddCallback(MetricType::kCounter, "m", "M.", {"a"}, {"x"}, [] { return 1.0; })
                .code(),
            absl::StatusCode::kAlreadyExists);
}

TEST(MetricsRegistryTest, Register_InvalidNames_InvalidArgument) {
  MetricsRegistry registry;
  EXPECT_EQ(registry.AddCounter("", "E.", {}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddCounter("1st", "E.", {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddCounter("a-b", "E.", {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddCounter("ok", "E.", {"a:b"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddCounter("ok", "E.", {"__name"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddCounter("ok", "E.", {"a", "a"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddHistogram("h", "E.", {"le"}, {1}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddHistogram("h", "E.", {}, {2, 1}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddHistogram("h", "E.", {}, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.RenderText(), "");
}

TEST(MetricsRegistryDeathTest, WithLabels_WrongCount_Aborts) {
  MetricsRegistry registry;
  absl::StatusOr<CounterFamily*> family = registry.AddCounter("c_total", "C.", {"a", "b"});
  ASSERT_TRUE(family.ok());
  EXPECT_DEATH((*family)->WithLabels({"only one"}), "1 label values given for 2 label names");
}

TEST(ExponentialBucketsTest, GrowsByFactor) {
  EXPECT_EQ(ExponentialBuckets(0.001, 10, 4), (std::vector<double>{0.001, 0.01, 0.1, 1}));
  EXPECT_TRUE(ExponentialBuckets(0, 2, 3).empty());
  EXPECT_TRUE(ExponentialBuckets(1, 1, 3).empty());
}

TEST(ParseHttpRequestLineTest, AcceptsOriginFormHttp1) {
  absl::StatusOr<HttpRequestLine> request = ParseHttpRequestLine("GET /metrics?x=1 HTTP/1.1");
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->method, "GET");
  EXPECT_EQ(request->path, "/metrics");
  EXPECT_EQ(request->minor_version, 1);
  EXPECT_EQ(ParseHttpRequestLine("POST / HTTP/1.0")->minor_version, 0);
}

TEST(ParseHttpRequestLineTest, RejectsMalformed) {
  for (absl::string_view line : std::vector<absl::string_view>{
           "", "GET", "GET /metrics", "GET  /metrics HTTP/1.1", "get /metrics HTTP/1.1",
           "GET metrics HTTP/1.1", "GET http://x/metrics HTTP/1.1", "GET /metrics HTTP/2.0",
           "GET /metrics HTTP/1.1 ", "GET /m\x01 HTTP/1.1", "GET /m\xff HTTP/1.1",
           absl::string_view("GET /\0 HTTP/1.1", 15)}) {
    EXPECT_FALSE(ParseHttpRequestLine(line).ok()) << absl::CEscape(line);
  }
}

// --- HTTP server, over real sockets on loopback ---

int Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  EXPECT_EQ(connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
  // A broken server fails the test instead of hanging it.
  const timeval timeout = {10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  return fd;
}

void SendAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

// Sends `request` and returns everything the server writes until it closes.
std::string Exchange(int port, absl::string_view request) {
  const int fd = Connect(port);
  SendAll(fd, request);
  std::string response;
  char buffer[4096];
  ssize_t n;
  while ((n = recv(fd, buffer, sizeof(buffer), 0)) > 0) response.append(buffer, n);
  close(fd);
  return response;
}

std::unique_ptr<MetricsHttpServer> StartOnLoopback(const MetricsRegistry* registry,
                                                   absl::Duration client_timeout) {
  MetricsHttpOptions options;
  options.client_timeout = client_timeout;
  absl::StatusOr<std::unique_ptr<MetricsHttpServer>> server =
      MetricsHttpServer::Start("127.0.0.1:0", registry, options);
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? std::move(*server) : nullptr;
}

TEST(MetricsHttpServerTest, GetMetrics_ServesExposition) {
  MetricsRegistry registry;
  absl::StatusOr<CounterFamily*> family = registry.AddCounter("scrapes_total", "Scrapes.", {});
  ASSERT_TRUE(family.ok());
  (*family)->WithLabels({}).Increment(41);
  std::unique_ptr<MetricsHttpServer> server = StartOnLoopback(&registry, absl::Seconds(5));
  ASSERT_NE(server, nullptr);
  ASSERT_GT(server->port(), 0);

  const std::string response =
      Exchange(server->port(), "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n");
  const size_t head_end = response.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos) << response;
  const std::string head = response.substr(0, head_end + 2);
  const std::string body = response.substr(head_end + 4);
  EXPECT_TRUE(absl::StartsWith(head, "HTTP/1.1 200 OK\r\n")) << head;
  EXPECT_TRUE(
      absl::StrContains(head, "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"))
      << head;
  EXPECT_TRUE(absl::StrContains(head, absl::StrCat("\r\nContent-Length: ", body.size(), "\r\n")));
  EXPECT_TRUE(absl::StrContains(head, "\r\nConnection: close\r\n"));
  EXPECT_EQ(body, registry.RenderText());
  EXPECT_TRUE(absl::StrContains(body, "scrapes_total 41\n"));
}

TEST(MetricsHttpServerTest, BadRequests_ErrorStatus) {
  MetricsRegistry registry;
  std::unique_ptr<MetricsHttpServer> server = StartOnLoopback(&registry, absl::Seconds(5));
  ASSERT_NE(server, nullptr);
  const int port = server->port();
  EXPECT_TRUE(absl::StartsWith(Exchange(port, "GET / HTTP/1.0\r\n\r\n"), "HTTP/1.1 404 "));
  EXPECT_TRUE(absl::StartsWith(Exchange(port, "GET /metricsx HTTP/1.1\r\n\r\n"), "HTTP/1.1 404 "));
  const std::string post = Exchange(port, "POST /metrics HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(absl::StartsWith(post, "HTTP/1.1 405 ")) << post;
  EXPECT_TRUE(absl::StrContains(post, "\r\nAllow: GET\r\n"));
  EXPECT_TRUE(absl::StartsWith(Exchange(port, "\x16\x03\x01\x02\r\n\r\n"), "HTTP/1.1 400 "));
  EXPECT_TRUE(absl::StartsWith(Exchange(port, std::string(9000, 'A')), "HTTP/1.1 431 "));
  // Still serving after all that.
  EXPECT_TRUE(absl::StartsWith(Exchange(port, "GET /metrics HTTP/1.0\n\n"), "HTTP/1.1 200 "));
}

TEST(MetricsHttpServerTest, StuckClients_DoNotBlockNextScrape) {
  MetricsRegistry registry;
  std::unique_ptr<MetricsHttpServer> server = StartOnLoopback(&registry, absl::Milliseconds(200));
  ASSERT_NE(server, nullptr);
  const int silent = Connect(server->port());
  const int garbage = Connect(server->port());
  SendAll(garbage, "\x16\x03\x01 no end of head");
  const absl::Time start = absl::Now();
  EXPECT_TRUE(
      absl::StartsWith(Exchange(server->port(), "GET /metrics HTTP/1.1\r\n\r\n"), "HTTP/1.1 200 "));
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  close(silent);
  close(garbage);
}

TEST(MetricsHttpServerTest, Destructor_DropsClientBeingServed) {
  MetricsRegistry registry;
  std::unique_ptr<MetricsHttpServer> server = StartOnLoopback(&registry, absl::Seconds(60));
  ASSERT_NE(server, nullptr);
  const int silent = Connect(server->port());
  absl::SleepFor(absl::Milliseconds(50));  // Let the server start waiting on it.
  const absl::Time start = absl::Now();
  server.reset();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  close(silent);
}

TEST(MetricsHttpServerTest, Start_BadAddress_InvalidArgument) {
  MetricsRegistry registry;
  for (const char* listen : {"", "9464", "localhost:9464", "1.2.3:80", "127.0.0.1:", "127.0.0.1:x",
                             "127.0.0.1:65536", "127.0.0.1:+80", "::1:80", "[::1]80", "[::1"}) {
    absl::StatusOr<std::unique_ptr<MetricsHttpServer>> server =
        MetricsHttpServer::Start(listen, &registry);
    EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument) << listen;
    EXPECT_TRUE(absl::StrContains(server.status().message(), listen)) << listen;
  }
}

TEST(MetricsHttpServerTest, Start_AddressInUse_Unavailable) {
  MetricsRegistry registry;
  std::unique_ptr<MetricsHttpServer> first = StartOnLoopback(&registry, absl::Seconds(5));
  ASSERT_NE(first, nullptr);
  const std::string listen = absl::StrCat("127.0.0.1:", first->port());
  absl::StatusOr<std::unique_ptr<MetricsHttpServer>> second =
      MetricsHttpServer::Start(listen, &registry);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(second.status().message(), listen)) << second.status();
}

TEST(MetricsHttpServerTest, Start_Ipv6Loopback) {
  MetricsRegistry registry;
  absl::StatusOr<std::unique_ptr<MetricsHttpServer>> server =
      MetricsHttpServer::Start("[::1]:0", &registry);
  if (server.status().code() == absl::StatusCode::kUnavailable) {
    GTEST_SKIP() << "no IPv6 loopback: " << server.status();
  }
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_GT((*server)->port(), 0);
}

}  // namespace
}  // namespace motcua::adapters
