#include "serve/server.h"

#include <omp.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <new>
#include <string_view>
#include <utility>
#include <vector>

#include "core/blas.h"
#include "core/check.h"
#include "deepcross/error.h"
#include "serve/request.h"
#include "train/trainer.h"

namespace deepcross {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kJson = "application/json";
constexpr std::string_view kPrometheus = "text/plain; version=0.0.4; charset=utf-8";

// The inference clones, one per request computing at once.
class ClonePool {
 public:
  ClonePool(const Model<float>& source, int count, int batch_rows) {
    for (int i = 0; i < count; ++i) {
      std::unique_ptr<Model<float>> clone = Model<float>::inference_clone(source);
      clone->reserve(batch_rows);
      free_.push_back(clone.get());
      owned_.push_back(std::move(clone));
    }
  }

  // A clone held for the lifetime of the lease.
  class Lease {
   public:
    Lease(ClonePool& pool, Model<float>* model) : pool_(pool), model_(model) {}
    ~Lease() { pool_.release(model_); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Model<float>& operator*() const { return *model_; }

   private:
    ClonePool& pool_;
    Model<float>* model_;
  };

  // Waits for a free clone.
  Lease acquire() {
    std::unique_lock lock(mu_);
    freed_.wait(lock, [&] { return !free_.empty(); });
    Model<float>* m = free_.back();
    free_.pop_back();
    return Lease(*this, m);
  }

 private:
  void release(Model<float>* m) {
    {
      std::lock_guard lock(mu_);
      free_.push_back(m);
    }
    freed_.notify_one();
  }

  std::mutex mu_;
  std::condition_variable freed_;
  std::vector<Model<float>*> free_;
  std::vector<std::unique_ptr<Model<float>>> owned_;
};

// The request schema of a model: its fields in order (numeric, then categorical, as the
// preprocessor stores them), the label name, and its training layout for TSV bodies.
RequestSchema schema_of(const TrainedModel& tm) {
  RequestSchema s;
  for (const std::string& name : tm.preprocessor.numeric_names()) s.fields.push_back({name, false});
  for (const std::string& name : tm.preprocessor.categorical_names()) {
    s.fields.push_back({name, true});
  }
  s.layout = tm.layout;
  s.layout.label_policy = LabelPolicy::kOptional;
  s.layout.bad_lines = BadLines::kError;
  s.layout.threads = 1;
  s.label_name = tm.layout.format == Format::kCriteo ? "label" : tm.layout.label;
  return s;
}

HttpResponse json_response(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = kJson;
  r.body = std::move(body);
  return r;
}

HttpResponse error_response(const RequestError& e) {
  return json_response(e.status, error_body(e).dump());
}

HttpResponse error_response(int status, std::string message) {
  return error_response(RequestError(status, std::move(message)));
}

// {"predictions":[p,...]} or, for k > 1 classes, {"predictions":[[p1,...,pk],...]}.
std::string predictions_json(const std::vector<float>& probs, size_t rows, int k) {
  std::string out;
  out.reserve(24 + rows * (k == 1 ? 14 : 2 + 14 * static_cast<size_t>(k)));
  out += "{\"predictions\":[";
  char num[32];
  for (size_t r = 0; r < rows; ++r) {
    if (r) out += ',';
    if (k > 1) out += '[';
    for (int c = 0; c < k; ++c) {
      if (c) out += ',';
      const float p = probs[r * static_cast<size_t>(k) + static_cast<size_t>(c)];
      if (std::isfinite(p)) {
        const auto res = std::to_chars(num, num + sizeof num, p);
        out.append(num, res.ptr);
      } else {
        out += "null";  // not reached for a sane model; JSON has no NaN
      }
    }
    if (k > 1) out += ']';
  }
  out += "]}";
  return out;
}

// The known paths and the methods each accepts.
struct Route {
  std::string_view path;
  std::string_view allow;
};
constexpr Route kRoutes[] = {
    {"/v1/predict", "POST"},
    {"/health", "GET, HEAD"},
    {"/v1/model", "GET, HEAD"},
    {"/metrics", "GET, HEAD"},
};

// OpenMP's thread count is per thread: set it once in each connection thread.
void single_threaded_compute() {
  thread_local const bool done = [] {
    omp_set_num_threads(1);
    return true;
  }();
  (void)done;
}

}  // namespace

struct ScoringServer::Impl {
  Impl(TrainedModel model, const ServeOptions& o)
      : tm(std::move(model)),
        options(o),
        schema(schema_of(tm)),
        info(model_info(tm).dump()),
        clones(*tm.model, o.threads, o.batch_rows),
        http([this](const HttpRequest& r) { return handle(r); },
             [this](int status, std::string_view message) { return reject(status, message); },
             http_options(o)) {
    limits.max_rows = o.max_rows;
    limits.max_body_bytes = o.max_body_bytes;
  }

