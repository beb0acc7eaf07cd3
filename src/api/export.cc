// The public export entry point (include/deepcross/export.h) over export/onnx_export.h.
#include "deepcross/export.h"

#include "deepcross/runtime.h"
#include "export/onnx_export.h"
#include "io/model_io.h"

namespace deepcross {

void export_onnx(const std::string& model_path, const std::string& output_path) {
  TrainedModel tm = load_model(model_path);
  write_text_file(output_path, export_onnx(tm, model_path));
}

}  // namespace deepcross
