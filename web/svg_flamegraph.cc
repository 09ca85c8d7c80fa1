// The SVG writer: flamegraph.pl's document structure (<g id="frames"> of
// <g><title/><rect/><text/></g>), our own JS/CSS embedded from
// web/flamegraph.{js,css}. Sizes: text is written only where a label fits,
// coordinates with two decimals, rounded corners from CSS: about 150 bytes
// per frame.
#include <algorithm>
#include <cmath>

#include <unordered_map>

#include "pprof/diff.h"
#include "pprof/folded.h"
#include "pprof/profile_io.h"
#include "pprof/stack_frames.h"
#include "pprof/sample_filter.h"
#include "web/flame_layout.h"
#include "web/flame_tree.h"
#include "web/flamegraph.h"
#include "web/palette.h"
#include "web/svg_text.h"
#include "web/web_assets.h"

namespace golens::web {
namespace {

constexpr int kFontSize = 12;
constexpr double kFontWidth = 0.59;  // average glyph width / font size (flamegraph.pl's)
constexpr int kFrameHeight = 16;
constexpr int kYPad1 = 72;           // title, subtitle, legend
constexpr int kYPad2 = 34;           // details and "Matched" line
constexpr double kTextY = 11.5;      // label baseline inside a frame
constexpr char kSearchColor[] = "rgb(230,0,230)";

// How values of the chosen sample type read in tooltips.
class ValueFormat {
 public:
  explicit ValueFormat(const pprof::ValueType& type) : type_(type) {}
  void Append(std::string* out, double value) const {
    const std::string& unit = type_.unit;
    if (unit == "nanoseconds" || unit == "microseconds" || unit == "milliseconds" || unit == "seconds") {
      double ns = value * (unit == "nanoseconds" ? 1 : unit == "microseconds" ? 1e3 : unit == "milliseconds" ? 1e6 : 1e9);
      AppendScaled(out, ns, {{1e9, " s"}, {1e6, " ms"}, {1e3, " µs"}, {1, " ns"}});
    } else if (unit == "bytes") {
      AppendScaled(out, value, {{1 << 30, " GiB"}, {1 << 20, " MiB"}, {1 << 10, " KiB"}, {1, " B"}});
    } else {
      AppendThousands(out, RoundClamped(value));
      *out += ' ';
      *out += (unit == "count" || unit.empty()) ? (type_.type.empty() ? "samples" : type_.type) : unit;
    }
  }
  std::string Describe() const { return type_.type + (type_.unit.empty() ? "" : " (" + type_.unit + ")"); }

 private:
  struct Scale {
    double factor;
    const char* suffix;
  };
  // llround is undefined past the int64 range, and a saturated total
  // (2^63-1) becomes exactly 2^63 as a double.
  static int64_t RoundClamped(double v) {
    if (v >= 9223372036854775807.0) return INT64_MAX;
    if (v <= -9223372036854775807.0) return INT64_MIN;
    return std::llround(v);
  }
  static void AppendScaled(std::string* out, double v, std::initializer_list<Scale> scales) {
    double a = std::fabs(v);
    for (const Scale& s : scales) {
      if (a >= s.factor || s.factor == 1) {
        if (s.factor == 1) AppendThousands(out, RoundClamped(v));
        else AppendFixed(out, v / s.factor, 2);
        *out += s.suffix;
        return;
      }
    }
  }
  pprof::ValueType type_;
};

struct DiffData {
  double base_scale = 1;   // BASE values are multiplied by this before comparing
  double max_delta = 0;
  bool normalized = false;
};

struct Frame {        // per distinct frame, computed once
  std::string name;   // escaped
  std::string label_source;  // raw name for label truncation
  std::string fill;
  const char* css;
  bool inlined;
  std::string extra;  // escaped; appended to the tooltip ("" = none)
};

class SvgWriter {
 public:
  SvgWriter(const FlameOptions& options, Palette palette, ValueFormat format)
      : options_(options), palette_(palette), format_(format) {}

