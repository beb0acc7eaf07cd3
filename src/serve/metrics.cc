#include "serve/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace deepcross {
namespace {

constexpr int kAlwaysShown[] = {400, 404, 405, 413, 415, 500};

// Shortest round-trip text; `fixed` avoids exponents ("0.0001", not "1e-04").
void append_number(std::string& out, double v, bool fixed = false) {
  char buf[64];
  const auto r = fixed ? std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed)
                       : std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_line(std::string& out, std::string_view name, uint64_t v) {
  out += name;
  out += ' ';
  out += std::to_string(v);
  out += '\n';
}

}  // namespace

void ServeMetrics::record(int status, double seconds, size_t rows) {
  constexpr auto kRelaxed = std::memory_order_relaxed;
  if (status < 100 || status > 599) status = 500;
  requests_.fetch_add(1, kRelaxed);
  rows_.fetch_add(rows, kRelaxed);
  if (status >= 400) errors_[static_cast<size_t>(status - 400)].fetch_add(1, kRelaxed);
  if (!(seconds >= 0)) seconds = 0;  // NaN or negative: a clock oddity
  const size_t bucket =
      static_cast<size_t>(std::lower_bound(kBucketBounds.begin(), kBucketBounds.end(), seconds) -
                          kBucketBounds.begin());
  buckets_[bucket].fetch_add(1, kRelaxed);
  const double ns = std::min(seconds * 1e9, 1e15);  // a day and more saturates
  sum_ns_.fetch_add(static_cast<uint64_t>(std::llround(ns)), kRelaxed);
}

uint64_t ServeMetrics::errors(int status) const {
  if (status < 400 || status > 599) return 0;
  return errors_[static_cast<size_t>(status - 400)].load(std::memory_order_relaxed);
}

std::string ServeMetrics::render() const {
  std::string out;
  out.reserve(4096);
  out += "# HELP deepcross_requests_total HTTP requests answered, errors included.\n";
  out += "# TYPE deepcross_requests_total counter\n";
  append_line(out, "deepcross_requests_total", requests());
  out += "# HELP deepcross_rows_total Rows scored by POST /v1/predict.\n";
  out += "# TYPE deepcross_rows_total counter\n";
  append_line(out, "deepcross_rows_total", rows());
  out += "# HELP deepcross_errors_total Requests answered with an error status, by status.\n";
  out += "# TYPE deepcross_errors_total counter\n";
  for (int code = 400; code <= 599; ++code) {
    const uint64_t n = errors(code);
    if (n == 0 && std::find(std::begin(kAlwaysShown), std::end(kAlwaysShown), code) ==
                      std::end(kAlwaysShown)) {
      continue;
    }
    append_line(out, "deepcross_errors_total{code=\"" + std::to_string(code) + "\"}", n);
  }
  out +=
      "# HELP deepcross_request_seconds Time from a request's last byte received to its "
      "answer ready.\n";
  out += "# TYPE deepcross_request_seconds histogram\n";
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= kBucketBounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    out += "deepcross_request_seconds_bucket{le=\"";
    if (i < kBucketBounds.size()) {
      append_number(out, kBucketBounds[i], /*fixed=*/true);
    } else {
      out += "+Inf";
    }
    out += "\"} ";
    out += std::to_string(cumulative);
    out += '\n';
  }
  out += "deepcross_request_seconds_sum ";
  append_number(out, static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) * 1e-9);
  out += '\n';
  append_line(out, "deepcross_request_seconds_count", cumulative);
  return out;
}

}  // namespace deepcross
