// `golens symbolize`: addresses -> inline chains, addr2line style.
//
//   golens symbolize --exe BINARY ADDR...   ELF virtual addresses (hex)
//   golens symbolize --pid PID ADDR...      runtime addresses in that process
//   golens symbolize --kernel ADDR...       kernel addresses via /proc/kallsyms
//
// Without ADDR arguments, addresses are read from stdin, one per line: a
// file on stdin is one batch (fast path for large inputs); a pipe or a
// terminal is answered as its lines arrive, each answer written at once
// (addr2line style, usable interactively). A bad line is reported on stderr
// with its line number and skipped; the others are answered, and the exit
// status is 2 at the end.
// Output per address: "0xADDR", then one "  FUNCTION FILE:LINE" line per
// frame, innermost first ("  ?? ??:0" when unknown).
#include <poll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "profiler/cli_errors.h"
#include "profiler/base/result.h"
#include "profiler/commands.h"
#include "symbolizer/symbolizer.h"

namespace golens::cli {
namespace {

struct SymbolizeOptions {
  std::string exe;
  int pid = 0;
  bool kernel = false;
  std::vector<std::string> addresses;
};

// Allocator for the big per-batch arrays: fresh memory is a large part of a
// 100k-address run (about 1.6 us per 4 KB page fault here, 16x less per byte
// with 2 MB pages), so large blocks come from 2 MB aligned mappings with
// transparent huge pages requested.
template <typename T>
struct HugeAllocator {
  using value_type = T;
  static constexpr size_t kHuge = 2u << 20;
  static constexpr size_t kMinBytes = 256u << 10;  // smaller: plain malloc
  HugeAllocator() = default;
  template <typename U>
  HugeAllocator(const HugeAllocator<U>&) {}  // NOLINT: rebinding
  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < kMinBytes) {
      void* p = std::malloc(bytes);
      if (p == nullptr) throw std::bad_alloc();
      return static_cast<T*>(p);
    }
    void* p = ::mmap(nullptr, bytes + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    const uintptr_t raw = reinterpret_cast<uintptr_t>(p);
    const uintptr_t aligned = (raw + kHuge - 1) & ~uintptr_t{kHuge - 1};
    if (aligned > raw) ::munmap(p, aligned - raw);
    if (raw + kHuge > aligned) ::munmap(reinterpret_cast<void*>(aligned + bytes), raw + kHuge - aligned);
    ::madvise(reinterpret_cast<void*>(aligned), bytes, MADV_HUGEPAGE);
    return reinterpret_cast<T*>(aligned);
  }
  void deallocate(T* p, size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < kMinBytes)
      std::free(p);
    else
      ::munmap(p, bytes);
  }
  template <typename U>
  bool operator==(const HugeAllocator<U>&) const {
    return true;
  }
};
template <typename T>
using BigVector = std::vector<T, HugeAllocator<T>>;

Result<uint64_t> ParseAddress(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.remove_suffix(1);
  std::string_view digits = text;
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) digits.remove_prefix(2);
  uint64_t value = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, 16);
  if (digits.empty() || ec != std::errc() || p != digits.data() + digits.size())
    return MakeError("invalid address \"" + std::string(text) + "\" (expected hex, e.g. 0x4a1b2c)", ErrorKind::kInvalidArgument);
  return value;
}

// The common line, "0x" and 1-16 hex digits, without the general parser's
// trimming and error text; anything else returns false and goes through
// ParseAddress (same values, same errors).
bool ParsePlainAddress(std::string_view line, uint64_t* out) {
  // Digit values, 0x80 for non-digits: branch-free (random hex digits made
  // a digit/letter branch mispredict constantly).
  static constexpr auto kHex = [] {
    std::array<uint8_t, 256> t{};
    t.fill(0x80);
    for (int c = 0; c < 10; ++c) t['0' + c] = static_cast<uint8_t>(c);
    for (int c = 0; c < 6; ++c) t['a' + c] = t['A' + c] = static_cast<uint8_t>(10 + c);
    return t;
  }();
  if (line.size() < 3 || line.size() > 18 || line[0] != '0' || line[1] != 'x') return false;
  uint64_t v = 0;
  unsigned bad = 0;
  for (size_t i = 2; i < line.size(); ++i) {
    const uint8_t d = kHex[static_cast<unsigned char>(line[i])];
    bad |= d;
    v = v << 4 | (d & 0xf);
  }
  if (bad & 0x80) return false;
  *out = v;
  return true;
}

