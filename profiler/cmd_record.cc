// Stub: replaced when this command lands.
#include "profiler/commands.h"
namespace golens::cli {
void RegisterRecordCommand(CLI::App&, int*) {}
}  // namespace golens::cli
