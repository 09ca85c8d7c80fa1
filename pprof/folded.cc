// Folded stacks ("root;child;leaf 42"), flamegraph.pl's format, both ways.
// Annotations: a "_[k]" suffix marks a kernel frame, "_[i]" a frame inlined
// into the one before it; both round-trip through the model (kernel frames
// get a "[kernel]" mapping, inlined frames become extra Lines of a Location).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <deque>
#include <string_view>
#include <unordered_map>

#include "pprof/builder.h"
#include "pprof/folded.h"
#include "pprof/profile_io.h"
#include "pprof/stack_frames.h"
#include "profiler/base/log.h"

namespace golens::pprof {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// Counts are user input: sums saturate instead of wrapping (UB) to negative.
int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t out;
  if (__builtin_add_overflow(a, b, &out)) return b > 0 ? INT64_MAX : INT64_MIN;
  return out;
}

// Parses the trailing count: digits with an optional fraction (flamegraph.pl
// grammar `\d+(\.\d*)?`). Returns false when the line has none.
bool SplitCount(std::string_view line, std::string_view* stack, int64_t* count, bool* fractional) {
  size_t end = line.size();
  while (end > 0 && IsSpace(line[end - 1])) --end;
  size_t start = end;
  while (start > 0 && !IsSpace(line[start - 1])) --start;
  if (start == 0 || start == end) return false;
  std::string_view number = line.substr(start, end - start);
  size_t dot = number.find('.');
  std::string_view whole = number.substr(0, dot);
  if (whole.empty()) return false;
  uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), value);
  if (ec != std::errc() || ptr != whole.data() + whole.size()) return false;
  if (value > static_cast<uint64_t>(INT64_MAX)) return false;
  if (dot != std::string_view::npos) {
    std::string_view fraction = number.substr(dot + 1);
    for (char c : fraction) {
      if (c < '0' || c > '9') return false;
    }
    if (!fraction.empty() && fraction[0] >= '5' && value < static_cast<uint64_t>(INT64_MAX)) ++value;
    *fractional = fraction.find_first_not_of('0') != std::string_view::npos;
  }
  size_t stack_end = start;
  while (stack_end > 0 && IsSpace(line[stack_end - 1])) --stack_end;
  *stack = line.substr(0, stack_end);
  *count = static_cast<int64_t>(value);
  return !stack->empty();
}

bool StripSuffix(std::string_view* name, std::string_view suffix) {
  if (name->size() > suffix.size() && name->ends_with(suffix)) {
    name->remove_suffix(suffix.size());
    return true;
  }
  return false;
}

class FoldedParser {
 public:
  FoldedParser() : builder_({ValueType{"samples", "count"}}) {
    // pprof prints "Main binary filename not available." without a mapping;
    // a main mapping with has_functions keeps it quiet (as Go's runtime does).
    Mapping main;
    main.has_functions = true;
    main_mapping_ = builder_.AddMapping(main);
  }

  void AddLine(std::string_view stack, int64_t count) {
    locations_.clear();
    SplitFoldedStack(stack, &frames_);
    std::vector<Line> pending;  // physical frame + its inlined callees, outer first
    bool pending_kernel = false;
    auto flush = [&] {
      if (pending.empty()) return;
      std::reverse(pending.begin(), pending.end());  // lines[0] = innermost
      uint64_t mapping = pending_kernel ? KernelMapping() : main_mapping_;
      locations_.push_back(builder_.AddLocation(mapping, 0, std::move(pending)));
      pending.clear();
    };
    for (size_t i = 0; i < frames_.size(); ++i) {
      const FoldedFrame& frame = frames_[i];
      if (frame.inlined && !pending.empty()) {
        std::string owned(frame.name);
        pending.push_back(Line{builder_.AddFunction(owned, owned, "", 0), 0, 0});
        continue;
      }
      flush();
      bool next_inlined = i + 1 < frames_.size() && frames_[i + 1].inlined;
      if (!frame.kernel && !next_inlined) {
        // Fast path: a plain frame with nothing inlined into it is one location.
        auto it = simple_.find(frame.name);
        if (it == simple_.end()) {
          std::string owned(frame.name);
          std::vector<Line> lines{Line{builder_.AddFunction(owned, owned, "", 0), 0, 0}};
          it = simple_.emplace(frame.name, builder_.AddLocation(main_mapping_, 0, std::move(lines))).first;
        }
        locations_.push_back(it->second);
        continue;
      }
      pending_kernel = frame.kernel;
      std::string owned(frame.name);
      pending.push_back(Line{builder_.AddFunction(owned, owned, "", 0), 0, 0});
    }
    flush();
    if (locations_.empty()) return;
    std::reverse(locations_.begin(), locations_.end());  // leaf first
    int64_t value = count;
    builder_.AddSample(locations_, std::span<const int64_t>(&value, 1));
  }

