// What every end-to-end test of `golens record` needs: the golens under
// test and a scratch directory that goes away with the test binary.
#pragma once

#include <string>

#include "tests/profiler/subprocess.h"

namespace golens::testing {

// The golens binary to drive: $GOLENS_TEST_BINARY when set (to run the same
// tests against another build, e.g. an older one), else `built`.
std::string GolensUnderTest(const std::string& built);

// A directory under /tmp for this test binary (mode 0755, so tests that drop
// privileges can use it), removed when the binary ends.
const std::string& ScratchDir();

// A loopback TCP port nobody listens on right now (0 when none could be
// had): for servers whose port must be chosen before they start, and as a
// port where connections are refused.
int FreeLoopbackPort();

// "exit N" and both output streams, for failure messages.
std::string DescribeResult(const CommandResult& r);

}  // namespace golens::testing
