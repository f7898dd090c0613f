#ifndef MOTCUA_ADAPTERS_METRICS_H_
#define MOTCUA_ADAPTERS_METRICS_H_

// Prometheus metrics for motcuad: an in-process registry of counters, gauges
// and histograms, rendered in the text exposition format 0.0.4, and a tiny
// HTTP endpoint that serves it on GET /metrics.
//
// Thread safety: every class here is safe to use from many threads. The hot
// path (Increment/Set/Add/Observe on a child already looked up) takes no lock;
// looking a child up takes its family's mutex, so callers on hot paths keep
// the reference WithLabels returns.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace motcua::adapters {

enum class MetricType { kCounter, kGauge, kHistogram };

// `count` bucket upper bounds: start, start*factor, start*factor^2, ...
// Empty unless start > 0, factor > 1 and count > 0.
std::vector<double> ExponentialBuckets(double start, double factor, int count);

namespace metrics_internal {

// What a family is. Registering a name again with an equal descriptor returns
// the family already registered; with a different one, an error.
struct Descriptor {
  std::string name;
  std::string help;
  MetricType type;
  bool callback;  // Values read from functions at scrape time.
  std::vector<std::string> label_names;
  std::vector<double> bucket_bounds;  // Histograms only.
  bool operator==(const Descriptor&) const = default;
};

class Family {
 public:
  explicit Family(Descriptor descriptor) : descriptor_(std::move(descriptor)) {}
  virtual ~Family() = default;
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  const Descriptor& descriptor() const { return descriptor_; }
  // Appends the family's sample lines, without # HELP and # TYPE.
  virtual void AppendSamples(std::string* out) const = 0;

 private:
  const Descriptor descriptor_;
};

}  // namespace metrics_internal

template <typename Child>
class MetricFamily;

// A value that only goes up, such as requests served.
class Counter {
 public:
  // A negative `delta` is ignored: a counter that went down would read as a
  // process restart to Prometheus' rate().
  void Increment(double delta = 1);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  friend class MetricFamily<Counter>;
  Counter() = default;
  void AppendSamples(const metrics_internal::Descriptor& d,
                     const std::vector<std::string>& label_values, std::string* out) const;

  std::atomic<double> value_{0};
};

// A value that goes up and down, such as dossiers waiting for a step.
class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Add(double delta) { value_.fetch_add(delta, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  friend class MetricFamily<Gauge>;
  Gauge() = default;
  void AppendSamples(const metrics_internal::Descriptor& d,
                     const std::vector<std::string>& label_values, std::string* out) const;

  std::atomic<double> value_{0};
};

// Counts observations (latencies, sizes) into the fixed buckets of its family.
// A scrape that races with Observe may show _sum one observation apart from
// _count; the buckets and _count always agree.
class Histogram {
 public:
  // NaN lands in the +Inf bucket only.
  void Observe(double value);

 private:
  friend class MetricFamily<Histogram>;
  explicit Histogram(const std::vector<double>& bounds);
  void AppendSamples(const metrics_internal::Descriptor& d,
                     const std::vector<std::string>& label_values, std::string* out) const;

  const std::vector<double>& bounds_;  // The family's; it outlives this.
  // Per bucket, not cumulative; the last one is +Inf.
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<double> sum_{0};
};

// Children of one metric name, one per combination of label values.
template <typename Child>
class MetricFamily final : public metrics_internal::Family {
 public:
  // The child for `label_values` (one per label name, in order), created at
  // zero on first use. The reference stays valid as long as the registry.
  // The wrong number of values is a programming error: it aborts.
  Child& WithLabels(const std::vector<std::string>& label_values);

 private:
  friend class MetricsRegistry;
  explicit MetricFamily(metrics_internal::Descriptor descriptor);
  void AppendSamples(std::string* out) const override;

  mutable absl::Mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<Child>> children_ ABSL_GUARDED_BY(mu_);
};

using CounterFamily = MetricFamily<Counter>;
using GaugeFamily = MetricFamily<Gauge>;
using HistogramFamily = MetricFamily<Histogram>;
extern template class MetricFamily<Counter>;
extern template class MetricFamily<Gauge>;
extern template class MetricFamily<Histogram>;

// One sample a collector reports at scrape time.
struct MetricSample {
  std::vector<std::string> label_values;
  double value;
};

// The metrics of one process. Families are never removed; a family without
// labels has its one child from the start, so it is exported at zero.
//
// Registration errors: INVALID_ARGUMENT for a name, label name or bucket list
// Prometheus would reject ("le" is reserved for histograms, names starting
// "__" for Prometheus); ALREADY_EXISTS when the name is registered with a
// different type, help, labels or buckets. Registering the very same family
// twice returns the first one, so two components may share a metric.
class MetricsRegistry {
 public:
  MetricsRegistry() = default;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  absl::StatusOr<CounterFamily*> AddCounter(absl::string_view name, absl::string_view help,
                                            std::vector<std::string> label_names);
  absl::StatusOr<GaugeFamily*> AddGauge(absl::string_view name, absl::string_view help,
                                        std::vector<std::string> label_names);
  // `bucket_bounds`: finite and strictly increasing; +Inf is added.
  absl::StatusOr<HistogramFamily*> AddHistogram(absl::string_view name, absl::string_view help,
                                                std::vector<std::string> label_names,
                                                std::vector<double> bucket_bounds);

