// Deep map mode's duty cycle: the lookup probes of every program that has
// them are attached for a window, then detached for the rest of the period.
// A uprobe hit costs about 9 us against about 5-20 ns for a lookup, so a
// program doing nothing but lookups runs several hundred times slower while
// the probes are in; the window/period ratio bounds what that costs it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "profiler/binary_record.h"
#include "profiler/bpf_sampler.h"

namespace golens::profiler {

struct MapProbeCycle {
  std::chrono::milliseconds window{10};
  std::chrono::milliseconds period{1000};
};

class MapProbeCycler {
 public:
  MapProbeCycler(BpfSampler* sampler, MapProbeCycle cycle) : sampler_(sampler), cycle_(cycle) {}
  ~MapProbeCycler() { Stop(); }
  MapProbeCycler(const MapProbeCycler&) = delete;
  MapProbeCycler& operator=(const MapProbeCycler&) = delete;

  // The probe sites of a program, attached through `path` (once per program).
  void Add(const std::shared_ptr<BinaryRecord>& binary, const std::string& path, const std::string& exe);
  void Start();
  void Stop();  // detaches everything
  uint64_t windows() const;
  // Paused: no windows (the overhead budget's knob); the window in progress
  // ends as planned.
  void SetActive(bool active);
  bool active() const;

 private:
  void Loop();
  // Sleeps up to `d`; false when stopping.
  bool Sleep(std::chrono::milliseconds d);

  struct Program {
    std::weak_ptr<BinaryRecord> binary;
    std::string path;
    std::string exe;
    std::vector<std::pair<uint64_t, uint32_t>> sites;  // file offset, key size
    bool warned = false;
  };

  BpfSampler* sampler_;
  MapProbeCycle cycle_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool active_ = true;
  std::map<uint64_t, Program> programs_;  // by BinaryRecord::cache_key()
  uint64_t windows_ = 0;
  std::thread thread_;
};

}  // namespace golens::profiler
