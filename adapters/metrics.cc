#include "adapters/metrics.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <type_traits>

#include "absl/memory/memory.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace motcua::adapters {

using metrics_internal::Descriptor;
using metrics_internal::Family;

namespace {

constexpr size_t kMaxRequestHead = 8 * 1024;

// Integers print in full, never with an exponent; other values print in the
// shortest form that reads back to the same double.
void AppendValue(std::string* out, double value) {
  if (std::isnan(value)) {
    out->append("NaN");
  } else if (std::isinf(value)) {
    out->append(value > 0 ? "+Inf" : "-Inf");
  } else if (value == std::trunc(value) && std::abs(value) < 0x1p63) {
    absl::StrAppend(out, static_cast<int64_t>(value));
  } else {
    char buffer[32];
    out->append(buffer, std::to_chars(buffer, buffer + sizeof(buffer), value).ptr);
  }
}

// Label values escape \, " and newline; help text escapes \ and newline.
void AppendEscaped(std::string* out, absl::string_view text, bool escape_quote) {
  for (char c : text) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else if (c == '"' && escape_quote) {
      out->append("\\\"");
    } else {
      out->push_back(c);
    }
  }
}

// One sample line: name{label="value",...,le="..."} value. `le` is empty
// except for histogram buckets.
void AppendSample(std::string* out, absl::string_view name,
                  const std::vector<std::string>& label_names,
                  const std::vector<std::string>& label_values, absl::string_view le,
                  double value) {
  absl::StrAppend(out, name);
  if (!label_names.empty() || !le.empty()) {
    out->push_back('{');
    for (size_t i = 0; i < label_names.size(); ++i) {
      absl::StrAppend(out, i == 0 ? "" : ",", label_names[i], "=\"");
      AppendEscaped(out, label_values[i], /*escape_quote=*/true);
      out->push_back('"');
    }
    if (!le.empty()) absl::StrAppend(out, label_names.empty() ? "" : ",", "le=\"", le, "\"");
    out->push_back('}');
  }
  out->push_back(' ');
  AppendValue(out, value);
  out->push_back('\n');
}

absl::string_view TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

bool IsNameChar(char c, bool first, bool allow_colon) {
  return absl::ascii_isalpha(c) || c == '_' || (allow_colon && c == ':') ||
         (!first && absl::ascii_isdigit(c));
}

bool IsValidName(absl::string_view name, bool allow_colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!IsNameChar(name[i], i == 0, allow_colon)) return false;
  }
  return true;
}

absl::Status Validate(const Descriptor& d) {
  if (!IsValidName(d.name, /*allow_colon=*/true)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid metric name \"", d.name, "\""));
  }
  if (d.callback && d.type == MetricType::kHistogram) {
    return absl::InvalidArgumentError(
        absl::StrCat("metric ", d.name, ": callbacks export counters or gauges only"));
  }
  std::set<absl::string_view> seen;
  for (const std::string& label : d.label_names) {
    if (!IsValidName(label, /*allow_colon=*/false) || absl::StartsWith(label, "__") ||
        (label == "le" && d.type == MetricType::kHistogram) || !seen.insert(label).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("metric ", d.name, ": invalid or repeated label name \"", label, "\""));
    }
  }
  if (d.type == MetricType::kHistogram) {
    const std::vector<double>& b = d.bucket_bounds;
    if (b.empty() || !std::all_of(b.begin(), b.end(), [](double x) { return std::isfinite(x); }) ||
        std::adjacent_find(b.begin(), b.end(), std::greater_equal<>()) != b.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "metric ", d.name, ": bucket bounds must be finite and strictly increasing"));
    }
  }
  return absl::OkStatus();
}

// The family behind AddCallback and AddCollector.
class CallbackFamily final : public Family {
 public:
  using Family::Family;

  absl::Status AddCallback(std::vector<std::string> label_values, std::function<double()> read) {
    absl::MutexLock lock(&mu_);
    if (!callbacks_.try_emplace(label_values, std::move(read)).second) {
      return absl::AlreadyExistsError(absl::StrCat("metric ", descriptor().name, "{",
                                                   absl::StrJoin(label_values, ","),
                                                   "} already has a callback"));
    }
    return absl::OkStatus();
  }

  void AddCollector(std::function<std::vector<MetricSample>()> collect) {
    absl::MutexLock lock(&mu_);
    collectors_.push_back(std::move(collect));
  }

