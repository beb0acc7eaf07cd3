#include "serve/inference_protocol.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <unordered_map>
#include <utility>

#include <nlohmann/json.hpp>

#include "deepcross/error.h"

namespace deepcross {
namespace {

using nlohmann::json;

constexpr std::string_view kVersion = "1";
constexpr std::string_view kOutput = "probability";
constexpr int kMaxDepth = 16;  // JSON nesting; a valid request nests 5 deep

// A refused request: its status and message.
struct Refusal {
  int status;
  std::string message;
};

[[noreturn]] void refuse(int status, std::string message) {
  throw Refusal{status, std::move(message)};
}

HttpResponse json_answer(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

HttpResponse error_answer(int status, const std::string& message) {
  return json_answer(status, json{{"error", message}});
}

// Checks the body's JSON text before it is parsed: no NUL byte, nesting at most kMaxDepth,
// and the bare token NaN (outside strings; Python's json and tritonclient write a missing
// float so) replaced by null, which has the same length minus one: returns the text to parse.
std::string prepare_json(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  int depth = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\0') refuse(400, "malformed JSON: a NUL byte at byte " + std::to_string(i));
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < text.size()) {
        out += text[++i];
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxDepth) {
        refuse(400, "JSON nested deeper than " + std::to_string(kMaxDepth) + " at byte " +
                        std::to_string(i));
      }
    } else if (c == ']' || c == '}') {
      --depth;
    } else if (c == 'N' && text.substr(i, 3) == "NaN") {
      out += "null";
      i += 2;
      continue;
    }
    out += c;
  }
  return out;
}

json parse_json(std::string_view text) {
  const std::string prepared = prepare_json(text);
  try {
    return json::parse(prepared);
  } catch (const json::parse_error& e) {
    refuse(400, std::string("malformed JSON: ") + e.what());
  }
}

const json* member(const json& object, const char* key) {
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::string describe(const json& j) {
  std::string s = j.dump(-1, ' ', false, json::error_handler_t::replace);
  return s.size() > 40 ? s.substr(0, 40) + "..." : s;
}

// The elements of one input, from JSON "data" (flat or nested) or from its binary bytes.
struct InputTensor {
  std::string name, datatype;
  size_t rows = 0;
  std::vector<std::optional<std::string>> strings;  // BYTES; nullopt = null
  std::vector<float> numbers;                        // numbers; NaN = missing
};

bool is_numeric_type(std::string_view t) {
  return t == "FP32" || t == "FP64" || t == "INT32" || t == "INT64";
}

// Walks "data", flattening nested arrays in row-major order (iteratively: depth is bounded).
void flatten(const json& data, std::vector<const json*>& out) {
  std::vector<const json*> stack = {&data};
  while (!stack.empty()) {
    const json* j = stack.back();
    stack.pop_back();
    if (j->is_array()) {
      for (auto it = j->rbegin(); it != j->rend(); ++it) stack.push_back(&*it);
    } else {
      out.push_back(j);
    }
  }
}

float number_value(const json& v, const std::string& input, size_t index) {
  if (v.is_null()) return std::numeric_limits<float>::quiet_NaN();
  if (!v.is_number()) {
    refuse(400, "input " + input + " element " + std::to_string(index) + ": " + describe(v) +
                    " is not a number");
  }
  const double d = v.get<double>();
  if (!std::isfinite(d) || std::fabs(d) > std::numeric_limits<float>::max()) {
    refuse(400, "input " + input + " element " + std::to_string(index) + ": " + describe(v) +
                    " is not a finite float");
  }
  return static_cast<float>(d);
}

// Reads one input's elements from the binary part at `offset` (advanced).
void read_binary(InputTensor& t, size_t elements, std::string_view binary, size_t& offset,
                 size_t size) {
  if (size > binary.size() - offset) {
    refuse(400, "input " + t.name + ": binary_data_size " + std::to_string(size) +
                    " runs past the end of the body");
  }
  const std::string_view bytes = binary.substr(offset, size);
  offset += size;
  auto element_size = [&](size_t width) {
    if (bytes.size() != elements * width) {
      refuse(400, "input " + t.name + ": " + std::to_string(bytes.size()) + " bytes of " +
                      t.datatype + " for " + std::to_string(elements) + " elements");
    }
  };
  if (t.datatype == "BYTES") {
    size_t at = 0;
    while (at < bytes.size()) {
      if (bytes.size() - at < 4) refuse(400, "input " + t.name + ": truncated BYTES element");
      uint32_t n = 0;
      for (int k = 0; k < 4; ++k) n |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + k])) << (8 * k);
      at += 4;
      if (n > bytes.size() - at) refuse(400, "input " + t.name + ": truncated BYTES element");
      t.strings.emplace_back(std::string(bytes.substr(at, n)));
      at += n;
    }
    if (t.strings.size() != elements) {
      refuse(400, "input " + t.name + ": " + std::to_string(t.strings.size()) +
                      " BYTES elements for shape of " + std::to_string(elements));
    }
    return;
  }
  const size_t width = t.datatype == "FP64" || t.datatype == "INT64" ? 8 : 4;
  element_size(width);
  for (size_t i = 0; i < elements; ++i) {
    const char* p = bytes.data() + i * width;
    double v;
    if (t.datatype == "FP32") {
      float f;
      std::memcpy(&f, p, 4);
      v = f;
    } else if (t.datatype == "FP64") {
      std::memcpy(&v, p, 8);
    } else if (t.datatype == "INT32") {
      int32_t n;
      std::memcpy(&n, p, 4);
      v = n;
    } else {
      int64_t n;
      std::memcpy(&n, p, 8);
      v = static_cast<double>(n);
    }
    if (std::isnan(v)) {
      t.numbers.push_back(std::numeric_limits<float>::quiet_NaN());
    } else {
      t.numbers.push_back(number_value(json(v), t.name, i));
    }
  }
}

