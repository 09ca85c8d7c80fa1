#include "profiler/metrics_server.h"

#include <httplib.h>

#include <cerrno>

namespace golens::profiler {

Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& host, int port,
                                                            std::function<std::string()> render) {
  std::unique_ptr<MetricsServer> m(new MetricsServer());
  m->server_ = std::make_unique<httplib::Server>();
  m->server_->new_task_queue = [] { return new httplib::ThreadPool(2); };
  m->server_->set_read_timeout(std::chrono::seconds(10));
  m->server_->Get("/metrics", [render](const httplib::Request&, httplib::Response& res) {
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_content(render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  m->server_->set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) res.set_content("not found: golens serves /metrics here\n", "text/plain; charset=utf-8");
  });
  errno = 0;
  if (port == 0) {
    m->port_ = m->server_->bind_to_any_port(host);
    if (m->port_ < 0) return ErrnoError("--metrics-listen " + host + ":0", errno ? errno : EADDRNOTAVAIL);
  } else {
    if (!m->server_->bind_to_port(host, port)) {
      return ErrnoError("--metrics-listen " + host + ":" + std::to_string(port), errno ? errno : EADDRINUSE);
    }
    m->port_ = port;
  }
  httplib::Server* server = m->server_.get();
  m->thread_ = std::thread([server] { server->listen_after_bind(); });
  return m;
}

MetricsServer::~MetricsServer() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace golens::profiler