  Profile Build() { return builder_.Build(); }

 private:
  uint64_t KernelMapping() {
    if (kernel_mapping_ == 0) {
      Mapping kernel;
      kernel.filename = kKernelMappingName;
      kernel.has_functions = true;
      kernel_mapping_ = builder_.AddMapping(kernel);
    }
    return kernel_mapping_;
  }

  ProfileBuilder builder_;
  uint64_t main_mapping_ = 0;
  uint64_t kernel_mapping_ = 0;
  std::unordered_map<std::string_view, uint64_t> simple_;  // views into the input text
  std::vector<uint64_t> locations_;
  std::vector<FoldedFrame> frames_;
};

}  // namespace

Result<void> ScanFolded(std::string_view text,
                        const std::function<void(std::string_view stack, int64_t count)>& fn) {
  size_t valid = 0, invalid = 0, line_number = 0, first_bad = 0;
  size_t fractional_lines = 0, rounded_to_zero = 0, no_frame_lines = 0;
  int64_t no_frame_total = 0, total = 0;
  bool overflow = false;
  std::string_view first_bad_text;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_number;
    size_t first = 0;
    while (first < line.size() && IsSpace(line[first])) ++first;
    if (first == line.size() || line[first] == '#') continue;  // blank or comment
    std::string_view stack;
    int64_t count = 0;
    bool fractional = false;
    if (!SplitCount(line, &stack, &count, &fractional)) {
      if (invalid++ == 0) {
        first_bad = line_number;
        first_bad_text = line.substr(0, 80);
      }
      continue;
    }
    ++valid;
    if (fractional) {
      ++fractional_lines;
      if (count == 0) ++rounded_to_zero;
    }
    if (stack.find_first_not_of("; \t") == std::string_view::npos) {
      // ";;; 5": no frame at all. Counted, not drawn as an empty stack.
      ++no_frame_lines;
      no_frame_total = SaturatingAdd(no_frame_total, count);
      continue;
    }
    if (count > 0) {
      if (__builtin_add_overflow(total, count, &total)) {
        total = INT64_MAX;
        overflow = true;
      }
      fn(stack, count);
    }
  }
  if (valid == 0) {
    if (invalid == 0) return MakeError("empty folded stack file (no stack lines)");
    return MakeError("not a folded stack file: line " + std::to_string(first_bad) + " '" +
                     std::string(first_bad_text) + "' is not 'frame;frame;... COUNT'");
  }
  // Nothing vanishes without a word; the same warnings for flame, fold and
  // diff, which all read folded text through here.
  if (invalid > 0) {
    GOLENS_LOG(kWarn) << "folded stacks: ignored " << invalid
                      << " lines with invalid format (first: line " << first_bad << ")";
  }
  if (no_frame_lines > 0) {
    GOLENS_LOG(kWarn) << "folded stacks: ignored " << no_frame_lines << " lines without any frame (count "
                      << no_frame_total << ")";
  }
  if (fractional_lines > 0) {
    GOLENS_LOG(kWarn) << "folded stacks: " << fractional_lines
                      << " lines have fractional counts, rounded to whole numbers"
                      << (rounded_to_zero > 0 ? " (" + std::to_string(rounded_to_zero) + " rounded to 0 and dropped)"
                                              : std::string());
  }
  if (overflow) {
    GOLENS_LOG(kWarn) << "folded stacks: counts add up to more than 2^63-1; totals are capped at 2^63-1";
  }
  return Ok();
}

