// `golens symbolize` end to end: output format, stdin, --pid, errors and exit codes.
#include <gtest/gtest.h>

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>

#include "symbolizer/symbolizer.h"

#include "tests/symbolizer/test_util.h"

namespace golens::symbolizer {
namespace {

using testing::Fixture;
using testing::RunCommand;
using testing::Split;

const std::string kGolens = GOLENS_BIN;

// The expected text for one dwarfref row: "0xPC\n  F FILE:LINE\n...".
std::string ExpectedFromReference(const std::string& row) {
  auto cols = Split(row, '\t');
  std::string out = cols[0] + "\n";
  for (size_t i = 1; i + 2 < cols.size(); i += 3) out += "  " + cols[i] + " " + cols[i + 1] + ":" + cols[i + 2] + "\n";
  return out;
}

TEST(SymbolizeCli, ExeOutputMatchesReferenceExactly) {
  auto ref = RunCommand(std::string(GOLENS_SYM_DWARFREF) + " -min 0 " + Fixture("local_plain"));
  ASSERT_EQ(ref.exit_code, 0);
  std::string deep, flat;
  for (const auto& row : Split(ref.out, '\n')) {
    size_t tabs = std::count(row.begin(), row.end(), '\t');
    if (tabs >= 9 && deep.empty()) deep = row;  // three frames or more
    if (tabs == 3 && flat.empty()) flat = row;
  }
  ASSERT_FALSE(deep.empty());
  ASSERT_FALSE(flat.empty());
  const std::string a = Split(deep, '\t')[0], b = Split(flat, '\t')[0];
  const std::string expected = ExpectedFromReference(deep) + ExpectedFromReference(flat) + "0x10\n  ?? ??:0\n";

  auto args = RunCommand(kGolens + " symbolize --exe " + Fixture("local_plain.stripped") + " " + a + " " + b + " 10");
  EXPECT_EQ(args.exit_code, 0);
  EXPECT_EQ(args.out, expected);

  // Same through stdin, one address per line (with and without 0x, blank lines ignored).
  auto in = RunCommand("printf '" + a + "\\n\\n" + b.substr(2) + "\\n0x10\\n' | " + kGolens + " symbolize --exe " +
                       Fixture("local_plain.stripped"));
  EXPECT_EQ(in.exit_code, 0);
  EXPECT_EQ(in.out, expected);
}

// Many addresses: several 16k chunks handled by two threads must still come
// out in input order, identical to the library's vector API.
TEST(SymbolizeCli, LargeBatchMatchesLibrary) {
  auto binary = Binary::Open(Fixture("1_23_12_cgo"));
  ASSERT_TRUE(binary.ok());
  auto funcs = (*binary)->FindSymbolsWithPrefix("");
  ASSERT_GT(funcs.size(), 1000u);
  std::mt19937_64 rng(99);
  std::vector<uint64_t> addrs;
  while (addrs.size() < 40000) {
    const Symbol& f = funcs[rng() % funcs.size()];
    if (f.size) addrs.push_back(f.vaddr + rng() % f.size);
  }
  addrs.push_back(0x10);
  addrs.push_back(addrs[5]);
  const std::string in = (std::filesystem::temp_directory_path() / ("golens_cli_" + std::to_string(getpid()))).string();
  std::string input, expected;
  auto results = (*binary)->Symbolize(addrs);
  for (size_t i = 0; i < addrs.size(); ++i) {
    char hex[32];
    std::snprintf(hex, sizeof hex, "0x%llx", static_cast<unsigned long long>(addrs[i]));
    input += std::string(hex) + "\n";
    expected += std::string(hex) + "\n";
    if (results[i].frames.empty()) expected += "  ?? ??:0\n";
    for (const auto& f : results[i].frames)
      expected += "  " + f.function + " " + (f.file.empty() ? "??:0" : f.file + ":" + std::to_string(f.line)) + "\n";
  }
  {
    std::ofstream(in) << input;
  }
  auto r = RunCommand(kGolens + " symbolize --exe " + Fixture("1_23_12_cgo") + " < " + in);
  std::filesystem::remove(in);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.size(), expected.size());
  EXPECT_TRUE(r.out == expected) << "CLI output differs from Binary::Symbolize";
}

TEST(SymbolizeCli, PidMode) {
  testing::SpinningProcess proc(Fixture("local_pie.stripped"));
  ASSERT_TRUE(proc.ok());
  char addr[32];
  std::snprintf(addr, sizeof addr, "%llx", static_cast<unsigned long long>(proc.spin_address()));
  auto r = RunCommand(kGolens + " symbolize --pid " + std::to_string(proc.pid()) + " " + addr);
  EXPECT_EQ(r.exit_code, 0);
  std::regex want(std::string("^0x") + addr +
                  "\n  example.com/golens/testprog/internal/work.Spin \\S+/internal/work/work.go:[0-9]+\n$");
  EXPECT_TRUE(std::regex_match(r.out, want)) << r.out;
}

TEST(SymbolizeCli, KernelMode) {
  auto line = RunCommand("grep -m1 ' T schedule$' /proc/kallsyms");
  ASSERT_EQ(line.exit_code, 0);
  std::string addr = line.out.substr(0, line.out.find(' '));
  auto r = RunCommand(kGolens + " symbolize --kernel " + addr);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("  schedule ??:0\n"), std::string::npos) << r.out;
}

