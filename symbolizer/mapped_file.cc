#include "symbolizer/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <utility>

#include "profiler/base/scoped_fd.h"

namespace golens::symbolizer {

Result<FileImage> FileImage::Map(const std::string& path) {
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return ErrnoError("open " + path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoError("stat " + path);
  if (!S_ISREG(st.st_mode)) return MakeError(path + ": not a regular file");
  FileImage image;
  if (st.st_size == 0) return image;  // empty: the ELF parser reports it
  void* p = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd.get(), 0);
  if (p == MAP_FAILED) return ErrnoError("mmap " + path);
  image.mapping_ = p;
  image.data_ = static_cast<const uint8_t*>(p);
  image.size_ = static_cast<size_t>(st.st_size);
  return image;
}

FileImage FileImage::FromBytes(std::vector<uint8_t> bytes) {
  FileImage image;
  image.owned_ = std::move(bytes);
  image.data_ = image.owned_.data();
  image.size_ = image.owned_.size();
  return image;
}

FileImage::~FileImage() { Reset(); }

FileImage::FileImage(FileImage&& other) noexcept { *this = std::move(other); }

FileImage& FileImage::operator=(FileImage&& other) noexcept {
  if (this == &other) return *this;
  Reset();
  mapping_ = std::exchange(other.mapping_, nullptr);
  size_ = std::exchange(other.size_, 0);
  const bool owned = other.data_ == other.owned_.data() && mapping_ == nullptr;
  owned_ = std::move(other.owned_);
  data_ = owned ? owned_.data() : other.data_;
  other.data_ = nullptr;
  return *this;
}

void FileImage::Reset() {
  if (mapping_ != nullptr) ::munmap(mapping_, size_);
  mapping_ = nullptr;
  data_ = nullptr;
  size_ = 0;
  owned_.clear();
}

}  // namespace golens::symbolizer
