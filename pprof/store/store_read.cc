// Store reads: services and builds, selection, label values, load, merge.
// All through the reader connection, so a long merge never holds up Put.
#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "pprof/merge.h"
#include "pprof/profile_view.h"
#include "pprof/profile_io.h"
#include "pprof/store/label_index.h"
#include "pprof/store/store_impl.h"
#include "profiler/base/log.h"

namespace golens::store {
namespace {

// Ends a read transaction however the caller leaves.
class ReadTransaction {
 public:
  explicit ReadTransaction(Db& db) : db_(db) {}
  Result<void> Begin() {
    GOLENS_TRY_VOID(db_.Exec("BEGIN"));
    open_ = true;
    return Ok();
  }
  ~ReadTransaction() {
    if (open_) db_.RollbackQuietly();
  }

 private:
  Db& db_;
  bool open_ = false;
};

struct Selected {
  ProfileMeta meta;
  std::string label_ids;
};

// The profiles of `sel`, ordered by start_ns. SQL text only holds
// placeholders; every value is bound.
Result<std::vector<Selected>> SelectLocked(Db& db, const Selection& sel, bool with_labels) {
  std::string sql =
      "SELECT p.id, s.service, s.build_id, s.go_version, s.exe_path, s.host, s.container_id, p.pid, p.start_ns, "
      "p.end_ns, p.samples, p.stored_bytes";
  sql += with_labels ? ", p.label_ids" : ", NULL";
  // With a service, walk its few sources first and their profiles by
  // (source_id, start_ns); CROSS JOIN keeps SQLite to that order.
  sql += sel.service.empty() ? " FROM profiles p JOIN sources s ON s.id = p.source_id WHERE 1"
                             : " FROM sources s CROSS JOIN profiles p ON p.source_id = s.id WHERE s.service = ?";
  std::vector<std::string> texts;
  std::vector<int64_t> ints;
  std::vector<std::pair<bool, size_t>> binds;  // (is text, index)
  auto text = [&](const std::string& v) {
    texts.push_back(v);
    binds.emplace_back(true, texts.size() - 1);
  };
  auto num = [&](int64_t v) {
    ints.push_back(v);
    binds.emplace_back(false, ints.size() - 1);
  };
  if (!sel.service.empty()) text(sel.service);
  if (!sel.build_id.empty()) {
    sql += " AND s.build_id = ?";
    text(sel.build_id);
  }
  if (sel.from_ns) {
    sql += " AND p.end_ns > ?";
    num(*sel.from_ns);
    // Intervals are short: start_ns >= from - longest interval lets the
    // (source, start) index bound the scan from below too.
    sql += " AND p.start_ns >= ? - (SELECT value FROM meta WHERE key = 'max_span_ns')";
    num(*sel.from_ns);
  }
  if (sel.to_ns) {
    sql += " AND p.start_ns < ?";
    num(*sel.to_ns);
  }
  // One EXISTS per distinct key: a pair with one of its values, or a
  // wildcard saying the profile has that key (or any key) with values not listed.
  std::map<std::string, std::vector<std::string>> by_key;
  for (const pprof::TagFilter& f : sel.tags) by_key[f.key].push_back(f.value);
  for (const auto& [key, values] : by_key) {
    sql += " AND EXISTS (SELECT 1 FROM profile_labels pl WHERE pl.profile_id = p.id AND pl.pair_id IN "
           "(SELECT id FROM label_pairs WHERE (key = ? AND wildcard = 0 AND value IN (";
    text(key);
    for (size_t i = 0; i < values.size(); ++i) {
      sql += i ? ", ?" : "?";
      text(values[i]);
    }
    sql += ")) OR (wildcard = 1 AND key IN (?, ''))))";
    text(key);
  }
  sql += sel.limit > 0 ? " ORDER BY p.start_ns DESC, p.id DESC LIMIT ?" : " ORDER BY p.start_ns, p.id";
  if (sel.limit > 0) num(sel.limit);

  GOLENS_TRY(Stmt stmt, db.Prepare(sql));
  for (size_t i = 0; i < binds.size(); ++i) {
    if (binds[i].first) {
      stmt.Bind(static_cast<int>(i + 1), texts[binds[i].second]);
    } else {
      stmt.Bind(static_cast<int>(i + 1), ints[binds[i].second]);
    }
  }
  std::vector<Selected> out;
  while (true) {
    GOLENS_TRY(bool row, stmt.Step());
    if (!row) break;
    Selected s;
    ProfileMeta& m = s.meta;
    m.id = stmt.Int(0);
    m.service = stmt.Text(1);
    m.build_id = stmt.Text(2);
    m.go_version = stmt.Text(3);
    m.exe_path = stmt.Text(4);
    m.host = stmt.Text(5);
    m.container_id = stmt.Text(6);
    m.pid = stmt.Int(7);
    m.start_ns = stmt.Int(8);
    m.end_ns = stmt.Int(9);
    m.samples = stmt.Int(10);
    m.stored_bytes = stmt.Int(11);
    if (with_labels) {
      std::span<const uint8_t> ids = stmt.Blob(12);
      s.label_ids.assign(reinterpret_cast<const char*>(ids.data()), ids.size());
    }
    out.push_back(std::move(s));
  }
  if (sel.limit > 0) std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace

Result<std::string> StoreState::LoadRawLocked(int64_t id) {
  Db& db = *reader;
  GOLENS_TRY(StmtUse stmt, db.Cached(
      "SELECT p.raw_bytes, p.dict_id, d.data FROM profiles p LEFT JOIN profile_data d ON d.id = p.id WHERE p.id = ?"));
  stmt->Bind(1, id);
  GOLENS_TRY(bool row, stmt->Step());
  if (!row) return MakeError("no stored profile " + std::to_string(id), ErrorKind::kNotFound);
  if (stmt->IsNull(2)) return MakeError("profile " + std::to_string(id) + " has no data", ErrorKind::kCorrupt);
  const int64_t raw_size = stmt->Int(0);
  std::shared_ptr<const Dictionary> dict;
  if (int64_t dict_id = stmt->Int(1); dict_id != 0) {
    auto d = GetDictionary(db, dict_id);
    if (!d.ok()) return d.error().Context("profile " + std::to_string(id));
    dict = *d;
  }
  auto raw = DecompressBlob(stmt->Blob(2), raw_size > 0 ? static_cast<uint64_t>(raw_size) : 0, dict.get());
  if (!raw.ok()) return raw.error().Context("profile " + std::to_string(id));
  return std::move(*raw);
}

Result<pprof::Profile> StoreState::LoadLocked(int64_t id) {
  GOLENS_TRY(std::string raw, LoadRawLocked(id));
  auto profile = pprof::ParsePprof(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(raw.data()), raw.size()));
  if (!profile.ok()) {
    return Error{"profile " + std::to_string(id) + ": " + profile.error().message, ErrorKind::kCorrupt, 0};
  }
  return std::move(*profile);
}

Result<std::vector<ServiceInfo>> Store::ListServices() {
  Impl& s = *impl_;
  std::lock_guard<std::mutex> lock(s.read_mu);
  auto run = [&]() -> Result<std::vector<ServiceInfo>> {
    GOLENS_TRY(StmtUse stmt, s.reader->Cached(
        "SELECT service, build_id, max(go_version), min(first_ns), max(last_ns), sum(profiles), sum(samples) "
        "FROM sources WHERE profiles > 0 GROUP BY service, build_id ORDER BY service, min(first_ns), build_id"));
    std::vector<ServiceInfo> out;
    while (true) {
      GOLENS_TRY(bool row, stmt->Step());
      if (!row) break;
      std::string service = stmt->Text(0);
      if (out.empty() || out.back().service != service) out.push_back(ServiceInfo{service, {}});
      out.back().builds.push_back(
          BuildInfo{stmt->Text(1), stmt->Text(2), stmt->Int(3), stmt->Int(4), stmt->Int(5), stmt->Int(6)});
    }
    return out;
  };
  auto out = run();
  if (!out.ok()) return s.Context(out.error());
  return out;
}

Result<std::vector<ProfileMeta>> Store::Select(const Selection& selection) {
  Impl& s = *impl_;
  std::lock_guard<std::mutex> lock(s.read_mu);
  auto rows = SelectLocked(*s.reader, selection, false);
  if (!rows.ok()) return s.Context(rows.error());
  std::vector<ProfileMeta> out;
  out.reserve(rows->size());
  for (Selected& r : *rows) out.push_back(std::move(r.meta));
  return out;
}

Result<std::vector<std::pair<std::string, std::vector<std::string>>>> Store::LabelValues(const Selection& selection,
                                                                                         size_t max_values) {
  Impl& s = *impl_;
  std::lock_guard<std::mutex> lock(s.read_mu);
  auto run = [&]() -> Result<std::vector<std::pair<std::string, std::vector<std::string>>>> {
    ReadTransaction tx(*s.reader);
    GOLENS_TRY_VOID(tx.Begin());
    GOLENS_TRY(std::vector<Selected> rows, SelectLocked(*s.reader, selection, true));
    std::unordered_map<int64_t, int64_t> counts;  // pair id -> profiles
    for (const Selected& r : rows) {
      auto ids = DecodeIds(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(r.label_ids.data()),
                                                    r.label_ids.size()));
      if (!ids.ok()) continue;  // a damaged list hides that profile's labels, nothing more
      for (int64_t id : *ids) ++counts[id];
    }
    std::map<std::string, std::vector<std::pair<int64_t, std::string>>> by_key;
    GOLENS_TRY(StmtUse pair, s.reader->Cached("SELECT key, value, wildcard FROM label_pairs WHERE id = ?"));
    for (const auto& [id, count] : counts) {
      pair->Reset();
      pair->Bind(1, id);
      GOLENS_TRY(bool row, pair->Step());
      if (!row || pair->Text(0).empty()) continue;
      auto& values = by_key[pair->Text(0)];
      if (pair->Int(2) == 0) values.emplace_back(count, pair->Text(1));
    }
    std::vector<std::pair<std::string, std::vector<std::string>>> out;
    for (auto& [key, values] : by_key) {
      std::sort(values.begin(), values.end(), [](const auto& a, const auto& b) {
        return a.first != b.first ? a.first > b.first : a.second < b.second;
      });
      std::vector<std::string> names;
      for (size_t i = 0; i < values.size() && i < max_values; ++i) names.push_back(values[i].second);
      out.emplace_back(key, std::move(names));
    }
    return out;
  };
  auto out = run();
  if (!out.ok()) return s.Context(out.error());
  return out;
}

Result<pprof::Profile> Store::Load(int64_t id) {
  Impl& s = *impl_;
  std::lock_guard<std::mutex> lock(s.read_mu);
  auto profile = s.LoadLocked(id);
  if (!profile.ok()) return s.Context(profile.error());
  return profile;
}

Result<MergeResult> Store::Merge(const Selection& selection) {
  Impl& s = *impl_;
  std::lock_guard<std::mutex> lock(s.read_mu);
  auto run = [&]() -> Result<MergeResult> {
    // One snapshot: a retention pass running meanwhile cannot pull rows
    // out from under the merge.
    ReadTransaction tx(*s.reader);
    GOLENS_TRY_VOID(tx.Begin());
    GOLENS_TRY(std::vector<Selected> rows, SelectLocked(*s.reader, selection, false));
    pprof::ProfileMerger merger;
    MergeResult result;
    for (const Selected& r : rows) {
      // Merged straight from the bytes (no Profile built per entry): this
      // is what keeps 1 h of 10 s profiles well under a second.
      auto raw = s.LoadRawLocked(r.meta.id);
      Result<void> added = raw.ok() ? merger.AddSerialized(std::span<const uint8_t>(
                                          reinterpret_cast<const uint8_t*>(raw->data()), raw->size()),
                                                            selection.tags)
                                    : Result<void>(raw.error());
      if (!added.ok()) {
        // Corrupt, or (kInvalidArgument) a sample type unit that differs
        // from the other entries': skipped and counted either way.
        if (!added.error().Is(ErrorKind::kCorrupt) && !added.error().Is(ErrorKind::kInvalidArgument)) {
          return added.error();
        }
        ++result.skipped_corrupt;
        GOLENS_LOG(kWarn) << "store " << s.dir << ": skipping entry " << r.meta.id << " (" << r.meta.service
                          << ", pid " << r.meta.pid << ", start " << r.meta.start_ns << "): " << added.error().message;
        continue;
      }
      ++result.profiles;
    }
    GOLENS_TRY(result.profile, merger.Finish());
    return result;
  };
  auto out = run();
  if (!out.ok()) return s.Context(out.error());
  return out;
}

Result<std::map<int64_t, int64_t>> Store::TaggedSampleCounts(const Selection& selection) {
  Impl& s = *impl_;
  std::lock_guard<std::mutex> lock(s.read_mu);
  auto run = [&]() -> Result<std::map<int64_t, int64_t>> {
    ReadTransaction tx(*s.reader);
    GOLENS_TRY_VOID(tx.Begin());
    GOLENS_TRY(std::vector<Selected> rows, SelectLocked(*s.reader, selection, false));
    std::map<int64_t, int64_t> counts;
    pprof::View view;
    pprof::StringTable strings;
    for (const Selected& r : rows) {
      auto raw = s.LoadRawLocked(r.meta.id);
      if (!raw.ok()) continue;
      auto bytes = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(raw->data()), raw->size());
      if (!pprof::ViewOfWire(bytes, &view, &strings).ok()) continue;
      int64_t n = 0;
      for (const pprof::VSample& sample : view.samples) {
        if (sample.val_count > 0 && pprof::ViewSampleMatches(view, sample, selection.tags)) {
          n += view.sample_vals[sample.val_begin];
        }
      }
      counts[r.meta.id] = n;
    }
    return counts;
  };
  auto out = run();
  if (!out.ok()) return s.Context(out.error());
  return out;
}

}  // namespace golens::store
