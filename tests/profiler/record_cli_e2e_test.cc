// End-to-end tests of `golens record`'s command line contract: a CLI that
// never hurts its user.
//   - SIGHUP (an ssh session that drops) ends the recording, the profile is
//     still written, exit 0; a stderr pipe whose reader has gone (SIGPIPE)
//     never kills golens;
//   - golens records inside a PID namespace (launch mode and --pid), and
//     warns when a target used CPU but left no sample;
//   - --pid TID of a thread records its process, and says so;
//   - clashing outputs are refused before anything is recorded (exit 2);
//     a full disk under -o costs the profile, not the SVG (exit 1, reason);
//   - a 1 ms --duration is reported in milliseconds and is quick;
//   - -q silences golens, not the command; -o - writes the profile to
//     stdout with --pid and is refused with -- CMD;
//   - -o /dev/null writes the device, never replaces it;
//   - --pid of a zombie, or of a process golens may not read, is exit 2 with
//     the reason (it has exited; CAP_SYS_PTRACE).
//
// Needs root (BPF, perf events, unshare, mount, mknod, setpriv). A test that
// cannot run fails and says why; nothing skips. Every fixture a test starts
// is killed when the test ends (RAII), also when an assertion fails; mounts
// are made inside private mount namespaces (`unshare --mount`), so nothing
// is left mounted on the host even if the test binary dies.
//
// GOLENS_TEST_BINARY=/path/to/golens runs the tests against another build.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "pprof/profile.h"
#include "pprof/profile_io.h"
#include "tests/profiler/e2e_util.h"
#include "tests/profiler/profile_checks.h"
#include "tests/profiler/subprocess.h"

