#include "profiler/base/log.h"

#include <atomic>
#include <cstdio>

namespace golens::log {
namespace {
std::atomic<Level> g_level{Level::kInfo};

const char* Prefix(Level level) {
  switch (level) {
    case Level::kDebug: return "golens: debug: ";
    case Level::kInfo: return "golens: ";
    case Level::kWarn: return "golens: warning: ";
    case Level::kError: return "golens: error: ";
    case Level::kQuiet: return "";
  }
  return "";
}
}  // namespace

void SetLevel(Level level) { g_level = level; }
Level GetLevel() { return g_level; }

void Write(Level level, const std::string& message) {
  if (level < g_level) return;
  std::fprintf(stderr, "%s%s\n", Prefix(level), message.c_str());
}

}  // namespace golens::log
