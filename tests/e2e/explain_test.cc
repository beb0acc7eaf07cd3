// End to end for `deepcross explain` on a small trained model: the JSON INTERFACE.md fixes
// ({"cross", "pairs": [{"a", "b", "strength"}]}, strongest first, field names of the model),
// --top, --json and --svg files, and a damaged model refused like everywhere else.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "e2e/cli_util.h"

namespace deepcross::e2e {
namespace {

std::set<std::string> criteo_fields() {
  std::set<std::string> names;
  for (int i = 1; i <= 13; ++i) names.insert("I" + std::to_string(i));
  for (int i = 14; i <= 39; ++i) names.insert("C" + std::to_string(i));
  return names;
}

TEST(Explain, RanksFieldPairsStrongestFirst) {
  TempDir dir;
  train_small_model(dir, dir.file("m.dcn"));
  const CliRun r = run_deepcross(
      {"explain", "--model", "m.dcn", "--top", "5", "--json", "pairs.json", "--svg", "heat.svg"},
      in_dir(dir.path()));
  ASSERT_TRUE(succeeded(r));
  ASSERT_TRUE(file_exists(dir.file("pairs.json")));
  EXPECT_TRUE(file_exists(dir.file("heat.svg")));
  const nlohmann::json j = parse_json_object(read_file(dir.file("pairs.json")));
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["cross"], "matrix");
  ASSERT_TRUE(j["pairs"].is_array());
  ASSERT_EQ(j["pairs"].size(), 5u);
  const std::set<std::string> fields = criteo_fields();
  double previous = 1e300;
  for (const nlohmann::json& pair : j["pairs"]) {
    SCOPED_TRACE(pair.dump());
    EXPECT_EQ(keys_of(pair), (std::vector<std::string>{"a", "b", "strength"}));
    EXPECT_TRUE(fields.contains(pair["a"].get<std::string>()));
    EXPECT_TRUE(fields.contains(pair["b"].get<std::string>()));
    EXPECT_NE(pair["a"], pair["b"]);
    const double s = pair["strength"].get<double>();
    EXPECT_GE(s, 0.0);
    EXPECT_LE(s, previous);
    previous = s;
  }
}

TEST(Explain, WithoutJsonFlagPrintsTheJsonOnStdout) {
  TempDir dir;
  train_small_model(dir, dir.file("m.dcn"));
  const CliRun r = run_deepcross({"explain", "--model", "m.dcn", "--top", "3"}, in_dir(dir.path()));
  ASSERT_TRUE(succeeded(r));
  const nlohmann::json j = parse_json_object(r.out);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["pairs"].size(), 3u);
}

TEST(Explain, RefusesADamagedModel) {
  TempDir dir;
  train_small_model(dir, dir.file("good.dcn"));
  const std::string good = read_file(dir.file("good.dcn"));
  write_file(dir.file("m.dcn"), good.substr(0, good.size() / 2));
  EXPECT_TRUE(failed_with(run_deepcross({"explain", "--model", "m.dcn"}, in_dir(dir.path())), 1,
                          "(m.dcn at byte"));
  EXPECT_TRUE(failed_with(run_deepcross({"explain", "--model", "none.dcn"}, in_dir(dir.path())), 1,
                          "(none.dcn)"));
}

}  // namespace
}  // namespace deepcross::e2e
