// The public training run (include/deepcross/training.h): callbacks, stopping between
// batches, errors naming spec fields, and the model it writes loads into a Predictor.
#include "deepcross/training.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <unistd.h>

#include "deepcross/predictor.h"

namespace deepcross {
namespace {

const std::string kData = std::string(DEEPCROSS_SOURCE_DIR) + "/data/criteo_kaggle_head_10k.tsv.gz";

TrainingSpec small_spec() {
  TrainingSpec spec;
  spec.data.train = {kData};
  spec.model.mlp = {16};
  spec.trainer.epochs = 2;
  spec.trainer.batch_size = 1024;
  spec.trainer.threads = 2;
  return spec;
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("deepcross_training_test_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

TEST(Training, CallbacksSeeEveryStepAndEpochAndTheModelLoads) {
  TrainingSpec spec = small_spec();
  spec.model_path = temp_path("m.model");
  int steps = 0, epochs = 0, messages = 0;
  TrainingCallbacks cb;
  cb.on_step = [&](const StepStats& s) {
    ++steps;
    EXPECT_GE(s.step, 1);
    EXPECT_LE(s.step, s.steps);
    EXPECT_TRUE(std::isfinite(s.mean_loss));
  };
  cb.on_epoch = [&](const EpochStats& e) { EXPECT_EQ(e.epoch, ++epochs); };
  cb.on_message = [&](const std::string&) { ++messages; };
  const TrainingResult r = train(spec, cb);
  EXPECT_EQ(r.epochs_run, 2);
  EXPECT_EQ(epochs, 2);
  EXPECT_EQ(steps, static_cast<int>(2 * ((r.train_rows + 1023) / 1024)));
  EXPECT_EQ(messages, 2);   // the data and the model summaries
  ASSERT_EQ(r.history.size(), 2u);
  EXPECT_EQ(r.train_rows + r.valid_rows + r.test_rows, 10109u);  // the sample's rows
  EXPECT_GT(r.test_auc, 0.5);
  const Predictor p = Predictor::load(r.model_path);
  const EvaluationResult e = p.evaluate(p.read({kData}));
  EXPECT_EQ(e.rows, 10109u);
  std::filesystem::remove(spec.model_path);
}

TEST(Training, ShouldStopStopsBetweenBatches) {
  TrainingSpec spec = small_spec();
  int steps = 0;
  TrainingCallbacks cb;
  cb.on_step = [&](const StepStats&) { ++steps; };
  cb.should_stop = [&] { return steps >= 3; };
  try {
    train(spec, cb);
    FAIL() << "not stopped";
  } catch (const Stopped& e) {
    EXPECT_EQ(e.exit_code(), 130);
  }
  EXPECT_EQ(steps, 3);
}

TEST(Training, ErrorsNameSpecFields) {
  auto where = [](TrainingSpec spec) -> std::string {
    try {
      train(spec);
    } catch (const UsageError& e) {
      return e.where();
    }
    return "no error";
  };
  TrainingSpec s = small_spec();
  s.model.cross = "diagonal";
  EXPECT_EQ(where(s), "model.cross");
  s = small_spec();
  s.trainer.batch_size = 1;
  EXPECT_EQ(where(s), "trainer.batch_size");
  s = small_spec();
  s.data.format = "parquet";
  EXPECT_EQ(where(s), "data.format");
  s = small_spec();
  s.data.train.clear();
  EXPECT_EQ(where(s), "data.train");
  s = small_spec();
  s.model.oov_init = "ones";
  EXPECT_EQ(where(s), "model.oov_init");
  s = small_spec();
  s.model.embed_max = 1;  // nn/config.cc's bound (deepcross/limits.h), named as the spec's field
  EXPECT_EQ(where(s), "model.embed_max");
  s = small_spec();
  s.model.classes = 65537;
  EXPECT_EQ(where(s), "model.classes");
}

}  // namespace
}  // namespace deepcross
