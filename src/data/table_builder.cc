#include "data/table_builder.h"

#include "core/check.h"
#include "deepcross/error.h"

namespace deepcross {

TableBuilder::TableBuilder(std::optional<bool> has_label, std::vector<BadLine>* bad_lines)
    : has_label_(has_label), bad_lines_(bad_lines) {
  if (bad_lines_) bad_lines_->clear();
}

void TableBuilder::set_columns(const std::vector<std::string>& numeric,
                               const std::vector<std::string>& categorical) {
  DC_CHECK(!columns_set_);
  for (const auto& n : numeric) table_.numeric.push_back({n, {}});
  for (const auto& n : categorical) table_.categorical.push_back({n, {}, {}});
  dictionaries_.resize(categorical.size());
  columns_set_ = true;
}

void TableBuilder::begin_source(std::string name) {
  table_.sources.push_back(std::move(name));
  table_.source_rows.push_back(0);
}

void TableBuilder::check_label(bool has_label, const std::string& where,
                               const std::string& label_name) {
  if (!has_label_) has_label_ = has_label;
  if (*has_label_ != has_label) {
    throw DataError(
        has_label
            ? "these rows have a label (" + label_name + ") but the rows read before them do not"
            : "these rows have no label (" + label_name + ") but the rows read before them do",
        where);
  }
  table_.has_label = has_label;
  table_.label_name = has_label ? label_name : std::string();
}

void TableBuilder::reserve(size_t rows) {
  if (table_.has_label) table_.labels.reserve(rows);
  for (auto& c : table_.numeric) c.values.reserve(rows);
  for (auto& c : table_.categorical) c.codes.reserve(rows);
}

void TableBuilder::note(std::string what, std::string where) {
  if (bad_lines_ && bad_lines_->size() < kMaxReportedBadLines) {
    bad_lines_->push_back({std::move(what), std::move(where)});
  }
}

void TableBuilder::append(const ParsedChunk& c) {
  append_rows(c);
  for (size_t j = 0; j < c.codes.size(); ++j) append_column(c, j, global_);
}

void TableBuilder::append_rows(const ParsedChunk& c) {
  DC_CHECK(!table_.source_rows.empty());
  table_.rows += c.rows;
  table_.source_rows.back() += c.rows;
  if (table_.has_label) {
    DC_CHECK(c.labels.size() == c.rows);
    table_.labels.insert(table_.labels.end(), c.labels.begin(), c.labels.end());
  }
  DC_CHECK(c.numeric.size() == table_.numeric.size());
  for (size_t j = 0; j < c.numeric.size(); ++j) {
    auto& dst = table_.numeric[j].values;
    dst.insert(dst.end(), c.numeric[j].begin(), c.numeric[j].end());
  }
  DC_CHECK(c.codes.size() == table_.categorical.size());
}

void TableBuilder::append_column(const ParsedChunk& c, size_t j, std::vector<uint32_t>& global) {
  const StringInterner& local = c.dictionaries[j];
  StringInterner& dictionary = dictionaries_[j];
  const uint32_t n = static_cast<uint32_t>(local.size());
  global.resize(n);
  constexpr uint32_t kAhead = 8;  // lookups in flight (see StringInterner::prefetch)
  for (uint32_t code = 0; code < n; ++code) {
    if (code + kAhead < n) dictionary.prefetch(local.hash(code + kAhead));
    global[code] = dictionary.intern(local.value(code), local.hash(code));
  }
  auto& dst = table_.categorical[j].codes;
  const size_t base = dst.size();
  dst.resize(base + c.codes[j].size());
  const uint32_t* src = c.codes[j].data();
  for (size_t r = 0; r < c.codes[j].size(); ++r) dst[base + r] = global[src[r]];
}

Table TableBuilder::finish(std::string sha256) {
  for (size_t j = 0; j < dictionaries_.size(); ++j) {
    table_.categorical[j].dictionary = dictionaries_[j].values();
  }
  table_.sha256 = std::move(sha256);
  if (!has_label_) table_.has_label = false;
  return std::move(table_);
}

}  // namespace deepcross