  void AppendSamples(std::string* out) const override {
    const Descriptor& d = descriptor();
    absl::MutexLock lock(&mu_);
    for (const auto& [label_values, read] : callbacks_) {
      AppendSample(out, d.name, d.label_names, label_values, "", read());
    }
    for (const auto& collect : collectors_) {
      for (const MetricSample& sample : collect()) {
        if (sample.label_values.size() != d.label_names.size()) continue;
        AppendSample(out, d.name, d.label_names, sample.label_values, "", sample.value);
      }
    }
  }

 private:
  mutable absl::Mutex mu_;
  std::map<std::vector<std::string>, std::function<double()>> callbacks_ ABSL_GUARDED_BY(mu_);
  std::vector<std::function<std::vector<MetricSample>()>> collectors_ ABSL_GUARDED_BY(mu_);
};

template <typename T>
absl::StatusOr<T*> Downcast(absl::StatusOr<Family*> family) {
  if (!family.ok()) return family.status();
  return static_cast<T*>(*family);
}

}  // namespace

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  std::vector<double> bounds;
  if (!(start > 0) || !(factor > 1)) return bounds;
  for (double bound = start; count > 0; --count, bound *= factor) bounds.push_back(bound);
  return bounds;
}

void Counter::Increment(double delta) {
  if (delta > 0) value_.fetch_add(delta, std::memory_order_relaxed);
}

void Counter::AppendSamples(const Descriptor& d, const std::vector<std::string>& label_values,
                            std::string* out) const {
  AppendSample(out, d.name, d.label_names, label_values, "", Value());
}

void Gauge::AppendSamples(const Descriptor& d, const std::vector<std::string>& label_values,
                          std::string* out) const {
  AppendSample(out, d.name, d.label_names, label_values, "", Value());
}

Histogram::Histogram(const std::vector<double>& bounds)
    : bounds_(bounds), counts_(std::make_unique<std::atomic<uint64_t>[]>(bounds.size() + 1)) {}

void Histogram::Observe(double value) {
  const size_t bucket =
      std::isnan(value) ? bounds_.size()
                        : std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

void Histogram::AppendSamples(const Descriptor& d, const std::vector<std::string>& label_values,
                              std::string* out) const {
  const std::string bucket_name = absl::StrCat(d.name, "_bucket");
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += counts_[i].load(std::memory_order_relaxed);
    std::string le = "+Inf";
    if (i < bounds_.size()) {
      le.clear();
      AppendValue(&le, bounds_[i]);
    }
    AppendSample(out, bucket_name, d.label_names, label_values, le,
                 static_cast<double>(cumulative));
  }
  AppendSample(out, absl::StrCat(d.name, "_sum"), d.label_names, label_values, "",
               sum_.load(std::memory_order_relaxed));
  AppendSample(out, absl::StrCat(d.name, "_count"), d.label_names, label_values, "",
               static_cast<double>(cumulative));
}

template <typename Child>
MetricFamily<Child>::MetricFamily(Descriptor descriptor) : Family(std::move(descriptor)) {
  if (this->descriptor().label_names.empty()) WithLabels({});
}

template <typename Child>
Child& MetricFamily<Child>::WithLabels(const std::vector<std::string>& label_values) {
  const Descriptor& d = descriptor();
  if (label_values.size() != d.label_names.size()) {
    std::fprintf(stderr, "metric %s: %zu label values given for %zu label names\n", d.name.c_str(),
                 label_values.size(), d.label_names.size());
    std::abort();
  }
  absl::MutexLock lock(&mu_);
  std::unique_ptr<Child>& child = children_[label_values];
  if (child == nullptr) {
    if constexpr (std::is_same_v<Child, Histogram>) {
      child.reset(new Child(d.bucket_bounds));
    } else {
      child.reset(new Child());
    }
  }
  return *child;
}

template <typename Child>
void MetricFamily<Child>::AppendSamples(std::string* out) const {
  absl::MutexLock lock(&mu_);
  for (const auto& [label_values, child] : children_) {
    child->AppendSamples(descriptor(), label_values, out);
  }
}

template class MetricFamily<Counter>;
template class MetricFamily<Gauge>;
template class MetricFamily<Histogram>;

