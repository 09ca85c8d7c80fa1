#include "web/svg_text.h"

#include <charconv>
#include <cmath>

namespace golens::web {
namespace {

// Length of the valid UTF-8 sequence at text[i], or 0 when invalid.
size_t Utf8SequenceLength(std::string_view text, size_t i) {
  unsigned char c = static_cast<unsigned char>(text[i]);
  size_t n;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) n = 2;
  else if (c >= 0xe0 && c <= 0xef) n = 3;
  else if (c >= 0xf0 && c <= 0xf4) n = 4;
  else return 0;
  if (i + n > text.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) return 0;
  }
  return n;
}

}  // namespace

void AppendXmlEscaped(std::string* out, std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    char c = text[i];
    switch (c) {
      case '&': *out += "&amp;"; ++i; continue;
      case '<': *out += "&lt;"; ++i; continue;
      case '>': *out += "&gt;"; ++i; continue;
      case '"': *out += "&quot;"; ++i; continue;
      default: break;
    }
    size_t n = Utf8SequenceLength(text, i);
    unsigned char u = static_cast<unsigned char>(c);
    if (n == 0 || (n == 1 && u < 0x20 && c != '\t') || u == 0x7f) {
      *out += '?';
      ++i;
      continue;
    }
    out->append(text.data() + i, n);
    i += n;
  }
}

std::string XmlEscaped(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  AppendXmlEscaped(&out, text);
  return out;
}

void AppendFixed(std::string* out, double value, int decimals) {
  if (!std::isfinite(value)) value = 0;
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed, decimals);
  if (ec != std::errc()) {
    *out += '0';
    return;
  }
  // "-0.00" reads oddly in a tooltip.
  std::string_view s(buf, static_cast<size_t>(end - buf));
  if (s.starts_with("-") && s.find_first_not_of("-0.") == std::string_view::npos) s.remove_prefix(1);
  out->append(s);
}

void AppendThousands(std::string* out, int64_t value) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  (void)ec;
  std::string_view digits(buf, static_cast<size_t>(end - buf));
  if (digits.starts_with('-')) {
    *out += '-';
    digits.remove_prefix(1);
  }
  size_t lead = digits.size() % 3;
  if (lead == 0) lead = 3;
  out->append(digits.substr(0, lead));
  for (size_t i = lead; i < digits.size(); i += 3) {
    *out += ',';
    out->append(digits.substr(i, 3));
  }
}

std::string_view Utf8Prefix(std::string_view text, size_t max_chars) {
  size_t i = 0, chars = 0;
  while (i < text.size() && chars < max_chars) {
    size_t n = Utf8SequenceLength(text, i);
    i += n == 0 ? 1 : n;
    ++chars;
  }
  return text.substr(0, i);
}

size_t Utf8Length(std::string_view text) {
  size_t chars = 0;
  for (size_t i = 0; i < text.size(); ++chars) {
    size_t n = Utf8SequenceLength(text, i);
    i += n == 0 ? 1 : n;
  }
  return chars;
}

}  // namespace golens::web
