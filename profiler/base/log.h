// Minimal leveled logging to stderr. Levels are set once by the CLI.
#pragma once

#include <sstream>
#include <string>

namespace golens::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kQuiet = 4 };

void SetLevel(Level level);
Level GetLevel();
void Write(Level level, const std::string& message);

// Streams a message: GOLENS_LOG(kWarn) << "lost " << n << " samples";
class Line {
 public:
  explicit Line(Level level) : level_(level) {}
  ~Line() { Write(level_, stream_.str()); }
  template <typename T>
  Line& operator<<(const T& v) {
    stream_ << v;
    return *this;
  }

 private:
  Level level_;
  std::ostringstream stream_;
};

}  // namespace golens::log

#define GOLENS_LOG(level)                                                 \
  if (::golens::log::Level::level < ::golens::log::GetLevel()) {          \
  } else                                                                  \
    ::golens::log::Line(::golens::log::Level::level)