// One entry of "inputs", checked.
InputTensor read_input(const json& in, size_t index, size_t max_rows, std::string_view binary,
                       size_t& binary_offset) {
  const std::string where = "inputs[" + std::to_string(index) + "]";
  if (!in.is_object()) refuse(400, where + " is not an object");
  const json* name = member(in, "name");
  const json* datatype = member(in, "datatype");
  const json* shape = member(in, "shape");
  if (name == nullptr || !name->is_string()) refuse(400, where + ": \"name\" must be a string");
  InputTensor t;
  t.name = name->get<std::string>();
  if (datatype == nullptr || !datatype->is_string()) {
    refuse(400, "input " + t.name + ": \"datatype\" must be a string");
  }
  t.datatype = datatype->get<std::string>();
  if (t.datatype != "BYTES" && !is_numeric_type(t.datatype)) {
    refuse(400, "input " + t.name + ": datatype " + t.datatype +
                    " is not supported (BYTES, FP32, FP64, INT32, INT64)");
  }
  if (shape == nullptr || !shape->is_array() || shape->empty() || shape->size() > 2) {
    refuse(400, "input " + t.name + ": \"shape\" must be [N] or [N, 1]");
  }
  for (const json& d : *shape) {
    if (!d.is_number_integer() || d.get<int64_t>() < 0) {
      refuse(400, "input " + t.name + ": \"shape\" must be [N] or [N, 1], not " + describe(*shape));
    }
  }
  if (shape->size() == 2 && (*shape)[1].get<int64_t>() != 1) {
    refuse(400, "input " + t.name + ": \"shape\" must be [N] or [N, 1], not " + describe(*shape));
  }
  const uint64_t rows = (*shape)[0].get<uint64_t>();
  if (rows > max_rows) {
    refuse(413, "input " + t.name + " has " + std::to_string(rows) + " rows, more than the limit of " +
                    std::to_string(max_rows) + " (--max-rows)");
  }
  t.rows = static_cast<size_t>(rows);

  const json* params = member(in, "parameters");
  const json* binary_size = params != nullptr && params->is_object()
                                ? member(*params, "binary_data_size")
                                : nullptr;
  const json* data = member(in, "data");
  if (binary_size != nullptr) {
    if (!binary_size->is_number_unsigned()) {
      refuse(400, "input " + t.name + ": binary_data_size must be a non-negative integer");
    }
    read_binary(t, t.rows, binary, binary_offset, binary_size->get<size_t>());
    return t;
  }
  if (data == nullptr) refuse(400, "input " + t.name + ": no \"data\" (nor binary_data_size)");
  std::vector<const json*> elements;
  flatten(*data, elements);
  if (elements.size() != t.rows) {
    refuse(400, "input " + t.name + ": " + std::to_string(elements.size()) +
                    " elements for shape " + describe(*shape));
  }
  for (size_t i = 0; i < elements.size(); ++i) {
    const json& v = *elements[i];
    if (t.datatype == "BYTES") {
      if (v.is_null()) {
        t.strings.emplace_back(std::nullopt);
      } else if (v.is_string()) {
        t.strings.emplace_back(v.get<std::string>());
      } else {
        refuse(400, "input " + t.name + " element " + std::to_string(i) + ": " + describe(v) +
                        " is not a string");
      }
    } else {
      t.numbers.push_back(number_value(v, t.name, i));
    }
  }
  return t;
}