namespace golens {
namespace {

using namespace std::chrono_literals;
using testing::CommandResult;
using testing::RunCommand;
using testing::Subprocess;

const std::string kGolens = testing::GolensUnderTest(GOLENS_BINARY);
const std::string kFixtures = GOLENS_FIXTURES;

std::string Fixture(const std::string& name) { return kFixtures + "/" + name; }

std::string TempDir() { return testing::ScratchDir(); }

std::string MakeDir(const std::string& name) {
  std::string dir = TempDir() + "/" + name;
  std::filesystem::create_directories(dir);
  return dir;
}


double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string Describe(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\n--- stdout:\n" + r.out + "\n--- stderr:\n" + r.err;
}

bool Contains(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

// utime + stime (or, with children = true, cutime + cstime) of a
// /proc/PID/stat line, in seconds; -1 when it does not parse.
double StatCpuSeconds(const std::string& stat_line, bool children = false) {
  size_t close = stat_line.rfind(')');
  if (close == std::string::npos || close + 2 > stat_line.size()) return -1;
  std::istringstream fields(stat_line.substr(close + 2));
  std::string f;
  std::vector<std::string> v;
  while (fields >> f) v.push_back(f);
  // after "pid (comm)": state is field 3, utime 14, stime 15, cutime 16, cstime 17
  size_t first = children ? 13 : 11;
  if (v.size() < first + 2) return -1;
  return (std::stod(v[first]) + std::stod(v[first + 1])) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::string ReadStat(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  std::getline(in, text);
  return text;
}

// The state letter of /proc/PID/stat ('R', 'S', 'Z', ...), 0 if unreadable.
char ProcessState(pid_t pid) {
  std::string stat = ReadStat(pid);
  size_t close = stat.rfind(')');
  return close == std::string::npos || close + 2 >= stat.size() ? 0 : stat[close + 2];
}

// The samples that the "golens record: pid P ... samples N" comments give
// process `pid` (-1: no comment for it).
int64_t CommentSamplesOf(const pprof::Profile& p, pid_t pid) {
  static const std::regex re(R"(^golens record: pid (\d+) start \d+ exe .*samples (\d+)$)");
  int64_t n = -1;
  for (const auto& c : p.comments) {
    std::smatch m;
    if (std::regex_match(c, m, re) && std::stoll(m[1]) == pid) n = (n < 0 ? 0 : n) + std::stoll(m[2]);
  }
  return n;
}

std::string Comments(const pprof::Profile& p) {
  std::string out = "comments:\n";
  for (const auto& c : p.comments) out += "  " + c + "\n";
  return out;
}

// Reads a profile; `error` says why not.
std::optional<pprof::Profile> ReadProfile(const std::string& path, std::string* error) {
  if (!std::filesystem::exists(path)) {
    *error = path + " was not written";
    return std::nullopt;
  }
  auto p = pprof::ReadProfileFile(path);
  if (!p.ok()) {
    *error = path + ": " + p.error().message;
    return std::nullopt;
  }
  return std::move(p).value();
}

bool IsGzip(const std::string& bytes) {
  return bytes.size() >= 2 && static_cast<uint8_t>(bytes[0]) == 0x1f && static_cast<uint8_t>(bytes[1]) == 0x8b;
}

// The summary line golens ends with ("golens: N samples, ...").
const std::regex& SummaryLine() {
  static const std::regex re(R"((^|\n)golens: \d+ samples, )");
  return re;
}

// A busy Go fixture (cpu31, one worker goroutine: ~1 CPU), killed when the
// test ends.
class BusyFixture {
 public:
  BusyFixture() : process_({Fixture("cpu31"), "-workers", "1"}) { ready_ = process_.WaitForOutput("ready", 10s); }
  bool ready() const { return ready_; }
  pid_t pid() const { return process_.pid(); }
  std::string pid_str() const { return std::to_string(process_.pid()); }
  std::string err() const { return process_.err(); }

 private:
  Subprocess process_;
  bool ready_ = false;
};

// A process forked here whose stdio the test wires itself, made a process
// group leader. It is reaped only when the test ends, after SIGKILL to its
// whole group (golens and any command it started): until then the leader is
// at least a zombie, so the group id cannot have been reused by others.
class Child {
 public:
  // stdin from /dev/null; stdout to `stdout_fd`, stderr to `stderr_fd`
  // (-1: /dev/null); the caller closes its own copies afterwards.
  Child(std::vector<std::string> argv, int stdout_fd, int stderr_fd) {
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      setpgid(0, 0);
      int devnull = open("/dev/null", O_RDWR);
      dup2(devnull, 0);
      dup2(stdout_fd >= 0 ? stdout_fd : devnull, 1);
      dup2(stderr_fd >= 0 ? stderr_fd : devnull, 2);
      execv(args[0], args.data());
      _exit(127);
    }
    if (pid_ > 0) setpgid(pid_, pid_);  // also here: no race with the kill below
  }
  ~Child() {
    if (pid_ <= 0) return;
    kill(-pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  // The exit as a wait status (WIFEXITED, ...), nullopt on timeout. Does
  // not reap (WNOWAIT): see above.
  std::optional<int> Wait(std::chrono::milliseconds timeout) {
    if (status_) return status_;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      siginfo_t info{};
      if (waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid_) {
        if (info.si_code == CLD_EXITED) {
          status_ = (info.si_status & 0xff) << 8;
        } else {
          status_ = (info.si_status & 0x7f) | (info.si_code == CLD_DUMPED ? 0x80 : 0);
        }
        return status_;
      }
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(10ms);
    }
  }

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

std::string DescribeStatus(int status) {
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
  }
  return "status " + std::to_string(status);
}

// Reads fd up to and including the first '\n' (or `timeout`).
std::string ReadFirstLine(int fd, std::chrono::milliseconds timeout) {
  std::string line;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (line.empty() || line.back() != '\n') {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char c;
    ssize_t n = read(fd, &c, 1);
    if (n <= 0) break;
    line += c;
  }
  return line;
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// ---- 1. SIGHUP ends the recording; the profile is still written ------------

TEST(RecordCli, SighupEndsRecordingAndWritesTheProfile) {
  BusyFixture fixture;
  ASSERT_TRUE(fixture.ready()) << "cpu31 did not start: " << fixture.err();
  std::string out = MakeDir("sighup") + "/hup.pb.gz";
  Subprocess golens({kGolens, "record", "--pid", fixture.pid_str(), "--duration", "60s", "-o", out});
  ASSERT_TRUE(golens.WaitForOutput("recording 1 process", 20s, true)) << golens.err();
  std::this_thread::sleep_for(1500ms);
  auto t0 = std::chrono::steady_clock::now();
  kill(golens.pid(), SIGHUP);
  auto code = golens.Wait(20s);
  ASSERT_TRUE(code.has_value()) << "golens did not end within 20 s of SIGHUP:\n" << golens.err();
  std::printf("golens ended %.1f s after SIGHUP, exit %d\n", SecondsSince(t0), *code);
  EXPECT_EQ(*code, 0) << "SIGHUP must end the recording like Ctrl-C (129 = killed by SIGHUP):\n" << golens.err();
  EXPECT_TRUE(Contains(golens.err(), "recording stopped (hangup)")) << golens.err();
  std::string error;
  auto p = ReadProfile(out, &error);
  ASSERT_TRUE(p) << error << "\n" << golens.err();
  EXPECT_GT(testing::SampleTotal(*p), 30) << "1.5 s of a busy process at 99 Hz is ~150 samples";
}

// ---- 2. SIGPIPE: a stderr pipe whose reader has gone -----------------------

struct BrokenStderrRun {
  std::string first_line;
  std::optional<int> status;  // raw wait status
  std::string stdout_text;
};

// Runs argv with stderr into a pipe that is closed right after the first
// line, stdout into a file.
BrokenStderrRun RunWithBrokenStderr(const std::vector<std::string>& argv, const std::string& stdout_path) {
  BrokenStderrRun run;
  int err_pipe[2];
  if (pipe2(err_pipe, O_CLOEXEC) != 0) return run;
  int out_fd = open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  Child child(argv, out_fd, err_pipe[1]);
  close(err_pipe[1]);
  if (out_fd >= 0) close(out_fd);
  run.first_line = ReadFirstLine(err_pipe[0], 20s);
  close(err_pipe[0]);  // the reader is gone: golens' next message meets EPIPE
  run.status = child.Wait(60s);
  run.stdout_text = ReadWholeFile(stdout_path);
  return run;
}

TEST(RecordCli, ClosedStderrPipeDoesNotKillGolensPid) {
  BusyFixture fixture;
  ASSERT_TRUE(fixture.ready()) << "cpu31 did not start: " << fixture.err();
  std::string dir = MakeDir("sigpipe-pid");
  std::string out = dir + "/pipe.pb.gz";
  BrokenStderrRun run = RunWithBrokenStderr(
      {kGolens, "record", "--pid", fixture.pid_str(), "--duration", "1500ms", "-o", out}, dir + "/stdout.txt");
  ASSERT_FALSE(run.first_line.empty()) << "golens wrote no line to stderr";
  ASSERT_TRUE(run.status.has_value()) << "golens did not end";
  EXPECT_TRUE(WIFEXITED(*run.status) && WEXITSTATUS(*run.status) == 0)
      << "golens with a closed stderr pipe: " << DescribeStatus(*run.status) << "; first line: " << run.first_line;
  std::string error;
  auto p = ReadProfile(out, &error);
  ASSERT_TRUE(p) << error << " (" << DescribeStatus(*run.status) << ")";
  EXPECT_GT(testing::SampleTotal(*p), 20) << "1.5 s of a busy process at 99 Hz is ~150 samples";
}

TEST(RecordCli, ClosedStderrPipeDoesNotKillGolensLaunch) {
  std::string dir = MakeDir("sigpipe-launch");
  std::string out = dir + "/pipe.pb.gz";
  BrokenStderrRun run = RunWithBrokenStderr(
      {kGolens, "record", "-o", out, "--", "/bin/sh", "-c", "\"$0\" 1.2; echo done; exit 5", Fixture("native")},
      dir + "/stdout.txt");
  ASSERT_FALSE(run.first_line.empty()) << "golens wrote no line to stderr";
  ASSERT_TRUE(run.status.has_value()) << "golens did not end";
  EXPECT_TRUE(WIFEXITED(*run.status) && WEXITSTATUS(*run.status) == 5)
      << "golens with a closed stderr pipe must exit with the command's status 5: " << DescribeStatus(*run.status)
      << "; first line: " << run.first_line;
  EXPECT_TRUE(Contains(run.stdout_text, "done\n")) << "the command did not finish: stdout " << run.stdout_text;
  std::string error;
  auto p = ReadProfile(out, &error);
  ASSERT_TRUE(p) << error << " (" << DescribeStatus(*run.status) << ")";
  EXPECT_GT(testing::SampleTotal(*p), 20) << "1.2 s of burn_native at 99 Hz is ~120 samples";
}

// ---- 3. PID namespaces -----------------------------------------------------

// `unshare --pid --fork --mount-proc`: a new PID namespace whose processes
// all die with unshare (--kill-child), also when the test kills it.
std::vector<std::string> InPidNamespace(std::vector<std::string> argv) {
  std::vector<std::string> full = {"/usr/bin/unshare", "--pid", "--fork", "--kill-child", "--mount-proc", "--"};
  full.insert(full.end(), argv.begin(), argv.end());
  return full;
}

// The line of `text` that starts with `prefix`, without it ("" if none).
std::string LineAfter(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
  }
  return "";
}

TEST(RecordCli, PidNamespaceLaunch) {
  std::string out = MakeDir("pidns-launch") + "/ns.pb.gz";
  // sh runs the burn, then prints its own stat line: cutime + cstime are
  // the burn's CPU time.
  CommandResult r = RunCommand(
      InPidNamespace({kGolens, "record", "--hz", "99", "-o", out, "--", "/bin/sh", "-c",
                      "\"$0\" 2; read -r stat < /proc/$$/stat; echo \"stat $stat\"", Fixture("native")}),
      60s);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  double cpu = StatCpuSeconds(LineAfter(r.out, "stat "), /*children=*/true);
  ASSERT_GT(cpu, 0.5) << "the burn's CPU time did not come through: " << Describe(r);
  std::string error;
  auto p = ReadProfile(out, &error);
  ASSERT_TRUE(p) << error << "\n" << Describe(r);
  double expected = cpu * 99;
  std::printf("in a PID namespace, launch: %lld samples, %.0f expected (%.2f s CPU)\n",
              static_cast<long long>(testing::SampleTotal(*p)), expected, cpu);
  EXPECT_GT(testing::SampleTotal(*p), expected * 0.5) << "golens as pid 1 of its own PID namespace recorded too few samples\n"
                                       << Describe(r);
}

TEST(RecordCli, PidNamespacePid) {
  std::string out = MakeDir("pidns-pid") + "/ns.pb.gz";
  // The fixture and golens in one namespace; golens gets the fixture's pid
  // as that namespace numbers it.
  const char* script =
      "\"$1\" -workers 1 >/dev/null & p=$!\n"
      "sleep 0.3\n"
      "t0=$(date +%s.%N); read -r before < /proc/$p/stat\n"
      "\"$0\" record --pid $p --duration 2s --hz 99 -o \"$2\"; r=$?\n"
      "t1=$(date +%s.%N); read -r after < /proc/$p/stat\n"
      "kill -9 $p\n"
      "echo \"pid $p\"; echo \"before $before\"; echo \"after $after\"; echo \"wall $t0 $t1\"\n"
      "exit $r\n";
  CommandResult r = RunCommand(InPidNamespace({"/bin/sh", "-c", script, kGolens, Fixture("cpu31"), out}), 60s);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  // The fixture's CPU time over golens' whole run (start-up included), as
  // a rate, times the 2 s recorded.
  double cpu = StatCpuSeconds(LineAfter(r.out, "after ")) - StatCpuSeconds(LineAfter(r.out, "before "));
  double t0 = 0, t1 = 0;
  std::istringstream(LineAfter(r.out, "wall ")) >> t0 >> t1;
  ASSERT_GT(cpu, 0.5) << "the fixture's CPU time did not come through: " << Describe(r);
  ASSERT_GT(t1 - t0, 1.9) << Describe(r);
  std::string error;
  auto p = ReadProfile(out, &error);
  ASSERT_TRUE(p) << error << "\n" << Describe(r);
  double expected = cpu / (t1 - t0) * 2.0 * 99;
  std::printf("in a PID namespace, --pid %s: %lld samples, %.0f expected (%.2f s CPU in %.2f s)\n",
              LineAfter(r.out, "pid ").c_str(), static_cast<long long>(testing::SampleTotal(*p)), expected, cpu, t1 - t0);
  EXPECT_GT(testing::SampleTotal(*p), expected * 0.5) << "--pid of a process in golens' own PID namespace recorded too few "
                                          "samples\n"
                                       << Describe(r);
}

// With the namespace translation off (a debugging knob), golens misses its
// target: the zero-sample warning must say so.
TEST(RecordCli, ZeroSampleWarningInPidNamespace) {
  std::string out = MakeDir("pidns-off") + "/off.pb.gz";
  CommandResult r = RunCommand(InPidNamespace({"/usr/bin/env", "GOLENS_PIDNS_TRANSLATION=off", kGolens, "record",
                                               "-o", out, "--", Fixture("native"), "1.5"}),
                               60s);
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  std::string error;
  auto p = ReadProfile(out, &error);
  ASSERT_TRUE(p) << error << "\n" << Describe(r);
  EXPECT_EQ(testing::SampleTotal(*p), 0) << "GOLENS_PIDNS_TRANSLATION=off inside a PID namespace should miss every sample "
                             "(the test provokes the warning this way)\n"
                          << Describe(r);
  EXPECT_TRUE(Contains(r.err, "no samples, although the target used"))
      << "a target that used 1.5 s of CPU but left no sample must be warned about\n"
      << Describe(r);
}

// ---- 4. --pid TID: a thread means its process ------------------------------

TEST(RecordCli, PidOfAThreadRecordsItsProcess) {
  Subprocess fixture({Fixture("goroutines-local")});
  ASSERT_TRUE(fixture.WaitForOutput("goid spinB", 10s)) << "goroutines-local did not start: " << fixture.err();
  pid_t pid = fixture.pid();
  pid_t tid = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    pid_t t = static_cast<pid_t>(std::stol(entry.path().filename().string()));
    if (t != pid) {
      tid = t;
      break;
    }
  }
  ASSERT_GT(tid, 0) << "goroutines-local has no thread besides its leader";
  std::string out = MakeDir("thread") + "/thread.pb.gz";
  CommandResult r = RunCommand(
      {kGolens, "record", "--pid", std::to_string(tid), "--duration", "1500ms", "-o", out}, 60s);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  std::string note = "--pid " + std::to_string(tid) + " is a thread of process " + std::to_string(pid) +
                     "; recording process " + std::to_string(pid);
  EXPECT_TRUE(Contains(r.err, note)) << "expected on stderr: " << note << "\n" << Describe(r);
  std::string error;
  auto p = ReadProfile(out, &error);
  ASSERT_TRUE(p) << error << "\n" << Describe(r);
  EXPECT_GT(testing::SampleTotal(*p), 50) << "two spinning goroutines for 1.5 s at 99 Hz are ~300 samples\n" << Describe(r);
  EXPECT_EQ(CommentSamplesOf(*p, pid), testing::SampleTotal(*p)) << "every sample is process " << pid << "'s\n" << Comments(*p);
  EXPECT_EQ(CommentSamplesOf(*p, tid), -1) << "thread " << tid << " is no process of its own\n" << Comments(*p);
}

// ---- 5. clashing outputs: refused before anything is recorded -------------

TEST(RecordCli, ClashingOutputsSamePath) {
  BusyFixture fixture;
  ASSERT_TRUE(fixture.ready()) << "cpu31 did not start: " << fixture.err();
  std::string path = MakeDir("clash-same") + "/same.pb.gz";
  auto t0 = std::chrono::steady_clock::now();
  CommandResult r = RunCommand(
      {kGolens, "record", "--pid", fixture.pid_str(), "--duration", "1s", "-o", path, "--svg", path}, 60s);
  double seconds = SecondsSince(t0);
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_TRUE(Contains(r.err, "same file")) << "the error must name the clash\n" << Describe(r);
  EXPECT_TRUE(Contains(r.err, path)) << Describe(r);
  EXPECT_FALSE(Contains(r.err, "recording")) << "nothing may be recorded\n" << Describe(r);
  EXPECT_FALSE(std::filesystem::exists(path)) << "a refused run wrote " << path;
  EXPECT_LT(seconds, 0.9) << "a usage error is immediate, not after a 1 s recording";
}

TEST(RecordCli, ClashingOutputsSameFileDifferentSpelling) {
  BusyFixture fixture;
  ASSERT_TRUE(fixture.ready()) << "cpu31 did not start: " << fixture.err();
  std::string dir = MakeDir("clash-spelling");
  CommandResult r = RunCommand({"/bin/sh", "-c", "cd \"$1\" && exec \"$0\" record --pid \"$2\" --duration 1s -o x --svg ./x",
                                kGolens, dir, fixture.pid_str()},
                               60s);
  EXPECT_EQ(r.exit_code, 2) << "-o x --svg ./x are one file\n" << Describe(r);
  EXPECT_TRUE(Contains(r.err, "same file")) << "the error must name the clash\n" << Describe(r);
  EXPECT_FALSE(Contains(r.err, "recording")) << "nothing may be recorded\n" << Describe(r);
  EXPECT_FALSE(std::filesystem::exists(dir + "/x")) << "a refused run wrote " << dir << "/x";
}

// ---- 6. a full disk under -o costs the profile, not the SVG ----------------

TEST(RecordCli, FullDiskLosesOnlyTheProfile) {
  BusyFixture fixture;
  ASSERT_TRUE(fixture.ready()) << "cpu31 did not start: " << fixture.err();
  std::string dir = MakeDir("fulldisk");
  std::string mnt = dir + "/full";
  std::string svg = dir + "/flame.svg";
  std::filesystem::create_directories(mnt);
  // A private mount namespace: the 64k tmpfs exists only for this script
  // (and is unmounted at its end), never on the host.
  const char* script =
      "mount -t tmpfs -o size=64k golens-test-full \"$1\" || { echo 'FAIL: cannot mount a tmpfs'; exit 90; }\n"
      "[ \"$(stat -f -c %T \"$1\")\" = tmpfs ] || { echo 'FAIL: not our tmpfs'; exit 90; }\n"
      "dd if=/dev/zero of=\"$1/fill\" bs=4k 2>/dev/null\n"
      "echo \"free $(stat -f -c %a \"$1\")\"\n"
      "\"$0\" record --pid \"$3\" --duration 1s -o \"$1/cpu.pb.gz\" --svg \"$2\"; r=$?\n"
      "umount \"$1\"\n"
      "exit $r\n";
  CommandResult r = RunCommand({"/usr/bin/unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c",
                                script, kGolens, mnt, svg, fixture.pid_str()},
                               60s);
  ASSERT_NE(r.exit_code, 90) << Describe(r);
  ASSERT_EQ(LineAfter(r.out, "free "), "0") << "the tmpfs is not full\n" << Describe(r);
  EXPECT_EQ(r.exit_code, 1) << "an output that could not be written is a failure (exit 1)\n" << Describe(r);
  EXPECT_TRUE(Contains(r.err, "profile not written")) << Describe(r);
  EXPECT_TRUE(Contains(r.err, "No space left on device")) << "the reason must be named\n" << Describe(r);
  ASSERT_TRUE(std::filesystem::exists(svg)) << "the SVG on a disk with room must still be written\n" << Describe(r);
  EXPECT_TRUE(Contains(ReadWholeFile(svg), "</svg>")) << "the SVG is not complete";
}

// ---- 7. a short --duration is reported in milliseconds ---------------------

TEST(RecordCli, MillisecondDuration) {
  BusyFixture fixture;
  ASSERT_TRUE(fixture.ready()) << "cpu31 did not start: " << fixture.err();
  std::string out = MakeDir("ms") + "/ms.pb.gz";
  auto t0 = std::chrono::steady_clock::now();
  Subprocess golens({kGolens, "record", "--pid", fixture.pid_str(), "--duration", "1ms", "-o", out});
  ASSERT_TRUE(golens.WaitForOutput("recording 1 process", 20s, true)) << golens.err();
  auto recording = std::chrono::steady_clock::now();
  auto code = golens.Wait(20s);
  double after_start = SecondsSince(recording), seconds = SecondsSince(t0);
  std::printf("golens record --duration 1ms: %.2f s in all, %.3f s after \"recording\"\n", seconds, after_start);
  ASSERT_TRUE(code.has_value()) << golens.err();
  CommandResult r{*code, golens.out(), golens.err()};
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  std::string summary;
  static const std::regex summary_re(R"(golens: \d+ samples, [^\n]*)");
  for (std::sregex_iterator it(r.err.begin(), r.err.end(), summary_re), end; it != end; ++it) summary = it->str();
  ASSERT_FALSE(summary.empty()) << "no summary line on stderr\n" << Describe(r);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(summary, m, std::regex(R"(, (\d+)ms -> )")))
      << "a 1 ms recording is reported in ms\n" << Describe(r);
  EXPECT_LT(std::stoi(m[1]), 100) << "a 1 ms recording lasted " << m[1] << " ms?\n" << Describe(r);
  EXPECT_LT(after_start, 0.5) << "a 1 ms recording must end at once, not after a drain tick\n" << Describe(r);
  EXPECT_LT(seconds, 10.0) << Describe(r);
  // ~0.1 samples are expected in 1 ms at 99 Hz: 0 samples is no reason for
  // a warning.
  EXPECT_FALSE(Contains(r.err, "no samples, although")) << "a false alarm\n" << Describe(r);
}

// ---- 8. -q silences golens, not the command --------------------------------

TEST(RecordCli, QuietLeavesOnlyTheCommandsOutput) {
  std::string out = MakeDir("quiet") + "/quiet.pb.gz";
  CommandResult r = RunCommand({kGolens, "-q", "record", "-o", out, "--", "/bin/sh", "-c",
                                "echo command-stdout; echo command-stderr >&2; \"$0\" 0.3", Fixture("native")},
                               60s);
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.err, "command-stderr\n") << "-q: golens says nothing on success; the command's stderr passes\n"
                                      << Describe(r);
  EXPECT_EQ(r.out, "command-stdout\n") << "stdout is the command's alone\n" << Describe(r);
  EXPECT_TRUE(std::filesystem::exists(out)) << out;
}

// ---- 9. -o - : the profile on stdout ---------------------------------------

TEST(RecordCli, OutputToStdoutWithPid) {
  BusyFixture fixture;
  ASSERT_TRUE(fixture.ready()) << "cpu31 did not start: " << fixture.err();
  std::string dir = MakeDir("stdout-pid");
  CommandResult r = RunCommand({"/bin/sh", "-c", "cd \"$1\" && exec \"$0\" record --pid \"$2\" --duration 1s -o -",
                                kGolens, dir, fixture.pid_str()},
                               60s);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_FALSE(std::filesystem::exists(dir + "/-")) << "-o - wrote a file named '-'";
  ASSERT_TRUE(IsGzip(r.out)) << "stdout is not gzip'd pprof (" << r.out.size() << " bytes): "
                             << r.out.substr(0, 200) << "\nstderr:\n" << r.err;
  auto p = pprof::ParsePprof(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(r.out.data()), r.out.size()));
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_GT(testing::SampleTotal(*p), 20) << "1 s of a busy process at 99 Hz is ~100 samples";
  EXPECT_TRUE(std::regex_search(r.err, SummaryLine())) << "the summary goes to stderr\n" << r.err;
}

