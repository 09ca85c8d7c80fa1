// /proc/PID/maps parsing.
#include <cerrno>
#include <charconv>
#include <fstream>
#include <sstream>

#include "symbolizer/symbolizer.h"

namespace golens::symbolizer {
namespace {

bool ParseHex(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out, 16);
  return ec == std::errc() && p == s.data() + s.size();
}

// Next whitespace-separated field; advances `rest`.
std::string_view NextField(std::string_view* rest) {
  size_t b = rest->find_first_not_of(' ');
  if (b == std::string_view::npos) {
    *rest = {};
    return {};
  }
  rest->remove_prefix(b);
  size_t e = rest->find(' ');
  std::string_view field = rest->substr(0, e);
  rest->remove_prefix(e == std::string_view::npos ? rest->size() : e);
  return field;
}

}  // namespace

Result<std::vector<Mapping>> ParseProcessMappings(std::string_view text) {
  std::vector<Mapping> out;
  size_t line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    if (line.empty()) continue;
    std::string_view rest = line;
    std::string_view range = NextField(&rest);
    std::string_view perms = NextField(&rest);
    std::string_view offset = NextField(&rest);
    std::string_view dev = NextField(&rest);
    std::string_view inode = NextField(&rest);
    size_t dash = range.find('-');
    Mapping m;
    uint64_t inode_value = 0;
    if (dash == std::string_view::npos || !ParseHex(range.substr(0, dash), &m.start) ||
        !ParseHex(range.substr(dash + 1), &m.end) || perms.size() < 4 || !ParseHex(offset, &m.file_offset) ||
        dev.empty() || inode.empty() ||
        std::from_chars(inode.data(), inode.data() + inode.size(), inode_value).ec != std::errc()) {
      return MakeError("maps line " + std::to_string(line_no) + ": cannot parse \"" + std::string(line) + "\"");
    }
    m.perms = std::string(perms);
    m.dev = std::string(dev);
    m.inode = inode_value;
    size_t b = rest.find_first_not_of(' ');
    std::string_view path = b == std::string_view::npos ? std::string_view() : rest.substr(b);
    constexpr std::string_view kDeleted = " (deleted)";
    if (path.size() > kDeleted.size() && path.substr(path.size() - kDeleted.size()) == kDeleted) {
      path.remove_suffix(kDeleted.size());
      m.deleted = true;
    }
    m.path = std::string(path);
    out.push_back(std::move(m));
  }
  return out;
}

Result<std::vector<Mapping>> ReadProcessMappings(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/maps";
  std::ifstream in(path);
  if (!in) return ErrnoError("open " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return ErrnoError("read " + path);
  auto maps = ParseProcessMappings(text.str());
  if (!maps.ok()) return maps.error().Context(path);
  if (maps->empty()) return MakeError(path + ": no mappings (process exited or is a kernel thread)");
  return maps;
}

}  // namespace golens::symbolizer