void SplitFoldedStack(std::string_view stack, std::vector<FoldedFrame>* frames) {
  frames->clear();
  size_t pos = 0;
  while (pos <= stack.size()) {
    size_t semi = stack.find(';', pos);
    if (semi == std::string_view::npos) semi = stack.size();
    FoldedFrame frame;
    frame.name = stack.substr(pos, semi - pos);
    pos = semi + 1;
    if (frame.name.empty()) continue;
    frame.kernel = StripSuffix(&frame.name, kKernelSuffix);
    frame.inlined = !frame.kernel && StripSuffix(&frame.name, kInlineSuffix) && !frames->empty();
    frames->push_back(frame);
  }
}

Result<Profile> ParseFolded(std::string_view text) {
  FoldedParser parser;
  GOLENS_TRY_VOID(ScanFolded(text, [&](std::string_view stack, int64_t count) { parser.AddLine(stack, count); }));
  return parser.Build();
}

std::string ToFolded(const Profile& profile, int sample_index) {
  if (sample_index < 0) sample_index = DefaultSampleTypeIndex(profile);
  if (sample_index < 0 || static_cast<size_t>(sample_index) >= profile.sample_types.size()) {
    return {};
  }
  ProfileIndex index(profile);
  // Each location's folded fragment, computed once.
  std::unordered_map<uint64_t, std::string> fragments;
  auto fragment = [&](uint64_t id) -> const std::string& {
    auto [it, inserted] = fragments.try_emplace(id);
    if (inserted) {
      const Location* location = index.location(id);
      if (location == nullptr) {
        it->second = "[unknown location " + std::to_string(id) + "]";
      } else {
        for (const StackFrame& frame : LocationFrames(*location, index)) {
          if (!it->second.empty()) it->second += ';';
          it->second += frame.name;
          if (frame.kernel) it->second += kKernelSuffix;
          else if (frame.inlined) it->second += kInlineSuffix;
        }
      }
    }
    return it->second;
  };
  std::unordered_map<std::string, int64_t> stacks;
  std::string key;
  NegativeValues negative;
  bool saturated = false;
  for (const Sample& sample : profile.samples) {
    if (static_cast<size_t>(sample_index) >= sample.values.size()) continue;
    int64_t value = sample.values[sample_index];
    if (value == 0) continue;
    if (value < 0) {
      negative.Add(value);
      continue;
    }
    key.clear();
    for (size_t i = sample.location_ids.size(); i-- > 0;) {
      if (!key.empty()) key += ';';
      key += fragment(sample.location_ids[i]);
    }
    if (key.empty()) key = kNoStackFrame;  // as flame graphs draw it
    int64_t& sum = stacks[key];
    int64_t next = SaturatingAdd(sum, value);
    saturated |= next == INT64_MAX && sum != INT64_MAX - value;
    sum = next;
  }
  negative.Warn();
  if (saturated) {
    GOLENS_LOG(kWarn) << "profile: a stack's values add up to more than 2^63-1; capped at 2^63-1";
  }
  std::vector<std::pair<std::string_view, int64_t>> lines;
  lines.reserve(stacks.size());
  for (const auto& [stack, value] : stacks) lines.emplace_back(stack, value);
  return FormatFolded(&lines);
}

void NegativeValues::Add(int64_t value) {
  ++samples;
  total = SaturatingAdd(total, value);
}

void NegativeValues::Warn() const {
  if (samples == 0) return;
  GOLENS_LOG(kWarn) << "profile: ignored " << samples << " samples with negative values (total " << total
                    << "); only a diff profile (pprof::base labels) may have them";
}

