#include "tests/profiler/e2e_util.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace golens::testing {
namespace {

class ScratchCleanup : public ::testing::Environment {
 public:
  void TearDown() override {
    std::error_code ignored;
    if (ScratchDir() != "/tmp") std::filesystem::remove_all(ScratchDir(), ignored);
  }
};

}  // namespace

std::string GolensUnderTest(const std::string& built) {
  const char* override_path = std::getenv("GOLENS_TEST_BINARY");
  return override_path && *override_path ? override_path : built;
}

const std::string& ScratchDir() {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/golens-e2e-XXXXXX";
    char* d = mkdtemp(tmpl);
    if (d) chmod(d, 0755);
    ::testing::AddGlobalTestEnvironment(new ScratchCleanup);
    return std::string(d ? d : "/tmp");
  }();
  return dir;
}

std::string DescribeResult(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\n--- stdout:\n" + r.out + "\n--- stderr:\n" + r.err;
}

int FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

}  // namespace golens::testing
