#include "pprof/gzip.h"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <limits>

namespace golens::pprof {
namespace {

constexpr int kGzipWindowBits = 15 + 16;  // 15-bit window, gzip wrapper
constexpr size_t kChunk = 256 * 1024;

std::string ZlibMessage(const z_stream& stream, int rc) {
  if (stream.msg != nullptr) return stream.msg;
  return "zlib error " + std::to_string(rc);
}

Error TooLarge(size_t max_output) {
  return MakeError("gunzip: decompressed data exceeds " + std::to_string(max_output) + " bytes; refusing",
                   ErrorKind::kResourceExhausted);
}

}  // namespace

Result<std::string> GzipCompress(std::span<const uint8_t> data, int level) {
  z_stream stream{};
  int rc = deflateInit2(&stream, level, Z_DEFLATED, kGzipWindowBits, 8, Z_DEFAULT_STRATEGY);
  if (rc != Z_OK) return MakeError("gzip: deflateInit2 failed: " + ZlibMessage(stream, rc));
  std::string out;
  out.resize(deflateBound(&stream, data.size()));
  const uint8_t* in = data.data();
  size_t remaining = data.size();
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(std::min<size_t>(out.size(), std::numeric_limits<uInt>::max()));
  do {
    uInt step = static_cast<uInt>(std::min<size_t>(remaining, std::numeric_limits<uInt>::max()));
    stream.next_in = const_cast<Bytef*>(in);
    stream.avail_in = step;
    in += step;
    remaining -= step;
    int flush = remaining == 0 ? Z_FINISH : Z_NO_FLUSH;
    do {
      if (stream.avail_out == 0) {
        size_t used = out.size();
        out.resize(used * 2 + kChunk);
        stream.next_out = reinterpret_cast<Bytef*>(out.data() + used);
        stream.avail_out = static_cast<uInt>(
            std::min<size_t>(out.size() - used, std::numeric_limits<uInt>::max()));
      }
      rc = deflate(&stream, flush);
      if (rc == Z_STREAM_ERROR) {
        deflateEnd(&stream);
        return MakeError("gzip: deflate failed");
      }
    } while (stream.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
  } while (remaining > 0);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

Result<std::string> GzipDecompress(std::span<const uint8_t> data, size_t max_output) {
  z_stream stream{};
  int rc = inflateInit2(&stream, kGzipWindowBits);
  if (rc != Z_OK) return MakeError("gunzip: inflateInit2 failed: " + ZlibMessage(stream, rc));
  std::string out;
  size_t produced = 0;
  const uint8_t* in = data.data();
  size_t remaining = data.size();
  bool member_done = false;
  while (true) {
    if (stream.avail_in == 0 && remaining > 0) {
      uInt step = static_cast<uInt>(std::min<size_t>(remaining, std::numeric_limits<uInt>::max()));
      stream.next_in = const_cast<Bytef*>(in);
      stream.avail_in = step;
      in += step;
      remaining -= step;
    }
    // Grow geometrically but never past max_output + 1 bytes: one byte over
    // the cap proves the stream too large without inflating the rest.
    if (out.size() - produced < kChunk) {
      size_t cap = max_output == SIZE_MAX ? max_output : max_output + 1;
      size_t grown = std::min(out.size() + std::max(kChunk, out.size()), cap);
      if (grown <= produced) {
        inflateEnd(&stream);
        return TooLarge(max_output);
      }
      out.resize(grown);
    }
    stream.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    stream.avail_out = static_cast<uInt>(
        std::min<size_t>(out.size() - produced, std::numeric_limits<uInt>::max()));
    uInt before = stream.avail_out;
    rc = inflate(&stream, Z_NO_FLUSH);
    produced += before - stream.avail_out;
    if (produced > max_output) {
      inflateEnd(&stream);
      return TooLarge(max_output);
    }
    if (rc == Z_STREAM_END) {
      member_done = true;
      // Go's gzip.Reader accepts concatenated members; so do we. Trailing
      // zero padding after the last member is tolerated too.
      if (stream.avail_in == 0 && remaining == 0) break;
      if (stream.avail_in > 0 && stream.next_in[0] != 0x1f) break;
      inflateReset(&stream);
      member_done = false;
      continue;
    }
    if (rc == Z_BUF_ERROR && stream.avail_in == 0 && remaining == 0) break;  // input ended early
    if (rc != Z_OK) {
      std::string message = ZlibMessage(stream, rc);
      inflateEnd(&stream);
      return MakeError("gunzip: corrupt gzip data: " + message, ErrorKind::kCorrupt);
    }
  }
  inflateEnd(&stream);
  if (!member_done) return MakeError("gunzip: truncated gzip data (unexpected end of stream)", ErrorKind::kCorrupt);
  out.resize(produced);
  return out;
}

}  // namespace golens::pprof