TEST(RecordCli, OutputToStdoutRefusedWithCommand) {
  std::string dir = MakeDir("stdout-launch");
  std::string ran = dir + "/ran";
  CommandResult r = RunCommand({"/bin/sh", "-c", "cd \"$1\" && exec \"$0\" record -o - -- /usr/bin/touch \"$2\"",
                                kGolens, dir, ran},
                               60s);
  EXPECT_EQ(r.exit_code, 2) << "-o - would mix the profile into the command's stdout\n" << Describe(r);
  EXPECT_TRUE(Contains(r.err, "stdout")) << "the refusal says why\n" << Describe(r);
  EXPECT_FALSE(std::filesystem::exists(ran)) << "a refused run started the command";
  EXPECT_FALSE(std::filesystem::exists(dir + "/-")) << "-o - wrote a file named '-'";
  EXPECT_EQ(r.out, "") << Describe(r);
}

// ---- 10. -o /dev/null writes the device, never replaces it ----------------

TEST(RecordCli, DevNullStaysADevice) {
  BusyFixture fixture;
  ASSERT_TRUE(fixture.ready()) << "cpu31 did not start: " << fixture.err();
  // A private mount namespace with a throw-away tmpfs /dev holding a null
  // device made with mknod: the host's /dev is never at risk.
  const char* script =
      "mount -t tmpfs -o size=1m,mode=755 golens-test-dev /dev || { echo 'FAIL: cannot mount a private /dev'; exit 90; }\n"
      "[ \"$(stat -f -c %T /dev)\" = tmpfs ] && [ -z \"$(ls -A /dev)\" ] || { echo 'FAIL: /dev is not our empty tmpfs'; exit 90; }\n"
      "mknod -m 666 /dev/null c 1 3 || { echo 'FAIL: mknod /dev/null'; exit 90; }\n"
      "\"$0\" record --pid \"$1\" --duration 1s -o /dev/null; echo \"golens exit $?\"\n"
      "[ -c /dev/null ] && echo 'null is a device' || echo \"null is now: $(ls -l /dev/null)\"\n"
      "echo \"dev holds: $(ls -A /dev | tr '\\n' ' ')\"\n"
      "umount /dev\n";
  CommandResult r = RunCommand({"/usr/bin/unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c",
                                script, kGolens, fixture.pid_str()},
                               60s);
  ASSERT_NE(r.exit_code, 90) << Describe(r);
  EXPECT_EQ(LineAfter(r.out, "golens exit "), "0") << Describe(r);
  EXPECT_TRUE(Contains(r.out, "null is a device\n")) << "golens replaced /dev/null\n" << Describe(r);
  EXPECT_EQ(LineAfter(r.out, "dev holds: "), "null ") << "golens left files in /dev\n" << Describe(r);
}

