// Plain-text tables for humans: a header row, columns padded to their widest
// cell, numbers right-aligned. No borders, so that grep and awk work on the
// output too.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace edgectl {

class Table {
 public:
  enum class Align { Left, Right };
  struct Column {
    std::string header;
    Align align = Align::Left;
  };

  explicit Table(std::vector<Column> columns) : columns_(std::move(columns)) {}

  // One cell per column (asserted).
  void add_row(std::vector<std::string> cells);
  bool empty() const noexcept { return rows_.empty(); }
  // The last column is not padded, so lines carry no trailing spaces.
  void print(std::ostream& out) const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace edgectl
