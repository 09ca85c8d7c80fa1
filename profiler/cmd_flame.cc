// Stub: replaced when this command lands.
#include "profiler/commands.h"
namespace golens::cli {
void RegisterFlameCommands(CLI::App&, int*) {}
}  // namespace golens::cli
