#include "web/server/http_server.h"

#include <httplib.h>

#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>

#include "profiler/base/log.h"
#include "web/ui_assets.h"

namespace golens::web {
namespace {

constexpr char kPageCsp[] =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'";
// Flame graph SVGs carry their own inline script and style.
constexpr char kSvgCsp[] =
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; frame-ancestors 'self'";

struct Asset {
  const char* path;
  std::string_view body;
  const char* content_type;
};

const Asset kAssets[] = {
    {"/", ui::kIndexHtml, "text/html; charset=utf-8"},
    {"/static/app.js", ui::kAppJs, "text/javascript; charset=utf-8"},
    {"/static/app.css", ui::kAppCss, "text/css; charset=utf-8"},
    {"/static/uplot.js", ui::kUplotJs, "text/javascript; charset=utf-8"},
    {"/static/uplot.css", ui::kUplotCss, "text/css; charset=utf-8"},
};

// Constant time: the token must not leak through response timing.
bool SameToken(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string CookieValue(const httplib::Request& req, const std::string& name) {
  std::string cookies = req.get_header_value("Cookie");
  size_t pos = 0;
  while (pos < cookies.size()) {
    size_t end = cookies.find(';', pos);
    if (end == std::string::npos) end = cookies.size();
    std::string part = cookies.substr(pos, end - pos);
    part.erase(0, part.find_first_not_of(' '));
    if (part.starts_with(name + "=")) return part.substr(name.size() + 1);
    pos = end + 1;
  }
  return "";
}

void SecurityHeaders(httplib::Response& res) {
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("Cache-Control", "no-store");
}

void JsonError(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  std::string escaped;
  for (char c : message) {
    if (c == '"' || c == '\\') escaped += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    escaped += c;
  }
  res.set_content("{\"error\":\"" + escaped + "\"}", "application/json");
}

// The query of a request target, split at the first '=' of each pair
// (httplib's own parser cuts "tag=worker=a" at the second), decoded, minus
// the auth token.
std::multimap<std::string, std::string> QueryParams(const std::string& target) {
  std::multimap<std::string, std::string> params;
  size_t q = target.find('?');
  if (q == std::string::npos) return params;
  std::string query = target.substr(q + 1);
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t end = query.find('&', pos);
    if (end == std::string::npos) end = query.size();
    std::string pair = query.substr(pos, end - pos);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      std::string key = httplib::detail::decode_url(pair.substr(0, eq), true);
      std::string value = eq == std::string::npos ? "" : httplib::detail::decode_url(pair.substr(eq + 1), true);
      if (key != "token") params.emplace(std::move(key), std::move(value));
    }
    pos = end + 1;
  }
  return params;
}

// Debian's cpp-httplib listens with a backlog of 5: a burst of connections
// (100 at once from a dashboard or a test) overflows it and the kernel drops
// handshakes the clients already count as open, so their requests hang. A
// second listen() on the same socket raises the backlog; the socket is found
// among our fds as the listening one bound to `port`.
void RaiseListenBacklog(int port) {
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return;
  while (struct dirent* entry = ::readdir(dir)) {
    int fd = std::atoi(entry->d_name);
    if (fd <= 2) continue;
    int listening = 0;
    socklen_t len = sizeof listening;
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) continue;
    sockaddr_storage addr{};
    socklen_t alen = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &alen) != 0) continue;
    int bound = addr.ss_family == AF_INET    ? ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port)
                : addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                                             : -1;
    if (bound == port) ::listen(fd, SOMAXCONN);
  }
  ::closedir(dir);
}

}  // namespace

bool IsLoopbackHost(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.starts_with("127.");
}

HttpServer::HttpServer(ProfileApi* api, const ServerOptions& options)
    : api_(api), options_(options), server_(std::make_unique<httplib::Server>()) {}

HttpServer::~HttpServer() { Stop(); }

Result<std::unique_ptr<HttpServer>> HttpServer::Create(ProfileApi* api, const ServerOptions& options) {
  std::unique_ptr<HttpServer> server(new HttpServer(api, options));
  int threads = std::max(1, options.threads);
  server->server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server->server_->set_read_timeout(options.read_timeout);
  server->server_->set_write_timeout(options.write_timeout);
  server->server_->set_payload_max_length(64 * 1024);  // GET only: no request needs a body
  server->Routes();
  std::string host = options.host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  errno = 0;
  if (options.port == 0) {
    server->port_ = server->server_->bind_to_any_port(host);
    if (server->port_ < 0) return ErrnoError("listen on " + options.host + ":0", errno ? errno : EADDRNOTAVAIL);
  } else {
    if (!server->server_->bind_to_port(host, options.port)) {
      return ErrnoError("listen on " + options.host + ":" + std::to_string(options.port), errno ? errno : EADDRINUSE);
    }
    server->port_ = options.port;
  }
  RaiseListenBacklog(server->port_);
  return server;
}

void HttpServer::Routes() {
  httplib::Server& s = *server_;
  s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    SecurityHeaders(res);
    if (req.method != "GET" && req.method != "HEAD") {
      res.set_header("Allow", "GET, HEAD");
      JsonError(res, 405, "only GET");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (options_.auth_token.empty()) return httplib::Server::HandlerResponse::Unhandled;
    std::string auth = req.get_header_value("Authorization");
    bool ok = (auth.starts_with("Bearer ") && SameToken(auth.substr(7), options_.auth_token)) ||
              SameToken(CookieValue(req, "golens_token"), options_.auth_token);
    if (!ok && req.has_param("token") && SameToken(req.get_param_value("token"), options_.auth_token)) {
      ok = true;
      res.set_header("Set-Cookie", "golens_token=" + options_.auth_token + "; Path=/; HttpOnly; SameSite=Strict");
    }
    if (ok) return httplib::Server::HandlerResponse::Unhandled;
    res.set_header("WWW-Authenticate", "Bearer");
    JsonError(res, 401, "this server needs its token: Authorization: Bearer TOKEN, or ?token=TOKEN");
    return httplib::Server::HandlerResponse::Handled;
  });

  for (const Asset& asset : kAssets) {
    s.Get(asset.path, [asset](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(asset.body), asset.content_type);
      if (std::string_view(asset.content_type).starts_with("text/html")) {
        res.set_header("Content-Security-Policy", kPageCsp);
        res.set_header("X-Frame-Options", "SAMEORIGIN");
      }
    });
  }

  s.Get(R"(/api/[a-z]+)", [this](const httplib::Request& req, httplib::Response& res) {
    ApiRequest request;
    request.path = req.path;
    request.params = QueryParams(req.target);
    ApiResponse response = api_->Handle(request);
    res.status = response.status;
    for (const auto& [k, v] : response.headers) res.set_header(k, v);
    if (response.content_type == "image/svg+xml") res.set_header("Content-Security-Policy", kSvgCsp);
    res.set_content(std::move(response.body), response.content_type);
  });

  s.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) JsonError(res, res.status, res.status == 404 ? "not found" : "error");
  });
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    JsonError(res, 500, "internal error");
  });
}

void HttpServer::Run() { server_->listen_after_bind(); }

void HttpServer::Stop() {
  if (server_) server_->stop();
}

}  // namespace golens::web
