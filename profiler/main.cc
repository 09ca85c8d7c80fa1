// golens: continuous profiler for Go programs. Entry point; each subcommand
// lives in its own cmd_*.cc file.
#include <CLI/CLI.hpp>

#include "profiler/base/log.h"
#include "profiler/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"golens: eBPF CPU profiler for Go programs"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "golens 0.1.0");
  bool verbose = false;
  bool quiet = false;
  app.add_flag("-v,--verbose", verbose, "Debug logging on stderr");
  app.add_flag("-q,--quiet", quiet, "Only errors on stderr");
  app.parse_complete_callback([&] {
    if (verbose) golens::log::SetLevel(golens::log::Level::kDebug);
    if (quiet) golens::log::SetLevel(golens::log::Level::kError);
  });

  int exit_code = 0;
  golens::cli::RegisterRecordCommand(app, &exit_code);
  golens::cli::RegisterSymbolizeCommand(app, &exit_code);
  golens::cli::RegisterFlameCommands(app, &exit_code);
  golens::cli::RegisterAgentCommand(app, &exit_code);
  golens::cli::RegisterStoreCommands(app, &exit_code);
  golens::cli::RegisterServeCommand(app, &exit_code);
  golens::cli::RegisterMapsCommand(app, &exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;  // usage errors exit 2
  }
  return exit_code;
}