absl::StatusOr<Family*> MetricsRegistry::Register(std::unique_ptr<Family> family) {
  const Descriptor& d = family->descriptor();
  if (absl::Status valid = Validate(d); !valid.ok()) return valid;
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = families_.try_emplace(d.name);
  if (inserted) {
    it->second = std::move(family);
  } else if (!(it->second->descriptor() == d)) {
    return absl::AlreadyExistsError(absl::StrCat(
        "metric ", d.name, " is already registered as a ", TypeName(it->second->descriptor().type),
        it->second->descriptor().callback ? " callback" : "",
        " with other help, labels or buckets"));
  }
  return it->second.get();
}

namespace {

// The descriptor of a family whose children are updated by code, not read
// from a callback.
Descriptor Updated(absl::string_view name, absl::string_view help, MetricType type,
                   std::vector<std::string> label_names, std::vector<double> bucket_bounds = {}) {
  return Descriptor{.name = std::string(name),
                    .help = std::string(help),
                    .type = type,
                    .callback = false,
                    .label_names = std::move(label_names),
                    .bucket_bounds = std::move(bucket_bounds)};
}

// The descriptor of a family whose samples are read at scrape time.
Descriptor Read(absl::string_view name, absl::string_view help, MetricType type,
                std::vector<std::string> label_names) {
  Descriptor d = Updated(name, help, type, std::move(label_names));
  d.callback = true;
  return d;
}

}  // namespace

absl::StatusOr<CounterFamily*> MetricsRegistry::AddCounter(absl::string_view name,
                                                           absl::string_view help,
                                                           std::vector<std::string> label_names) {
  return Downcast<CounterFamily>(Register(absl::WrapUnique(
      new CounterFamily(Updated(name, help, MetricType::kCounter, std::move(label_names))))));
}

absl::StatusOr<GaugeFamily*> MetricsRegistry::AddGauge(absl::string_view name,
                                                       absl::string_view help,
                                                       std::vector<std::string> label_names) {
  return Downcast<GaugeFamily>(Register(absl::WrapUnique(
      new GaugeFamily(Updated(name, help, MetricType::kGauge, std::move(label_names))))));
}

absl::StatusOr<HistogramFamily*> MetricsRegistry::AddHistogram(absl::string_view name,
                                                               absl::string_view help,
                                                               std::vector<std::string> label_names,
                                                               std::vector<double> bucket_bounds) {
  return Downcast<HistogramFamily>(Register(absl::WrapUnique(new HistogramFamily(Updated(
      name, help, MetricType::kHistogram, std::move(label_names), std::move(bucket_bounds))))));
}

absl::Status MetricsRegistry::AddCallback(MetricType type, absl::string_view name,
                                          absl::string_view help,
                                          std::vector<std::string> label_names,
                                          std::vector<std::string> label_values,
                                          std::function<double()> read) {
  if (label_values.size() != label_names.size()) {
    return absl::InvalidArgumentError(absl::StrCat("metric ", name, ": ", label_values.size(),
                                                   " label values given for ", label_names.size(),
                                                   " label names"));
  }
  absl::StatusOr<CallbackFamily*> family = Downcast<CallbackFamily>(
      Register(std::make_unique<CallbackFamily>(Read(name, help, type, std::move(label_names)))));
  if (!family.ok()) return family.status();
  return (*family)->AddCallback(std::move(label_values), std::move(read));
}

absl::Status MetricsRegistry::AddCollector(MetricType type, absl::string_view name,
                                           absl::string_view help,
                                           std::vector<std::string> label_names,
                                           std::function<std::vector<MetricSample>()> collect) {
  absl::StatusOr<CallbackFamily*> family = Downcast<CallbackFamily>(
      Register(std::make_unique<CallbackFamily>(Read(name, help, type, std::move(label_names)))));
  if (!family.ok()) return family.status();
  (*family)->AddCollector(std::move(collect));
  return absl::OkStatus();
}

std::string MetricsRegistry::RenderText() const {
  std::string out;
  absl::MutexLock lock(&mu_);
  for (const auto& [name, family] : families_) {
    absl::StrAppend(&out, "# HELP ", name, " ");
    AppendEscaped(&out, family->descriptor().help, /*escape_quote=*/false);
    absl::StrAppend(&out, "\n# TYPE ", name, " ", TypeName(family->descriptor().type), "\n");
    family->AppendSamples(&out);
  }
  return out;
}

