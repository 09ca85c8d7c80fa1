// `golens serve`'s HTTP server (cpp-httplib): the API (profile_api.h) and the
// pages, from a bounded pool of worker threads with read/write timeouts.
// Security: every response has safe content types and nosniff; pages and
// SVGs carry a Content-Security-Policy; with an auth token, every request
// needs it (Authorization: Bearer, the golens_token cookie, or ?token= once,
// which sets the cookie). Nothing but the embedded pages and the API is
// served: no file system path is ever derived from a URL.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "profiler/base/result.h"
#include "web/server/profile_api.h"

namespace httplib {
class Server;
}

namespace golens::web {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 7070;           // 0: any free port (port() tells)
  std::string auth_token;    // "" = no authentication
  int threads = 8;           // concurrent requests; more wait in the queue
  std::chrono::seconds read_timeout{10};
  std::chrono::seconds write_timeout{60};
};

class HttpServer {
 public:
  // Binds now (kResourceExhausted / kPermissionDenied / kInvalidArgument say why not).
  static Result<std::unique_ptr<HttpServer>> Create(ProfileApi* api, const ServerOptions& options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const { return port_; }
  // Serves until Stop() (from another thread or a signal watcher).
  void Run();
  void Stop();

 private:
  HttpServer(ProfileApi* api, const ServerOptions& options);
  void Routes();

  ProfileApi* api_;
  ServerOptions options_;
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
};

// True when `host` is a loopback address (127.0.0.0/8, ::1, localhost).
bool IsLoopbackHost(const std::string& host);

}  // namespace golens::web
