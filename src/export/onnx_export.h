// The whole scoring pipeline of a trained model as one ONNX graph (`deepcross export`):
// raw field values in, probabilities out, standard operators only (opset 17 and ai.onnx.ml 3),
// no custom operators.
//
// Inputs, one per field, named after it, batch dimension "N" dynamic:
//   numeric field      float  [N]   NaN = missing
//   categorical field  string [N]   "" = missing
// in the model's field order (numeric fields, then categorical ones).
// Output "probability": float [N] (one class: the sigmoid of the logit) or [N, classes]
// (the softmax).
//
// Inside, the operators compute what preprocess.h and model.h compute:
//   categorical: ai.onnx.ml LabelEncoder ("" -> 1 missing, kept value -> its id, anything
//                else -> 0 OOV), then Gather from the embedding table;
//   numeric:     in double, NaN -> the training mean, then the quantile transform of
//                data/quantile.h (np.interp both ways, averaged; q_last -> 1, q_0 -> 0):
//                the interval index is the count of quantiles <= x (LessOrEqual, ReduceSum),
//                then Gather, the line between the two points, Where for the clamped ends;
//   x0 = Concat(numeric, embeddings); the cross network (vector, matrix, low-rank, mix:
//   MatMul/Gemm, Softmax over the gates, Tanh); the deep part with each BatchNorm folded into
//   its Linear (W' = W·γ/√(var+ε), b' = (b − mean)·γ/√(var+ε) + β), ReLU; stacked or
//   parallel; the output layer and Sigmoid/Softmax.
//
//   TrainedModel tm = load_model("m.dcn");
//   std::string bytes = export_onnx(tm, "m.dcn");
#pragma once

#include <string>

#include "io/model_io.h"

namespace deepcross {

// The ONNX ModelProto bytes of `tm`. DataError naming `where` (the model file) if a field
// name would clash with the graph's own value names ("probability", and "deepcross/...").
std::string export_onnx(TrainedModel& tm, const std::string& where);

}  // namespace deepcross
