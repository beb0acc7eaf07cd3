#include "cli/option_table.h"

#include "deepcross/suggest.h"
#include "deepcross/error.h"
#include "deepcross/limits.h"

namespace deepcross {
namespace {

// The table below uses designated initializers and leaves members at their defaults; g++ 12's
// -Wextra flags every omitted member (-Wmissing-field-initializers) even though each has a
// default member initializer, so that warning is off for this table only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

Bounds at_least(double lo) { return {.lo = lo}; }
Bounds above(double lo) { return {.lo = lo, .lo_open = true}; }
Bounds between(double lo, double hi) { return {.lo = lo, .hi = hi}; }

using G = OptionGroup;
using T = OptionType;

// Shorthands for the subcommand sets below.
constexpr SubcommandSet kReadsModel = kEval | kPredict | kInfo | kExplain | kServe | kExport;

std::vector<OptionSpec> build_table() {
  return {
      // ---- input data ----
      {.name = "data",
       .type = T::kPath,
       .metavar = "F",
       .help = "training rows: Criteo TSV, or CSV/TSV with a header (see --format); "
               ".gz is read transparently",
       .accepted_by = kTrain,
       .required_by = kTrain,
       .group = G::kInput},
      {.name = "data",
       .type = T::kPath,
       .metavar = "F",
       .help = "rows to score, in the layout the model was trained on, with labels",
       .accepted_by = kEval,
       .required_by = kEval,
       .group = G::kInput},
      {.name = "data",
       .type = T::kPath,
       .metavar = "F",
       .help = "rows to predict, in the layout the model was trained on, with or without "
               "the label",
       .accepted_by = kPredict,
       .required_by = kPredict,
       .group = G::kInput},
      {.name = "data",
       .type = T::kPath,
       .metavar = "F",
       .help = "optional rows on which to measure the interaction strengths, instead of "
               "reading them from the weights alone",
       .accepted_by = kExplain,
       .group = G::kInput},
      {.name = "valid",
       .type = T::kPath,
       .metavar = "F",
       .default_shown = "a seeded 16% split of --data",
       .help = "validation rows: early stopping and the best epoch",
       .accepted_by = kTrain,
       .group = G::kInput},
      {.name = "test",
       .type = T::kPath,
       .metavar = "F",
       .default_shown = "a seeded 20% split of --data",
       .help = "test rows, scored once with the best epoch's model",
       .accepted_by = kTrain,
       .group = G::kInput},
      {.name = "format",
       .type = T::kEnum,
       .default_value = "criteo",
       .choices = {"criteo", "csv", "tsv"},
       .help = "criteo: tab separated, no header, label I1..I13 C14..C39; csv|tsv: a header "
               "row, column roles from --label --numeric --categorical --ignore",
       .accepted_by = kTrain,
       .in_model = true,
       .group = G::kInput},
      {.name = "label",
       .type = T::kString,
       .metavar = "NAME",
       .help = "csv|tsv: the label column",
       .accepted_by = kTrain,
       .in_model = true,
       .group = G::kInput},
      {.name = "numeric",
       .type = T::kStringList,
       .metavar = "A,B",
       .help = "csv|tsv: the numeric columns",
       .accepted_by = kTrain,
       .in_model = true,
       .group = G::kInput},
      {.name = "categorical",
       .type = T::kStringList,
       .metavar = "C,D",
       .help = "csv|tsv: the categorical columns",
       .accepted_by = kTrain,
       .in_model = true,
       .group = G::kInput},
      {.name = "ignore",
       .type = T::kStringList,
       .metavar = "E,F",
       .help = "csv|tsv: columns to skip",
       .accepted_by = kTrain,
       .in_model = true,
       .group = G::kInput},
      {.name = "delimiter",
       .type = T::kString,
       .metavar = "C",
       .default_shown = "',' for csv, tab for tsv",
       .help = "csv|tsv: the one character between fields (\\t or tab for a tab), e.g. ';'; "
               "eval and predict read with the model's unless given",
       .accepted_by = kTrain | kEval | kPredict,
       .in_model = true,
       .group = G::kInput},
      {.name = "bad-lines",
       .type = T::kEnum,
       .default_value = "error",
       .choices = {"error", "skip"},
       .help = "a malformed line stops the run with its file:line, or is skipped and counted",
       .accepted_by = kTrain | kEval,
       .in_model = true,
       .group = G::kInput},
      {.name = "min-count",
       .type = T::kInt,
       .metavar = "N",
       .default_value = std::to_string(kDefaultMinCount),
       .bounds = at_least(1),
       .help = "categories seen fewer than N times in the training rows map to the "
               "out-of-vocabulary id",
       .accepted_by = kTrain,
       .in_model = true,
       .group = G::kInput},
      {.name = "quantiles",
       .type = T::kInt,
       .metavar = "N",
       .default_value = "1000",
       .bounds = between(2, 1000000),
       .help = "quantiles of the numeric transform to [0, 1] (scikit-learn's n_quantiles)",
       .accepted_by = kTrain,
       .in_model = true,
       .group = G::kInput},
      {.name = "quantile-sample",
       .type = T::kInt,
       .metavar = "N",
       .default_value = "100000",
       .bounds = at_least(1),
       .help = "training rows sampled (seeded) to fit the numeric quantiles",
       .accepted_by = kTrain,
       .in_model = true,
       .group = G::kInput},
      {.name = "cache",
       .type = T::kPath,
       .metavar = "DIR",
       .default_shown = "none",
       .help = "keep the encoded training, validation and test rows in DIR; a later run on the "
               "same unchanged files with the same reading and preprocessing options loads "
               "them instead of parsing",
       .accepted_by = kTrain,
       .group = G::kInput},

      // ---- model ----
      {.name = "cross",
       .type = T::kEnum,
       .default_value = "matrix",
       .choices = {"vector", "matrix", "mix", "lowrank"},
       .help = "cross network: vector (DCN), matrix (DCN-V2), mix (DCN-Mix: low-rank "
               "experts), lowrank (DCN-V2 with W = U V^T)",
       .accepted_by = kTrain,
       .in_model = true,
       .group = G::kModel},
      {.name = "structure",
       .type = T::kEnum,
       .default_value = "stacked",
       .choices = {"stacked", "parallel"},
       .help = "stacked: the MLP reads the cross output; parallel: MLP and cross both read "
               "the embeddings, outputs concatenated",
       .accepted_by = kTrain,
       .in_model = true,
       .group = G::kModel},
      {.name = "cross-layers",
       .type = T::kInt,
       .metavar = "N",
       .default_value = "2",
       .bounds = between(0, limits::kMaxCrossLayers),
       .help = "number of cross layers (0: no cross network, the deep part alone)",
       .accepted_by = kTrain,
       .in_model = true,
       .group = G::kModel},
      {.name = "low-rank",
       .type = T::kInt,
       .metavar = "R",
       .default_value = "32",
       .bounds = between(1, limits::kMaxLowRank),
       .help = "rank of the mix and lowrank crosses",
       .accepted_by = kTrain,
       .in_model = true,
       .group = G::kModel},
      {.name = "experts",
       .type = T::kInt,
       .metavar = "K",
       .default_value = "4",
       .bounds = between(1, limits::kMaxExperts),
       .help = "mix: number of low-rank experts",
       .accepted_by = kTrain,
       .in_model = true,
       .group = G::kModel},
      {.name = "embed-max",
       .type = T::kInt,
       .metavar = "N",
       .default_value = "8",
       .bounds = between(limits::kMinEmbedMax, limits::kMaxEmbedMax),
       .help = "widest embedding: a field with c ids gets width min(max(floor(sqrt(c)), 2), N)",
       .accepted_by = kTrain,
       .in_model = true,
       .group = G::kModel},
      {.name = "mlp",
       .type = T::kIntList,
       .metavar = "128,64,32",
       .default_value = "128,64,32",
       .bounds = between(1, limits::kMaxHidden),
       .help = "hidden sizes of the deep part (Linear, BatchNorm, ReLU, Dropout per layer)",
       .accepted_by = kTrain,
       .in_model = true,
       .group = G::kModel},
      {.name = "dropout",
       .type = T::kFloat,
       .metavar = "P",
       .default_value = "0.25",
       .bounds = {.lo = 0, .hi = 1, .hi_open = true},
       .help = "dropout probability after each MLP layer",
       .accepted_by = kTrain,
       .in_model = true,
       .group = G::kModel},
      {.name = "classes",
       .type = T::kInt,
       .metavar = "N",
       .default_value = "1",
       .bounds = between(1, limits::kMaxClasses),
       .help = "1: binary labels 0/1 (sigmoid); N > 1: labels 0..N-1 (softmax)",
       .accepted_by = kTrain,
       .in_model = true,
       .group = G::kModel},
      {.name = "oov-init",
       .type = T::kEnum,
       .default_value = "zero",
       .choices = {"zero", "normal"},
       .help = "initial out-of-vocabulary embedding rows: zero, or N(0, 1) like the others",
       .accepted_by = kTrain,
       .in_model = true,
       .group = G::kModel},

      // ---- training ----
      {.name = "batch-size",
       .type = T::kInt,
       .metavar = "N",
       .default_value = "2048",
       .bounds = at_least(2),
       .help = "rows per training step (at least 2, for batch normalisation)",
       .accepted_by = kTrain,
       .in_model = true,
       .group = G::kTraining},
      {.name = "lr",
       .type = T::kFloat,
       .metavar = "X",
       .default_value = "0.002",
       .bounds = above(0),
       .help = "Adam learning rate",
       .accepted_by = kTrain,
       .in_model = true,
       .group = G::kTraining},
      {.name = "weight-decay",
       .type = T::kFloat,
       .metavar = "X",
       .default_value = "0.001",
       .bounds = at_least(0),
       .help = "L2 penalty added to the gradient before Adam (torch's coupled weight decay)",
       .accepted_by = kTrain,
       .in_model = true,
       .group = G::kTraining},
      {.name = "optimizer-mode",
       .type = T::kEnum,
       .default_value = "lazy",
       .choices = {"exact", "lazy"},
       .help = "lazy: only the embedding rows a batch touches are updated, each row's missed "
               "weight decay applied when it is next read (faster; as accurate or more on the "
               "parity data); exact: Adam and weight decay on every parameter every step "
               "(torch's)",
       .accepted_by = kTrain,
       .in_model = true,
       .group = G::kTraining},
      {.name = "precision",
       .type = T::kEnum,
       .default_value = "auto",
       .choices = {"auto", "fp32", "bf16"},
       .help = "of the training steps' matrix products: bf16 rounds their inputs to bfloat16 "
               "and sums in float (mixed precision, on the CPU's AMX or AVX-512-BF16 units; as "
               "accurate as fp32 on the parity data); auto: bf16 where the CPU has such units, "
               "else fp32. Weights, gradients, the optimizer, evaluation and prediction stay "
               "float",
       .accepted_by = kTrain,
       .in_model = true,
       .group = G::kTraining},
      {.name = "epochs",
       .type = T::kInt,
       .metavar = "N",
       .default_value = "100",
       .bounds = at_least(1),
       .help = "most epochs to run",
       .accepted_by = kTrain,
       .in_model = true,
       .group = G::kTraining},
      {.name = "patience",
       .type = T::kInt,
       .metavar = "N",
       .default_value = "5",
       .bounds = at_least(0),
       .help = "stop after N epochs without a better --monitor (0: never stop early); the best "
               "epoch is restored",
       .accepted_by = kTrain,
       .in_model = true,
       .group = G::kTraining},
      {.name = "monitor",
       .type = T::kEnum,
       .default_value = "val_auc",
       .choices = {"val_auc", "val_logloss"},
       .help = "validation metric for early stopping and the best epoch",
       .accepted_by = kTrain,
       .in_model = true,
       .group = G::kTraining},
      {.name = "seed",
       .type = T::kInt,
       .metavar = "N",
       .default_value = "42",
       .bounds = at_least(0),
       .help = "seed of the split, initial weights, shuffling, dropout and quantile sample",
       .accepted_by = kTrain,
       .in_model = true,
       .group = G::kTraining},
      {.name = "eval-batch-size",
       .type = T::kInt,
       .metavar = "N",
       .default_value = "256",
       .bounds = at_least(1),
       .help = "rows per chunk when scoring (validation, test, eval, predict); each thread "
               "scores whole chunks, small enough to stay in its cache",
       .accepted_by = kTrain | kEval | kPredict,
       .group = G::kTraining},

      // ---- output ----
      {.name = "model",
       .type = T::kPath,
       .metavar = "OUT",
       .default_shown = "not saved",
       .help = "where to write the trained model (atomically)",
       .accepted_by = kTrain,
       .group = G::kOutput},
      {.name = "model",
       .type = T::kPath,
       .metavar = "M",
       .help = "the trained model file",
       .accepted_by = kReadsModel,
       .required_by = kReadsModel,
       .group = G::kInput},
      {.name = "history",
       .type = T::kPath,
       .metavar = "CSV",
       .default_shown = "MODEL.history.csv",
       .help = "per-epoch train and validation loss and AUC (none: not written; nor without --model)",
       .accepted_by = kTrain,
       .group = G::kOutput},
      {.name = "curves",
       .type = T::kPath,
       .metavar = "SVG",
       .default_shown = "MODEL.curves.svg",
       .help = "loss and AUC curves per epoch (none: not written; nor without --model)",
       .accepted_by = kTrain,
       .group = G::kOutput},
      {.name = "report",
       .type = T::kPath,
       .metavar = "JSON",
       .default_shown = "none",
       .help = "also write the final JSON (printed on stdout) to this file",
       .accepted_by = kTrain,
       .group = G::kOutput},
      {.name = "log-every",
       .type = T::kInt,
       .metavar = "N",
       .default_value = "0",
       .bounds = at_least(0),
       .help = "a progress line every N training batches (0: only the per-epoch table)",
       .accepted_by = kTrain,
       .group = G::kOutput},
      {.name = "profile",
       .type = T::kFlag,
       .default_value = "false",
       .help = "after training, print where the training steps' time went, per phase",
       .accepted_by = kTrain,
       .group = G::kOutput},
      {.name = "output",
       .type = T::kPath,
       .metavar = "P",
       .default_shown = "stdout",
       .help = "where to write the predictions, one line per row",
       .accepted_by = kPredict,
       .group = G::kOutput},
      {.name = "output",
       .type = T::kPath,
       .metavar = "F",
       .help = "where to write the ONNX file (atomically)",
       .accepted_by = kExport,
       .required_by = kExport,
       .group = G::kOutput},
      {.name = "top",
       .type = T::kInt,
       .metavar = "K",
       .default_value = "20",
       .bounds = at_least(1),
       .help = "how many of the strongest field pairs to list",
       .accepted_by = kExplain,
       .group = G::kOutput},
      {.name = "json",
       .type = T::kPath,
       .metavar = "F",
       .default_shown = "stdout",
       .help = "write the pairs as JSON to this file instead of stdout",
       .accepted_by = kExplain,
       .group = G::kOutput},
      {.name = "svg",
       .type = T::kPath,
       .metavar = "F",
       .default_shown = "MODEL.explain.svg",
       .help = "draw the field-by-field interaction map (heatmap) to this SVG file",
       .accepted_by = kExplain,
       .group = G::kOutput},

      // ---- serving ----
      {.name = "host",
       .type = T::kString,
       .metavar = "H",
       .default_value = "127.0.0.1",
       .help = "address to listen on",
       .accepted_by = kServe,
       .group = G::kServing},
      {.name = "port",
       .type = T::kInt,
       .metavar = "P",
       .default_value = "8080",
       .bounds = between(0, 65535),
       .help = "TCP port to listen on (0: any free port)",
       .accepted_by = kServe,
       .group = G::kServing},
      {.name = "name",
       .type = T::kString,
       .metavar = "NAME",
       .default_shown = "the model file's stem",
       .help = "the model's name in the Open Inference Protocol routes (/v2/models/NAME)",
       .accepted_by = kServe,
       .group = G::kServing},
      {.name = "max-rows",
       .type = T::kInt,
       .metavar = "N",
       .default_value = "10000",
       .bounds = at_least(1),
       .help = "most rows in one request (more: HTTP 413)",
       .accepted_by = kServe,
       .group = G::kServing},
      {.name = "max-body-bytes",
       .type = T::kInt,
       .metavar = "N",
       .default_value = "16777216",
       .default_shown = "16 MiB",
       .bounds = at_least(1),
       .help = "largest request body in bytes (more: HTTP 413)",
       .accepted_by = kServe,
       .group = G::kServing},

      // ---- synthetic data ----
      {.name = "rows",
       .type = T::kInt,
       .metavar = "N",
       .default_value = "500000",
       .bounds = at_least(1),
       .help = "rows to generate",
       .accepted_by = kSynth,
       .group = G::kGenerator},
      {.name = "output",
       .type = T::kPath,
       .metavar = "F",
       .help = "file to write the rows to (.gz: gzip-compressed)",
       .accepted_by = kSynth,
       .required_by = kSynth,
       .group = G::kGenerator},
      {.name = "seed",
       .type = T::kInt,
       .metavar = "N",
       .default_value = "42",
       .bounds = at_least(0),
       .help = "seed of the generator: equal options give identical files",
       .accepted_by = kSynth,
       .group = G::kGenerator},
      {.name = "cardinality-scale",
       .type = T::kFloat,
       .metavar = "X",
       .default_value = "1",
       .bounds = {.lo = 0, .hi = 16, .lo_open = true},
       .help = "multiplies every categorical field's cardinality (at least 2 per field)",
       .accepted_by = kSynth,
       .group = G::kGenerator},
      {.name = "no-label",
       .type = T::kFlag,
       .default_value = "false",
       .help = "write 39-field rows without the label (input for predict)",
       .accepted_by = kSynth,
       .group = G::kGenerator},

      // ---- general ----
      {.name = "threads",
       .type = T::kInt,
       .metavar = "N",
       .default_value = "0",
       .default_shown = "available CPUs",
       .bounds = between(0, 1024),
       .help = "worker threads (0: as many as the CPUs this process may use: its CPU affinity "
               "and cgroup CPU quota; training then measures which count up to that runs "
               "fastest, and measures again as the machine's load changes)",
       .accepted_by = kTrain | kEval | kPredict | kServe,
       .group = G::kGeneral},
      {.name = "config",
       .type = T::kPath,
       .metavar = "FILE",
       .help = "read flags from FILE: `key = value` lines, flag names without dashes, # "
               "comments; the command line wins",
       .accepted_by = kAllSubcommands,
       .command_line_only = true,
       .group = G::kGeneral},
      {.name = "help",
       .type = T::kFlag,
       .default_value = "false",
       .help = "show this help and exit",
       .accepted_by = kAllSubcommands,
       .command_line_only = true,
       .group = G::kGeneral},
  };
}

#pragma GCC diagnostic pop

}  // namespace

const std::vector<OptionSpec>& option_table() {
  static const std::vector<OptionSpec> table = build_table();
  return table;
}

const std::vector<SubcommandSpec>& subcommand_table() {
  static const std::vector<SubcommandSpec> table = {
      {"train", kTrain, "train a Deep & Cross Network and report validation and test metrics"},
      {"eval", kEval, "score labelled rows with a trained model: rows, AUC, log loss (JSON)"},
      {"predict", kPredict, "print one probability per input row"},
      {"info", kInfo, "describe a model file: configuration, fields, parameters (JSON)"},
      {"explain", kExplain, "rank the feature-field pairs by learnt interaction strength"},
      {"serve", kServe, "answer predictions over HTTP"},
      {"export", kExport, "write the whole scoring pipeline as one ONNX file"},
      {"synth", kSynth, "generate Criteo-shaped rows with planted feature crosses"},
  };
  return table;
}

const SubcommandSpec* find_subcommand(std::string_view name) {
  for (const SubcommandSpec& s : subcommand_table()) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

const SubcommandSpec& require_subcommand(std::string_view name) {
  if (const SubcommandSpec* spec = find_subcommand(name)) return *spec;
  std::vector<std::string_view> names;
  for (const SubcommandSpec& s : subcommand_table()) names.push_back(s.name);
  std::string what = "unknown subcommand '" + std::string(name) + "'";
  const std::string suggestion = closest_name(name, names);
  if (!suggestion.empty()) what += " (did you mean " + suggestion + "?)";
  throw UsageError(what, std::string(name));
}

std::vector<const OptionSpec*> options_of(Subcommand subcommand) {
  std::vector<const OptionSpec*> specs;
  for (const OptionSpec& spec : option_table()) {
    if ((spec.accepted_by & subcommand) != 0) specs.push_back(&spec);
  }
  return specs;
}

const OptionSpec* find_option(Subcommand subcommand, std::string_view name) {
  for (const OptionSpec& spec : option_table()) {
    if ((spec.accepted_by & subcommand) != 0 && spec.name == name) return &spec;
  }
  return nullptr;
}

std::vector<std::string_view> other_subcommands_accepting(Subcommand subcommand,
                                                          std::string_view name) {
  std::vector<std::string_view> names;
  for (const SubcommandSpec& s : subcommand_table()) {
    if (s.bit != subcommand && find_option(s.bit, name) != nullptr) names.push_back(s.name);
  }
  return names;
}

std::string_view group_heading(OptionGroup group) {
  switch (group) {
    case OptionGroup::kInput:
      return "input";
    case OptionGroup::kModel:
      return "model";
    case OptionGroup::kTraining:
      return "training";
    case OptionGroup::kOutput:
      return "output";
    case OptionGroup::kServing:
      return "serving";
    case OptionGroup::kGenerator:
      return "generator";
    case OptionGroup::kGeneral:
      return "general";
  }
  return "other";
}

}  // namespace deepcross
