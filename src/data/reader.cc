#include "data/reader.h"

#include "deepcross/suggest.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "core/check.h"
#include "core/text.h"
#include "data/chunk_parser.h"
#include "data/input_file.h"
#include "data/interner.h"
#include "data/sha256.h"
#include "data/table_builder.h"
#include "data/text_fields.h"
#include "deepcross/error.h"

namespace deepcross {
namespace {

constexpr int kCriteoNumeric = 13;      // I1..I13
constexpr int kCriteoCategorical = 26;  // C14..C39

// The ReadOptions field of a role, "label", "numeric", "categorical", "ignore" (errors name
// fields; the command line retells them as flags).
const char* role_field(FieldRole role) {
  switch (role) {
    case FieldRole::kLabel:
      return "label";
    case FieldRole::kNumeric:
      return "numeric";
    case FieldRole::kCategorical:
      return "categorical";
    case FieldRole::kIgnore:
      break;
  }
  return "ignore";
}


// The column roles named by the options (csv/tsv), checked for conflicts.
std::unordered_map<std::string, FieldRole> column_roles(const ReadOptions& opts) {
  std::unordered_map<std::string, FieldRole> roles;
  auto add = [&](const std::string& name, FieldRole role) {
    auto [it, inserted] = roles.emplace(name, role);
    if (!inserted && it->second != role) {
      throw UsageError("column '" + name + "' is given two roles (" + role_field(it->second) +
                           " and " + role_field(role) + ")",
                       role_field(role));
    }
  };
  if (!opts.label.empty()) {
    add(opts.label,
        opts.label_policy == LabelPolicy::kAbsent ? FieldRole::kIgnore : FieldRole::kLabel);
  }
  for (const auto& n : opts.numeric) add(n, FieldRole::kNumeric);
  for (const auto& n : opts.categorical) add(n, FieldRole::kCategorical);
  for (const auto& n : opts.ignore) add(n, FieldRole::kIgnore);
  return roles;
}

void check_options(const ReadOptions& opts) {
  if (opts.threads < 1) {
    throw UsageError("threads must be at least 1, got " + std::to_string(opts.threads),
                     "threads");
  }
  if (opts.classes < 1) {
    throw UsageError("classes must be at least 1, got " + std::to_string(opts.classes),
                     "classes");
  }
  DC_CHECK(opts.block_bytes > 0);
  if (opts.format != Format::kCriteo) column_roles(opts);  // role conflicts, before any I/O
  if (opts.format != Format::kCriteo && opts.label.empty() &&
      opts.label_policy == LabelPolicy::kRequired) {
    throw UsageError(std::string("a label column is required with format ") +
                         (opts.format == Format::kCsv ? "csv" : "tsv"),
                     "label");
  }
}

// Cuts a byte source into blocks of whole lines (the last one may lack its '\n'), hashing
// every byte on the way (unless `sha` is null).
class BlockReader {
 public:
  BlockReader(ByteSource& source, size_t block_bytes, Sha256* sha)
      : source_(source), block_bytes_(block_bytes), sha_(sha) {}

  bool next(std::string& block) {
    block.clear();
    block.swap(carry_);
    while (!eof_) {
      const size_t old = block.size();
      block.resize(old + block_bytes_);
      const size_t n = source_.read(block.data() + old, block_bytes_);
      block.resize(old + n);
      if (n == 0) {
        eof_ = true;
        break;
      }
      const std::string_view fresh = std::string_view(block).substr(old);
      if (sha_ != nullptr) sha_->update(fresh);
      const size_t nl = fresh.rfind('\n');
      if (nl != std::string_view::npos) {
        carry_.assign(block, old + nl + 1);
        block.resize(old + nl + 1);
        return true;
      }
    }
    return !block.empty();
  }

 private:
  ByteSource& source_;
  size_t block_bytes_;
  Sha256* sha_;
  std::string carry_;
  bool eof_ = false;
};

// Reads one source (a file, or text in memory) into the builder.
class SourceReader {
 public:
  SourceReader(ByteSource& source, const ReadOptions& opts, TableBuilder& builder, Sha256* sha)
      : source_(source),
        name_(source.name()),
        builder_(builder),
        opts_(opts),
        blocks_(source, opts_.block_bytes, sha) {}