// The model's fields from per-field inputs (a field not given is missing in every row).
Table table_from_fields(std::vector<InputTensor>& inputs, const RequestSchema& schema,
                        size_t rows) {
  Table table;
  table.rows = rows;
  table.sources = {"request"};
  table.source_rows = {rows};
  for (const FieldSpec& f : schema.fields) {
    InputTensor* given = nullptr;
    for (InputTensor& t : inputs) {
      if (t.name == f.name) given = &t;
    }
    if (!f.categorical) {
      NumericColumn col{f.name, {}};
      if (given != nullptr) {
        col.values = std::move(given->numbers);
      } else {
        col.values.assign(rows, std::numeric_limits<float>::quiet_NaN());
      }
      table.numeric.push_back(std::move(col));
      continue;
    }
    CategoricalColumn col;
    col.name = f.name;
    col.codes.reserve(rows);
    std::unordered_map<std::string, uint32_t> codes;
    for (size_t r = 0; r < rows; ++r) {
      std::string value = given != nullptr && given->strings[r] ? *given->strings[r] : std::string();
      const auto [it, fresh] = codes.emplace(value, static_cast<uint32_t>(col.dictionary.size()));
      if (fresh) col.dictionary.push_back(std::move(value));
      col.codes.push_back(it->second);
    }
    table.categorical.push_back(std::move(col));
  }
  return table;
}

std::string float_text(float p) {
  if (!std::isfinite(p)) return "null";
  char num[32];
  const auto res = std::to_chars(num, num + sizeof num, p);
  return std::string(num, res.ptr);
}