// All of stdin. A regular file is read with one read(2) into a buffer of its
// size; pipes grow the buffer.
Result<BigVector<char>> ReadStdin() {
  BigVector<char> input;
  struct stat st {};
  size_t cap = 1 << 16;
  if (::fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
    cap = static_cast<size_t>(st.st_size) + 1;  // +1: EOF is seen without a regrow
  size_t len = 0;
  for (;;) {
    if (len == input.size()) input.resize(std::max(cap, input.size() * 2));
    ssize_t n = ::read(STDIN_FILENO, input.data() + len, input.size() - len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("read stdin");
    }
    if (n == 0) break;
    len += static_cast<size_t>(n);
  }
  input.resize(len);
  return input;
}

// Bad input is reported on stderr as it is met and skipped; Run turns the
// count into the exit status at the end.
struct InputErrors {
  size_t count = 0;
  void Report(const std::string& where, const Error& error) {
    std::fprintf(stderr, "golens symbolize: %s: %s\n", where.c_str(), error.message.c_str());
    ++count;
  }
};

BigVector<uint64_t> ParseArguments(const std::vector<std::string>& args, InputErrors* errors) {
  BigVector<uint64_t> out;
  for (size_t i = 0; i < args.size(); ++i) {
    auto v = ParseAddress(args[i]);
    if (v.ok()) out.push_back(*v);
    else errors->Report("argument " + std::to_string(i + 1), v.error());
  }
  return out;
}

// Appends the addresses of the lines in `text` (the last one may lack its
// newline); `*line_number` is the number of the first line and advances.
void ParseLines(std::string_view text, size_t* line_number, BigVector<uint64_t>* out, InputErrors* errors) {
  // One address per line (about 8-10 bytes each): reserve once.
  out->reserve(out->size() + static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1);
  const char* p = text.data();
  const char* const end = p + text.size();
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    if (nl == nullptr) nl = end;
    std::string_view line(p, static_cast<size_t>(nl - p));
    p = nl + 1;
    const size_t number = (*line_number)++;
    if (uint64_t v; ParsePlainAddress(line, &v)) {
      out->push_back(v);
      continue;
    }
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    auto v = ParseAddress(line);
    if (v.ok()) out->push_back(*v);
    else errors->Report("line " + std::to_string(number), v.error());
  }
}

using BatchFn = std::function<Result<void>(const BigVector<uint64_t>&)>;

// Bytes of stdin a streamed batch holds at most.
constexpr size_t kStreamBuffer = 1u << 20;

// Stdin in batches. A regular file: all of it, one batch. A pipe or a
// terminal: each batch is what has arrived (complete lines), answered
// before blocking for more, so an interactive user or a coprocess gets each
// answer as soon as its line is in; a fast producer still yields large
// batches, because whatever is already readable is taken first.
Result<void> ForEachStdinBatch(const BatchFn& batch, InputErrors* errors) {
  struct stat st {};
  size_t line_number = 1;
  BigVector<uint64_t> addresses;
  if (::fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode)) {
    GOLENS_TRY(BigVector<char> input, ReadStdin());
    ParseLines(std::string_view(input.data(), input.size()), &line_number, &addresses, errors);
    return batch(addresses);
  }
  BigVector<char> buf(kStreamBuffer);
  size_t len = 0;
  bool eof = false;
  auto read_some = [&]() -> Result<void> {
    for (;;) {
      ssize_t n = ::read(STDIN_FILENO, buf.data() + len, buf.size() - len);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ErrnoError("read stdin");
      if (n == 0) eof = true;
      len += static_cast<size_t>(n);
      return Ok();
    }
  };
  while (!eof) {
    GOLENS_TRY_VOID(read_some());  // blocks until something (or EOF) arrives
    while (!eof && len < buf.size()) {
      pollfd pfd{STDIN_FILENO, POLLIN, 0};
      if (::poll(&pfd, 1, 0) <= 0 || (pfd.revents & (POLLIN | POLLHUP)) == 0) break;
      GOLENS_TRY_VOID(read_some());
    }
    size_t complete = len;  // bytes of whole lines (all of it at EOF or when one line fills the buffer)
    if (!eof) {
      const void* last_nl = ::memrchr(buf.data(), '\n', len);
      if (last_nl != nullptr) complete = static_cast<size_t>(static_cast<const char*>(last_nl) - buf.data()) + 1;
      else if (len < buf.size()) continue;
    }
    addresses.clear();
    ParseLines(std::string_view(buf.data(), complete), &line_number, &addresses, errors);
    if (!addresses.empty()) GOLENS_TRY_VOID(batch(addresses));
    std::memmove(buf.data(), buf.data() + complete, len - complete);
    len -= complete;
  }
  return Ok();
}

