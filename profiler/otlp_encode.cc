#include "profiler/otlp_encode.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <tuple>

#include <google/protobuf/arena.h>

#include "profiler/base/percent_encode.h"
#include "profiler/otlp_trace.pb.h"

namespace golens::profiler {
namespace {

constexpr int64_t kNanos = 1000000000;

// "" stays "" (no parent); anything but exactly `bytes` bytes of hex is invalid.
std::optional<std::string> HexBytes(const std::string& hex, size_t bytes) {
  if (hex.empty()) return std::string();
  if (hex.size() != 2 * bytes) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out(bytes, '\0');
  for (size_t i = 0; i < bytes; ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<char>(hi << 4 | lo);
  }
  return out;
}

// Protobuf strings must be UTF-8 (parsers of proto3 reject the message
// otherwise); paths come off the network, so replace what is not.
std::string ValidUtf8(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool ok = n > 0 && i + n <= s.size();
    for (size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (ok && n == 2) ok = c >= 0xC2;  // no overlong forms
    if (ok && n == 3) {
      unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
      ok = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0);  // overlong, surrogates
    }
    if (ok && n == 4) {
      unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
      ok = c <= 0xF4 && !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 >= 0x90);
    }
    if (ok) {
      out.append(s, i, n);
      i += n;
    } else {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
    }
  }
  return out;
}

void AddString(google::protobuf::RepeatedPtrField<otlp::KeyValue>* attrs, const char* key, const std::string& v) {
  otlp::KeyValue* kv = attrs->Add();
  kv->set_key(key);
  kv->mutable_value()->set_string_value(ValidUtf8(v));
}

void AddInt(google::protobuf::RepeatedPtrField<otlp::KeyValue>* attrs, const char* key, int64_t v) {
  otlp::KeyValue* kv = attrs->Add();
  kv->set_key(key);
  kv->mutable_value()->set_int_value(v);
}

}  // namespace

ExportSpan MakeExportSpan(const FinishedSpan& span, int64_t monotonic_to_unix_ns, std::string service,
                          std::string host) {
  ExportSpan e;
  e.span = span;
  e.start_unix_ns = static_cast<int64_t>(span.start_ktime_ns) + monotonic_to_unix_ns;
  e.end_unix_ns = static_cast<int64_t>(std::max(span.end_ktime_ns, span.start_ktime_ns)) + monotonic_to_unix_ns;
  e.service = std::move(service);
  e.host = std::move(host);
  return e;
}

std::string SpanProfileQuery(const std::string& service, const std::string& span_id, int64_t start_unix_ns,
                             int64_t end_unix_ns) {
  int64_t from = start_unix_ns / kNanos;
  int64_t to = (end_unix_ns + kNanos - 1) / kNanos;
  if (to <= from) to = from + 1;
  return "/api/flame?service=" + PercentEncode(service) + "&tag=" + PercentEncode("span_id=" + span_id) +
         "&from=" + std::to_string(from) + "&to=" + std::to_string(to);
}

EncodedTraces EncodeOtlpTraces(const std::vector<ExportSpan>& spans) {
  EncodedTraces out;
  // An arena: a request is thousands of small messages and strings, freed at once.
  google::protobuf::Arena arena;
  otlp::ExportTraceServiceRequest& request = *google::protobuf::Arena::CreateMessage<otlp::ExportTraceServiceRequest>(&arena);
  // One resource per serving process, in the order processes first appear.
  std::map<std::tuple<std::string, uint32_t, std::string>, otlp::ScopeSpans*> scopes;
  for (const ExportSpan& e : spans) {
    const FinishedSpan& f = e.span;
    auto trace_id = HexBytes(f.ids.trace_id, 16);
    auto span_id = HexBytes(f.ids.span_id, 8);
    auto parent = HexBytes(f.ids.parent_span_id, 8);
    if (!trace_id || trace_id->empty() || !span_id || span_id->empty() || !parent) {
      ++out.invalid;
      continue;
    }
    auto key = std::make_tuple(e.service, f.tgid, e.host);
    otlp::ScopeSpans*& scope = scopes[key];
    if (!scope) {
      otlp::ResourceSpans* rs = request.add_resource_spans();
      auto* attrs = rs->mutable_resource()->mutable_attributes();
      AddString(attrs, "service.name", e.service);
      AddString(attrs, "host.name", e.host);
      AddInt(attrs, "process.pid", f.tgid);
      scope = rs->add_scope_spans();
      scope->mutable_scope()->set_name("golens");
    }
    otlp::Span* s = scope->add_spans();
    s->set_trace_id(std::move(*trace_id));
    s->set_span_id(std::move(*span_id));
    s->set_parent_span_id(std::move(*parent));
    s->set_name(ValidUtf8(f.method.empty() ? "HTTP" : f.method + (f.path.empty() ? "" : " " + f.path)));
    s->set_kind(otlp::Span::SPAN_KIND_SERVER);
    s->set_start_time_unix_nano(static_cast<uint64_t>(std::max<int64_t>(0, e.start_unix_ns)));
    s->set_end_time_unix_nano(static_cast<uint64_t>(std::max<int64_t>(0, e.end_unix_ns)));
    auto* attrs = s->mutable_attributes();
    if (!f.method.empty()) AddString(attrs, "http.request.method", f.method);
    AddString(attrs, "url.path", f.path);
    AddInt(attrs, "golens.cpu_samples", static_cast<int64_t>(f.cpu_samples));
    AddInt(attrs, "golens.goroutine_id", static_cast<int64_t>(f.goid));  // not thread.id: a goroutine is no OS thread
    // An attribute, not only an event: trace UIs list attributes with the
    // span and let them be searched; the event marks where the profile is.
    const std::string query = SpanProfileQuery(e.service, f.ids.span_id, e.start_unix_ns, e.end_unix_ns);
    AddString(attrs, "golens.profile_url", query);
    otlp::Span::Event* event = s->add_events();
    event->set_time_unix_nano(s->end_time_unix_nano());
    event->set_name("golens.cpu_profile");
    AddString(event->mutable_attributes(), "golens.profile_url", query);
    AddInt(event->mutable_attributes(), "golens.cpu_samples", static_cast<int64_t>(f.cpu_samples));
    ++out.spans;
  }
  if (out.spans) out.body = request.SerializeAsString();
  return out;
}

}  // namespace golens::profiler