  std::string Render(const FlameTree& tree, const FlameLayout& layout, const DiffData* diff,
                     const std::string& stats) {
    int height = (layout.max_depth + 1) * kFrameHeight + kYPad1 + kYPad2;
    std::string out;
    out.reserve(4096 + layout.boxes.size() * 170);
    Header(&out, height, diff != nullptr, stats);
    std::vector<Frame> frames = PrepareFrames(tree);
    out += "<g id=\"frames\">\n";
    const auto& nodes = tree.nodes();
    double root_total = static_cast<double>(nodes[0].total[0]);
    for (const FrameBox& box : layout.boxes) {
      const FlameNode& node = nodes[box.node];
      const Frame& frame = frames[node.frame];
      bool gone = diff != nullptr && node.total[0] == 0;
      out += "<g class=\"";
      out += frame.css;
      if (frame.inlined) out += " inl";
      if (gone) out += " gone";
      out += "\"><title>";
      out += frame.name;
      if (frame.inlined) out += " [inlined]";
      if (gone) out += " [gone]";
      out += " (";
      double value = static_cast<double>(node.total[0]);
      format_.Append(&out, value);
      out += ", ";
      AppendFixed(&out, root_total > 0 ? 100.0 * value / root_total : 0, 2);
      out += '%';
      std::string fill_storage;
      const std::string* fill = &frame.fill;
      if (diff != nullptr) {
        double base = static_cast<double>(node.total[1]) * diff->base_scale;
        double delta = value - base;
        out += "; base ";
        format_.Append(&out, base);
        out += "; ";
        if (delta > 0) out += '+';
        format_.Append(&out, delta);
        out += ", ";
        if (delta > 0) out += '+';
        AppendFixed(&out, root_total > 0 ? 100.0 * delta / root_total : 0, 2);
        out += '%';
        Rgb c = DiffColor(delta, diff->max_delta);
        fill_storage = RgbString(c);
        fill = &fill_storage;
      }
      if (!frame.extra.empty()) {
        out += "; ";
        out += frame.extra;
      }
      out += ")</title><rect x=\"";
      AppendFixed(&out, box.x, 2);
      out += "\" y=\"";
      double y = Y(box.depth, height);
      AppendFixed(&out, y, 0);
      out += "\" width=\"";
      AppendFixed(&out, box.width, 2);
      out += "\" height=\"";
      out += std::to_string(kFrameHeight - 1);
      out += "\" fill=\"";
      out += *fill;
      out += "\"/>";
      AppendLabel(&out, frame, box, y);
      out += "</g>\n";
    }
    out += "</g>\n";
    // Tooltip last, so it draws above the frames.
    out += "<g id=\"tip\" class=\"hide\"><rect x=\"0\" y=\"0\" width=\"10\" height=\"20\" rx=\"3\" ry=\"3\"/>"
           "<text x=\"6\" y=\"14\"> </text></g>\n</svg>\n";
    return out;
  }

  std::string NoSamples(const std::string& reason) {
    int height = 160;
    std::string out;
    Header(&out, height, false, reason);
    out += "<text id=\"nosamples\" x=\"";
    out += std::to_string(options_.width / 2);
    out += "\" y=\"110\" style=\"text-anchor:middle;font-size:20px\">no samples</text>\n"
           "<g id=\"frames\"></g>\n"
           "<g id=\"tip\" class=\"hide\"><rect x=\"0\" y=\"0\" width=\"10\" height=\"20\"/><text x=\"6\" y=\"14\"> </text></g>\n"
           "</svg>\n";
    return out;
  }

 private:
  static std::string RgbString(Rgb c) {
    return "rgb(" + std::to_string(c.r) + "," + std::to_string(c.g) + "," + std::to_string(c.b) + ")";
  }

  double Y(int depth, int height) const {
    return options_.inverted ? kYPad1 + depth * kFrameHeight
                             : height - kYPad2 - (depth + 1) * kFrameHeight;
  }

  std::vector<Frame> PrepareFrames(const FlameTree& tree) const {
    std::vector<Frame> frames;
    frames.reserve(tree.frames().size());
    for (const FlameFrame& f : tree.frames()) {
      double intensity = -1;
      if (f.kind == FrameKind::kMapLookup) {
        auto it = options_.map_intensity.find(f.name);
        if (it != options_.map_intensity.end()) intensity = it->second;
      }
      std::string extra;
      if (f.kind == FrameKind::kMapLookup) {
        auto it = options_.map_tooltip.find(f.name);
        if (it != options_.map_tooltip.end()) extra = XmlEscaped(it->second);
      }
      frames.push_back(Frame{XmlEscaped(f.name), f.name, RgbString(FrameColor(f, palette_, intensity)),
                             FrameKindClass(f.kind), f.inlined, std::move(extra)});
    }
    return frames;
  }

