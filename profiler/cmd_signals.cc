#include "profiler/cmd_signals.h"

namespace golens::cli {
namespace {

std::atomic<int> g_stop_signal{0};
std::atomic<bool> g_stop_flag{false};

void OnStopSignal(int sig) {
  g_stop_signal.store(sig);
  g_stop_flag.store(true);
}

}  // namespace

StopSignals::StopSignals() {
  g_stop_signal.store(0);
  g_stop_flag.store(false);
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  for (int i = 0; i < 3; ++i) sigaction(kStop[i], &sa, &old_[i]);
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, &old_pipe_);
}

StopSignals::~StopSignals() {
  for (int i = 0; i < 3; ++i) sigaction(kStop[i], &old_[i], nullptr);
  sigaction(SIGPIPE, &old_pipe_, nullptr);
}

int StopSignals::received() const { return g_stop_signal.load(); }

const std::atomic<bool>& StopSignals::stop_flag() const { return g_stop_flag; }

}  // namespace golens::cli
