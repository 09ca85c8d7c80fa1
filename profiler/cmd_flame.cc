// `golens flame`, `golens fold`, `golens diff`: flame graphs, folded stacks
// and differential flame graphs from any profile (our pprof, Go runtime/pprof
// output gzip or raw, folded stacks).
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "pprof/diff.h"
#include "pprof/profile_io.h"
#include "pprof/sample_filter.h"
#include "profiler/base/log.h"
#include "profiler/commands.h"
#include "web/flamegraph.h"

namespace golens::cli {
namespace {

struct FlameArgs {
  std::string profile;
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
  return error.exit_code == 0 ? 1 : error.exit_code;
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

int RunFlame(const FlameArgs& a) {
  auto writable = pprof::CheckWritable(a.output);
  if (!writable.ok()) return Fail(writable.error());
  auto bytes = pprof::ReadFileBytes(a.profile);
  if (!bytes.ok()) return Fail(bytes.error());
  Result<std::string> svg = MakeError("unreachable");
  if (!bytes->empty() && pprof::LooksLikeFoldedText(*bytes)) {
    // Folded text goes straight to the flame tree (no profile model).
    svg = web::RenderFoldedFlameGraph(*bytes, ToOptions(a, a.inverted ? "icicle graph" : "flame graph"));
    if (!svg.ok()) return Fail(svg.error().Context(a.profile));
  } else {
    auto profile = pprof::ParseProfileBytes(*bytes, a.profile);
    if (!profile.ok()) return Fail(profile.error());
    svg = web::RenderFlameGraph(*profile, ToOptions(a, DefaultTitle(*profile, a.inverted)));
    if (!svg.ok()) return Fail(svg.error());
  }
  auto written = pprof::WriteFileAtomically(a.output, *svg);
  if (!written.ok()) return Fail(written.error());
  GOLENS_LOG(kInfo) << "wrote " << a.output << " (" << svg->size() << " bytes)";
  return 0;
}

int RunFold(const std::string& path, const std::string& sample_type, const std::vector<std::string>& tags) {
  auto profile = pprof::ReadProfileFile(path);
  if (!profile.ok()) return Fail(profile.error());
  int index = -1;  // ToFolded's default sample type
  if (!sample_type.empty()) {
    auto resolved = pprof::ResolveSampleIndex(*profile, sample_type);
    if (!resolved.ok()) return Fail(resolved.error());
    index = *resolved;
  }
  if (!tags.empty()) {
    // Folded text has no labels: filter the model first.
    auto parsed = pprof::ParseTagFilters(tags);
    if (!parsed.ok()) return Fail(parsed.error());
    std::vector<pprof::Sample> kept;
    for (pprof::Sample& s : profile->samples) {
      if (pprof::SampleMatches(s, *parsed)) kept.push_back(std::move(s));
    }
    profile->samples = std::move(kept);
  }
  std::string folded = pprof::ToFolded(*profile, index);
  if (std::fwrite(folded.data(), 1, folded.size(), stdout) != folded.size() || std::fflush(stdout) != 0) {
    return Fail(ErrnoError("write stdout"));
  }
  return 0;
}

struct DiffArgs {
  std::string base, current, output, pprof_out, title, sample_type, palette = "go";
  bool no_normalize = false;
  int width = 1200;
  double min_width = 0.1;
};

int RunDiff(const DiffArgs& a) {
  auto writable = pprof::CheckWritable(a.output);
  if (!writable.ok()) return Fail(writable.error());
  if (!a.pprof_out.empty()) {
    auto w = pprof::CheckWritable(a.pprof_out);
    if (!w.ok()) return Fail(w.error());
  }
  auto base = pprof::ReadProfileFile(a.base);
  if (!base.ok()) return Fail(base.error().Context("BASE"));
  auto current = pprof::ReadProfileFile(a.current);
  if (!current.ok()) return Fail(current.error().Context("NEW"));
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
  auto written = pprof::WriteFileAtomically(a.output, *svg);
  if (!written.ok()) return Fail(written.error());
  return 0;
}

}  // namespace

void RegisterFlameCommands(CLI::App& app, int* exit_code) {
  auto flame_args = std::make_shared<FlameArgs>();
  CLI::App* flame = app.add_subcommand(
      "flame", "Interactive SVG flame graph from a profile (pprof gz/raw, Go runtime/pprof, folded stacks)");
  flame->add_option("PROFILE", flame_args->profile, "Profile file")->required();
  flame->add_option("-o,--output", flame_args->output, "Output SVG")->required();
  AddFlameOptions(flame, flame_args.get());
  flame->callback([flame_args, exit_code] { *exit_code = RunFlame(*flame_args); });

  auto fold_profile = std::make_shared<std::string>();
  auto fold_type = std::make_shared<std::string>();
  auto fold_tags = std::make_shared<std::vector<std::string>>();
  CLI::App* fold = app.add_subcommand("fold", "Folded stacks (\"root;child;leaf N\") on stdout");
  fold->add_option("PROFILE", *fold_profile, "Profile file")->required();
  fold->add_option("--sample-type", *fold_type, "Sample type (default: the profile's default)");
  fold->add_option("--tag", *fold_tags, "Keep only samples with this label, KEY=VALUE (repeatable)")
      ->allow_extra_args(false);
  fold->callback([=] { *exit_code = RunFold(*fold_profile, *fold_type, *fold_tags); });

  auto diff_args = std::make_shared<DiffArgs>();
  CLI::App* diff = app.add_subcommand(
      "diff", "Differential flame graph of NEW against BASE (red grew, blue shrank); optional NEW-BASE pprof");
  diff->add_option("BASE", diff_args->base, "Baseline profile")->required();
  diff->add_option("NEW", diff_args->current, "New profile")->required();
  diff->add_option("-o,--output", diff_args->output, "Output SVG")->required();
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
