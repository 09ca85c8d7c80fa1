// One POST to an HTTP(S) endpoint given as a base URL, as the Pyroscope
// pusher and the OTLP exporter both send: the base URL is checked once
// (http or https, a host, an optional path prefix without trailing '/'),
// then each request gets a fresh client with the timeouts and headers.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "profiler/base/result.h"

namespace golens::profiler {

struct HttpEndpoint {
  std::string scheme_host_port;  // http://host:port
  std::string path_prefix;       // "" or "/prefix" (no trailing slash)
};

// kInvalidArgument naming `what` (e.g. "push URL") for anything but
// http(s)://host[:port][/path].
Result<HttpEndpoint> ParseHttpEndpoint(const std::string& url, const std::string& what);

struct HttpPostResult {
  bool reached = false;  // an HTTP answer came back (else: refused, timeout, TLS...)
  int status = 0;
  std::string body;
  std::string error;  // when not reached: why; else "HTTP <status>: <first 200 bytes>" unless 2xx
  bool ok() const { return reached && status >= 200 && status < 300; }
};

HttpPostResult HttpPost(const HttpEndpoint& endpoint, const std::string& path,
                        const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body,
                        const std::string& content_type, std::chrono::milliseconds timeout);

}  // namespace golens::profiler
