// /proc/kallsyms: "ffffffff81000000 T _stext" and "... t name\t[module]".
#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

#include "symbolizer/symbolizer.h"

namespace golens::symbolizer {

namespace {

// "ext4 1040384 2 - Live 0xffffffffc0a1c000" -> ("[ext4]", start, end).
void ParseModules(std::string_view text, std::vector<std::pair<std::string, Kallsyms::Range>>* out) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    std::vector<std::string_view> fields;
    size_t pos = 0;
    while (pos < line.size()) {
      size_t sp = line.find(' ', pos);
      if (sp == std::string_view::npos) sp = line.size();
      if (sp > pos) fields.push_back(line.substr(pos, sp - pos));
      pos = sp + 1;
    }
    if (fields.size() < 6 || !fields[5].starts_with("0x")) continue;
    uint64_t size = 0, start = 0;
    std::string_view addr = fields[5].substr(2);
    if (std::from_chars(fields[1].data(), fields[1].data() + fields[1].size(), size).ec != std::errc()) continue;
    if (std::from_chars(addr.data(), addr.data() + addr.size(), start, 16).ec != std::errc()) continue;
    if (start == 0 || size == 0) continue;  // hidden by kptr_restrict
    out->emplace_back("[" + std::string(fields[0]) + "]", Kallsyms::Range{start, start + size});
  }
}

}  // namespace

Result<Kallsyms> Kallsyms::Parse(std::string_view text, std::string_view modules) {
  Kallsyms k;
  ParseModules(modules, &k.modules_);
  uint64_t text_start = 0, text_end = 0, init_start = 0, init_end = 0;
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
    if (module.empty()) {
      if (name == "_text" || (name == "_stext" && text_start == 0)) text_start = addr;
      else if (name == "_etext") text_end = addr;
      else if (name == "_sinittext") init_start = addr;
      else if (name == "_einittext") init_end = addr;
    }
    k.symbols_.push_back(Entry{addr, std::string(name), std::string(module)});
  }
  std::stable_sort(k.symbols_.begin(), k.symbols_.end(),
                   [](const Entry& a, const Entry& b) { return a.address < b.address; });
  if (text_start != 0 && text_end > text_start) {
    k.core_text_.push_back(Range{text_start, text_end});
    if (init_start != 0 && init_end > init_start) k.core_text_.push_back(Range{init_start, init_end});
  }
  return k;
}

Result<Kallsyms> Kallsyms::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return ErrnoError("open " + path);
  std::ostringstream text;
  text << in.rdbuf();
  // /proc/modules gives each module's extent; missing (no modules, or a
  // copied kallsyms file) only makes module lookups less strict.
  std::string modules;
  size_t slash = path.rfind('/');
  std::ifstream modules_in((slash == std::string::npos ? std::string() : path.substr(0, slash + 1)) + "modules");
  if (modules_in) {
    std::ostringstream m;
    m << modules_in.rdbuf();
    modules = m.str();
  }
  auto k = Parse(text.str(), modules);
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
  if (e.module.empty()) {
    if (!core_text_.empty() && std::none_of(core_text_.begin(), core_text_.end(), [&](const Range& r) {
          return address >= r.start && address < r.end;
        })) {
      out.error = "outside kernel text (past _etext/_einittext)";
      return out;
    }
  } else {
    auto mod = std::find_if(modules_.begin(), modules_.end(), [&](const auto& m) { return m.first == e.module; });
    if (mod != modules_.end()) {
      if (address >= mod->second.end) {
        out.error = "past the end of module " + e.module;
        return out;
      }
    } else if (address - e.address >= kMaxModuleGap) {
      out.error = "too far past the last symbol of " + e.module;
      return out;
    }
  }
  Frame f;
  f.function = e.name;
  f.file = e.module;
  out.frames.push_back(std::move(f));
  return out;
}

}  // namespace golens::symbolizer