  static HttpOptions http_options(const ServeOptions& o) {
    HttpOptions h = o.http;
    h.max_body_bytes = o.max_body_bytes;
    return h;
  }

  HttpResponse handle(const HttpRequest& req);
  HttpResponse route(const HttpRequest& req, size_t& rows);
  HttpResponse predict(const HttpRequest& req, size_t& rows);
  HttpResponse reject(int status, std::string_view message) {
    HttpResponse r = error_response(status, std::string(message));
    metrics.record(status, 0, 0);
    return r;
  }

  TrainedModel tm;
  ServeOptions options;
  RequestSchema schema;
  RequestLimits limits;
  std::string info;
  ClonePool clones;
  ServeMetrics metrics;
  HttpServer http;
};

HttpResponse ScoringServer::Impl::handle(const HttpRequest& req) {
  const Clock::time_point start = Clock::now();
  size_t rows = 0;
  HttpResponse res;
  try {
    res = route(req, rows);
  } catch (const RequestError& e) {
    res = error_response(e);
  } catch (const DataError& e) {
    res = error_response(kStatusBadRequest, e.message());
  } catch (const std::bad_alloc&) {
    res = error_response(500, "out of memory");
  } catch (const std::exception& e) {
    res = error_response(500, std::string("internal error: ") + e.what());
  } catch (...) {
    res = error_response(500, "internal error");
  }
  if (res.status >= 400) rows = 0;
  metrics.record(res.status, std::chrono::duration<double>(Clock::now() - start).count(), rows);
  return res;
}

HttpResponse ScoringServer::Impl::route(const HttpRequest& req, size_t& rows) {
  const Route* route = nullptr;
  for (const Route& r : kRoutes) {
    if (req.path == r.path) route = &r;
  }
  if (route == nullptr) return error_response(404, "no such path '" + req.path + "'");
  const bool get = req.method == "GET" || req.method == "HEAD";
  if (route->allow == "POST" ? req.method != "POST" : !get) {
    HttpResponse r = error_response(405, "method " + req.method + " is not allowed on " + req.path +
                                             " (allowed: " + std::string(route->allow) + ")");
    r.allow = route->allow;
    return r;
  }
  if (req.path == "/v1/predict") return predict(req, rows);
  if (req.path == "/health") return json_response(200, R"({"status":"ok"})");
  if (req.path == "/v1/model") return json_response(200, info);
  HttpResponse r;
  r.content_type = kPrometheus;
  r.body = metrics.render();
  return r;
}

HttpResponse ScoringServer::Impl::predict(const HttpRequest& req, size_t& rows) {
  const std::string* content_type = req.header("content-type");
  if (content_type == nullptr) {
    throw RequestError(kStatusUnsupportedMediaType,
                       "missing Content-Type (expected application/json or "
                       "text/tab-separated-values)");
  }
  const Table table = decode_request(*content_type, req.body, schema, limits);
  const EncodedData data = tm.preprocessor.encode(table, {}, 1);
  const int k = tm.model->outputs();
  rows = data.rows;
  if (data.rows == 0) return json_response(200, R"({"predictions":[]})");
  single_threaded_compute();
  std::vector<float> probs;
  {
    ClonePool::Lease clone = clones.acquire();
    probs = predict_probabilities(*clone, data, options.batch_rows);
  }
  return json_response(200, predictions_json(probs, data.rows, k));
}

ScoringServer::ScoringServer(TrainedModel model, const ServeOptions& options) {
  DC_CHECK(options.threads >= 1 && options.batch_rows >= 1 && model.model != nullptr);
  set_blas_threads(1);
  impl_ = std::make_unique<Impl>(std::move(model), options);
}

ScoringServer::~ScoringServer() = default;

int ScoringServer::listen() { return impl_->http.listen(impl_->options.host, impl_->options.port); }

void ScoringServer::run() { impl_->http.run(); }

void ScoringServer::stop() { impl_->http.stop(); }

HttpResponse ScoringServer::handle(const HttpRequest& request) { return impl_->handle(request); }

const ServeMetrics& ScoringServer::metrics() const { return impl_->metrics; }

const TrainedModel& ScoringServer::model() const { return impl_->tm; }

}  // namespace deepcross