  void run() {
    builder_.begin_source(name_);
    std::string block;
    if (!blocks_.next(block)) throw DataError("no data rows (the file is empty)", name_);
    // A UTF-8 byte-order mark (spreadsheets write one) is not data, in any format.
    if (block.compare(0, 3, "\xEF\xBB\xBF") == 0) {
      block.erase(0, 3);
      if (block.empty() && !blocks_.next(block)) {
        throw DataError("no data rows (the file is empty)", name_);
      }
    }
    if (opts_.format == Format::kCriteo) {
      layout_ = criteo_layout(0);
    } else {
      read_header(block);  // decides the layout
    }
    std::deque<Pending> inflight;
    // Parses `text` with `layout` (here, or on a worker thread) and merges in order.
    auto submit = [&](std::string text, std::shared_ptr<const RowLayout> layout, bool decides) {
      if (opts_.threads == 1) {
        ParsedChunk chunk = parse_chunk(text, *layout, expected_distinct_);
        merge(chunk, *layout, decides);
        return;
      }
      inflight.push_back({std::async(std::launch::async,
                                     [text = std::move(text), layout, hint = expected_distinct_] {
                                       return parse_chunk(text, *layout, hint);
                                     }),
                          layout, decides});
      if (inflight.size() >= static_cast<size_t>(opts_.threads)) merge_oldest(inflight);
    };
    bool more = true;
    while (more) {
      size_t offset = 0;
      std::shared_ptr<const RowLayout> before = layout_;
      if (!width_decided_ && decide_width(block, &offset)) {
        // The lines before the deciding row keep the undecided layout, so their messages do
        // not depend on where the blocks were cut.
        if (offset > 0) {
          submit(block.substr(0, offset), before, false);
          block.erase(0, offset);
        }
        submit(std::move(block), layout_, true);
      } else {
        submit(std::move(block), layout_, false);
      }
      block = std::string();
      try {
        more = blocks_.next(block);
      } catch (const DataError&) {
        // A read or gzip error after the blocks in flight: their lines come first.
        while (!inflight.empty()) merge_oldest(inflight);
        throw;
      }
    }
    while (!inflight.empty()) merge_oldest(inflight);
    finish_columns();
    if (builder_.table().source_rows.back() == 0) throw DataError("no data rows", name_);
  }

 private:
  struct Pending {
    std::future<ParsedChunk> chunk;
    std::shared_ptr<const RowLayout> layout;
    bool decides;  // the block's first line decided the Criteo width
  };

  void merge_oldest(std::deque<Pending>& inflight) {
    Pending p = std::move(inflight.front());
    inflight.pop_front();
    ParsedChunk chunk = p.chunk.get();
    merge(chunk, *p.layout, p.decides);
  }

  std::string where(size_t line, uint32_t column, const RowLayout& layout) const {
    std::string w = name_ + ":" + std::to_string(line);
    if (column > 0) {
      w += ":column " + std::to_string(column);
      if (column <= layout.names.size() && !layout.names[column - 1].empty()) {
        w += " (" + layout.names[column - 1] + ")";
      }
    }
    return w;
  }

  // The layout of a Criteo row with `width` fields (40: with label; 39: without; 0: not
  // decided yet, every row is a field-count problem).
  std::shared_ptr<RowLayout> criteo_layout(size_t width) const {
    auto layout = std::make_shared<RowLayout>();
    layout->classes = opts_.classes;
    layout->stop_at_first_problem = opts_.bad_lines == BadLines::kError;
    layout->numeric = kCriteoNumeric;
    layout->categorical = kCriteoCategorical;
    const size_t full = 1 + kCriteoNumeric + kCriteoCategorical;
    if (width == 0) {
      layout->expected_fields = opts_.label_policy == LabelPolicy::kRequired ? "expected 40 fields"
                                : opts_.label_policy == LabelPolicy::kAbsent
                                    ? "expected 39 fields"
                                    : "expected 39 or 40 fields";
      return layout;
    }
    layout->expected_fields = "expected " + std::to_string(width) + " fields";
    layout->has_label = width == full;
    layout->label_ignored = opts_.label_policy == LabelPolicy::kOptional;
    if (layout->has_label) {
      layout->fields.push_back({FieldRole::kLabel, 0});
      layout->names.push_back("label");
    }
    for (uint32_t i = 0; i < kCriteoNumeric; ++i) {
      layout->fields.push_back({FieldRole::kNumeric, i});
      layout->names.push_back(builder_.table().numeric[i].name);
    }
    for (uint32_t i = 0; i < kCriteoCategorical; ++i) {
      layout->fields.push_back({FieldRole::kCategorical, i});
      layout->names.push_back(builder_.table().categorical[i].name);
    }
    return layout;
  }

