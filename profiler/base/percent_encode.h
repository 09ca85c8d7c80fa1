// URL query values as the agent sends them (Pyroscope's series name, the
// serve link on OTLP spans): RFC 3986 unreserved characters stay, every
// other byte becomes %XX.
#pragma once

#include <string>

namespace golens {

std::string PercentEncode(const std::string& s);

}  // namespace golens
