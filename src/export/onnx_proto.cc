#include "export/onnx_proto.h"

#include <bit>
#include <cstring>

#include "core/check.h"

namespace deepcross {

static_assert(std::endian::native == std::endian::little, "ONNX raw_data is little-endian");

void ProtoWriter::raw_varint(uint64_t value) {
  while (value >= 0x80) {
    out_ += static_cast<char>((value & 0x7F) | 0x80);
    value >>= 7;
  }
  out_ += static_cast<char>(value);
}

void ProtoWriter::tag(int field, int wire_type) {
  raw_varint((static_cast<uint64_t>(field) << 3) | static_cast<uint64_t>(wire_type));
}

void ProtoWriter::varint(int field, uint64_t value) {
  tag(field, 0);
  raw_varint(value);
}

void ProtoWriter::fixed32(int field, uint32_t value) {
  tag(field, 5);
  for (int i = 0; i < 4; ++i) out_ += static_cast<char>((value >> (8 * i)) & 0xFF);
}

void ProtoWriter::bytes(int field, std::string_view value) {
  tag(field, 2);
  raw_varint(value.size());
  out_.append(value);
}

void ProtoWriter::packed_int64(int field, std::span<const int64_t> values) {
  ProtoWriter inner;
  for (int64_t v : values) inner.raw_varint(static_cast<uint64_t>(v));
  bytes(field, inner.out_);
}

void ProtoWriter::packed_float(int field, std::span<const float> values) {
  std::string data(values.size() * 4, '\0');
  if (!values.empty()) std::memcpy(data.data(), values.data(), data.size());
  bytes(field, data);
}

// AttributeProto: name 1, f 2, i 3, s 4, floats 7, ints 8, strings 9, type 20
// (AttributeType FLOAT 1, INT 2, STRING 3, FLOATS 6, INTS 7, STRINGS 8).
namespace {
ProtoWriter attr_head(std::string_view name) {
  ProtoWriter w;
  w.bytes(1, name);
  return w;
}
}  // namespace

OnnxAttr OnnxAttr::i(std::string_view name, int64_t v) {
  ProtoWriter w = attr_head(name);
  w.int64(3, v);
  w.varint(20, 2);
  return {w.str()};
}

OnnxAttr OnnxAttr::f(std::string_view name, float v) {
  ProtoWriter w = attr_head(name);
  w.fixed32(2, std::bit_cast<uint32_t>(v));
  w.varint(20, 1);
  return {w.str()};
}

OnnxAttr OnnxAttr::s(std::string_view name, std::string_view v) {
  ProtoWriter w = attr_head(name);
  w.bytes(4, v);
  w.varint(20, 3);
  return {w.str()};
}

OnnxAttr OnnxAttr::ints(std::string_view name, std::span<const int64_t> v) {
  ProtoWriter w = attr_head(name);
  w.packed_int64(8, v);
  w.varint(20, 7);
  return {w.str()};
}

OnnxAttr OnnxAttr::floats(std::string_view name, std::span<const float> v) {
  ProtoWriter w = attr_head(name);
  w.packed_float(7, v);
  w.varint(20, 6);
  return {w.str()};
}

OnnxAttr OnnxAttr::strings(std::string_view name, const std::vector<std::string>& v) {
  ProtoWriter w = attr_head(name);
  for (const std::string& s : v) w.bytes(9, s);
  w.varint(20, 8);
  return {w.str()};
}

namespace {

// ValueInfoProto: name 1, type 2 (TypeProto: tensor_type 1 (elem_type 1, shape 2
// (TensorShapeProto: dim 1 (dim_value 1, dim_param 2)))).
std::string value_info(std::string_view name, int elem_type, const std::vector<std::string>& dims) {
  ProtoWriter shape;
  for (const std::string& d : dims) {
    ProtoWriter dim;
    const bool number = !d.empty() && d.find_first_not_of("0123456789") == std::string::npos;
    if (number) {
      dim.int64(1, std::stoll(d));
    } else {
      dim.bytes(2, d);
    }
    shape.bytes(1, dim.str());
  }
  ProtoWriter tensor;
  tensor.varint(1, static_cast<uint64_t>(elem_type));
  tensor.bytes(2, shape.str());
  ProtoWriter type;
  type.bytes(1, tensor.str());
  ProtoWriter info;
  info.bytes(1, name);
  info.bytes(2, type.str());
  return info.str();
}

}  // namespace

void OnnxGraph::input(std::string_view name, int elem_type, const std::vector<std::string>& dims) {
  inputs_.push_back(value_info(name, elem_type, dims));
}

void OnnxGraph::output(std::string_view name, int elem_type,
                       const std::vector<std::string>& dims) {
  outputs_.push_back(value_info(name, elem_type, dims));
}

// NodeProto: input 1, output 2, name 3, op_type 4, attribute 5, domain 7.
void OnnxGraph::node(std::string_view op, const std::vector<std::string>& inputs,
                     const std::vector<std::string>& outputs, const std::vector<OnnxAttr>& attrs,
                     std::string_view domain) {
  ProtoWriter w;
  for (const std::string& s : inputs) w.bytes(1, s);
  for (const std::string& s : outputs) w.bytes(2, s);
  w.bytes(3, std::string(op) + "_" + std::to_string(nodes_.size()));
  w.bytes(4, op);
  for (const OnnxAttr& a : attrs) w.bytes(5, a.bytes);
  if (!domain.empty()) w.bytes(7, domain);
  nodes_.push_back(w.str());
}

// TensorProto: dims 1, data_type 2, name 8, raw_data 9.
void OnnxGraph::raw_initializer(std::string_view name, int type, const std::vector<int64_t>& dims,
                                const void* data, size_t size) {
  ProtoWriter w;
  w.packed_int64(1, dims);
  w.varint(2, static_cast<uint64_t>(type));
  w.bytes(8, name);
  w.bytes(9, std::string_view(static_cast<const char*>(data), size));
  initializers_.push_back(w.str());
}

namespace {
int64_t product(const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}
}  // namespace

void OnnxGraph::initializer_f32(std::string_view name, const std::vector<int64_t>& dims,
                                std::span<const float> v) {
  DC_CHECK(static_cast<int64_t>(v.size()) == product(dims));
  raw_initializer(name, kOnnxFloat, dims, v.data(), v.size() * sizeof(float));
}

void OnnxGraph::initializer_f64(std::string_view name, const std::vector<int64_t>& dims,
                                std::span<const double> v) {
  DC_CHECK(static_cast<int64_t>(v.size()) == product(dims));
  raw_initializer(name, kOnnxDouble, dims, v.data(), v.size() * sizeof(double));
}

void OnnxGraph::initializer_i64(std::string_view name, const std::vector<int64_t>& dims,
                                std::span<const int64_t> v) {
  DC_CHECK(static_cast<int64_t>(v.size()) == product(dims));
  raw_initializer(name, kOnnxInt64, dims, v.data(), v.size() * sizeof(int64_t));
}

std::string OnnxGraph::fresh(std::string_view prefix) {
  return std::string(prefix) + "_" + std::to_string(counter_++);
}

// GraphProto: node 1, name 2, initializer 5, input 11, output 12.
std::string OnnxGraph::bytes() const {
  ProtoWriter w;
  for (const std::string& n : nodes_) w.bytes(1, n);
  w.bytes(2, name_);
  for (const std::string& t : initializers_) w.bytes(5, t);
  for (const std::string& v : inputs_) w.bytes(11, v);
  for (const std::string& v : outputs_) w.bytes(12, v);
  return w.str();
}

// ModelProto: ir_version 1, producer_name 2, producer_version 3, graph 7, opset_import 8
// (OperatorSetIdProto: domain 1, version 2).
std::string onnx_model_bytes(const OnnxGraph& graph,
                             const std::vector<std::pair<std::string, int64_t>>& opsets,
                             std::string_view producer, std::string_view producer_version) {
  ProtoWriter w;
  w.int64(1, 8);
  w.bytes(2, producer);
  w.bytes(3, producer_version);
  w.bytes(7, graph.bytes());
  for (const auto& [domain, version] : opsets) {
    ProtoWriter op;
    op.bytes(1, domain);
    op.int64(2, version);
    w.bytes(8, op.str());
  }
  return w.str();
}

}  // namespace deepcross
