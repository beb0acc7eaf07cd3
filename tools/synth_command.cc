// deepcross synth: Criteo-shaped rows with planted feature crosses (deepcross/synth.h).
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "deepcross/synth.h"

namespace deepcross {

int run_synth(const Options& o) {
  SynthSpec s;
  s.rows = static_cast<uint64_t>(o.get_int("rows"));
  s.seed = static_cast<uint64_t>(o.get_int("seed"));
  s.cardinality_scale = o.get_float("cardinality-scale");
  s.with_label = !o.get_flag("no-label");
  if (o.is_set("output")) {
    write_synthetic_file(o.get_string("output"), s);
    std::string pairs;
    for (const auto& [a, b] : synthetic_planted_pairs(s)) pairs += " " + a + "×" + b;
    std::fprintf(stderr, "wrote %llu rows to %s; planted pairs:%s\n",
                 static_cast<unsigned long long>(s.rows), o.get_string("output").c_str(),
                 pairs.c_str());
  } else {
    std::ios::sync_with_stdio(false);
    write_synthetic(std::cout, s);
    std::cout.flush();
  }
  return 0;
}

}  // namespace deepcross
