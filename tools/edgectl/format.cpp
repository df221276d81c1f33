#include "format.hpp"

#include <cmath>
#include <cstdio>

namespace edgectl {

std::string format_number(double value, int decimals) {
  if (!std::isfinite(value)) return "-";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  std::string text(buffer);
  if (text.find('.') != std::string::npos) {
    while (text.back() == '0') text.pop_back();
    if (text.back() == '.') text.pop_back();
  }
  return text == "-0" ? "0" : text;
}

std::string cell(const Json& value, int decimals) {
  if (value.is_null()) return "-";
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_integer() || value.is_number_unsigned()) return value.dump();
  if (value.is_number()) return format_number(value.get<double>(), decimals);
  if (value.is_boolean()) return value.get<bool>() ? "yes" : "no";
  if (value.is_array()) {
    std::vector<std::string> items;
    for (const auto& item : value) items.push_back(cell(item, decimals));
    return items.empty() ? "-" : join(items);
  }
  return value.dump();
}

std::string cell(const Json& object, const char* key, int decimals) {
  if (!object.is_object() || !object.contains(key)) return "-";
  return cell(object[key], decimals);
}

std::string join(const std::vector<std::string>& items, const std::string& separator) {
  std::string joined;
  for (const std::string& item : items) {
    if (!joined.empty()) joined += separator;
    joined += item;
  }
  return joined;
}

std::string format_age(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "-";
  if (seconds < 60) return format_number(seconds, seconds < 10 ? 1 : 0) + " s";
  const auto minutes = static_cast<long>(seconds / 60);
  if (minutes < 60) return std::to_string(minutes) + " min";
  return std::to_string(minutes / 60) + " h " + std::to_string(minutes % 60) + " min";
}

}  // namespace edgectl
