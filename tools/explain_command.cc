// deepcross explain: which feature crosses did the model learn (src/explain/explain.h has the
// formula): the strongest field pairs as a table on stderr, the pairs as JSON, and a heatmap
// of all field pairs as SVG.
#include <cstdio>

#include "commands.h"
#include "deepcross/predictor.h"
#include "deepcross/runtime.h"

namespace deepcross {

int run_explain(const Options& o) {
  const std::string model_path = o.get_string("model");
  const std::string svg_path =
      o.is_set("svg") ? o.get_string("svg") : model_path + ".explain.svg";
  if (o.is_set("json")) check_output_path(o.get_string("json"), "--json");
  check_output_path(svg_path, "--svg");
  PredictorOptions po;
  po.threads = thread_count(o);
  po.on_warning = warn;
  const Predictor p = Predictor::load(model_path, po);
  ExplainRequest eo;
  eo.top = o.get_int("top");
  if (o.is_set("data")) eo.sample_files = {o.get_string("data")};
  const ExplainReport r = p.explain(eo);
  std::fputs(r.table.c_str(), stderr);
  if (o.is_set("json")) {
    write_text_file(o.get_string("json"), r.json);
  } else {
    write_stdout(r.json);
  }
  write_text_file(svg_path, r.svg);
  std::fprintf(stderr, "heatmap: %s\n", svg_path.c_str());
  return 0;
}

}  // namespace deepcross