  void AppendLabel(std::string* out, const Frame& frame, const FrameBox& box, double y) const {
    double chars_fit = std::floor((box.width - 3) / (kFontSize * kFontWidth));
    if (chars_fit < 3) return;
    size_t chars = static_cast<size_t>(chars_fit);
    *out += "<text x=\"";
    AppendFixed(out, box.x + 3, 2);
    *out += "\" y=\"";
    AppendFixed(out, y + kTextY, 1);
    *out += "\">";
    if (Utf8Length(frame.label_source) <= chars) {
      *out += frame.name;
    } else {
      AppendXmlEscaped(out, Utf8Prefix(frame.label_source, chars - 2));
      *out += "..";
    }
    *out += "</text>";
  }

  void Header(std::string* out, int height, bool diff, const std::string& stats) const {
    const int w = options_.width;
    *out += "<?xml version=\"1.0\" standalone=\"no\"?>\n"
            "<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd\">\n"
            "<svg version=\"1.1\" width=\"";
    *out += std::to_string(w) + "\" height=\"" + std::to_string(height) +
            "\" onload=\"init(evt)\" viewBox=\"0 0 " + std::to_string(w) + " " + std::to_string(height) +
            "\" xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n"
            "<!-- golens flame graph. Interactive: hover, click to zoom, Ctrl-F to search. -->\n"
            "<defs><linearGradient id=\"background\" y1=\"0\" y2=\"1\" x1=\"0\" x2=\"0\">"
            "<stop stop-color=\"#eeeeee\" offset=\"5%\"/><stop stop-color=\"";
    *out += diff ? "#eeeeee" : "#eeeeb0";
    *out += "\" offset=\"95%\"/></linearGradient></defs>\n<style type=\"text/css\">\n";
    *out += assets::kFlameGraphCss;
    *out += "</style>\n<script type=\"text/ecmascript\"><![CDATA[\nvar fg = {width: " + std::to_string(w) +
            ", height: " + std::to_string(height) + ", xpad: " + std::to_string(static_cast<int>(kXPad)) +
            ", fh: " + std::to_string(kFrameHeight) + ", ypad1: " + std::to_string(kYPad1) +
            ", ypad2: " + std::to_string(kYPad2) + ", texty: " + std::to_string(kTextY) +
            ", fontsize: " + std::to_string(kFontSize) + ", fontwidth: " + std::to_string(kFontWidth) +
            ", inverted: " + (options_.inverted ? "true" : "false") + ", searchcolor: \"" + kSearchColor +
            "\", nametype: \"Function:\"};\n";
    *out += assets::kFlameGraphJs;
    *out += "]]></script>\n<rect x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" fill=\"url(#background)\"/>\n";
    *out += "<text id=\"title\" x=\"" + std::to_string(w / 2) + "\" y=\"24\">";
    AppendXmlEscaped(out, options_.title);
    *out += "</text>\n<text id=\"subtitle\" x=\"" + std::to_string(w / 2) + "\" y=\"44\">";
    std::string subtitle = options_.subtitle.empty() ? stats : options_.subtitle + " · " + stats;
    AppendXmlEscaped(out, subtitle);
    *out += "</text>\n<g id=\"legend\">";
    Legend(out, diff);
    *out += "</g>\n<text id=\"details\" x=\"10\" y=\"" + std::to_string(height - 12) + "\"> </text>\n";
    *out += "<text id=\"unzoom\" class=\"hide\" x=\"10\" y=\"24\">Reset Zoom</text>\n";
    *out += "<text id=\"search\" x=\"" + std::to_string(w - 110) + "\" y=\"24\">Search</text>\n";
    *out += "<text id=\"ignorecase\" x=\"" + std::to_string(w - 26) + "\" y=\"24\">ic</text>\n";
    *out += "<text id=\"matched\" x=\"" + std::to_string(w - 10) + "\" y=\"" + std::to_string(height - 12) +
            "\"> </text>\n";
  }