// ---- 11. targets golens cannot record: a zombie, another user's process ----

// A child of the test that has exited and is not reaped (a zombie) until
// the test ends.
class Zombie {
 public:
  Zombie() {
    pid_ = fork();
    if (pid_ == 0) {
      execl("/bin/sh", "sh", "-c", "exit 0", static_cast<char*>(nullptr));
      _exit(0);
    }
  }
  ~Zombie() {
    if (pid_ > 0) waitpid(pid_, nullptr, 0);
  }
  pid_t pid() const { return pid_; }
  bool WaitUntilZombie(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (ProcessState(pid_) != 'Z') {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(10ms);
    }
    return true;
  }

 private:
  pid_t pid_ = -1;
};

TEST(RecordCli, PidOfAZombie) {
  Zombie zombie;
  ASSERT_GT(zombie.pid(), 0);
  ASSERT_TRUE(zombie.WaitUntilZombie(5s)) << "pid " << zombie.pid() << " did not become a zombie";
  std::string out = MakeDir("zombie") + "/zombie.pb.gz";
  CommandResult r = RunCommand(
      {kGolens, "record", "--pid", std::to_string(zombie.pid()), "--duration", "1s", "-o", out}, 60s);
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_TRUE(Contains(r.err, "exited")) << "a zombie has exited; the message must say so\n" << Describe(r);
  EXPECT_FALSE(Contains(r.err, "recording ")) << Describe(r);
  EXPECT_FALSE(std::filesystem::exists(out)) << "a refused run wrote " << out;
}