  // Criteo: finds the first non-blank line of the block with an acceptable field count
  // (stopping at the first non-blank line when bad lines are errors) and fixes the layout.
  // Returns whether a row decided, and sets *offset to its byte offset in the block.
  bool decide_width(std::string_view block, size_t* offset) {
    const size_t full = 1 + kCriteoNumeric + kCriteoCategorical;
    size_t pos = 0;
    while (pos < block.size()) {
      size_t end = block.find('\n', pos);
      if (end == std::string_view::npos) end = block.size();
      std::string_view row = block.substr(pos, end - pos);
      if (!row.empty() && row.back() == '\r') row.remove_suffix(1);
      const size_t start = pos;
      pos = end + 1;
      if (row.empty()) continue;
      const size_t width = 1 + static_cast<size_t>(std::count(row.begin(), row.end(), '\t'));
      const bool ok = (width == full && opts_.label_policy != LabelPolicy::kAbsent) ||
                      (width == full - 1 && opts_.label_policy != LabelPolicy::kRequired);
      if (ok) {
        layout_ = criteo_layout(width);
        width_decided_ = true;
        *offset = start;
        return true;
      }
      if (opts_.bad_lines == BadLines::kError) {
        width_decided_ = true;  // this first row is an error; nothing later matters
        return false;
      }
    }
    return false;
  }

