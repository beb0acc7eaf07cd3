// Training history: one EpochRecord per epoch, the per-epoch table printed on stderr, and the
// history CSV (`--history`, default MODEL.history.csv).
//
//   History h;
//   std::fputs((format_epoch_header() + "\n").c_str(), stderr);
//   EpochRecord r{.epoch = 1, .train_loss = 0.47, .train_auc = 0.76, .val_loss = 0.46,
//                 .val_auc = 0.78, .seconds = 12.4, .samples_per_s = 53210, .best = true};
//   h.add(r);
//   std::fputs((format_epoch_row(r) + "\n").c_str(), stderr);
//   h.write_csv("model.dcn.history.csv");  // atomic: readers see the old or the new file
//   History back = read_history_csv("model.dcn.history.csv");  // the same numbers, bit for bit
//
// Metrics follow the tutorial: train loss and train AUC come from the training-mode predictions
// made during the epoch (dropout on, batch statistics); val loss and AUC from an eval-mode pass.
// A metric that is undefined (e.g. AUC with one class present) is NaN; the table prints "-",
// the CSV "nan", and the curves skip the point.
//
// `best` marks an epoch that improved the monitored metric (a new best so far, known when the
// row is printed); the best epoch of the run is the last one marked (History::best_index()).
//
// CSV layout (one header line, one line per epoch, '\n' line ends, no quoting needed):
//   epoch,train_loss,train_auc,val_loss,val_auc,seconds,samples_per_s,best
//   1,0.47123456789,0.7612,0.4612,0.7801,12.4,53210.5,1
// Numbers are in shortest round-trip form (std::to_chars), so they read back to the same
// double; NaN is "nan", infinities "inf"/"-inf"; best is 0 or 1.
#pragma once

#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace deepcross {

struct EpochRecord {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  int epoch = 0;             // 1-based
  double train_loss = kNaN;  // mean training-mode log loss over the epoch
  double train_auc = kNaN;   // AUC of the epoch's training-mode predictions
  double val_loss = kNaN;
  double val_auc = kNaN;
  double seconds = kNaN;        // wall time of the epoch
  double samples_per_s = kNaN;  // training rows / seconds spent in training steps
  bool best = false;            // improved the monitored metric
};

class History {
 public:
  void add(const EpochRecord& record) { epochs_.push_back(record); }
  const std::vector<EpochRecord>& epochs() const { return epochs_; }
  bool empty() const { return epochs_.empty(); }
  // Index into epochs() of the last record marked best, if any.
  std::optional<size_t> best_index() const;

  // The CSV text described above.
  std::string to_csv() const;
  // Writes to_csv() to `path` atomically (temporary file beside it, fsync, rename). DataError
  // naming the path on failure; `path` is then untouched and no temporary file is left.
  void write_csv(const std::string& path) const;

 private:
  std::vector<EpochRecord> epochs_;
};

// Parses CSV text in the layout above. `source` names it in errors, whose WHERE is
// "SOURCE:LINE:column N (NAME)" (1-based). DataError for a wrong header, a wrong field count,
// a number that is not a full decimal/nan/inf, an epoch that is not an integer ≥ 1, a best flag
// other than 0/1.
History parse_history_csv(std::string_view text, const std::string& source);
// Reads and parses the CSV file at `path`.
History read_history_csv(const std::string& path);

// The per-epoch table: a header line once, then one row per epoch; columns right-aligned,
// separated by two spaces, so rows line up under the header. A best epoch ends with "  *"
// under the header's "best"; NaN prints as "-". Neither string ends with a newline.
//   epoch  train loss  train AUC   val loss    val AUC  seconds   samples/s  best
//       1     0.47123    0.76121    0.46123    0.78012     12.4      53,211     *
std::string format_epoch_header();
std::string format_epoch_row(const EpochRecord& record);

}  // namespace deepcross
