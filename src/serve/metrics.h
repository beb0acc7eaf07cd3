// ServeMetrics: the Prometheus counters and latency histogram of `deepcross serve`, as
// GET /metrics shows them (text exposition format 0.0.4). Recording is lock-free (relaxed
// atomics), so every connection thread records its own requests.
//
//   ServeMetrics m;
//   m.record(200, 0.00031, /*rows=*/1);   // one answered request: status, seconds, rows
//   m.record(413, 0.00002, 0);
//   std::string text = m.render();
//
// What render() prints:
//   deepcross_requests_total                  every answered request (errors included)
//   deepcross_rows_total                      rows scored by POST /v1/predict
//   deepcross_errors_total{code="413"}        answers with status >= 400, by status; the
//                                             codes 400 404 405 413 415 500 always appear
//   deepcross_request_seconds_bucket{le="…"}  histogram of the time from a request's last
//   deepcross_request_seconds_sum/_count      byte received to its answer ready (cumulative
//                                             buckets kBucketBounds, then le="+Inf")
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

namespace deepcross {

class ServeMetrics {
 public:
  // Upper bounds (seconds) of the histogram buckets.
  static constexpr std::array<double, 16> kBucketBounds = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
      0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};

  // One answered request. A status outside 100..599 counts as 500.
  void record(int status, double seconds, size_t rows);

  uint64_t requests() const { return requests_.load(std::memory_order_relaxed); }
  uint64_t rows() const { return rows_.load(std::memory_order_relaxed); }
  uint64_t errors(int status) const;  // answers with this status (>= 400), else 0

  std::string render() const;

 private:
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> rows_{0};
  std::array<std::atomic<uint64_t>, 200> errors_{};  // status 400..599
  // Per bucket, not cumulative: [i] counts seconds <= kBucketBounds[i] (and above the one
  // before); the last slot counts those above every bound.
  std::array<std::atomic<uint64_t>, kBucketBounds.size() + 1> buckets_{};
  std::atomic<uint64_t> sum_ns_{0};
};

}  // namespace deepcross
