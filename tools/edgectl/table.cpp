#include "table.hpp"

#include <algorithm>
#include <cassert>

namespace edgectl {
namespace {

// Display width: UTF-8 continuation bytes take no column (ids are ASCII,
// but locations and reasons come from users).
std::size_t width(const std::string& text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

}  // namespace

void Table::add_row(std::vector<std::string> cells) {
  assert(cells.size() == columns_.size() && "one cell per column");
  rows_.push_back(std::move(cells));
}

void Table::print(std::ostream& out) const {
  std::vector<std::size_t> widths(columns_.size());
  for (std::size_t column = 0; column < columns_.size(); ++column) {
    widths[column] = width(columns_[column].header);
    for (const auto& row : rows_) widths[column] = std::max(widths[column], width(row[column]));
  }
  const auto print_row = [&](const auto& cell_of) {
    std::string line;
    for (std::size_t column = 0; column < columns_.size(); ++column) {
      const std::string& cell = cell_of(column);
      const std::string padding(widths[column] - width(cell), ' ');
      const bool last = column + 1 == columns_.size();
      if (columns_[column].align == Align::Right) {
        line += padding + cell;
      } else {
        line += cell;
        if (!last) line += padding;
      }
      if (!last) line += "  ";
    }
    out << line << '\n';
  };
  print_row([&](std::size_t column) -> const std::string& { return columns_[column].header; });
  for (const auto& row : rows_) {
    print_row([&](std::size_t column) -> const std::string& { return row[column]; });
  }
}

}  // namespace edgectl