  // Exports `read()` as the sample of `name` with `label_values`, for values
  // that live elsewhere (RocksDB properties, backup ages, queue lengths).
  // `type` is kCounter or kGauge. Several callbacks may share a name with
  // different label values; the same values twice is ALREADY_EXISTS.
  //
  // Callbacks and collectors run on the scraping thread with the registry
  // locked: they must be thread-safe, quick, must not call into the registry,
  // and must stay callable as long as the registry is scraped.
  absl::Status AddCallback(MetricType type, absl::string_view name, absl::string_view help,
                           std::vector<std::string> label_names,
                           std::vector<std::string> label_values, std::function<double()> read);
  // Like AddCallback, for a set of samples known only at scrape time. Samples
  // with the wrong number of label values are dropped; the collector must not
  // report the same label values twice.
  absl::Status AddCollector(MetricType type, absl::string_view name, absl::string_view help,
                            std::vector<std::string> label_names,
                            std::function<std::vector<MetricSample>()> collect);

  // Every family in the text exposition format 0.0.4, sorted by name, then by
  // label values, so that equal states render equal text.
  std::string RenderText() const;

 private:
  absl::StatusOr<metrics_internal::Family*> Register(
      std::unique_ptr<metrics_internal::Family> family);

  mutable absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<metrics_internal::Family>, std::less<>> families_
      ABSL_GUARDED_BY(mu_);
};

struct MetricsHttpOptions {
  // The whole exchange with one client, reading its request and writing the
  // answer, must end within this; a client that is slower is dropped. As
  // clients are served one at a time, it bounds how long a stuck client can
  // delay the next scrape.
  absl::Duration client_timeout = absl::Seconds(5);
};

// Serves registry->RenderText() on GET /metrics (404 for other paths, 405 for
// other methods, 400 for a malformed request, 431 past 8 KiB of request head)
// with "Connection: close". One thread, one client at a time: enough for a
// scrape every 15 s, and a client cannot make it hold more than 8 KiB.
class MetricsHttpServer {
 public:
  // Listens on `listen`: "a.b.c.d:port" or "[v6]:port", numeric hosts only;
  // port 0 picks a free one (see port()). `registry`, not null, must outlive
  // the server.
  // INVALID_ARGUMENT for a malformed address, UNAVAILABLE when it cannot be
  // bound (in use, not local); both name the address.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      const std::string& listen, const MetricsRegistry* registry,
      const MetricsHttpOptions& options = {});

  // Stops listening, drops the client being served, and joins the thread.
  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  int port() const { return port_; }

 private:
  enum class Wait { kReady, kTimeout, kStop };

  MetricsHttpServer(const MetricsRegistry* registry, const MetricsHttpOptions& options)
      : registry_(registry), options_(options) {}
  void Serve();
  void ServeClient(int fd);
  Wait WaitFor(int fd, short events, absl::Time deadline) const;
  void SendAll(int fd, absl::string_view data, absl::Time deadline) const;

  const MetricsRegistry* const registry_;
  const MetricsHttpOptions options_;
  int listen_fd_ = -1;
  int stop_fds_[2] = {-1, -1};  // A pipe; a byte written to [1] stops Serve().
  int port_ = 0;
  std::thread thread_;
};

// The first line of an HTTP/1.x request, as ParseHttpRequestLine reads it.
struct HttpRequestLine {
  std::string method;  // "GET"
  std::string path;    // "/metrics", without the query
  int minor_version;   // 0 or 1, of HTTP/1.x
};

// Parses a request line without its line end: "GET /metrics?x HTTP/1.1".
// INVALID_ARGUMENT unless it is method, origin-form target and HTTP/1.0 or
// HTTP/1.1, separated by single spaces. Safe on any bytes (a fuzz target).
absl::StatusOr<HttpRequestLine> ParseHttpRequestLine(absl::string_view line);

}  // namespace motcua::adapters

#endif  // MOTCUA_ADAPTERS_METRICS_H_
