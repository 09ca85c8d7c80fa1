// Writes the benchmark inputs: OUT_DIR/profile.pb.gz (pprof, as `golens
// record` writes it) and OUT_DIR/profile.folded (same stacks, sample counts).
#include <cstdio>
#include <string>

#include "bench/flame/profile_generator.h"
#include "pprof/profile_io.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: flame_bench_gen OUT_DIR\n");
    return 2;
  }
  std::string dir = argv[1];
  golens::pprof::Profile p = golens::bench::GenerateProfile();
  auto w = golens::pprof::WritePprofFile(p, dir + "/profile.pb.gz");
  if (!w.ok()) {
    std::fprintf(stderr, "%s\n", w.error().message.c_str());
    return 1;
  }
  std::string folded = golens::pprof::ToFolded(p, 0);
  auto f = golens::pprof::WriteFileAtomically(dir + "/profile.folded", folded);
  if (!f.ok()) {
    std::fprintf(stderr, "%s\n", f.error().message.c_str());
    return 1;
  }
  std::printf("%zu stacks, %s/profile.pb.gz and %s/profile.folded (%zu bytes)\n", p.samples.size(), dir.c_str(),
              dir.c_str(), folded.size());
  return 0;
}