std::string FormatFolded(std::vector<std::pair<std::string_view, int64_t>>* lines) {
  std::sort(lines->begin(), lines->end());
  std::string out;
  size_t bytes = 0;
  for (const auto& [stack, value] : *lines) bytes += stack.size() + 22;
  out.reserve(bytes);
  char number[24];
  for (const auto& [stack, value] : *lines) {
    out += stack;
    out += ' ';
    out.append(number, static_cast<size_t>(std::to_chars(number, number + sizeof number, value).ptr - number));
    out += '\n';
  }
  return out;
}

namespace {

// True when `stack` is already what ToFolded would print for it: no empty
// frames, no annotations, no tabs or CRs. Such lines (nearly all of them)
// are keyed by a view into the input, without splitting.
bool IsNormalFoldedStack(std::string_view stack) {
  if (stack.empty() || stack.front() == ';' || stack.back() == ';') return false;
  if (stack.find_first_of("\t\r") != std::string_view::npos) return false;
  if (stack.find(";;") != std::string_view::npos) return false;
  return stack.find("_[") == std::string_view::npos;
}

}  // namespace

// Folded -> folded without the model: stacks aggregated by their normalized
// text, which is what ToFolded(ParseFolded(text)) prints (a test checks it),
// handed to `sink` in pieces of about 1 MiB (no second copy of the output).
Result<void> RefoldFolded(std::string_view text, const std::function<Result<void>(std::string_view)>& sink) {
  std::unordered_map<std::string_view, int64_t> stacks;
  stacks.reserve(static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1);
  std::deque<std::string> owned;  // normalized keys that differ from the input
  std::vector<FoldedFrame> frames;
  std::string key;
  bool saturated = false;
  GOLENS_TRY_VOID(ScanFolded(text, [&](std::string_view stack, int64_t count) {
    std::string_view view = stack;
    if (!IsNormalFoldedStack(stack)) {
      SplitFoldedStack(stack, &frames);
      if (frames.empty()) return;
      key.clear();
      bool physical_kernel = false;
      for (const FoldedFrame& frame : frames) {
        // As the model: an inlined frame shares its physical frame's kernel-ness.
        bool kernel = frame.inlined ? physical_kernel : frame.kernel;
        if (!frame.inlined) physical_kernel = frame.kernel;
        if (!key.empty()) key += ';';
        size_t at = key.size();
        key += frame.name;
        for (size_t i = at; i < key.size(); ++i) {
          if (key[i] == '\t' || key[i] == '\r') key[i] = ' ';  // as FoldSafe
        }
        if (kernel) key += kKernelSuffix;
        else if (frame.inlined) key += kInlineSuffix;
      }
      if (view != key) view = owned.emplace_back(key);
    }
    int64_t& sum = stacks[view];
    int64_t next = SaturatingAdd(sum, count);
    saturated |= next == INT64_MAX && sum != INT64_MAX - count;
    sum = next;
  }));
  if (saturated) {
    GOLENS_LOG(kWarn) << "folded stacks: a stack's counts add up to more than 2^63-1; capped at 2^63-1";
  }
  std::vector<std::pair<std::string_view, int64_t>> lines(stacks.begin(), stacks.end());
  stacks = {};
  std::sort(lines.begin(), lines.end());
  std::string piece;
  constexpr size_t kPiece = 1u << 20;
  piece.reserve(kPiece + 4096);
  char number[24];
  for (const auto& [stack, value] : lines) {
    piece += stack;
    piece += ' ';
    piece.append(number, static_cast<size_t>(std::to_chars(number, number + sizeof number, value).ptr - number));
    piece += '\n';
    if (piece.size() >= kPiece) {
      GOLENS_TRY_VOID(sink(piece));
      piece.clear();
    }
  }
  if (!piece.empty()) GOLENS_TRY_VOID(sink(piece));
  return Ok();
}

}  // namespace golens::pprof
