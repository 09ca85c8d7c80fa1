// /proc/kallsyms: "ffffffff81000000 T _stext" and "... t name\t[module]".
#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

#include "symbolizer/symbolizer.h"

namespace golens::symbolizer {

Result<Kallsyms> Kallsyms::Parse(std::string_view text) {
  Kallsyms k;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    size_t s1 = line.find(' ');
    if (s1 == std::string_view::npos) continue;
    size_t s2 = line.find(' ', s1 + 1);
    if (s2 == std::string_view::npos || s2 != s1 + 2) continue;
    uint64_t addr = 0;
    auto [p, ec] = std::from_chars(line.data(), line.data() + s1, addr, 16);
    if (ec != std::errc() || p != line.data() + s1) continue;
    char type = line[s1 + 1];
    // Only text symbols can be sampled PCs.
    if (type != 't' && type != 'T' && type != 'w' && type != 'W') continue;
    if (addr == 0) continue;  // hidden by kptr_restrict
    std::string_view rest = line.substr(s2 + 1);
    std::string_view name = rest, module;
    size_t tab = rest.find('\t');
    if (tab != std::string_view::npos) {
      name = rest.substr(0, tab);
      module = rest.substr(tab + 1);
      while (!module.empty() && (module.back() == ' ' || module.back() == '\r')) module.remove_suffix(1);
    }
    if (name.empty()) continue;
    k.symbols_.push_back(Entry{addr, std::string(name), std::string(module)});
  }
  std::stable_sort(k.symbols_.begin(), k.symbols_.end(),
                   [](const Entry& a, const Entry& b) { return a.address < b.address; });
  return k;
}

Result<Kallsyms> Kallsyms::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return ErrnoError("open " + path);
  std::ostringstream text;
  text << in.rdbuf();
  auto k = Parse(text.str());
  if (!k.ok()) return k.error().Context(path);
  if (k->size() == 0)
    return MakeError(path + ": no usable symbols (all addresses are 0: kernel.kptr_restrict needs root)");
  return k;
}

SymbolizedAddress Kallsyms::Symbolize(uint64_t address) const {
  SymbolizedAddress out;
  auto it = std::upper_bound(symbols_.begin(), symbols_.end(), address,
                             [](uint64_t a, const Entry& e) { return a < e.address; });
  if (it == symbols_.begin()) {
    out.error = "address below the first kernel symbol";
    return out;
  }
  const Entry& e = *std::prev(it);
  Frame f;
  f.function = e.name;
  f.file = e.module;
  out.frames.push_back(std::move(f));
  return out;
}

}  // namespace golens::symbolizer
