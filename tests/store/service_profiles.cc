#include "tests/store/service_profiles.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>

#include "pprof/builder.h"

namespace golens::store::testing {
namespace {

const char* const kVerbs[] = {"Get", "Put", "Handle", "Serve", "Read", "Write", "Decode", "Encode", "Lookup",
                              "Update", "Process", "Validate", "Marshal", "Unmarshal", "Flush", "Scan"};
const char* const kNouns[] = {"Item", "Cart", "Order", "User", "Session", "Token", "Row", "Batch",
                              "Request", "Response", "Header", "Buffer", "Record", "Price", "Stock", "Key"};
const char* const kTypes[] = {"Service", "Handler", "Client", "Store", "Cache", "Conn", "Pool", "Codec"};

}  // namespace

struct ServiceProfiles::Model {
  std::string service, build_id;
  struct Fn {
    std::string name, file;
    int64_t start_line;
    std::vector<int> callees;
  };
  std::vector<Fn> functions;
  struct Frame {
    int fn;
    int64_t line;
    uint64_t address;
    int inlined_fn = -1;  // an inlined callee at this PC
  };
  std::vector<std::vector<Frame>> stacks;  // leaf first
  std::vector<double> cumulative;          // Zipf weights, cumulative
};

ServiceProfiles::ServiceProfiles(std::string service, uint64_t seed, int functions, int stacks)
    : model_(std::make_unique<Model>()) {
  Model& m = *model_;
  m.service = service;
  std::mt19937_64 rng(seed);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  m.build_id = buf;
  const std::vector<std::string> packages = {
      "runtime", "net/http", "encoding/json", "sync", "database/sql", "bufio", "crypto/tls", "compress/gzip",
      "google.golang.org/grpc", "google.golang.org/protobuf/proto", "github.com/jackc/pgx/v5/pgconn",
      "github.com/acme/" + service + "/internal/api", "github.com/acme/" + service + "/internal/store",
      "github.com/acme/" + service + "/internal/cache", "github.com/acme/" + service + "/internal/auth",
      "github.com/acme/" + service + "/internal/billing", "github.com/acme/" + service + "/pkg/util"};
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  for (int i = 0; i < functions; ++i) {
    const std::string& pkg = packages[pick(packages.size())];
    std::string verb = kVerbs[pick(std::size(kVerbs))], noun = kNouns[pick(std::size(kNouns))];
    std::string name = rng() % 3 == 0 ? pkg + "." + verb + noun + std::to_string(i % 7)
                                      : pkg + ".(*" + kTypes[pick(std::size(kTypes))] + ")." + verb + noun;
    std::string dir = pkg.find('.') == std::string::npos ? "/usr/local/go/src/" + pkg
                                                          : "/home/build/go/pkg/mod/" + pkg;
    std::string file = dir + "/" + std::string(kNouns[pick(std::size(kNouns))]) + ".go";
    std::transform(file.begin() + static_cast<long>(dir.size()), file.end(), file.begin() + static_cast<long>(dir.size()),
                   [](char c) { return static_cast<char>(std::tolower(c)); });
    m.functions.push_back(Model::Fn{name, file, static_cast<int64_t>(20 + pick(800)), {}});
  }
  for (auto& fn : m.functions) {
    for (int k = 0; k < 4; ++k) fn.callees.push_back(static_cast<int>(pick(m.functions.size())));
  }
  // Stacks: walks down the call graph from a few roots, so they share prefixes.
  std::vector<uint64_t> pc_of(m.functions.size());
  for (size_t i = 0; i < pc_of.size(); ++i) pc_of[i] = 0x401000 + i * 0x400;
  for (int s = 0; s < stacks; ++s) {
    std::vector<Model::Frame> root_first;
    int fn = static_cast<int>(pick(4));
    int depth = 6 + static_cast<int>(pick(25));
    for (int d = 0; d < depth; ++d) {
      const Model::Fn& f = m.functions[static_cast<size_t>(fn)];
      // A caller's frame is at the call site of the callee it went into (one
      // line per callee); the leaf is at one of a few hot lines.
      size_t callee = pick(f.callees.size());
      int64_t line = d + 1 < depth ? f.start_line + 3 + 5 * static_cast<int64_t>(callee)
                                   : f.start_line + 1 + static_cast<int64_t>(pick(4));
      Model::Frame frame{fn, line, pc_of[static_cast<size_t>(fn)] + static_cast<uint64_t>(line - f.start_line) * 8};
      // Some call sites are inlined calls (the same ones every time).
      if ((fn + line) % 8 == 0) frame.inlined_fn = f.callees[(callee + 1) % f.callees.size()];
      root_first.push_back(frame);
      fn = f.callees[callee];
    }
    std::reverse(root_first.begin(), root_first.end());
    m.stacks.push_back(std::move(root_first));
  }
  std::shuffle(m.stacks.begin(), m.stacks.end(), rng);
  double total = 0;
  for (size_t i = 0; i < m.stacks.size(); ++i) {
    total += 1.0 / std::pow(static_cast<double>(i + 1), 1.1);
    m.cumulative.push_back(total);
  }
  for (double& c : m.cumulative) c /= total;
}

ServiceProfiles::~ServiceProfiles() = default;
ServiceProfiles::ServiceProfiles(ServiceProfiles&&) noexcept = default;
const std::string& ServiceProfiles::service() const { return model_->service; }
const std::string& ServiceProfiles::build_id() const { return model_->build_id; }

pprof::Profile ServiceProfiles::Interval(const IntervalOptions& o) const {
  const Model& m = *model_;
  std::mt19937_64 rng(o.seed);
  std::uniform_real_distribution<double> uniform(0, 1);
  constexpr int64_t kPeriod = 1'000'000'000 / 19;
  pprof::ProfileBuilder b({{"samples", "count"}, {"cpu", "nanoseconds"}});
  pprof::Profile& h = b.header();
  h.period_type = {"cpu", "nanoseconds"};
  h.period = kPeriod;
  h.time_nanos = o.start_ns;
  h.duration_nanos = o.duration_ns;
  h.comments.push_back("golens agent: pid " + std::to_string(o.pid) + " exe /usr/local/bin/" + m.service +
                       " go go1.26.8 samples " + std::to_string(o.samples));
  pprof::Mapping main;
  main.memory_start = 0x400000;
  main.memory_limit = 0x400000 + 0x400 * m.functions.size() + 0x1000;
  main.filename = "/usr/local/bin/" + m.service;
  main.build_id = m.build_id;
  main.has_functions = main.has_filenames = main.has_line_numbers = main.has_inline_frames = true;
  uint64_t mapping = b.AddMapping(main);
  std::vector<uint64_t> fn_ids(m.functions.size(), 0);
  auto fn_id = [&](int i) {
    uint64_t& id = fn_ids[static_cast<size_t>(i)];
    const Model::Fn& f = m.functions[static_cast<size_t>(i)];
    if (id == 0) id = b.AddFunction(f.name, f.name, f.file, f.start_line);
    return id;
  };
  const char* const workers[] = {"alpha", "beta", "gamma", "delta"};
  std::vector<uint64_t> locs;
  for (int i = 0; i < o.samples; ++i) {
    size_t s = static_cast<size_t>(std::lower_bound(m.cumulative.begin(), m.cumulative.end(), uniform(rng)) -
                                   m.cumulative.begin());
    s = std::min(s, m.stacks.size() - 1);
    locs.clear();
    for (const Model::Frame& f : m.stacks[s]) {
      std::vector<pprof::Line> lines;
      if (f.inlined_fn >= 0) {
        const Model::Fn& in = m.functions[static_cast<size_t>(f.inlined_fn)];
        lines.push_back(pprof::Line{fn_id(f.inlined_fn), in.start_line + 2, 0});
      }
      lines.push_back(pprof::Line{fn_id(f.fn), f.line, 0});
      locs.push_back(b.AddLocation(mapping, f.address, std::move(lines)));
    }
    std::vector<pprof::Label> labels;
    if (o.goroutine_labels) labels.push_back(pprof::Label{"goroutine", "", static_cast<int64_t>(1 + rng() % 400), ""});
    if (o.labels && s % 3 == 0) labels.push_back(pprof::Label{"worker", workers[s % 4], 0, ""});
    int64_t values[2] = {1, kPeriod};
    b.AddSample(locs, values, labels);
  }
  return b.Build();
}

}  // namespace golens::store::testing