  // CSV/TSV: parses the header (the block's first line, removed from the block) into the
  // layout, and on the first source, the table's columns.
  void read_header(std::string& block) {
    size_t nl = block.find('\n');
    std::string_view header = std::string_view(block).substr(0, nl);
    if (!header.empty() && header.back() == '\r') header.remove_suffix(1);
    if (header.substr(0, 3) == "\xEF\xBB\xBF") header.remove_prefix(3);
    if (header.empty()) {
      throw DataError("empty header line (expected the column names)", name_ + ":1");
    }
    auto layout = std::make_shared<RowLayout>();
    layout->separator = opts_.delimiter != 0 ? opts_.delimiter
                        : opts_.format == Format::kCsv ? ','
                                                         : '\t';
    layout->quoted = opts_.format == Format::kCsv;
    layout->classes = opts_.classes;
    layout->stop_at_first_problem = opts_.bad_lines == BadLines::kError;
    FieldSplitter splitter(layout->separator, layout->quoted);
    std::vector<std::string_view> fields;
    FieldProblem problem = splitter.split(header, fields);
    if (!problem.ok()) throw DataError(problem.what, where(1, problem.column, *layout));
    for (auto f : fields) layout->names.emplace_back(f);
    // One column holding the other separator: the file is in another layout (a Criteo or TSV
    // file given to a CSV model, say); say so rather than echo the line as a column name.
    if (fields.size() == 1 && column_roles(opts_).size() > 1) {
      for (const char other : {'\t', ',', ';', '|'}) {
        if (other == layout->separator || fields[0].find(other) == std::string_view::npos) continue;
        const auto shown = [](char c) { return c == '\t' ? std::string("tab") : "'" + std::string(1, c) + "'"; };
        throw DataError("the header line has no " + shown(layout->separator) +
                            " between its columns but has " + shown(other) +
                            ": the file is not in the layout the data is read in (" +
                            (opts_.format == Format::kCsv ? "CSV" : "TSV") + " with a header line" +
                            (opts_.delimiter != 0 ? ", --delimiter" : "") + ")",
                        name_ + ":1");
      }
    }
    layout->expected_fields = "expected " + std::to_string(fields.size()) + " fields";

    const auto roles = column_roles(opts_);
    // The columns the flags (or the model) name come first: a misspelt --label is reported as
    // itself, not as the header column it failed to claim.
    const std::unordered_set<std::string> in_header(layout->names.begin(), layout->names.end());
    for (const auto& [name, role] : roles) {
      if (in_header.count(name) ||
          (role == FieldRole::kLabel && opts_.label_policy == LabelPolicy::kOptional) ||
          (role == FieldRole::kIgnore && opts_.unknown_columns_ignored) ||
          (name == opts_.label && opts_.label_policy == LabelPolicy::kAbsent)) {
        continue;
      }
      if (opts_.unknown_columns_ignored) {  // the model's column, not a flag the user typed
        throw DataError("the model's " + std::string(role_field(role)) + " column " +
                            quote_field(name) + " is not in the header",
                        name_ + ":1");
      }
      std::vector<std::string_view> header_names(layout->names.begin(), layout->names.end());
      const std::string near = closest_name(name, header_names);
      throw DataError("column " + quote_field(name) + " (" + role_field(role) +
                          ") is not in the header" +
                          (near.empty() ? std::string() : " (did you mean " + quote_field(near) + "?)"),
                      name_ + ":1");
    }
    std::unordered_map<std::string, size_t> seen;
    std::vector<std::string> numeric, categorical;
    for (size_t i = 0; i < layout->names.size(); ++i) {
      const std::string& name = layout->names[i];
      const std::string at = where(1, static_cast<uint32_t>(i + 1), *layout);
      if (name.empty()) throw DataError("empty column name in the header", at);
      if (!valid_utf8(name)) throw DataError("column name is not valid UTF-8", at);
      auto [it, inserted] = seen.emplace(name, i + 1);
      if (!inserted) {
        throw DataError("duplicate column name " + quote_field(name) + " (also column " +
                            std::to_string(it->second) + ")",
                        at);
      }
      auto role = roles.find(name);
      if (role == roles.end() && opts_.unknown_columns_ignored) {
        if (!builder_.columns_set()) builder_.table().unused_columns.push_back(name);
        layout->fields.push_back({FieldRole::kIgnore, 0});
        continue;
      }
      if (role == roles.end()) {
        throw DataError("column " + quote_field(name) +
                            " has no role (name it in --label, --numeric, --categorical or "
                            "--ignore)",
                        at);
      }
      FieldSlot slot{role->second, 0};
      if (slot.role == FieldRole::kNumeric) {
        slot.index = static_cast<uint32_t>(numeric.size());
        numeric.push_back(name);
      } else if (slot.role == FieldRole::kCategorical) {
        slot.index = static_cast<uint32_t>(categorical.size());
        categorical.push_back(name);
      } else if (slot.role == FieldRole::kLabel) {
        layout->has_label = true;
        layout->label_ignored = opts_.label_policy == LabelPolicy::kOptional;
      }
      layout->fields.push_back(slot);
    }
    map_columns(*layout, numeric, categorical);
    builder_.check_label(layout->has_label, name_ + ":1", opts_.label);
    layout_ = layout;
    width_decided_ = true;
    block.erase(0, nl == std::string::npos ? block.size() : nl + 1);
    next_line_ = 2;
  }

  // Points the layout's slots at the table's columns (set from the first source's header).
  void map_columns(RowLayout& layout, const std::vector<std::string>& numeric,
                   const std::vector<std::string>& categorical) {
    if (!builder_.columns_set()) builder_.set_columns(numeric, categorical);
    Table& t = builder_.table();
    auto index_of = [&](const auto& columns, const std::string& name) -> uint32_t {
      for (size_t k = 0; k < columns.size(); ++k) {
        if (columns[k].name == name) return static_cast<uint32_t>(k);
      }
      throw DataError("column " + quote_field(name) + " is not in the first file's header",
                      name_ + ":1");
    };
    for (size_t i = 0; i < layout.fields.size(); ++i) {
      FieldSlot& slot = layout.fields[i];
      if (slot.role == FieldRole::kNumeric) slot.index = index_of(t.numeric, layout.names[i]);
      if (slot.role == FieldRole::kCategorical) {
        slot.index = index_of(t.categorical, layout.names[i]);
      }
    }
    if (numeric.size() != t.numeric.size() || categorical.size() != t.categorical.size()) {
      throw DataError("the header's columns differ from the first file's", name_ + ":1");
    }
    layout.numeric = t.numeric.size();
    layout.categorical = t.categorical.size();
  }