// Append-only byte buffer without std::string's per-append bookkeeping. Its
// memory is an anonymous mapping with transparent huge pages requested: the
// formatted text of a large batch is megabytes, and 4 KB page faults on fresh
// buffers were a visible part of the run time.
class OutBuf {
 public:
  OutBuf() = default;
  OutBuf(const OutBuf&) = delete;
  OutBuf& operator=(const OutBuf&) = delete;
  ~OutBuf() {
    if (data_ != nullptr) ::munmap(data_, cap_);
  }

  char* Reserve(size_t n) {
    if (len_ + n > cap_) Grow(len_ + n);
    return data_ + len_;
  }
  void Put(std::string_view s) {
    std::memcpy(Reserve(s.size()), s.data(), s.size());
    len_ += s.size();
  }
  void Put(char c) {
    *Reserve(1) = c;
    ++len_;
  }
  void Commit(size_t n) { len_ += n; }
  void clear() { len_ = 0; }
  size_t size() const { return len_; }
  const char* data() const { return data_; }

 private:
  void Grow(size_t need) {
    constexpr size_t kHuge = 2u << 20;
    size_t cap = std::max<size_t>(cap_ * 2, 8u << 20);
    while (cap < need) cap *= 2;
    void* p;
    if (data_ == nullptr) {
      // 2 MB aligned, so transparent huge pages can back all of it (a fault
      // per 2 MB instead of per 4 KB).
      p = ::mmap(nullptr, cap + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p != MAP_FAILED) {
        const uintptr_t raw = reinterpret_cast<uintptr_t>(p);
        const uintptr_t aligned = (raw + kHuge - 1) & ~uintptr_t{kHuge - 1};
        if (aligned > raw) ::munmap(p, aligned - raw);
        if (raw + kHuge > aligned) ::munmap(reinterpret_cast<void*>(aligned + cap), raw + kHuge - aligned);
        p = reinterpret_cast<void*>(aligned);
      }
    } else {
      p = ::mremap(data_, cap_, cap, MREMAP_MAYMOVE);
    }
    if (p == MAP_FAILED) throw std::bad_alloc();
    ::madvise(p, cap, MADV_HUGEPAGE);
    data_ = static_cast<char*>(p);
    cap_ = cap;
  }

  char* data_ = nullptr;
  size_t cap_ = 0;
  size_t len_ = 0;
};

void AppendHeader(uint64_t address, OutBuf* out) {
  char* p = out->Reserve(24);
  p[0] = '0';
  p[1] = 'x';
  auto [end, ec] = std::to_chars(p + 2, p + 23, address, 16);
  *end++ = '\n';
  out->Commit(static_cast<size_t>(end - p));
}

template <typename FrameT>
void AppendFrames(std::span<const FrameT> frames, OutBuf* out) {
  if (frames.empty()) {
    out->Put("  ?? ??:0\n");
    return;
  }
  for (const auto& f : frames) {
    // "  FUNCTION FILE:LINE\n" with one bounds check per frame.
    const std::string_view fn = f.function.empty() ? std::string_view("??") : std::string_view(f.function);
    const std::string_view file = f.file.empty() ? std::string_view("??") : std::string_view(f.file);
    char* p = out->Reserve(fn.size() + file.size() + 32);
    char* const start = p;
    *p++ = ' ';
    *p++ = ' ';
    std::memcpy(p, fn.data(), fn.size());
    p += fn.size();
    *p++ = ' ';
    std::memcpy(p, file.data(), file.size());
    p += file.size();
    *p++ = ':';
    p = std::to_chars(p, p + 24, f.file.empty() ? int64_t{0} : static_cast<int64_t>(f.line)).ptr;
    *p++ = '\n';
    out->Commit(static_cast<size_t>(p - start));
  }
}

