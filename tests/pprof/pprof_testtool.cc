// Helper for the go-tool-pprof e2e script:
//   pprof_testtool sample OUT      writes a hand-made profile the way `golens
//                                  record` does (mapping flags, inlined lines,
//                                  labels, CPU header) with WritePprofFile
//   pprof_testtool roundtrip IN OUT  ParsePprof + SerializePprof (gzip)
#include <cstdio>
#include <cstring>
#include <string>

#include "pprof/builder.h"
#include "pprof/profile_io.h"

using namespace golens::pprof;

static Profile HandMadeProfile() {
  ProfileBuilder b({{"samples", "count"}, {"cpu", "nanoseconds"}});
  Profile& h = b.header();
  h.period_type = {"cpu", "nanoseconds"};
  h.period = 10'000'000;
  h.time_nanos = 1'700'000'000'000'000'000;
  h.duration_nanos = 2'000'000'000;
  h.comments = {"golens test profile"};
  Mapping exe;
  exe.memory_start = 0x400000;
  exe.memory_limit = 0x600000;
  exe.filename = "/opt/svc/bin/svc";
  exe.build_id = "0123456789abcdef";
  exe.has_functions = exe.has_filenames = exe.has_line_numbers = exe.has_inline_frames = true;
  uint64_t m = b.AddMapping(exe);
  Mapping kernel;
  kernel.filename = "[kernel]";
  kernel.has_functions = true;
  uint64_t k = b.AddMapping(kernel);
  auto fn = [&](const char* name, const char* file) { return b.AddFunction(name, name, file, 1); };
  uint64_t f_main = fn("main.main", "/src/main.go");
  uint64_t f_serve = fn("main.serve", "/src/main.go");
  uint64_t f_hash = fn("main.hash", "/src/hash.go");
  uint64_t f_inl = fn("main.rotl", "/src/hash.go");
  uint64_t f_write = fn("syscall.write", "/usr/lib/go/src/syscall/zsyscall_linux_amd64.go");
  uint64_t f_k = fn("ksys_write", "");
  uint64_t l_main = b.AddLocation(m, 0x401000, {{f_main, 10, 0}});
  uint64_t l_serve = b.AddLocation(m, 0x402000, {{f_serve, 20, 0}});
  uint64_t l_hash = b.AddLocation(m, 0x403000, {{f_inl, 7, 0}, {f_hash, 30, 0}});
  uint64_t l_write = b.AddLocation(m, 0x404000, {{f_write, 40, 0}});
  uint64_t l_k = b.AddLocation(k, 0xffffffff81000000, {{f_k, 0, 0}});
  auto add = [&](std::initializer_list<uint64_t> stack, int64_t n, const char* worker) {
    std::vector<uint64_t> ids(stack);
    b.AddSample(ids, std::vector<int64_t>{n, n * 10'000'000}, {{"worker", worker, 0, ""}});
  };
  add({l_hash, l_serve, l_main}, 80, "alpha");
  add({l_serve, l_main}, 5, "alpha");
  add({l_k, l_write, l_serve, l_main}, 15, "beta");
  return b.Build();
}

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "sample") == 0) {
    auto r = WritePprofFile(HandMadeProfile(), argv[2]);
    if (!r.ok()) { std::fprintf(stderr, "%s\n", r.error().message.c_str()); return 1; }
    return 0;
  }
  if (argc == 4 && std::strcmp(argv[1], "roundtrip") == 0) {
    auto p = ReadProfileFile(argv[2]);
    if (!p.ok()) { std::fprintf(stderr, "%s\n", p.error().message.c_str()); return 1; }
    auto r = WritePprofFile(*p, argv[3]);
    if (!r.ok()) { std::fprintf(stderr, "%s\n", r.error().message.c_str()); return 1; }
    return 0;
  }
  std::fprintf(stderr, "usage: pprof_testtool sample OUT | roundtrip IN OUT\n");
  return 2;
}
