// Helpers shared by the store tests: temp directories and test metadata.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>

#include "pprof/store/store.h"
#include "tests/store/service_profiles.h"

namespace golens::store::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string base = std::filesystem::temp_directory_path() / "golens-store-XXXXXX";
    path_ = ::mkdtemp(base.data()) ? base : "";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline ProfileMeta MetaFor(const ServiceProfiles& svc, int64_t start_ns, int64_t duration_ns = 10'000'000'000,
                           int64_t pid = 1000) {
  ProfileMeta m;
  m.service = svc.service();
  m.build_id = svc.build_id();
  m.go_version = "go1.26.8";
  m.exe_path = "/usr/local/bin/" + svc.service();
  m.host = "host-a";
  m.pid = pid;
  m.start_ns = start_ns;
  m.end_ns = start_ns + duration_ns;
  return m;
}

inline int64_t Total(const pprof::Profile& p, size_t type = 0) {
  int64_t t = 0;
  for (const pprof::Sample& s : p.samples) t += s.values.at(type);
  return t;
}

}  // namespace golens::store::testing