// Stdin lines take a fast path ("0x" + hex digits) or the general parser
// (spaces, CR, "0X", no prefix, upper case): same values either way, and the
// same error for a bad line.
TEST(SymbolizeCli, StdinLineForms) {
  const std::string exe = Fixture("local_plain.stripped");
  auto want = RunCommand(kGolens + " symbolize --exe " + exe + " 0x4a0f 0x4a0f 0x4a0f 0x4a0f 0x4a0f 0x4a0f 0x0");
  ASSERT_EQ(want.exit_code, 0);
  auto got = RunCommand("printf '0x4a0f\n  0x4A0F\t\r\n0X4a0f\n4a0f\n0x00004a0f\n\n0x4a0F\n0x0' | " + kGolens +
                        " symbolize --exe " + exe);
  EXPECT_EQ(got.exit_code, 0);
  EXPECT_EQ(got.out, want.out);

  auto long_ok = RunCommand("printf '0xffffffffffffffff\n' | " + kGolens + " symbolize --exe " + exe);
  EXPECT_EQ(long_ok.exit_code, 0);
  EXPECT_EQ(long_ok.out, "0xffffffffffffffff\n  ?? ??:0\n");
  auto too_long = RunCommand("printf '0x1ffffffffffffffff\n' | " + kGolens + " symbolize --exe " + exe, true);
  EXPECT_EQ(too_long.exit_code, 2);
  EXPECT_NE(too_long.out.find("invalid address \"0x1ffffffffffffffff\""), std::string::npos) << too_long.out;
  auto bad = RunCommand("printf '0x10\n0x1g\n' | " + kGolens + " symbolize --exe " + exe, true);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.out.find("invalid address \"0x1g\""), std::string::npos) << bad.out;
}

// A full disk loses nothing silently: a large batch (two workers, output
// written piece by piece by a writer thread) into /dev/full fails with the reason.
TEST(SymbolizeCli, WriteErrorIsReported) {
  const std::string exe = Fixture("local_plain.stripped");
  auto big = RunCommand("yes 0x10 | head -n 100000 | " + kGolens + " symbolize --exe " + exe + " 2>&1 >/dev/full");
  EXPECT_EQ(big.exit_code, 1);
  EXPECT_NE(big.out.find("write stdout: No space left on device"), std::string::npos) << big.out;
  auto small = RunCommand(kGolens + " symbolize --exe " + exe + " 0x10 2>&1 >/dev/full");
  EXPECT_EQ(small.exit_code, 1);
  EXPECT_NE(small.out.find("write stdout: No space left on device"), std::string::npos) << small.out;
}

TEST(SymbolizeCli, ErrorsAndExitCodes) {
  auto missing = RunCommand(kGolens + " symbolize --exe /nonexistent/bin 0x1", true);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.out.find("golens symbolize: open /nonexistent/bin: No such file or directory"),
            std::string::npos)
      << missing.out;

  auto notelf = RunCommand(kGolens + " symbolize --exe " + std::string(GOLENS_SYM_TESTDATA) + "/cli_test.cc 0x1", true);
  EXPECT_EQ(notelf.exit_code, 1);
  EXPECT_NE(notelf.out.find("not an ELF file"), std::string::npos) << notelf.out;

  auto none = RunCommand(kGolens + " symbolize 0x1", true);
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.out.find("exactly one of"), std::string::npos) << none.out;

  auto bad = RunCommand(kGolens + " symbolize --exe " + Fixture("local_plain") + " 0xzz", true);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.out.find("invalid address \"0xzz\""), std::string::npos) << bad.out;

  auto gone = RunCommand(kGolens + " symbolize --pid 1073741800 0x1", true);
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_NE(gone.out.find("/proc/1073741800/maps"), std::string::npos) << gone.out;
}

