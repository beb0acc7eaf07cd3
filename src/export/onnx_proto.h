// A minimal writer of ONNX protobuf messages (onnx/onnx.proto, IR version 8), enough for
// `deepcross export`: the protobuf wire format (varints, length-delimited fields, packed
// repeated scalars) and builders for the messages a graph of standard operators needs.
// Field numbers are those of onnx.proto; only writing is supported (no parser).
//
//   OnnxGraph g("deepcross");
//   g.input("I1", kOnnxFloat, {"N"});
//   g.initializer_f32("w", {3, 2}, weights);
//   g.node("MatMul", {"x", "w"}, {"y"});
//   g.node("Softmax", {"y"}, {"p"}, {OnnxAttr::i("axis", 1)});
//   g.output("p", kOnnxFloat, {"N", "2"});
//   std::string bytes = onnx_model_bytes(g, {{"", 17}, {"ai.onnx.ml", 3}}, "deepcross", "0.1.0");
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace deepcross {

// TensorProto.DataType values.
inline constexpr int kOnnxFloat = 1;
inline constexpr int kOnnxInt32 = 6;
inline constexpr int kOnnxInt64 = 7;
inline constexpr int kOnnxString = 8;
inline constexpr int kOnnxBool = 9;
inline constexpr int kOnnxDouble = 11;

// Protobuf wire-format writer: append fields to a byte string.
class ProtoWriter {
 public:
  void varint(int field, uint64_t value);
  void int64(int field, int64_t value) { varint(field, static_cast<uint64_t>(value)); }
  void fixed32(int field, uint32_t value);  // float bits
  void bytes(int field, std::string_view value);  // strings, bytes and sub-messages
  void packed_int64(int field, std::span<const int64_t> values);
  void packed_float(int field, std::span<const float> values);
  const std::string& str() const { return out_; }

 private:
  void tag(int field, int wire_type);
  void raw_varint(uint64_t value);
  std::string out_;
};

// One AttributeProto (its serialised bytes).
struct OnnxAttr {
  std::string bytes;
  static OnnxAttr i(std::string_view name, int64_t v);
  static OnnxAttr f(std::string_view name, float v);
  static OnnxAttr s(std::string_view name, std::string_view v);
  static OnnxAttr ints(std::string_view name, std::span<const int64_t> v);
  static OnnxAttr floats(std::string_view name, std::span<const float> v);
  static OnnxAttr strings(std::string_view name, const std::vector<std::string>& v);
};

// A GraphProto under construction. Dimensions are numbers or symbolic names ("N").
class OnnxGraph {
 public:
  explicit OnnxGraph(std::string name) : name_(std::move(name)) {}

  void input(std::string_view name, int elem_type, const std::vector<std::string>& dims);
  void output(std::string_view name, int elem_type, const std::vector<std::string>& dims);
  void node(std::string_view op, const std::vector<std::string>& inputs,
            const std::vector<std::string>& outputs, const std::vector<OnnxAttr>& attrs = {},
            std::string_view domain = "");

  // Initializers (constant tensors), little-endian raw data.
  void initializer_f32(std::string_view name, const std::vector<int64_t>& dims,
                       std::span<const float> v);
  void initializer_f64(std::string_view name, const std::vector<int64_t>& dims,
                       std::span<const double> v);
  void initializer_i64(std::string_view name, const std::vector<int64_t>& dims,
                       std::span<const int64_t> v);

  // A fresh value name with this prefix ("prefix_7").
  std::string fresh(std::string_view prefix);
  // The GraphProto's bytes.
  std::string bytes() const;

 private:
  void raw_initializer(std::string_view name, int type, const std::vector<int64_t>& dims,
                       const void* data, size_t size);
  std::string name_;
  std::vector<std::string> nodes_, initializers_, inputs_, outputs_;
  int counter_ = 0;
};

// The ModelProto's bytes (IR version 8): the graph with its opset imports (domain, version).
std::string onnx_model_bytes(const OnnxGraph& graph,
                             const std::vector<std::pair<std::string, int64_t>>& opsets,
                             std::string_view producer, std::string_view producer_version);

}  // namespace deepcross
