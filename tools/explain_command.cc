// deepcross explain: which feature crosses did the model learn (src/explain/explain.h has the
// formula): the strongest field pairs as a table on stderr, the pairs as JSON, and a heatmap
// of all field pairs as SVG.
#include <cstdio>

#include "commands.h"
#include "core/blas.h"
#include "data_options.h"
#include "explain/explain.h"
#include "explain/heatmap.h"
#include "deepcross/error.h"
#include "io/model_io.h"
#include "io/whole_file.h"

namespace deepcross {

int run_explain(const Options& o) {
  set_blas_threads(thread_count(o));
  const std::string model_path = o.get_string("model");
  const std::string svg_path =
      o.is_set("svg") ? o.get_string("svg") : model_path + ".explain.svg";
  if (o.is_set("json")) check_output_path(o.get_string("json"), "--json");
  check_output_path(svg_path, "--svg");
  TrainedModel tm = load_model(model_path);
  if (tm.config.cross_layers == 0) {
    // Every pair would score 0: that is no explanation, and must not look like one.
    throw DataError("the model has no cross layers (--cross-layers 0): it learned no explicit "
                    "feature crosses to explain",
                    model_path);
  }
  std::vector<std::string> names = tm.preprocessor.numeric_names();
  for (const auto& n : tm.preprocessor.categorical_names()) names.push_back(n);
  const std::vector<FieldInfo> fields = model_fields(*tm.model, names);

  // Optional sample rows: the input spreads and the mix gates come from them.
  EncodedData sample;
  Batch<float> batch;
  const Batch<float>* sample_ptr = nullptr;
  if (o.is_set("data")) {
    ReadOptions layout = tm.layout;
    layout.label_policy = LabelPolicy::kOptional;
    layout.threads = thread_count(o);
    const Table table = read_checked({o.get_string("data")}, layout, "data");
    std::vector<uint32_t> rows;
    const size_t n = std::min<size_t>(table.rows, 5000);  // plenty for spreads and mean gates
    for (size_t i = 0; i < n; ++i) rows.push_back(static_cast<uint32_t>(i));
    sample = tm.preprocessor.encode(table, rows, thread_count(o));
    if (sample.rows >= 2) {
      tm.model->reserve(static_cast<int>(sample.rows));
      batch = {static_cast<int>(sample.rows), sample.x_num.data(), sample.x_cat.data(), nullptr};
      sample_ptr = &batch;
    }
  }
  const Explanation e = explain_model(*tm.model, fields, sample_ptr);
  const int top = o.get_int("top");
  std::fputs(format_top_pairs(e, top).c_str(), stderr);

  const std::string json = to_json(e, top).dump(2) + "\n";
  if (o.is_set("json")) {
    write_text_file(o.get_string("json"), json);
  } else {
    write_stdout(json);
  }
  write_text_file(svg_path, render_heatmap_svg(e, "deepcross explain — " +
                                                      std::string(to_string(tm.config.cross)) +
                                                      " cross, " + model_path));
  std::fprintf(stderr, "heatmap: %s\n", svg_path.c_str());
  return 0;
}

}  // namespace deepcross
