// predict MODEL DATA: one probability per row of DATA (the model's file layout), one per line.
#include <charconv>
#include <cstdio>
#include <exception>

#include <deepcross/predictor.h>
#include <deepcross/runtime.h>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: predict MODEL DATA\n");
    return 2;
  }
  deepcross::flush_subnormals_to_zero();
  try {
    const deepcross::Predictor predictor = deepcross::Predictor::load(argv[1]);
    const deepcross::Scores scores = predictor.predict(predictor.read({argv[2]}));
    for (size_t row = 0; row < scores.rows; ++row) {
      for (int k = 0; k < scores.outputs; ++k) {
        char text[32];  // the shortest form that reads back as the same float
        *std::to_chars(text, text + sizeof text - 1, scores(row, k)).ptr = '\0';
        std::printf(k + 1 < scores.outputs ? "%s," : "%s\n", text);
      }
    }
    return 0;
  } catch (const deepcross::Error& e) {
    std::fprintf(stderr, "predict: %s\n", e.message().c_str());
    return e.exit_code();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "predict: %s\n", e.what());
    return 1;
  }
}
