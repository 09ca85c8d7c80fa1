#include "profiler/http_post.h"

#include <httplib.h>

#include <algorithm>

namespace golens::profiler {

Result<HttpEndpoint> ParseHttpEndpoint(const std::string& url, const std::string& what) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) {
    return MakeError(what + " " + url + ": want http://host:port", ErrorKind::kInvalidArgument);
  }
  std::string scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") {
    return MakeError(what + " " + url + ": only http and https are supported", ErrorKind::kInvalidArgument);
  }
  size_t path_start = url.find('/', scheme_end + 3);
  std::string host_port = url.substr(scheme_end + 3, path_start == std::string::npos ? std::string::npos
                                                                                       : path_start - scheme_end - 3);
  if (host_port.empty()) return MakeError(what + " " + url + ": no host", ErrorKind::kInvalidArgument);
  HttpEndpoint endpoint;
  endpoint.scheme_host_port = scheme + "://" + host_port;
  endpoint.path_prefix = path_start == std::string::npos ? "" : url.substr(path_start);
  while (!endpoint.path_prefix.empty() && endpoint.path_prefix.back() == '/') endpoint.path_prefix.pop_back();
  return endpoint;
}

HttpPostResult HttpPost(const HttpEndpoint& endpoint, const std::string& path,
                        const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body,
                        const std::string& content_type, std::chrono::milliseconds timeout) {
  httplib::Client client(endpoint.scheme_host_port);
  auto seconds = std::max<time_t>(1, std::chrono::duration_cast<std::chrono::seconds>(timeout).count());
  client.set_connection_timeout(seconds);
  client.set_read_timeout(seconds);
  client.set_write_timeout(seconds);
  httplib::Headers request_headers;
  for (const auto& [k, v] : headers) request_headers.emplace(k, v);
  HttpPostResult out;
  auto result = client.Post(path, request_headers, body, content_type);
  if (!result) {
    out.error = httplib::to_string(result.error());
    return out;
  }
  out.reached = true;
  out.status = result->status;
  out.body = std::move(result->body);
  if (!out.ok()) {
    std::string text = out.body.substr(0, 200);
    out.error = "HTTP " + std::to_string(out.status) + (text.empty() ? "" : ": " + text);
  }
  return out;
}

}  // namespace golens::profiler