  // Merges a parsed block, in file order: blank lines, label presence, bad lines, rows.
  // `decides`: the block's first line decided the Criteo width (and so the label).
  void merge(ParsedChunk& c, const RowLayout& layout, bool decides) {
    const bool skip = opts_.bad_lines == BadLines::kSkip;
    if (c.all_blank) {
      if (blank_count_ == 0) blank_first_ = next_line_;
      blank_count_ += c.leading_blank;
      next_line_ += c.lines;
      return;
    }
    // Blank lines followed by this block's first row.
    const size_t blanks = blank_count_ + c.leading_blank;
    const size_t first_blank = blank_count_ > 0 ? blank_first_ : next_line_;
    for (size_t k = 0; k < blanks; ++k) {
      if (!skip) throw DataError("empty line", where(first_blank, 0, layout));
      builder_.skip(1);
      builder_.note("empty line", where(first_blank + k, 0, layout));
    }
    blank_count_ = 0;
    if (decides) {
      builder_.check_label(layout.has_label, where(next_line_, 0, layout), "label");
    }
    if (!c.problems.empty() && !skip) {
      const LineProblem& p = c.problems.front();
      throw DataError(p.what, where(next_line_ + p.line, p.column, layout));
    }
    builder_.skip(c.skipped);
    for (const LineProblem& p : c.problems) {
      builder_.note(p.what, where(next_line_ + p.line, p.column, layout));
    }
    if (!reserved_ && c.rows > 0 && c.bytes >= (size_t{1} << 16) && source_.size_hint() > 0) {
      // Room for the rows the whole source likely holds, at this block's bytes per row.
      const double estimate = 1.05 * static_cast<double>(source_.size_hint()) /
                              static_cast<double>(c.bytes) * static_cast<double>(c.rows);
      finish_columns();  // (no column may grow while its room is made)
      builder_.reserve(builder_.table().rows + static_cast<size_t>(estimate) + 16);
      reserved_ = true;
    }
    expected_distinct_.resize(c.dictionaries.size());
    for (size_t j = 0; j < c.dictionaries.size(); ++j) {
      expected_distinct_[j] = c.dictionaries[j].size();
    }
    if (c.trailing_blank > 0) {
      blank_first_ = next_line_ + c.trailing_first;
      blank_count_ = c.trailing_blank;
    }
    next_line_ += c.lines;
    append(std::move(c));
  }

  // Appends a chunk's rows to the table. With more than one thread the categorical columns,
  // most of the work (each distinct value of the block looked up in the column's dictionary),
  // are appended off this thread: a task per block takes the columns one by one as their turn
  // comes (each column's blocks in file order), so consecutive blocks' tasks work on different
  // columns at once, beside the parsing. The table is the same whatever the thread count.
  void append(ParsedChunk&& c) {
    if (opts_.threads == 1) {
      builder_.append(c);
      return;
    }
    builder_.append_rows(c);
    auto chunk = std::make_shared<const ParsedChunk>(std::move(c));
    const size_t block = appended_blocks_++;
    if (turns_.next.size() != chunk->codes.size()) turns_.next.assign(chunk->codes.size(), 0);
    appending_.push_back(std::async(std::launch::async, [this, chunk, block] {
      std::vector<uint32_t> scratch;
      const size_t n = chunk->codes.size();
      std::vector<bool> done(n, false);
      std::unique_lock<std::mutex> lock(turns_.mutex);
      for (size_t left = n; left > 0;) {
        size_t j = 0;
        while (j < n && (done[j] || turns_.next[j] != block)) ++j;
        if (j == n) {
          turns_.turn.wait(lock);
          continue;
        }
        lock.unlock();
        builder_.append_column(*chunk, j, scratch);
        lock.lock();
        done[j] = true;
        --left;
        turns_.next[j] = block + 1;
        turns_.turn.notify_all();
      }
    }));
    if (appending_.size() > static_cast<size_t>(opts_.threads)) {
      appending_.front().get();
      appending_.pop_front();
    }
  }