// Writes all of data to stdout (short writes and EINTR handled).
Result<void> WriteAll(const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(STDOUT_FILENO, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("write stdout");
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return Ok();
}

// Bytes per write(2) of the --exe output.
constexpr size_t kWriteChunk = 1u << 20;

// Where one address's text sits: in which worker's buffer, at what offset.
struct TextSpan {
  uint64_t offset = 0;
  uint32_t length = 0;
  uint32_t worker = 0;
};

// --exe: the batch is sorted once and cut into one contiguous address range
// per worker, so each worker walks its own functions in order and shares
// nothing. Workers pass sorted addresses to SymbolizeVisit, so visits come
// in array order and every array here is read sequentially (random accesses
// into 100k-entry arrays were a third of the run time). Each worker formats
// into its own buffer; the texts are then gathered in input order and
// written with one write(2).
Result<void> SymbolizeExe(const symbolizer::Binary& binary, const BigVector<uint64_t>& addresses) {
  const size_t n = addresses.size();
  std::vector<std::pair<uint64_t, uint32_t>> order(n);  // (vaddr, input index)
  for (uint32_t i = 0; i < n; ++i) order[i] = {addresses[i], i};
  symbolizer::SortByAddress(&order);
  std::vector<uint64_t> sorted(n);
  for (size_t k = 0; k < n; ++k) sorted[k] = order[k].first;

  // Two workers only pay off for large batches (thread start).
  const size_t workers = n >= 8192 ? std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 2) : 1;
  std::vector<OutBuf> texts(workers);
  BigVector<TextSpan> spans(n);  // by input index
  auto work = [&](uint32_t w) {
    const size_t begin = n * w / workers, end = n * (w + 1) / workers;
    std::span<const uint64_t> part(sorted.data() + begin, end - begin);
    OutBuf& text = texts[w];
    TextSpan prev;
    binary.SymbolizeVisit(part, [&](size_t i, std::span<const symbolizer::FrameView> frames, std::string_view) {
      TextSpan& span = spans[order[begin + i].second];
      if (i > 0 && part[i - 1] == part[i]) {  // duplicates: same text
        span = prev;
        return;
      }
      const size_t start = text.size();
      AppendHeader(part[i], &text);
      AppendFrames(frames, &text);
      span = prev = TextSpan{start, static_cast<uint32_t>(text.size() - start), w};
    });
  };
  if (workers == 2) {
    std::thread helper(work, 1);
    work(0);
    helper.join();
  } else {
    work(0);
  }
  // Gathered in input order into 1 MB pieces that stay in cache (no fresh
  // pages for a second copy of the output; writev(2) of the scattered texts
  // was slower into files). Two pieces alternate: a writer thread writes one
  // while the next is gathered.
  OutBuf pieces[2];
  std::mutex mu;
  std::condition_variable cv;
  int ready = -1;         // piece waiting to be written, -1 = none
  bool finished = false;  // no more pieces
  Result<void> written = Ok();
  auto writer = [&] {
    for (;;) {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return ready >= 0 || finished; });
      if (ready < 0) return;
      OutBuf& piece = pieces[ready];
      lock.unlock();
      if (written.ok()) written = WriteAll(piece.data(), piece.size());
      lock.lock();
      ready = -1;
      cv.notify_all();
    }
  };
  auto hand_over = [&](int k) {  // waits until the writer is idle, then queues piece k
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return ready < 0; });
    ready = k;
    cv.notify_all();
  };
  std::thread writer_thread;
  const bool threaded = workers > 1;
  if (threaded) writer_thread = std::thread(writer);
  int k = 0;
  for (const auto& s : spans) {
    if (pieces[k].size() + s.length > kWriteChunk && pieces[k].size() > 0) {
      if (threaded) {
        hand_over(k);  // returns once the other piece is written
        k ^= 1;
      } else {
        GOLENS_TRY_VOID(WriteAll(pieces[k].data(), pieces[k].size()));
      }
      pieces[k].clear();
    }
    pieces[k].Put(std::string_view(texts[s.worker].data() + s.offset, s.length));
  }
  if (!threaded) return WriteAll(pieces[k].data(), pieces[k].size());
  hand_over(k);
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return ready < 0; });
    finished = true;
    cv.notify_all();
  }
  writer_thread.join();
  return written;
}

// Output for addresses symbolized one by one (--pid, --kernel).
Result<void> WriteResults(const BigVector<uint64_t>& addresses,
                          const std::vector<symbolizer::SymbolizedAddress>& results) {
  OutBuf out;
  for (size_t i = 0; i < addresses.size(); ++i) {
    AppendHeader(addresses[i], &out);
    AppendFrames(std::span<const symbolizer::Frame>(results[i].frames), &out);
  }
  return WriteAll(out.data(), out.size());
}