HttpResponse infer(const InferenceRequest& req, const InferenceModel& model, size_t& rows) {
  // The JSON part and, with the binary extension, the bytes after it.
  std::string_view text = req.body, binary;
  if (req.inference_header_length != nullptr) {
    const std::string& h = *req.inference_header_length;
    size_t n = 0;
    const auto [end, ec] = std::from_chars(h.data(), h.data() + h.size(), n);
    if (ec != std::errc() || end != h.data() + h.size() || n > req.body.size()) {
      refuse(400, "Inference-Header-Content-Length '" + h + "' is not a length within the body (" +
                      std::to_string(req.body.size()) + " bytes)");
    }
    text = req.body.substr(0, n);
    binary = req.body.substr(n);
  }
  const json body = parse_json(text);
  if (!body.is_object()) refuse(400, "the inference request must be a JSON object");
  const json* id = member(body, "id");
  if (id != nullptr && !id->is_string()) refuse(400, "\"id\" must be a string");
  bool binary_output = false;
  if (const json* p = member(body, "parameters"); p != nullptr) {
    if (!p->is_object()) refuse(400, "\"parameters\" must be an object");
    if (const json* b = member(*p, "binary_data_output"); b != nullptr && b->is_boolean()) {
      binary_output = b->get<bool>();
    }
  }
  if (const json* outs = member(body, "outputs"); outs != nullptr) {
    if (!outs->is_array()) refuse(400, "\"outputs\" must be an array");
    for (const json& o : *outs) {
      const json* name = o.is_object() ? member(o, "name") : nullptr;
      if (name == nullptr || !name->is_string() || *name != kOutput) {
        refuse(400, "unknown output " + (name ? describe(*name) : describe(o)) +
                        " (the model has one output, \"probability\")");
      }
      if (const json* p = member(o, "parameters"); p != nullptr && p->is_object()) {
        if (const json* b = member(*p, "binary_data"); b != nullptr && b->is_boolean()) {
          binary_output = b->get<bool>();
        }
      }
    }
  }
  const json* inputs = member(body, "inputs");
  if (inputs == nullptr || !inputs->is_array() || inputs->empty()) {
    refuse(400, "\"inputs\" must be a non-empty array");
  }
  const RequestSchema& schema = model.decoder->schema();
  const size_t max_rows = model.decoder->limits().max_rows;
  std::vector<InputTensor> tensors;
  size_t binary_offset = 0;
  for (size_t i = 0; i < inputs->size(); ++i) {
    tensors.push_back(read_input((*inputs)[i], i, max_rows, binary, binary_offset));
  }
  if (binary_offset != binary.size()) {
    refuse(400, std::to_string(binary.size() - binary_offset) +
                    " bytes after the JSON are not claimed by any input's binary_data_size");
  }

  auto field_of = [&](const std::string& name) -> const FieldSpec* {
    for (const FieldSpec& f : schema.fields) {
      if (f.name == name) return &f;
    }
    return nullptr;
  };
  Table table;
  if (tensors.size() == 1 && tensors[0].datatype == "BYTES" && field_of(tensors[0].name) == nullptr) {
    // Raw lines in the training file's layout.
    std::string lines;
    for (const auto& s : tensors[0].strings) {
      if (!s) continue;
      lines += *s;
      if (!s->empty() && s->back() != '\n') lines += '\n';
    }
    try {
      table = model.decoder->decode_tsv(lines);
    } catch (const RequestError& e) {
      std::string where;
      if (e.row >= 0) where += "row " + std::to_string(e.row);
      if (!e.field.empty()) where += (where.empty() ? "field " : ", field ") + e.field;
      refuse(e.status == 415 ? 400 : e.status,
             "input " + tensors[0].name + ": " + e.message + (where.empty() ? "" : " (" + where + ")"));
    }
  } else {
    for (size_t i = 0; i < tensors.size(); ++i) {
      const InputTensor& t = tensors[i];
      const FieldSpec* f = field_of(t.name);
      if (f == nullptr) {
        refuse(400, "unknown input '" + t.name + "' (the model's inputs are its fields, see GET /v2/models/" +
                        model.name + "; or one BYTES input of raw lines)");
      }
      for (size_t j = 0; j < i; ++j) {
        if (tensors[j].name == t.name) refuse(400, "input " + t.name + " is given twice");
      }
      if (f->categorical && t.datatype != "BYTES") {
        refuse(400, "input " + t.name + " is categorical: datatype BYTES expected, not " + t.datatype);
      }
      if (!f->categorical && t.datatype == "BYTES") {
        refuse(400, "input " + t.name + " is numeric: datatype FP32 expected, not BYTES");
      }
      if (t.rows != tensors[0].rows) {
        refuse(400, "input " + t.name + " has " + std::to_string(t.rows) + " rows, input " +
                        tensors[0].name + " " + std::to_string(tensors[0].rows));
      }
    }
    table = table_from_fields(tensors, schema, tensors[0].rows);
  }

  rows = table.rows;
  const int k = model.outputs;
  std::vector<float> probs;
  if (table.rows > 0) probs = model.score(table);
  json shape = k == 1 ? json::array({table.rows}) : json::array({table.rows, k});
  // The answer, built as text so that each float prints in shortest round-trip form.
  std::string head = "{\"model_name\":" + json(model.name).dump(-1, ' ', false, json::error_handler_t::replace) +
                     ",\"model_version\":\"" + std::string(kVersion) + "\"";
  if (id != nullptr) head += ",\"id\":" + id->dump(-1, ' ', false, json::error_handler_t::replace);
  head += ",\"outputs\":[{\"name\":\"probability\",\"datatype\":\"FP32\",\"shape\":" + shape.dump();
  HttpResponse r;
  if (binary_output) {
    head += ",\"parameters\":{\"binary_data_size\":" + std::to_string(probs.size() * 4) + "}}]}";
    r.content_type = "application/octet-stream";
    r.headers.emplace_back("Inference-Header-Content-Length", std::to_string(head.size()));
    r.body = head;
    r.body.append(reinterpret_cast<const char*>(probs.data()), probs.size() * sizeof(float));
    return r;
  }
  head += ",\"data\":[";
  for (size_t i = 0; i < probs.size(); ++i) {
    if (i) head += ',';
    head += float_text(probs[i]);
  }
  head += "]}]}";
  r.content_type = "application/json";
  r.body = std::move(head);
  return r;
}