// One bad line: reported with its number on stderr, the good lines still
// answered (in order), exit status non-zero at the end.
TEST(SymbolizeCli, BadLineIsReportedAndTheRestAnswered) {
  const std::string exe = Fixture("local_plain.stripped");
  auto want = RunCommand(kGolens + " symbolize --exe " + exe + " 0x4a0f 0x10");
  ASSERT_EQ(want.exit_code, 0);
  auto out = RunCommand("printf '0x4a0f\nnot-an-address\n0x10\n' | " + kGolens + " symbolize --exe " + exe +
                        " 2>stderr.txt");
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_EQ(out.out, want.out);
  auto err = RunCommand("cat stderr.txt");
  EXPECT_NE(err.out.find("line 2: invalid address \"not-an-address\""), std::string::npos) << err.out;
  EXPECT_NE(err.out.find("1 invalid address skipped"), std::string::npos) << err.out;
  // The same for arguments, and for a regular file on stdin (the batch path).
  auto args = RunCommand(kGolens + " symbolize --exe " + exe + " 0x4a0f zz 0x10 2>stderr.txt");
  EXPECT_EQ(args.exit_code, 2);
  EXPECT_EQ(args.out, want.out);
  EXPECT_NE(RunCommand("cat stderr.txt").out.find("argument 2: invalid address \"zz\""), std::string::npos);
  auto file = RunCommand("printf '0x4a0f\nzz\n0x10\n' > in.txt && " + kGolens + " symbolize --exe " + exe +
                         " <in.txt 2>stderr.txt");
  EXPECT_EQ(file.exit_code, 2);
  EXPECT_EQ(file.out, want.out);
  EXPECT_NE(RunCommand("cat stderr.txt").out.find("line 2:"), std::string::npos);
}

// Through a pipe, each answer comes as soon as its line is in (a coprocess
// can ask one address at a time), before stdin is closed.
TEST(SymbolizeCli, AnswersStreamLineByLine) {
  const std::string exe = Fixture("local_plain.stripped");
  int in[2], out[2];
  ASSERT_EQ(pipe2(in, O_CLOEXEC), 0);
  ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    execl(kGolens.c_str(), kGolens.c_str(), "symbolize", "--exe", exe.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  auto ask = [&](const std::string& line) {
    EXPECT_EQ(write(in[1], line.data(), line.size()), static_cast<ssize_t>(line.size()));
    // Read until the answer's frame line ("  ... \n" after the header) is in.
    std::string got;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::count(got.begin(), got.end(), '\n') < 2 && std::chrono::steady_clock::now() < deadline) {
      pollfd p{out[0], POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char buf[4096];
      ssize_t n = read(out[0], buf, sizeof buf);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
    return got;
  };
  std::string first = ask("0x4a0f\n");
  EXPECT_TRUE(first.starts_with("0x4a0f\n  ")) << "no answer before more input: '" << first << "'";
  std::string second = ask("0x10\n");
  EXPECT_TRUE(second.starts_with("0x10\n  ")) << second;
  close(in[1]);
  int status = 0;
  waitpid(pid, &status, 0);
  close(out[0]);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

// A truncated binary gives "?? ??:0" and says why on stderr.
TEST(SymbolizeCli, TruncatedBinaryExplainsUnknowns) {
  const std::string exe = Fixture("local_plain");
  auto r = RunCommand("head -c 200000 " + exe + " > truncated.bin && " + kGolens +
                      " symbolize --exe truncated.bin 0x401000 2>stderr.txt");
  EXPECT_EQ(r.out, "0x401000\n  ?? ??:0\n");
  auto err = RunCommand("cat stderr.txt");
  EXPECT_NE(err.out.find("no Go pclntab or symbol table found in truncated.bin"), std::string::npos) << err.out;
}

// Past the end of kernel text the answer is unknown, not the last symbol.
TEST(SymbolizeCli, KernelPastTheEndIsUnknown) {
  auto head = RunCommand("grep -c ' T _etext$' /proc/kallsyms");
  ASSERT_EQ(head.out, "1\n") << "this kernel's kallsyms has no _etext (or it is hidden: run as root)";
  auto r = RunCommand(kGolens + " symbolize --kernel 0xffffffffffffffff");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "0xffffffffffffffff\n  ?? ??:0\n");
}

}  // namespace
}  // namespace golens::symbolizer
