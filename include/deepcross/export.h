// Exporting a trained model: its whole scoring pipeline (preprocessing and network) as one
// ONNX file (opset 17, ai.onnx.ml 3; one input per field, output: the probability).
//
//   deepcross::export_onnx("model.dcm", "model.onnx");
#pragma once

#include <string>

namespace deepcross {

// Loads the model file `model_path` and writes its ONNX form to `output_path` atomically.
// DataError naming the file when either fails, or when the model has a part ONNX cannot say.
void export_onnx(const std::string& model_path, const std::string& output_path);

}  // namespace deepcross
