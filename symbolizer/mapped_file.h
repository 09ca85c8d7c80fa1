// Read-only view of a whole file: mmap'd when opened from disk, or an owned
// byte vector (tests, fuzzers, images read from process memory).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "profiler/base/result.h"

namespace golens::symbolizer {

class FileImage {
 public:
  static Result<FileImage> Map(const std::string& path);
  static FileImage FromBytes(std::vector<uint8_t> bytes);

  FileImage() = default;
  ~FileImage();
  FileImage(const FileImage&) = delete;
  FileImage& operator=(const FileImage&) = delete;
  FileImage(FileImage&& other) noexcept;
  FileImage& operator=(FileImage&& other) noexcept;

  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  bool is_mapped() const { return mapping_ != nullptr; }

 private:
  void Reset();

  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  void* mapping_ = nullptr;  // non-null when mmap'd
  std::vector<uint8_t> owned_;
};

}  // namespace golens::symbolizer
