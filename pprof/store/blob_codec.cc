#include "pprof/store/blob_codec.h"

#include <zdict.h>
#include <zstd.h>

namespace golens::store {
namespace {

struct CCtxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxFree {
  void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};

Error Corrupt(const std::string& what) { return MakeError("corrupt profile data: " + what, ErrorKind::kCorrupt); }

}  // namespace

Result<std::shared_ptr<const Dictionary>> Dictionary::Create(std::span<const uint8_t> bytes, int level) {
  std::shared_ptr<Dictionary> d(new Dictionary());
  d->cdict_ = ZSTD_createCDict(bytes.data(), bytes.size(), level);
  d->ddict_ = ZSTD_createDDict(bytes.data(), bytes.size());
  d->size_ = bytes.size();
  if (d->cdict_ == nullptr || d->ddict_ == nullptr || bytes.empty()) {
    return MakeError("corrupt zstd dictionary (" + std::to_string(bytes.size()) + " bytes)", ErrorKind::kCorrupt);
  }
  return std::shared_ptr<const Dictionary>(std::move(d));
}

Dictionary::~Dictionary() {
  ZSTD_freeCDict(cdict_);
  ZSTD_freeDDict(ddict_);
}

Result<std::string> CompressBlob(std::span<const uint8_t> raw, int level, const Dictionary* dict) {
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxFree> cctx(ZSTD_createCCtx());
  if (!cctx) return MakeError("zstd: out of memory", ErrorKind::kResourceExhausted);
  ZSTD_CCtx_reset(cctx.get(), ZSTD_reset_session_and_parameters);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_checksumFlag, 1);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_contentSizeFlag, 1);
  if (dict != nullptr) ZSTD_CCtx_refCDict(cctx.get(), dict->cdict_);
  std::string out(ZSTD_compressBound(raw.size()), '\0');
  size_t n = ZSTD_compress2(cctx.get(), out.data(), out.size(), raw.data(), raw.size());
  if (ZSTD_isError(n)) return MakeError(std::string("zstd compress: ") + ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

Result<std::string> DecompressBlob(std::span<const uint8_t> blob, uint64_t expected_size, const Dictionary* dict) {
  unsigned long long size = ZSTD_getFrameContentSize(blob.data(), blob.size());
  if (size == ZSTD_CONTENTSIZE_ERROR) return Corrupt("not a zstd frame (" + std::to_string(blob.size()) + " bytes)");
  if (size == ZSTD_CONTENTSIZE_UNKNOWN) return Corrupt("zstd frame without content size");
  if (size > kMaxRawProfileBytes) return Corrupt("claims " + std::to_string(size) + " bytes");
  if (expected_size != 0 && size != expected_size) {
    return Corrupt("holds " + std::to_string(size) + " bytes, the index says " + std::to_string(expected_size));
  }
  unsigned frame_dict = ZSTD_getDictID_fromFrame(blob.data(), blob.size());
  if (frame_dict != 0 && dict == nullptr) return Corrupt("compressed with a dictionary the index does not name");
  // One context per thread, reused: creating one costs more than decoding
  // a typical profile.
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxFree> dctx(ZSTD_createDCtx());
  if (!dctx) return MakeError("zstd: out of memory", ErrorKind::kResourceExhausted);
  std::string out(size, '\0');
  size_t n = dict != nullptr ? ZSTD_decompress_usingDDict(dctx.get(), out.data(), out.size(), blob.data(),
                                                          blob.size(), dict->ddict_)
                             : ZSTD_decompressDCtx(dctx.get(), out.data(), out.size(), blob.data(), blob.size());
  if (ZSTD_isError(n)) return Corrupt(std::string("zstd: ") + ZSTD_getErrorName(n));
  if (n != size) return Corrupt("zstd frame decoded to " + std::to_string(n) + " of " + std::to_string(size) + " bytes");
  return out;
}

std::string TrainDictionary(const std::vector<std::string>& samples, size_t capacity) {
  std::string joined;
  std::vector<size_t> sizes;
  for (const std::string& s : samples) {
    joined += s;
    sizes.push_back(s.size());
  }
  if (!samples.empty()) {
    std::string dict(capacity, '\0');
    size_t n = ZDICT_trainFromBuffer(dict.data(), dict.size(), joined.data(), sizes.data(),
                                     static_cast<unsigned>(sizes.size()));
    if (!ZDICT_isError(n)) {
      dict.resize(n);
      return dict;
    }
  }
  // Raw content: zstd matches against the end of a dictionary best, so the
  // newest sample goes last.
  if (joined.size() > capacity) joined.erase(0, joined.size() - capacity);
  return joined;
}

}  // namespace golens::store
