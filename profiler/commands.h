// Each subcommand registers itself on the CLI11 app. A command's callback
// stores its process exit code in *exit_code (0 ok, 1 failure, 2 usage or
// permission error). Keep flags stable: other tools and tests drive them.
#pragma once

namespace CLI {
class App;
}

namespace golens::cli {

void RegisterRecordCommand(CLI::App& app, int* exit_code);     // profiler/cmd_record.cc
void RegisterSymbolizeCommand(CLI::App& app, int* exit_code);  // profiler/cmd_symbolize.cc
void RegisterFlameCommands(CLI::App& app, int* exit_code);     // profiler/cmd_flame.cc: flame, fold, diff
void RegisterAgentCommand(CLI::App& app, int* exit_code);      // profiler/cmd_agent.cc
void RegisterStoreCommands(CLI::App& app, int* exit_code);     // profiler/cmd_store.cc: store list, store export
void RegisterServeCommand(CLI::App& app, int* exit_code);      // profiler/cmd_serve.cc
void RegisterMapsCommand(CLI::App& app, int* exit_code);       // profiler/cmd_maps.cc

}  // namespace golens::cli
