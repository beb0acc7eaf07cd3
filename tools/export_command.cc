// deepcross export: the whole scoring pipeline of a model as one ONNX file
// (export/onnx_export.h).
#include <cstdio>

#include "commands.h"
#include "deepcross/export.h"

namespace deepcross {

int run_export(const Options& o) {
  const std::string& model_path = o.get_string("model");
  const std::string& output = o.get_string("output");
  export_onnx(model_path, output);
  std::fprintf(stderr, "wrote %s (opset 17, ai.onnx.ml 3; inputs: one per field; output: "
               "probability)\n", output.c_str());
  return 0;
}

}  // namespace deepcross