  // Waits for the columns still being appended.
  void finish_columns() {
    while (!appending_.empty()) {
      appending_.front().get();
      appending_.pop_front();
    }
  }

  ByteSource& source_;
  std::string name_;
  TableBuilder& builder_;
  const ReadOptions& opts_;
  BlockReader blocks_;
  std::shared_ptr<const RowLayout> layout_;
  bool width_decided_ = false;
  bool reserved_ = false;                  // table columns sized for this source
  std::vector<size_t> expected_distinct_;  // per categorical column, from the last block
  size_t next_line_ = 1;                   // the line number of the next block's first line
  size_t blank_first_ = 0;                 // blank lines seen after the last row, not yet judged
  size_t blank_count_ = 0;
  struct Turns {
    std::mutex mutex;
    std::condition_variable turn;
    std::vector<size_t> next;  // per categorical column: the block whose turn it is
  } turns_;
  size_t appended_blocks_ = 0;
  // Last: destroyed (each waiting for its task) before what the tasks use.
  std::deque<std::future<void>> appending_;
};

// The table builder for `opts`: label presence fixed by the policy, Criteo's fixed columns.
TableBuilder make_builder(const ReadOptions& opts, std::vector<BadLine>* bad_lines) {
  std::optional<bool> has_label;
  if (opts.label_policy == LabelPolicy::kRequired) has_label = true;
  if (opts.label_policy == LabelPolicy::kAbsent) has_label = false;
  TableBuilder builder(has_label, bad_lines);
  if (opts.format == Format::kCriteo) {
    std::vector<std::string> numeric, categorical;
    // (Appending, not "I" + std::to_string(i): GCC 12 warns falsely about the latter.)
    for (int i = 1; i <= kCriteoNumeric; ++i)
      numeric.push_back(std::string("I").append(std::to_string(i)));
    for (int i = 0; i < kCriteoCategorical; ++i) {
      categorical.push_back(std::string("C").append(std::to_string(kCriteoNumeric + 1 + i)));
    }
    builder.set_columns(numeric, categorical);
  }
  return builder;
}

}  // namespace

Format parse_format(std::string_view name) {
  if (name == "criteo") return Format::kCriteo;
  if (name == "csv") return Format::kCsv;
  if (name == "tsv") return Format::kTsv;
  throw UsageError("unknown format '" + std::string(name) + "' (expected criteo, csv or tsv)",
                   "format");
}

BadLines parse_bad_lines(std::string_view name) {
  if (name == "error") return BadLines::kError;
  if (name == "skip") return BadLines::kSkip;
  throw UsageError("unknown value '" + std::string(name) + "' (expected error or skip)",
                   "bad_lines");
}

Table read_table(const std::vector<std::string>& paths, const ReadOptions& opts,
                 std::vector<BadLine>* bad_lines) {
  check_options(opts);
  if (paths.empty()) throw UsageError("no data files given", "paths");
  TableBuilder builder = make_builder(opts, bad_lines);
  std::optional<Sha256> sha;
  if (opts.compute_sha256) sha.emplace();
  for (const auto& path : paths) {
    InputFile file(path);
    SourceReader(file, opts, builder, sha ? &*sha : nullptr).run();
  }
  return builder.finish(sha ? sha->hex_digest() : std::string());
}

Table parse_table(std::string_view text, std::string_view source, const ReadOptions& opts,
                  std::vector<BadLine>* bad_lines) {
  check_options(opts);
  TableBuilder builder = make_builder(opts, bad_lines);
  std::optional<Sha256> sha;  // (an OpenSSL context: not even created when not wanted)
  if (opts.compute_sha256) sha.emplace();
  MemorySource memory(text, std::string(source));
  SourceReader(memory, opts, builder, sha ? &*sha : nullptr).run();
  return builder.finish(sha ? sha->hex_digest() : std::string());
}

}  // namespace deepcross