// --- HTTP ---

absl::StatusOr<HttpRequestLine> ParseHttpRequestLine(absl::string_view line) {
  std::vector<absl::string_view> parts = absl::StrSplit(line, ' ');
  if (parts.size() != 3) {
    return absl::InvalidArgumentError("request line is not METHOD TARGET VERSION");
  }
  const absl::string_view method = parts[0], target = parts[1], version = parts[2];
  if (method.empty() || !std::all_of(method.begin(), method.end(), absl::ascii_isupper)) {
    return absl::InvalidArgumentError("malformed method");
  }
  // Origin form only, printable ASCII: no proxy forms, no raw bytes.
  if (target.empty() || target[0] != '/' ||
      !std::all_of(target.begin(), target.end(), [](char c) { return c > ' ' && c < 0x7f; })) {
    return absl::InvalidArgumentError("malformed request target");
  }
  HttpRequestLine request;
  if (version == "HTTP/1.0") {
    request.minor_version = 0;
  } else if (version == "HTTP/1.1") {
    request.minor_version = 1;
  } else {
    return absl::InvalidArgumentError("not HTTP/1.0 or HTTP/1.1");
  }
  request.method = std::string(method);
  request.path = std::string(target.substr(0, target.find('?')));
  return request;
}

namespace {

// "a.b.c.d:port" or "[v6]:port"; false when malformed.
bool ParseListenAddress(absl::string_view listen, sockaddr_storage* addr, socklen_t* addr_len) {
  const bool v6 = absl::ConsumePrefix(&listen, "[");
  const size_t colon = v6 ? listen.find("]:") : listen.rfind(':');
  if (colon == absl::string_view::npos) return false;
  const std::string host(listen.substr(0, colon));
  const absl::string_view port_text = listen.substr(colon + (v6 ? 2 : 1));
  int port = 0;
  if (port_text.empty() || port_text.size() > 5 ||
      !std::all_of(port_text.begin(), port_text.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(port_text, &port) || port > 65535) {
    return false;
  }
  *addr = {};
  if (v6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(addr);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(static_cast<uint16_t>(port));
    *addr_len = sizeof(sockaddr_in6);
    return inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) == 1;
  }
  auto* in4 = reinterpret_cast<sockaddr_in*>(addr);
  in4->sin_family = AF_INET;
  in4->sin_port = htons(static_cast<uint16_t>(port));
  *addr_len = sizeof(sockaddr_in);
  return inet_pton(AF_INET, host.c_str(), &in4->sin_addr) == 1;
}

std::string Response(absl::string_view status, absl::string_view content_type,
                     absl::string_view extra_headers, absl::string_view body) {
  return absl::StrCat("HTTP/1.1 ", status, "\r\nContent-Type: ", content_type,
                      "\r\nContent-Length: ", body.size(), "\r\n", extra_headers,
                      "Connection: close\r\n\r\n", body);
}

std::string ErrorResponse(absl::string_view status, absl::string_view extra_headers = "") {
  return Response(status, "text/plain; charset=utf-8", extra_headers, absl::StrCat(status, "\n"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    const std::string& listen, const MetricsRegistry* registry, const MetricsHttpOptions& options) {
  sockaddr_storage addr;
  socklen_t addr_len = 0;
  if (!ParseListenAddress(listen, &addr, &addr_len)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "metrics address \"", listen, "\": want a.b.c.d:port or [v6]:port, numeric host"));
  }
  // The destructor closes whatever an early return leaves open.
  std::unique_ptr<MetricsHttpServer> server(new MetricsHttpServer(registry, options));
  auto unavailable = [&listen](absl::string_view step) {
    return absl::UnavailableError(
        absl::StrCat("metrics address ", listen, ": ", step, ": ", std::strerror(errno)));
  };
  const int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return unavailable("socket");
  server->listen_fd_ = fd;
  // Lets a restarted server bind while its old connections sit in TIME_WAIT.
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd, reinterpret_cast<const sockaddr*>(&addr), addr_len) != 0) {
    return unavailable("bind");
  }
  if (::listen(fd, 16) != 0) return unavailable("listen");
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &addr_len) != 0) {
    return unavailable("getsockname");
  }
  server->port_ =
      ntohs(addr.ss_family == AF_INET ? reinterpret_cast<const sockaddr_in*>(&addr)->sin_port
                                      : reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
  if (pipe2(server->stop_fds_, O_CLOEXEC) != 0) return unavailable("pipe");
  server->thread_ = std::thread(&MetricsHttpServer::Serve, server.get());
  return server;
}

