// Text helpers for the SVG writer: XML escaping that also repairs what
// would make a browser reject the file (invalid UTF-8, control characters),
// and number formatting without locale or iostream overhead.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace golens::web {

// Escapes & < > " and replaces bytes XML 1.0 forbids or invalid UTF-8 with '?'.
void AppendXmlEscaped(std::string* out, std::string_view text);
std::string XmlEscaped(std::string_view text);

// Fixed-point with `decimals` digits, trailing zeros kept ("12.50").
void AppendFixed(std::string* out, double value, int decimals);
// 1234567 -> "1,234,567" (negative values keep their sign).
void AppendThousands(std::string* out, int64_t value);

// The longest prefix of `text` of at most `max_chars` UTF-8 characters.
std::string_view Utf8Prefix(std::string_view text, size_t max_chars);
size_t Utf8Length(std::string_view text);

}  // namespace golens::web
