// The Open Inference Protocol (KServe v2 REST, the protocol of KServe, Triton, Seldon and
// OpenVINO Model Server) in `deepcross serve`, beside its own /v1 API (serve/server.h).
//
//   GET  /v2/health/live                 200 {"live": true}
//   GET  /v2/health/ready                200 {"ready": true}
//   GET  /v2                             200 {"name": "deepcross", "version", "extensions"}
//   GET  /v2/models/{name}               200 model metadata: {"name", "versions": ["1"],
//                                        "platform": "deepcross", "inputs": [{"name",
//                                        "datatype", "shape": [-1]}, ...] one per field in the
//                                        model's order (BYTES categorical, FP32 numeric),
//                                        "outputs": [{"name": "probability", "datatype":
//                                        "FP32", "shape": [-1] or [-1, classes]}]}
//   GET  /v2/models/{name}/ready         200 {"name", "ready": true}
//   POST /v2/models/{name}/infer         the inference request below
// Each model route also answers under /v2/models/{name}/versions/1/...; HEAD wherever GET.
//
// Inference request: a JSON object (with or without a Content-Type header) {"id"?,
// "parameters"?, "inputs": [...], "outputs"?: [{"name": "probability", "parameters"?}]};
// unknown "parameters" are ignored. The inputs, either
//   - one per field, named after it: categorical fields BYTES (strings; "" or null missing),
//     numeric fields FP32 (FP64, INT32 and INT64 accepted too; null or NaN missing, the bare
//     NaN token as tritonclient and Triton write it), shape [N] or [N, 1], "data" flat or
//     nested row-major; every input the same N; a field not given is missing in every row;
//   - or one BYTES input of any other name holding raw lines in the training file's layout
//     (Criteo TSV with or without the label; for CSV/TSV layouts the header line first),
//     one or more lines per element, decoded as POST /v1/predict decodes a TSV body.
// The binary tensor extension is supported: a request with an Inference-Header-Content-Length
// header carries its JSON in the first that many bytes and the inputs whose parameters give
// "binary_data_size" after it, in input order (BYTES elements as a 4-byte little-endian
// length and the bytes; numbers little-endian).
// Answer: 200 {"model_name", "model_version": "1", "id" (when given), "outputs": [{"name":
// "probability", "datatype": "FP32", "shape": [N] or [N, classes], "data": [...]}]}, each
// probability printed in shortest round-trip form (it equals `deepcross predict`); in binary
// (application/octet-stream, Inference-Header-Content-Length) when the request asks for it
// ("binary_data_output": true in its parameters, or "binary_data": true in the output's).
// Errors: {"error": "message"} with 400 (malformed JSON or binary framing, wrong datatype,
// shape or element count, unknown or repeated input, bad value), 404 (another path under
// /v2/models/, an unknown model name or version), 405 (another method; with Allow), 413 (more than
// --max-rows rows).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "data/table.h"
#include "serve/request.h"
#include "serve/server.h"

namespace deepcross {

// What the v2 routes need of the model being served.
struct InferenceModel {
  std::string name;                                  // --name
  const RequestDecoder* decoder = nullptr;           // its fields, layout and limits
  int outputs = 1;                                   // 1, or the number of classes
  std::function<std::vector<float>(const Table&)> score;  // rows x outputs probabilities
};

// True for the paths above: "/v2", "/v2/health/live", "/v2/health/ready" and every path
// under "/v2/models/" (a trailing "/" allowed); the server answers others as unknown paths.
bool is_inference_protocol_path(std::string_view path);

// A v2 request, as the server's transport hands it over.
struct InferenceRequest {
  std::string_view method, path, body;
  const std::string* inference_header_length = nullptr;  // Inference-Header-Content-Length
};

// The answer to a v2 request; `rows` gets the number of rows scored. Never throws for a bad
// request (its answer is the error).
HttpResponse inference_protocol_answer(const InferenceRequest& request,
                                       const InferenceModel& model, size_t& rows);

}  // namespace deepcross