json metadata(const InferenceModel& model) {
  json inputs = json::array();
  for (const FieldSpec& f : model.decoder->schema().fields) {
    inputs.push_back({{"name", f.name}, {"datatype", f.categorical ? "BYTES" : "FP32"},
                      {"shape", json::array({-1})}});
  }
  const json shape = model.outputs == 1 ? json::array({-1}) : json::array({-1, model.outputs});
  return {{"name", model.name},
          {"versions", json::array({kVersion})},
          {"platform", "deepcross"},
          {"inputs", std::move(inputs)},
          {"outputs", json::array({{{"name", kOutput}, {"datatype", "FP32"}, {"shape", shape}}})}};
}

HttpResponse not_allowed(const InferenceRequest& req, std::string_view allow) {
  HttpResponse r = error_answer(405, "method " + std::string(req.method) + " is not allowed on " +
                                         std::string(req.path) + " (allowed: " +
                                         std::string(allow) + ")");
  r.allow = allow;
  return r;
}

HttpResponse route(const InferenceRequest& req, const InferenceModel& model, size_t& rows) {
  const bool get = req.method == "GET" || req.method == "HEAD";
  std::string_view path = req.path;
  if (path.size() > 3 && path.back() == '/') path.remove_suffix(1);
  auto get_only = [&](const json& body) {
    return get ? json_answer(200, body) : not_allowed(req, "GET, HEAD");
  };
  if (path == "/v2") {
    return get_only({{"name", "deepcross"},
                     {"version", "0.1.0"},
                     {"extensions", json::array({"binary_tensor_data"})}});
  }
  if (path == "/v2/health/live") return get_only({{"live", true}});
  if (path == "/v2/health/ready") return get_only({{"ready", true}});
  constexpr std::string_view kModels = "/v2/models/";
  if (!path.starts_with(kModels)) refuse(404, "no such path '" + std::string(req.path) + "'");
  std::string_view rest = path.substr(kModels.size());
  // {name}[/versions/{v}][/ready|/infer]
  std::string_view action;
  for (std::string_view suffix : {"/ready", "/infer"}) {
    if (rest.ends_with(suffix)) {
      action = suffix.substr(1);
      rest.remove_suffix(suffix.size());
      break;
    }
  }
  std::string_view name = rest, version;
  if (const size_t v = rest.find("/versions/"); v != std::string_view::npos) {
    name = rest.substr(0, v);
    version = rest.substr(v + 10);
  }
  if (name != model.name) {
    refuse(404, "unknown model '" + std::string(name) + "' (this server serves '" + model.name + "')");
  }
  if (!version.empty() && version != kVersion) {
    refuse(404, "model " + model.name + " has no version '" + std::string(version) + "' (only " +
                    std::string(kVersion) + ")");
  }
  if (action == "ready") return get_only({{"name", model.name}, {"ready", true}});
  if (action == "infer") {
    if (req.method != "POST") return not_allowed(req, "POST");
    return infer(req, model, rows);
  }
  return get_only(metadata(model));
}

}  // namespace

bool is_inference_protocol_path(std::string_view path) {
  if (path.size() > 3 && path.back() == '/') path.remove_suffix(1);
  return path == "/v2" || path == "/v2/health/live" || path == "/v2/health/ready" ||
         path.starts_with("/v2/models/");
}

HttpResponse inference_protocol_answer(const InferenceRequest& request,
                                       const InferenceModel& model, size_t& rows) {
  rows = 0;
  try {
    return route(request, model, rows);
  } catch (const Refusal& e) {
    rows = 0;
    return error_answer(e.status, e.message);
  } catch (const RequestError& e) {
    rows = 0;
    return error_answer(e.status, e.message);
  } catch (const DataError& e) {
    rows = 0;
    return error_answer(400, e.message());
  }
}

}  // namespace deepcross