MetricsHttpServer::~MetricsHttpServer() {
  if (thread_.joinable()) {
    const char byte = 0;
    while (write(stop_fds_[1], &byte, 1) < 0 && errno == EINTR) {
    }
    thread_.join();
  }
  for (int fd : {listen_fd_, stop_fds_[0], stop_fds_[1]}) {
    if (fd >= 0) close(fd);
  }
}

MetricsHttpServer::Wait MetricsHttpServer::WaitFor(int fd, short events,
                                                   absl::Time deadline) const {
  for (;;) {
    int timeout_ms = -1;
    if (deadline != absl::InfiniteFuture()) {
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) return Wait::kTimeout;
      timeout_ms = static_cast<int>(std::min<int64_t>(
          absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1))), INT_MAX));
    }
    // poll() skips a negative fd, which makes WaitFor(-1, ...) a stoppable sleep.
    pollfd fds[2] = {{stop_fds_[0], POLLIN, 0}, {fd, events, 0}};
    const int n = poll(fds, 2, timeout_ms);
    if (n < 0 && errno != EINTR) return Wait::kTimeout;
    if (fds[0].revents != 0) return Wait::kStop;
    // Errors and hang-ups count as ready: the recv or send that follows reports them.
    if (n > 0 && fds[1].revents != 0) return Wait::kReady;
  }
}

void MetricsHttpServer::Serve() {
  for (;;) {
    const Wait wait = WaitFor(listen_fd_, POLLIN, absl::InfiniteFuture());
    if (wait == Wait::kStop) return;
    if (wait != Wait::kReady) continue;
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      // Out of descriptors or memory, the connection stays queued and poll()
      // would report it again at once: pause rather than spin.
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED &&
          WaitFor(-1, 0, absl::Now() + absl::Milliseconds(100)) == Wait::kStop) {
        return;
      }
      continue;
    }
    ServeClient(fd);
    close(fd);
  }
}

void MetricsHttpServer::SendAll(int fd, absl::string_view data, absl::Time deadline) const {
  while (!data.empty()) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
               WaitFor(fd, POLLOUT, deadline) == Wait::kReady) {
      continue;
    } else {
      return;
    }
  }
}

void MetricsHttpServer::ServeClient(int fd) {
  const absl::Time deadline = absl::Now() + options_.client_timeout;
  std::string head;
  std::string response;
  while (head.find("\r\n\r\n") == std::string::npos && head.find("\n\n") == std::string::npos) {
    if (head.size() >= kMaxRequestHead) {
      response = ErrorResponse("431 Request Header Fields Too Large");
      break;
    }
    if (WaitFor(fd, POLLIN, deadline) != Wait::kReady) return;
    char buffer[2048];
    const ssize_t n = recv(fd, buffer, std::min(sizeof(buffer), kMaxRequestHead - head.size()), 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) return;
    if (n > 0) head.append(buffer, static_cast<size_t>(n));
  }
  if (response.empty()) {
    absl::string_view line = absl::string_view(head).substr(0, head.find('\n'));
    absl::ConsumeSuffix(&line, "\r");
    absl::StatusOr<HttpRequestLine> request = ParseHttpRequestLine(line);
    if (!request.ok()) {
      response = ErrorResponse("400 Bad Request");
    } else if (request->method != "GET") {
      response = ErrorResponse("405 Method Not Allowed", "Allow: GET\r\n");
    } else if (request->path != "/metrics") {
      response = ErrorResponse("404 Not Found");
    } else {
      response = Response("200 OK", "text/plain; version=0.0.4; charset=utf-8", "",
                          registry_->RenderText());
    }
  }
  SendAll(fd, response, deadline);
  shutdown(fd, SHUT_WR);
  // Read what the client still sends until it closes: closing with unread
  // input would reset the connection and could destroy the answer in flight.
  char discard[2048];
  while (WaitFor(fd, POLLIN, deadline) == Wait::kReady) {
    const ssize_t n = recv(fd, discard, sizeof(discard), 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) return;
  }
}

}  // namespace motcua::adapters
