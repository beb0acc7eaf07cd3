// train DATA MODEL: trains a model on DATA (Criteo TSV) with the default settings, writes it
// to MODEL and prints each epoch's validation AUC and the test AUC.
#include <cstdio>
#include <exception>

#include <deepcross/runtime.h>
#include <deepcross/training.h>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: train DATA MODEL\n");
    return 2;
  }
  deepcross::flush_subnormals_to_zero();
  try {
    deepcross::TrainingSpec spec;
    spec.data.train = {argv[1]};
    spec.model_path = argv[2];
    deepcross::TrainingCallbacks callbacks;
    callbacks.on_epoch = [](const deepcross::EpochStats& e) {
      std::printf("epoch %d: validation AUC %.5f\n", e.epoch, e.val_auc);
    };
    const deepcross::TrainingResult r = deepcross::train(spec, callbacks);
    std::printf("best epoch %d; test AUC %.5f; model %s\n", r.best_epoch, r.test_auc,
                r.model_path.c_str());
    return 0;
  } catch (const deepcross::Error& e) {
    std::fprintf(stderr, "train: %s\n", e.message().c_str());
    return e.exit_code();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train: %s\n", e.what());
    return 1;
  }
}
