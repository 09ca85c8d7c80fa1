// `golens flame`, `golens fold`, `golens diff`: flame graphs, folded stacks
// and differential flame graphs from any profile (our pprof, Go runtime/pprof
// output gzip or raw, folded stacks).
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "pprof/diff.h"
#include "pprof/folded.h"
#include "pprof/profile_io.h"
#include "pprof/sample_filter.h"
#include "profiler/cli_errors.h"
#include "profiler/cmd_maps_options.h"
#include "profiler/base/log.h"
#include "profiler/commands.h"
#include "web/flamegraph.h"

namespace golens::cli {
namespace {

// Parses --max-input-size: bytes, or a number with K/M/G/T (powers of 1024,
// optional "iB"/"B": 64M, 2GiB, 1.5G).
Result<uint64_t> ParseSize(const std::string& text) {
  char* end = nullptr;
  const bool starts_with_digit = !text.empty() && text[0] >= '0' && text[0] <= '9';
  double value = starts_with_digit ? std::strtod(text.c_str(), &end) : 0;
  size_t used = starts_with_digit ? static_cast<size_t>(end - text.c_str()) : 0;
  std::string unit = text.substr(used);
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (unit.size() > 1 && unit.back() == 'B') unit.pop_back();
  if (unit.size() > 1 && unit.back() == 'I') unit.pop_back();
  double scale = 0;
  if (unit.empty() || unit == "B") scale = 1;
  else if (unit == "K") scale = 1024.0;
  else if (unit == "M") scale = 1024.0 * 1024;
  else if (unit == "G") scale = 1024.0 * 1024 * 1024;
  else if (unit == "T") scale = 1024.0 * 1024 * 1024 * 1024;
  double bytes = value * scale;
  if (used == 0 || scale == 0 || !(bytes >= 1) || bytes > 1e18) {
    return MakeError("bad --max-input-size \"" + text + "\" (examples: 64M, 2G, 1048576)",
                     ErrorKind::kInvalidArgument);
  }
  return static_cast<uint64_t>(bytes);
}

// Adds the flag to the input size limit errors, which the library cannot name.
Error InputError(const Error& error) {
  if (!error.Is(ErrorKind::kResourceExhausted)) return error;
  Error hinted = error;
  hinted.message += " (raise the limit with --max-input-size)";
  return hinted;
}

struct InputLimit {
  std::string text;  // --max-input-size as given; "" = default
  Result<uint64_t> Resolve() const {
    if (text.empty()) return pprof::kDefaultMaxInputSize;
    return ParseSize(text);
  }
};

void AddInputLimitOption(CLI::App* cmd, InputLimit* limit) {
  cmd->add_option("--max-input-size", limit->text,
                  "Refuse inputs (files, or their content once decompressed) larger than this (default 1G)");
}

struct FlameArgs {
  std::string profile;
  InputLimit limit;
  std::string output;
  std::string title;
  int width = 1200;
  double min_width = 0.1;
  std::string sample_type;
  bool inverted = false;
  std::vector<std::string> tags;
  std::string palette = "go";
};

int Fail(const Error& error) {
  GOLENS_LOG(kError) << error.message;
  return ExitCodeFor(error);
}

// --tag that matched nothing: say so, and which labels exist.
void WarnNoTagMatch(const pprof::Profile& profile, const std::vector<pprof::TagFilter>& filters) {
  std::string wanted;
  for (const auto& f : filters) wanted += (wanted.empty() ? "" : " ") + f.key + "=" + f.value;
  GOLENS_LOG(kWarn) << "--tag " << wanted << " matches no sample; " << pprof::DescribeLabels(profile);
}

void AddFlameOptions(CLI::App* cmd, FlameArgs* a) {
  cmd->add_option("--title", a->title, "Title at the top of the graph");
  cmd->add_option("--width", a->width, "Image width in px")->capture_default_str();
  cmd->add_option("--minwidth", a->min_width, "Prune frames narrower than this many px (counted in the subtitle)")
      ->capture_default_str();
  cmd->add_option("--sample-type", a->sample_type,
                  "Sample type to draw (e.g. cpu, samples); default: the profile's default");
  cmd->add_flag("--inverted", a->inverted, "Icicle graph: roots at the top");
  cmd->add_option("--tag", a->tags, "Keep only samples with this label, KEY=VALUE (repeatable: same key = any of the values, different keys = all)")
      ->allow_extra_args(false);
  cmd->add_option("--palette", a->palette, "Colors: go (by frame kind), hot, mono")
      ->check(CLI::IsMember({"go", "hot", "mono"}))
      ->capture_default_str();
}

web::FlameOptions ToOptions(const FlameArgs& a, const std::string& default_title) {
  web::FlameOptions o;
  o.title = a.title.empty() ? default_title : a.title;
  o.width = a.width;
  o.min_width = a.min_width;
  o.sample_type = a.sample_type;
  o.inverted = a.inverted;
  o.tags = a.tags;
  o.palette = a.palette;
  return o;
}

std::string DefaultTitle(const pprof::Profile& p, bool inverted) {
  bool cpu = p.period_type.type == "cpu" || pprof::SampleTypeIndex(p, "cpu") >= 0;
  std::string kind = cpu ? "CPU " : "";
  return kind + (inverted ? "icicle graph" : "flame graph");
}

// The renderer checks these too, in its own words; here the flags are named.
Result<void> CheckSizeFlags(int width, double min_width) {
  if (width < 100 || width > 100000) {
    return MakeError("--width must be between 100 and 100000 px", ErrorKind::kInvalidArgument);
  }
  if (!(min_width >= 0) || min_width > width) {
    return MakeError("--minwidth must be between 0 and the image width", ErrorKind::kInvalidArgument);
  }
  return Ok();
}

int RunFlame(const FlameArgs& a) {
  auto max_size = a.limit.Resolve();
  if (!max_size.ok()) return Fail(max_size.error());
  auto flags = CheckSizeFlags(a.width, a.min_width);
  if (!flags.ok()) return Fail(flags.error());
  auto writable = pprof::CheckWritable(a.output);
  if (!writable.ok()) return Fail(writable.error());
  auto bytes = pprof::ReadInputBytes(a.profile, *max_size);
  if (!bytes.ok()) return Fail(InputError(bytes.error()));
  Result<std::string> svg = MakeError("unreachable");
  if (!a.tags.empty()) {
    // Filtering needs the model (labels); also the place to say when the
    // filter matches nothing, and which labels there are instead.
    auto profile = pprof::ParseProfileBytes(*bytes, a.profile, *max_size);
    if (!profile.ok()) return Fail(InputError(profile.error()));
    auto filters = pprof::ParseTagFilters(a.tags);
    if (!filters.ok()) return Fail(filters.error());
    bool any = false;
    for (const pprof::Sample& s : profile->samples) {
      if (pprof::SampleMatches(s, *filters)) {
        any = true;
        break;
      }
    }
    if (!any && !profile->samples.empty()) WarnNoTagMatch(*profile, *filters);
    web::FlameOptions options = ToOptions(a, DefaultTitle(*profile, a.inverted));
    AddMapFlameHints(*profile, &options);
    svg = web::RenderFlameGraph(*profile, options);
    if (!svg.ok()) return Fail(svg.error());
  } else if (!bytes->empty() && pprof::LooksLikeFoldedText(*bytes)) {
    // Folded text goes straight to the flame tree (no profile model).
    svg = web::RenderFoldedFlameGraph(*bytes, ToOptions(a, a.inverted ? "icicle graph" : "flame graph"));
    if (!svg.ok()) return Fail(svg.error().Context(a.profile));
  } else {
    auto profile = pprof::ParseProfileBytes(*bytes, a.profile, *max_size);
    if (!profile.ok()) return Fail(InputError(profile.error()));
    web::FlameOptions options = ToOptions(a, DefaultTitle(*profile, a.inverted));
    AddMapFlameHints(*profile, &options);
    svg = web::RenderFlameGraph(*profile, options);
    if (!svg.ok()) return Fail(svg.error());
  }
  auto written = pprof::WriteOutputFile(a.output, *svg);
  if (!written.ok()) return Fail(written.error());
  GOLENS_LOG(kInfo) << "wrote " << (a.output == pprof::kStdoutPath ? "stdout" : a.output) << " ("
                    << svg->size() << " bytes)";
  return 0;
}

Result<std::string> FoldProfile(const std::string& bytes, const std::string& name, const std::string& sample_type,
                                const std::vector<std::string>& tags, uint64_t max_size);

int RunFold(const std::string& path, const std::string& sample_type, const std::vector<std::string>& tags,
            const InputLimit& limit) {
  auto max_size = limit.Resolve();
  if (!max_size.ok()) return Fail(max_size.error());
  auto bytes = pprof::ReadInputBytes(path, *max_size);
  if (!bytes.ok()) return Fail(InputError(bytes.error()));
  const std::string name = path == "-" ? std::string("stdin") : path;
  auto write_stdout = [](std::string_view piece) -> Result<void> {
    if (std::fwrite(piece.data(), 1, piece.size(), stdout) != piece.size()) return ErrnoError("write stdout");
    return Ok();
  };
  std::string folded;
  if (tags.empty() && (sample_type.empty() || sample_type == "samples") && !bytes->empty() &&
      pprof::LooksLikeFoldedText(*bytes)) {
    // Folded in, folded out: aggregate the text, no profile model (1M lines
    // in seconds, not minutes). Tags and other sample types do not exist in
    // folded text; the model path gives their answers.
    auto refolded = pprof::RefoldFolded(*bytes, write_stdout);
    if (!refolded.ok()) {
      return Fail(refolded.error().message.starts_with("write stdout") ? refolded.error()
                                                                       : refolded.error().Context(name));
    }
  } else {
    auto result = FoldProfile(*bytes, name, sample_type, tags, *max_size);
    if (!result.ok()) return Fail(result.error());
    folded = std::move(*result);
  }
  if (std::fwrite(folded.data(), 1, folded.size(), stdout) != folded.size() || std::fflush(stdout) != 0) {
    return Fail(ErrnoError("write stdout"));
  }
  return 0;
}

Result<std::string> FoldProfile(const std::string& bytes, const std::string& name, const std::string& sample_type,
                                const std::vector<std::string>& tags, uint64_t max_size) {
  auto profile = pprof::ParseProfileBytes(bytes, name, max_size);
  if (!profile.ok()) return InputError(profile.error());
  int index = -1;  // ToFolded's default sample type
  if (!sample_type.empty()) {
    GOLENS_TRY(index, pprof::ResolveSampleIndex(*profile, sample_type));
  }
  if (!tags.empty()) {
    // Folded text has no labels: filter the model first.
    GOLENS_TRY(std::vector<pprof::TagFilter> parsed, pprof::ParseTagFilters(tags));
    std::vector<pprof::Sample> kept;
    for (pprof::Sample& s : profile->samples) {
      if (pprof::SampleMatches(s, parsed)) kept.push_back(std::move(s));
    }
    if (kept.empty() && !profile->samples.empty()) WarnNoTagMatch(*profile, parsed);
    profile->samples = std::move(kept);
  }
  return pprof::ToFolded(*profile, index);
}

struct DiffArgs {
  std::string base, current, output, pprof_out, title, sample_type, palette = "go";
  InputLimit limit;
  bool no_normalize = false;
  int width = 1200;
  double min_width = 0.1;
};

int RunDiff(const DiffArgs& a) {
  auto max_size = a.limit.Resolve();
  if (!max_size.ok()) return Fail(max_size.error());
  auto flags = CheckSizeFlags(a.width, a.min_width);
  if (!flags.ok()) return Fail(flags.error());
  auto distinct = pprof::CheckOutputsDistinct({a.output, a.pprof_out});
  if (!distinct.ok()) return Fail(distinct.error().Context("-o and --pprof"));
  auto writable = pprof::CheckWritable(a.output);
  if (!writable.ok()) return Fail(writable.error());
  if (!a.pprof_out.empty()) {
    auto w = pprof::CheckWritable(a.pprof_out);
    if (!w.ok()) return Fail(w.error());
  }
  if (a.base == "-" && a.current == "-") {
    return Fail(MakeError("BASE and NEW cannot both be stdin (\"-\")", ErrorKind::kInvalidArgument));
  }
  auto base = pprof::ReadProfileFile(a.base, *max_size);
  if (!base.ok()) return Fail(InputError(base.error()).Context("BASE"));
  auto current = pprof::ReadProfileFile(a.current, *max_size);
  if (!current.ok()) return Fail(InputError(current.error()).Context("NEW"));
  web::DiffOptions options;
  options.flame.title = a.title.empty() ? "Differential flame graph (red grew, blue shrank)" : a.title;
  options.flame.width = a.width;
  options.flame.min_width = a.min_width;
  options.flame.sample_type = a.sample_type;
  options.flame.palette = a.palette;
  options.normalize = !a.no_normalize;
  auto svg = web::RenderDiffFlameGraph(*base, *current, options);
  if (!svg.ok()) return Fail(svg.error());
  if (!a.pprof_out.empty()) {
    auto diff = pprof::DiffProfiles(*base, *current, options.normalize);
    if (!diff.ok()) return Fail(diff.error());
    auto written = pprof::WritePprofFile(*diff, a.pprof_out);
    if (!written.ok()) return Fail(written.error());
  }
  auto written = pprof::WriteOutputFile(a.output, *svg);
  if (!written.ok()) return Fail(written.error());
  return 0;
}

}  // namespace

void RegisterFlameCommands(CLI::App& app, int* exit_code) {
  auto flame_args = std::make_shared<FlameArgs>();
  CLI::App* flame = app.add_subcommand(
      "flame", "Interactive SVG flame graph from a profile (pprof gz/raw, Go runtime/pprof, folded stacks)");
  flame->add_option("PROFILE", flame_args->profile, "Profile file (\"-\" = stdin)")->required();
  flame->add_option("-o,--output", flame_args->output, "Output SVG (\"-\" = stdout)")->required();
  AddFlameOptions(flame, flame_args.get());
  AddInputLimitOption(flame, &flame_args->limit);
  flame->callback([flame_args, exit_code] { *exit_code = RunFlame(*flame_args); });

  auto fold_profile = std::make_shared<std::string>();
  auto fold_type = std::make_shared<std::string>();
  auto fold_tags = std::make_shared<std::vector<std::string>>();
  auto fold_limit = std::make_shared<InputLimit>();
  CLI::App* fold = app.add_subcommand("fold", "Folded stacks (\"root;child;leaf N\") on stdout");
  fold->add_option("PROFILE", *fold_profile, "Profile file (\"-\" = stdin)")->required();
  AddInputLimitOption(fold, fold_limit.get());
  fold->add_option("--sample-type", *fold_type, "Sample type (default: the profile's default)");
  fold->add_option("--tag", *fold_tags, "Keep only samples with this label, KEY=VALUE (repeatable)")
      ->allow_extra_args(false);
  fold->callback([=] { *exit_code = RunFold(*fold_profile, *fold_type, *fold_tags, *fold_limit); });

  auto diff_args = std::make_shared<DiffArgs>();
  CLI::App* diff = app.add_subcommand(
      "diff", "Differential flame graph of NEW against BASE (red grew, blue shrank); optional NEW-BASE pprof");
  diff->add_option("BASE", diff_args->base, "Baseline profile")->required();
  diff->add_option("NEW", diff_args->current, "New profile")->required();
  diff->add_option("-o,--output", diff_args->output, "Output SVG (\"-\" = stdout)")->required();
  AddInputLimitOption(diff, &diff_args->limit);
  diff->add_option("--pprof", diff_args->pprof_out,
                   "Also write NEW minus BASE as pprof (go tool pprof -top reads it like -diff_base)");
  diff->add_flag("--no-normalize", diff_args->no_normalize, "Compare raw values (default: scale BASE/NEW totals)");
  diff->add_option("--title", diff_args->title, "Title");
  diff->add_option("--width", diff_args->width, "Image width in px")->capture_default_str();
  diff->add_option("--minwidth", diff_args->min_width, "Prune frames narrower than this many px")
      ->capture_default_str();
  diff->add_option("--sample-type", diff_args->sample_type, "Sample type to compare");
  diff->callback([diff_args, exit_code] { *exit_code = RunDiff(*diff_args); });
}

}  // namespace golens::cli
