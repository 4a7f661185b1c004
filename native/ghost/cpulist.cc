// Kernel CPU-list text ("0-3,5\n"), as ghostfs's cpulist file and /sys topology files use it.
#include "ghost/cpulist.h"

#include <charconv>
#include <stdexcept>

namespace ghost {

std::vector<int> parseCpuList(const std::string& text) {
  std::vector<int> out;
  size_t i = 0, n = text.size();
  while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' ')) n--;
  while (i < n) {
    size_t j = text.find(',', i);
    if (j == std::string::npos || j > n) j = n;
    std::string part = text.substr(i, j - i);
    size_t dash = part.find('-');
    int lo = 0, hi = 0;
    auto parse = [&](const std::string& s, int& v) {
      auto r = std::from_chars(s.data(), s.data() + s.size(), v);
      if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size() || v < 0)
        throw std::invalid_argument("bad CPU list element '" + part + "'");
    };
    if (dash == std::string::npos) {
      parse(part, lo);
      hi = lo;
    } else {
      parse(part.substr(0, dash), lo);
      parse(part.substr(dash + 1), hi);
    }
    if (hi < lo || hi > 65535) throw std::invalid_argument("bad CPU range '" + part + "'");
    for (int c = lo; c <= hi; c++) out.push_back(c);
    i = j + 1;
  }
  return out;
}

std::string formatCpuList(const std::vector<int>& cpus) {
  std::string s;
  for (size_t i = 0; i < cpus.size();) {
    size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) j++;
    if (!s.empty()) s += ",";
    s += std::to_string(cpus[i]);
    if (j > i) {
      s += '-';  // two appends: GCC 12 -Wrestrict misfires on "-" + std::string
      s += std::to_string(cpus[j]);
    }
    i = j + 1;
  }
  return s;
}

}  // namespace ghost