// CapEff of a process's /proc/PID/status (hex), "" if missing.
std::string CapEff(const std::string& status) {
  std::string v = LineAfter(status, "CapEff:");
  v.erase(0, v.find_first_not_of(" \t"));
  return v;
}

TEST(RecordCli, PidOfAnotherUsersProcessWithoutPtrace) {
  BusyFixture fixture;  // root's
  ASSERT_TRUE(fixture.ready()) << "cpu31 did not start: " << fixture.err();
  // nobody, with CAP_BPF (39) and CAP_PERFMON (38) only: no CAP_SYS_PTRACE
  // (19), so another user's /proc/PID/exe is closed to it.
  std::vector<std::string> setpriv = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                      "--inh-caps=-all,+bpf,+perfmon", "--ambient-caps=-all,+bpf,+perfmon", "--"};
  std::vector<std::string> probe = setpriv;
  probe.insert(probe.end(), {"/bin/cat", "/proc/self/status"});
  CommandResult caps = RunCommand(probe, 30s);
  ASSERT_EQ(caps.exit_code, 0) << "setpriv cannot run a process as uid 65534 with CAP_BPF + CAP_PERFMON here, so "
                                  "the permission case cannot be staged: "
                               << Describe(caps);
  std::string eff = CapEff(caps.out);
  unsigned long long bits = eff.empty() ? 0 : std::strtoull(eff.c_str(), nullptr, 16);
  ASSERT_EQ(bits, (1ull << 38) | (1ull << 39))
      << "under setpriv the effective capabilities are '" << eff
      << "', not exactly CAP_BPF + CAP_PERFMON (0x000000c000000000): this kernel or setpriv does not keep the BPF "
         "capabilities across the uid change (ambient capabilities), so the case cannot be staged";
  std::string dir = MakeDir("noptrace");
  chmod(dir.c_str(), 0777);
  std::string out = dir + "/noptrace.pb.gz";
  std::vector<std::string> argv = setpriv;
  argv.insert(argv.end(), {kGolens, "record", "--pid", fixture.pid_str(), "--duration", "1s", "-o", out});
  CommandResult r = RunCommand(argv, 60s);
  EXPECT_EQ(r.exit_code, 2) << "a target golens may not read is a privilege error (exit 2)\n" << Describe(r);
  EXPECT_TRUE(Contains(r.err, "CAP_SYS_PTRACE")) << "the message must name the missing capability\n" << Describe(r);
  EXPECT_FALSE(std::filesystem::exists(out)) << "a refused run wrote " << out;
}