Result<void> Run(const SymbolizeOptions& opts) {
  const int sources = (!opts.exe.empty()) + (opts.pid != 0) + opts.kernel;
  if (sources != 1) return MakeError("give exactly one of --exe BINARY, --pid PID or --kernel", ErrorKind::kInvalidArgument);
  BatchFn batch;
  // Per source state, opened once for all batches.
  std::optional<Result<std::shared_ptr<const symbolizer::Binary>>> opened;
  std::thread opener;
  std::shared_ptr<const symbolizer::Binary> binary;
  symbolizer::BinaryCache cache;
  std::unique_ptr<symbolizer::ProcessSymbolizer> process;
  std::optional<symbolizer::Kallsyms> kallsyms;
  if (!opts.exe.empty()) {
    // The binary is opened (mmap, ELF, pclntab) on a helper thread while
    // the first input is read and parsed.
    try {
      opener = std::thread([&] { opened.emplace(symbolizer::Binary::Open(opts.exe)); });
    } catch (const std::system_error&) {
      opened.emplace(symbolizer::Binary::Open(opts.exe));  // no thread: open here
    }
    batch = [&](const BigVector<uint64_t>& addresses) -> Result<void> {
      if (binary == nullptr) {
        if (opener.joinable()) opener.join();
        if (!opened->ok()) return opened->error();
        binary = opened->value();
        if (!binary->has_symbols()) {
          // Otherwise every answer is "?? ??:0" with no word why.
          std::fprintf(stderr,
                       "golens symbolize: warning: no Go pclntab or symbol table found in %s (truncated, or "
                       "a stripped non-Go binary?); addresses will be unknown\n",
                       opts.exe.c_str());
        }
      }
      if (addresses.size() > UINT32_MAX) {
        return MakeError("too many addresses (at most 2^32-1 per run)", ErrorKind::kInvalidArgument);
      }
      return SymbolizeExe(*binary, addresses);
    };
  } else if (opts.pid != 0) {
    GOLENS_TRY(process, symbolizer::ProcessSymbolizer::Create(opts.pid, &cache));
    batch = [&](const BigVector<uint64_t>& addresses) -> Result<void> {
      return WriteResults(addresses, process->Symbolize(std::span<const uint64_t>(addresses.data(), addresses.size())));
    };
  } else {
    GOLENS_TRY(symbolizer::Kallsyms loaded, symbolizer::Kallsyms::Load());
    kallsyms.emplace(std::move(loaded));
    batch = [&](const BigVector<uint64_t>& addresses) -> Result<void> {
      std::vector<symbolizer::SymbolizedAddress> results;
      results.reserve(addresses.size());
      for (uint64_t a : addresses) results.push_back(kallsyms->Symbolize(a));
      return WriteResults(addresses, results);
    };
  }
  InputErrors errors;
  Result<void> done = Ok();
  if (!opts.addresses.empty()) {
    BigVector<uint64_t> addresses = ParseArguments(opts.addresses, &errors);
    done = batch(addresses);
  } else {
    done = ForEachStdinBatch(batch, &errors);
  }
  if (opener.joinable()) opener.join();
  if (!done.ok()) return done.error();
  if (!opts.exe.empty() && binary == nullptr && !opened->ok()) return opened->error();  // no input at all
  if (errors.count > 0) {
    return MakeError(std::to_string(errors.count) + " invalid address" + (errors.count == 1 ? "" : "es") +
                         " skipped (see above)",
                     ErrorKind::kInvalidArgument);
  }
  return Ok();
}

}  // namespace

void RegisterSymbolizeCommand(CLI::App& app, int* exit_code) {
  auto opts = std::make_shared<SymbolizeOptions>();
  CLI::App* cmd = app.add_subcommand("symbolize", "Resolve addresses to Go/native/kernel frames (inline chains)");
  cmd->add_option("--exe", opts->exe, "ELF binary; addresses are ELF virtual addresses");
  cmd->add_option("--pid", opts->pid, "Process id; addresses are runtime addresses in it");
  cmd->add_flag("--kernel", opts->kernel, "Kernel addresses, resolved through /proc/kallsyms");
  cmd->add_option("addresses", opts->addresses, "Hex addresses (default: one per line on stdin)");
  cmd->callback([opts, exit_code] {
    auto r = Run(*opts);
    if (!r.ok()) {
      std::fprintf(stderr, "golens symbolize: %s\n", r.error().message.c_str());
      *exit_code = ExitCodeFor(r.error());
    }
  });
}

}  // namespace golens::cli