  void Legend(std::string* out, bool diff) const {
    int x = 10;
    auto entry = [&](const std::string& fill, const char* text, const char* extra_style) {
      *out += "<rect x=\"" + std::to_string(x) + "\" y=\"53\" width=\"10\" height=\"10\" fill=\"" + fill + "\"" +
              extra_style + "/><text x=\"" + std::to_string(x + 14) + "\" y=\"62\">" + text + "</text>";
      x += 24 + static_cast<int>(std::char_traits<char>::length(text) * 6.6);
    };
    if (diff) {
      entry(RgbString(DiffColor(1, 1)), "grew (NEW - BASE, inclusive)", "");
      entry(RgbString(DiffColor(-1, 1)), "shrank", "");
      entry(RgbString(DiffColor(0, 1)), "unchanged", " stroke=\"#999\" stroke-width=\"0.5\"");
      entry(RgbString(DiffColor(-1, 1)), "vanished from NEW (dashed)", " stroke=\"#00a\" stroke-dasharray=\"1 1\"");
      return;
    }
    if (palette_ != Palette::kGo) return;
    for (const LegendEntry& e : GoLegend()) entry(RgbString(e.color), e.label, "");
    entry("rgb(240,240,240)", "inlined (dashed)", " stroke=\"#464646\" stroke-dasharray=\"3 2\"");
  }

