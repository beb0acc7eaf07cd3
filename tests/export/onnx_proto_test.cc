// The protobuf wire format of export/onnx_proto.h, byte for byte against the encoding rules
// (https://protobuf.dev/programming-guides/encoding/): varints, tags, length-delimited and
// packed fields, fixed32 floats; and the ONNX messages built from them.
#include "export/onnx_proto.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace deepcross {
namespace {

std::string hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    if (!out.empty()) out += ' ';
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

TEST(ProtoWriter, VarintsTagsAndLengths) {
  ProtoWriter w;
  w.varint(1, 150);  // the encoding guide's example: 08 96 01
  EXPECT_EQ(hex(w.str()), "08 96 01");
  ProtoWriter big;
  big.int64(2, -1);  // negative int64: ten bytes, two's complement
  EXPECT_EQ(hex(big.str()), "10 ff ff ff ff ff ff ff ff ff 01");
  ProtoWriter s;
  s.bytes(2, "testing");  // 12 07 74 65 73 74 69 6e 67
  EXPECT_EQ(hex(s.str()), "12 07 74 65 73 74 69 6e 67");
  ProtoWriter high;
  high.varint(20, 8);  // field 20: a two-byte tag
  EXPECT_EQ(hex(high.str()), "a0 01 08");
}

TEST(ProtoWriter, PackedAndFixed) {
  ProtoWriter p;
  const std::vector<int64_t> v = {3, 270, 86942};  // the guide's packed example
  p.packed_int64(4, v);
  EXPECT_EQ(hex(p.str()), "22 06 03 8e 02 9e a7 05");
  ProtoWriter f;
  f.fixed32(2, 0x3f800000u);  // 1.0f
  EXPECT_EQ(hex(f.str()), "15 00 00 80 3f");
  ProtoWriter floats;
  const std::vector<float> one = {1.0f};
  floats.packed_float(7, one);
  EXPECT_EQ(hex(floats.str()), "3a 04 00 00 80 3f");
}

TEST(OnnxAttr, EachKindCarriesItsTypeTag) {
  // name "axis" (0a 04 ...), i = 1 (18 01), type INT = 2 (a0 01 02)
  EXPECT_EQ(hex(OnnxAttr::i("axis", 1).bytes), "0a 04 61 78 69 73 18 01 a0 01 02");
  EXPECT_EQ(hex(OnnxAttr::s("a", "x").bytes), "0a 01 61 22 01 78 a0 01 03");
  EXPECT_EQ(hex(OnnxAttr::strings("k", {"", "b"}).bytes), "0a 01 6b 4a 00 4a 01 62 a0 01 08");
}

TEST(OnnxGraph, ModelBytesHoldTheGraphAndOpsets) {
  OnnxGraph g("g");
  g.input("x", kOnnxFloat, {"N"});
  g.node("Relu", {"x"}, {"y"});
  g.output("y", kOnnxFloat, {"N"});
  const std::string model = onnx_model_bytes(g, {{"", 17}}, "p", "1");
  // ir_version 8, producer "p", version "1", then the graph (field 7), then the opset (field 8).
  EXPECT_EQ(hex(model.substr(0, 8)), "08 08 12 01 70 1a 01 31");
  EXPECT_EQ(static_cast<unsigned char>(model[8]), 0x3a);
  const std::string graph = g.bytes();
  EXPECT_EQ(model.substr(10, graph.size()), graph);
  EXPECT_EQ(hex(model.substr(10 + graph.size())), "42 04 0a 00 10 11");
  EXPECT_NE(graph.find("Relu"), std::string::npos);
  EXPECT_EQ(g.fresh("v"), "v_0");
  EXPECT_EQ(g.fresh("v"), "v_1");
}

}  // namespace
}  // namespace deepcross
