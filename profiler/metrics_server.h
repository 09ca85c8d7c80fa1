// GET /metrics over HTTP for Prometheus to scrape (golens agent
// --metrics-listen): one small server thread, the text rendered per scrape
// by a callback. Anything else is 404; only GET/HEAD.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "profiler/base/result.h"

namespace httplib {
class Server;
}

namespace golens::profiler {

class MetricsServer {
 public:
  // Binds host:port now (port 0: any free port) and serves on its own thread.
  static Result<std::unique_ptr<MetricsServer>> Start(const std::string& host, int port,
                                                      std::function<std::string()> render);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;
  int port() const { return port_; }

 private:
  MetricsServer() = default;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace golens::profiler