// --pid records the given processes only; --children adds what they fork
// from then on (here a shell that starts the native fixture a moment later).
TEST(RecordCli, PidChildrenOnlyWhenAsked) {
  for (bool children : {false, true}) {
    SCOPED_TRACE(children ? "--children" : "without --children");
    // The shell forks the fixture once golens is recording (a go-file, not a
    // fixed sleep: attaching takes seconds on a loaded machine).
    const std::string go_file = TempDir() + (children ? "/children.go" : "/nochildren.go");
    std::filesystem::remove(go_file);
    Subprocess shell({"/bin/sh", "-c", "echo ready; while [ ! -e \"$1\" ]; do sleep 0.05; done; \"$0\" 1.0; sleep 0.3",
                      Fixture("native"), go_file});
    ASSERT_TRUE(shell.WaitForOutput("ready", 10s));
    std::string out = TempDir() + (children ? "/children.pb.gz" : "/nochildren.pb.gz");
    std::vector<std::string> argv = {kGolens, "record", "--pid", std::to_string(shell.pid()), "--duration", "20s",
                                     "-o", out};
    if (children) argv.push_back("--children");
    Subprocess golens(argv);
    ASSERT_TRUE(golens.WaitForOutput("recording 1 process", 30s, /*on_stderr=*/true)) << golens.err();
    { std::ofstream(go_file) << "go\n"; }
    auto code = golens.Wait(60s);
    ASSERT_TRUE(code.has_value()) << "golens did not end after its targets exited";
    CommandResult r{*code, golens.out(), golens.err()};
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
    std::string error;
    auto p = ReadProfile(out, &error);
    ASSERT_TRUE(p) << error;
    int64_t native = 0;
    pprof::ProfileIndex index(*p);
    for (const auto& s : p->samples) {
      for (uint64_t id : s.location_ids) {
        const pprof::Location* loc = index.location(id);
        bool hit = false;
        for (const auto& line : loc ? loc->lines : std::vector<pprof::Line>{}) {
          if (index.function(line.function_id)->name == "burn_native") hit = true;
        }
        if (hit) {
          native += s.values[0];
          break;
        }
      }
    }
    if (children) {
      EXPECT_GT(native, 40) << "the shell's child is recorded with --children\n" << Comments(*p);
    } else {
      EXPECT_EQ(native, 0) << "without --children only the shell is recorded\n" << Comments(*p);
    }
    // Recording ends when the named process (and with --children, its
    // children) have exited: well before --duration.
    EXPECT_NE(r.err.find("all targets exited"), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace golens
