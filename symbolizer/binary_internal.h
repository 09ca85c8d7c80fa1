// Symbolizer-internal entry points (not part of the public contract).
#pragma once

#include <memory>
#include <string>

#include "symbolizer/symbolizer.h"

namespace golens::symbolizer {

// Opens `open_path` (e.g. /proc/PID/map_files/...) but reports `display_path`
// (the path the process mapped) from Binary::path() and in errors.
Result<std::shared_ptr<const Binary>> OpenBinaryAs(const std::string& open_path, const std::string& display_path);

}  // namespace golens::symbolizer
