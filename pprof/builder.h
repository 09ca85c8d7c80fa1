// Builds a Profile, interning mappings, functions and locations by content
// (after Perfetto's pprof_builder). Ids are dense, starting at 1. Samples with
// the same stack and labels are aggregated by element-wise sum of values.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "pprof/profile.h"

namespace golens::pprof {

class ProfileBuilder {
 public:
  explicit ProfileBuilder(std::vector<ValueType> sample_types);
  ~ProfileBuilder();
  ProfileBuilder(ProfileBuilder&&) noexcept;
  ProfileBuilder& operator=(ProfileBuilder&&) noexcept;

  // Header fields (period, times, comments...) are set directly here.
  Profile& header() { return profile_; }

  // Interned by (memory_start, memory_limit, file_offset, filename, build_id).
  uint64_t AddMapping(const Mapping& mapping);
  // Interned by (name, system_name, filename, start_line).
  uint64_t AddFunction(const std::string& name, const std::string& system_name,
                       const std::string& filename, int64_t start_line);
  // Interned by (mapping_id, address, lines).
  uint64_t AddLocation(uint64_t mapping_id, uint64_t address, std::vector<Line> lines);
  // Aggregates equal (location_ids, labels). Labels are compared in order given.
  void AddSample(std::span<const uint64_t> location_ids, std::span<const int64_t> values,
                 const std::vector<Label>& labels = {});

  // Finishes and hands out the profile; the builder is empty afterwards.
  Profile Build();

 private:
  struct Interner;
  Profile profile_;
  std::unique_ptr<Interner> interner_;
};

}  // namespace golens::pprof