  const FlameOptions& options_;
  Palette palette_;
  ValueFormat format_;
};

std::string Stats(const FlameLayout& layout, const ValueFormat& format, double total,
                  const FlameOptions& options) {
  std::string s;
  format.Append(&s, total);
  s += " · " + format.Describe();
  s += " · " + std::to_string(layout.boxes.size()) + " frames";
  if (layout.pruned > 0) {
    s += ", " + std::to_string(layout.pruned) + " narrower than ";
    AppendFixed(&s, options.min_width, options.min_width < 1 ? 2 : 1);
    s += " px pruned";
  }
  for (const std::string& tag : options.tags) s += " · tag " + tag;
  return s;
}

Result<void> CheckOptions(const FlameOptions& options) {
  if (options.width < 100 || options.width > 100000) {
    return MakeError("image width must be between 100 and 100000 px", ErrorKind::kInvalidArgument);
  }
  if (!(options.min_width >= 0) || options.min_width > options.width) {
    return MakeError("minimum frame width must be between 0 and the image width", ErrorKind::kInvalidArgument);
  }
  return Ok();
}

}  // namespace

bool IsDiffProfile(const pprof::Profile& profile) {
  for (const pprof::Sample& sample : profile.samples) {
    for (const pprof::Label& label : sample.labels) {
      if (label.key == pprof::kDiffBaseLabel && label.str == "true") return true;
    }
  }
  return false;
}

namespace {

// Shared by RenderDiffFlameGraph and diff profiles given to RenderFlameGraph:
// `tree` holds NEW in column 0 and BASE in column 1.
Result<std::string> RenderDiffTree(FlameTree tree, const ValueFormat& format, bool normalize,
                                   const FlameOptions& options, Palette palette) {
  tree.Finish();
  const FlameNode& root = tree.nodes()[0];
  SvgWriter writer(options, palette, format);
  if (root.total[0] <= 0 && root.total[1] <= 0) {
    return writer.NoSamples("no samples in BASE or NEW" +
                            (options.tags.empty() ? std::string() : " matching the tag filter"));
  }
  DiffData diff;
  diff.normalized = normalize;
  if (normalize && root.total[1] > 0 && root.total[0] > 0) {
    diff.base_scale = static_cast<double>(root.total[0]) / static_cast<double>(root.total[1]);
  }
  std::vector<double> widths = DiffWidths(tree, diff.base_scale);
  FlameLayout layout = LayoutFlame(tree, widths, options.width, options.min_width);
  for (const FrameBox& box : layout.boxes) {
    if (box.node == 0) continue;
    const FlameNode& n = tree.nodes()[box.node];
    diff.max_delta = std::max(diff.max_delta, std::fabs(static_cast<double>(n.total[0]) -
                                                        static_cast<double>(n.total[1]) * diff.base_scale));
  }
  std::string stats;
  stats += format.Describe() + ": NEW ";
  format.Append(&stats, static_cast<double>(root.total[0]));
  stats += ", BASE ";
  format.Append(&stats, static_cast<double>(root.total[1]));
  if (normalize && diff.base_scale != 1) {
    stats += " (scaled ×";
    AppendFixed(&stats, diff.base_scale, 3);
    stats += " to NEW's total)";
  } else if (!normalize) {
    stats += " (not normalized)";
  }
  stats += " · " + std::to_string(layout.boxes.size()) + " frames";
  if (layout.pruned > 0) {
    stats += ", " + std::to_string(layout.pruned) + " narrower than ";
    AppendFixed(&stats, options.min_width, options.min_width < 1 ? 2 : 1);
    stats += " px pruned";
  }
  for (const std::string& tag : options.tags) stats += " · tag " + tag;
  return writer.Render(tree, layout, &diff, stats);
}

}  // namespace

namespace {

// Draws a finished-or-not ordinary tree (column 0 only).
std::string RenderTree(FlameTree tree, const ValueFormat& format, const FlameOptions& options, Palette palette,
                       std::string empty_reason) {
  tree.Finish();
  SvgWriter writer(options, palette, format);
  if (tree.nodes()[0].total[0] <= 0) {
    if (!options.tags.empty()) {
      empty_reason += " matching tag";
      for (const std::string& tag : options.tags) empty_reason += " " + tag;
    }
    return writer.NoSamples(empty_reason);
  }
  std::vector<double> widths = TotalWidths(tree);
  FlameLayout layout = LayoutFlame(tree, widths, options.width, options.min_width);
  return writer.Render(tree, layout, nullptr, Stats(layout, format, widths[0], options));
}

}  // namespace

Result<std::string> RenderFlameGraph(const pprof::Profile& profile, const FlameOptions& options) {
  GOLENS_TRY_VOID(CheckOptions(options));
  GOLENS_TRY(Palette palette, ParsePalette(options.palette));
  GOLENS_TRY(std::vector<pprof::TagFilter> filters, pprof::ParseTagFilters(options.tags));
  (void)filters;
  if (profile.sample_types.empty()) {
    SvgWriter writer(options, palette, ValueFormat(pprof::ValueType{"samples", "count"}));
    return writer.NoSamples("the profile has no samples");
  }
  GOLENS_TRY(int sample_index, pprof::ResolveSampleIndex(profile, options.sample_type));
  ValueFormat format(profile.sample_types[sample_index]);

  TreeOptions tree_options;
  tree_options.sample_index = sample_index;
  tree_options.tags = options.tags;
  FlameTree tree;
  if (IsDiffProfile(profile)) {
    tree_options.part = TreeOptions::DiffPart::kNewOnly;
    GOLENS_TRY_VOID(AddProfileToTree(profile, tree_options, &tree));
    tree_options.part = TreeOptions::DiffPart::kBaseOnly;
    tree_options.column = 1;
    GOLENS_TRY_VOID(AddProfileToTree(profile, tree_options, &tree));
    // Already normalized (or deliberately not) when the diff was made.
    return RenderDiffTree(std::move(tree), format, false, options, palette);
  }
  GOLENS_TRY_VOID(AddProfileToTree(profile, tree_options, &tree));
  std::string reason = profile.samples.empty() ? "the profile has no samples"
                                               : "no samples with " + format.Describe() + " values";
  return RenderTree(std::move(tree), format, options, palette, reason);
}

Result<std::string> RenderFoldedFlameGraph(std::string_view folded, const FlameOptions& options) {
  if (!options.tags.empty() || (!options.sample_type.empty() && options.sample_type != "samples")) {
    // Labels and other sample types do not exist in folded text: let the
    // model path produce its "no samples" / unknown-type answers.
    GOLENS_TRY(pprof::Profile profile, pprof::ParseFolded(folded));
    return RenderFlameGraph(profile, options);
  }
  GOLENS_TRY_VOID(CheckOptions(options));
  GOLENS_TRY(Palette palette, ParsePalette(options.palette));
  FlameTree tree;
  tree.Reserve(folded.size() / 24);
  // Raw frame token (with its annotation) -> frame id; the token views point
  // into `folded`, which outlives the tree build.
  std::unordered_map<std::string_view, uint32_t> plain, kernel, inlined, kernel_inlined;
  std::vector<pprof::FoldedFrame> frames;
  std::vector<uint32_t> ids;
  GOLENS_TRY_VOID(pprof::ScanFolded(folded, [&](std::string_view stack, int64_t count) {
    pprof::SplitFoldedStack(stack, &frames);
    ids.clear();
    bool physical_kernel = false;
    for (const pprof::FoldedFrame& frame : frames) {
      // As in the model: an inlined frame belongs to the location of the
      // frame before it, so it shares that frame's kernel-ness.
      bool is_kernel = frame.inlined ? physical_kernel : frame.kernel;
      if (!frame.inlined) physical_kernel = frame.kernel;
      auto& cache = is_kernel ? (frame.inlined ? kernel_inlined : kernel) : (frame.inlined ? inlined : plain);
      auto [it, inserted] = cache.try_emplace(frame.name, 0);
      if (inserted) {
        pprof::StackFrame f;
        f.name = std::string(frame.name);
        for (char& c : f.name) {
          if (c == '\t' || c == '\r') c = ' ';  // as pprof::LocationFrames
        }
        f.kernel = is_kernel;
        FrameKind kind = ClassifyFrame(f);
        it->second = tree.InternFrame(DisplayName(f.name, kind), kind, frame.inlined);
      }
      ids.push_back(it->second);
    }
    if (!ids.empty()) tree.AddStack(ids, count);
  }));
  return RenderTree(std::move(tree), ValueFormat(pprof::ValueType{"samples", "count"}), options, palette,
                    "the profile has no samples");
}

Result<std::string> RenderDiffFlameGraph(const pprof::Profile& base, const pprof::Profile& current,
                                         const DiffOptions& options) {
  const FlameOptions& flame = options.flame;
  GOLENS_TRY_VOID(CheckOptions(flame));
  GOLENS_TRY(Palette palette, ParsePalette(flame.palette));
  if (current.sample_types.empty() && base.sample_types.empty()) {
    SvgWriter writer(flame, palette, ValueFormat(pprof::ValueType{"samples", "count"}));
    return writer.NoSamples("neither profile has samples");
  }
  // The sample type is chosen on NEW and looked up by name in BASE.
  const pprof::Profile& chooser = current.sample_types.empty() ? base : current;
  GOLENS_TRY(int new_index, pprof::ResolveSampleIndex(chooser, flame.sample_type));
  if (flame.sample_type.empty() && !base.sample_types.empty() && !current.sample_types.empty() &&
      pprof::SampleTypeIndex(base, chooser.sample_types[new_index].type) < 0) {
    // NEW's default is missing in BASE (e.g. folded "samples" vs a CPU
    // profile's "cpu"): take the first type both have.
    for (size_t i = 0; i < current.sample_types.size(); ++i) {
      if (pprof::SampleTypeIndex(base, current.sample_types[i].type) >= 0) {
        new_index = static_cast<int>(i);
        break;
      }
    }
  }
  const pprof::ValueType& type = chooser.sample_types[new_index];
  int base_index = pprof::SampleTypeIndex(base, type.type);
  int cur_index = pprof::SampleTypeIndex(current, type.type);
  if (!base.sample_types.empty() && base_index < 0) {
    return MakeError("BASE has no sample type '" + type.type + "'; available: " + pprof::SampleTypeNames(base), ErrorKind::kInvalidArgument);
  }
  if (!current.sample_types.empty() && cur_index < 0) {
    return MakeError("NEW has no sample type '" + type.type + "'; available: " + pprof::SampleTypeNames(current), ErrorKind::kInvalidArgument);
  }
  if (base_index >= 0 && cur_index >= 0 && base.sample_types[base_index].unit != current.sample_types[cur_index].unit) {
    return MakeError("sample type '" + type.type + "' has unit " + base.sample_types[base_index].unit +
                     " in BASE but " + current.sample_types[cur_index].unit + " in NEW");
  }
  FlameTree tree;
  TreeOptions tree_options;
  tree_options.tags = flame.tags;
  if (cur_index >= 0) {
    tree_options.sample_index = cur_index;
    GOLENS_TRY_VOID(AddProfileToTree(current, tree_options, &tree));
  }
  if (base_index >= 0) {
    tree_options.sample_index = base_index;
    tree_options.column = 1;
    GOLENS_TRY_VOID(AddProfileToTree(base, tree_options, &tree));
  }
  return RenderDiffTree(std::move(tree), ValueFormat(type), options.normalize, flame, palette);
}

}  // namespace golens::web
