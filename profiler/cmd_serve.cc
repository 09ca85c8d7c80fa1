// golens serve: the profile store in a browser and over HTTP. Flags, signals
// and messages here; the work is web::ProfileApi and web::HttpServer.
#include <CLI/CLI.hpp>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "pprof/store/store.h"
#include "profiler/base/log.h"
#include "profiler/cli_errors.h"
#include "profiler/cmd_signals.h"
#include "profiler/commands.h"
#include "web/server/http_server.h"
#include "web/server/profile_api.h"

namespace golens::cli {
namespace {

struct ServeFlags {
  std::string store;
  std::string listen = "127.0.0.1:7070";
  std::string auth_token_file;
  int threads = 8;
  int64_t max_profiles = 50000;
};

Error Usage(const std::string& message) { return MakeError(message, ErrorKind::kInvalidArgument); }

// "HOST:PORT", "[::1]:PORT" or ":PORT" (loopback).
Result<std::pair<std::string, int>> ParseListen(const std::string& listen) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return Usage("--listen " + listen + ": want HOST:PORT");
  std::string host = listen.substr(0, colon);
  std::string port = listen.substr(colon + 1);
  if (host.empty()) host = "127.0.0.1";
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port) > 65535) {
    return Usage("--listen " + listen + ": bad port");
  }
  return std::make_pair(host, std::stoi(port));
}

Result<std::string> ReadToken(const std::string& path) {
  std::ifstream in(path);
  if (!in) return ErrnoError("--auth-token-file " + path);
  std::string token;
  std::getline(in, token);
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (token.size() < 16) return Usage("--auth-token-file " + path + ": the token must have at least 16 characters");
  return token;
}

Result<void> Serve(const ServeFlags& flags) {
  GOLENS_TRY(auto listen, ParseListen(flags.listen));
  web::ServerOptions options;
  options.host = listen.first;
  options.port = listen.second;
  options.threads = flags.threads;
  if (flags.threads < 1 || flags.threads > 256) return Usage("--threads: 1 to 256");
  if (!flags.auth_token_file.empty()) {
    GOLENS_TRY(options.auth_token, ReadToken(flags.auth_token_file));
  }
  if (!web::IsLoopbackHost(options.host) && options.auth_token.empty()) {
    GOLENS_LOG(kWarn) << "serve: listening on " << flags.listen
                      << " without --auth-token-file: anyone who can reach it can read every stored profile";
  }
  store::StoreOptions store_options;
  store_options.read_only = true;
  GOLENS_TRY(std::unique_ptr<store::Store> store, store::Store::Open(flags.store, store_options));
  web::ApiOptions api_options;
  api_options.max_profiles = flags.max_profiles;
  web::ProfileApi api(store.get(), api_options);
  GOLENS_TRY(std::unique_ptr<web::HttpServer> server, web::HttpServer::Create(&api, options));
  StopSignals signals;
  std::string host = options.host.find(':') != std::string::npos && options.host.front() != '['
                         ? "[" + options.host + "]"
                         : options.host;
  GOLENS_LOG(kInfo) << "serve: http://" << host << ":" << server->port() << "/ (store " << flags.store
                    << "); stop with Ctrl-C";
  std::thread watcher([&] {
    while (!signals.stop_flag().load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    server->Stop();
  });
  server->Run();
  watcher.join();
  return Ok();
}

}  // namespace

void RegisterServeCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* cmd = app.add_subcommand("serve", "Browse and compare stored profiles in a browser; HTTP API for tools");
  cmd->add_option("--store", flags->store, "Store directory (written by golens agent)")->required();
  cmd->add_option("--listen", flags->listen, "Address to listen on (loopback unless given)")->capture_default_str();
  cmd->add_option("--auth-token-file", flags->auth_token_file,
                  "File whose first line is a token every request must carry (Authorization: Bearer TOKEN)");
  cmd->add_option("--threads", flags->threads, "Requests served at once")->capture_default_str();
  cmd->add_option("--max-profiles", flags->max_profiles, "Most stored profiles merged per request (more: 413)")
      ->capture_default_str();
  cmd->callback([flags, exit_code] {
    auto outcome = Serve(*flags);
    if (!outcome.ok()) {
      GOLENS_LOG(kError) << outcome.error().message;
      *exit_code = ExitCodeFor(outcome.error());
      return;
    }
    *exit_code = 0;
  });
}

}  // namespace golens::cli
