// Store writes: Put (one transaction per profile) and retention.
#include <limits>
#include <set>

#include "pprof/profile_io.h"
#include "pprof/store/label_index.h"
#include "pprof/store/stable_ids.h"
#include "pprof/store/store_impl.h"
#include "profiler/base/log.h"

namespace golens::store {
namespace {

Result<int64_t> SourceId(Db& db, const ProfileMeta& m) {
  GOLENS_TRY(StmtUse find, db.Cached("SELECT id FROM sources WHERE service = ? AND build_id = ? AND go_version = ? "
                                     "AND exe_path = ? AND host = ? AND container_id = ?"));
  const std::string* fields[] = {&m.service, &m.build_id, &m.go_version, &m.exe_path, &m.host, &m.container_id};
  for (int i = 0; i < 6; ++i) find->Bind(i + 1, *fields[i]);
  GOLENS_TRY(bool row, find->Step());
  if (row) return find->Int(0);
  GOLENS_TRY(StmtUse insert, db.Cached("INSERT INTO sources(service, build_id, go_version, exe_path, host, "
                                       "container_id) VALUES (?, ?, ?, ?, ?, ?)"));
  for (int i = 0; i < 6; ++i) insert->Bind(i + 1, *fields[i]);
  GOLENS_TRY_VOID(insert->Run());
  return db.LastInsertRowid();
}

Result<int64_t> LabelPairId(Db& db, const LabelPair& pair) {
  GOLENS_TRY(StmtUse find, db.Cached("SELECT id FROM label_pairs WHERE key = ? AND wildcard = ? AND value = ?"));
  find->Bind(1, pair.key);
  find->Bind(2, int64_t{pair.wildcard});
  find->Bind(3, pair.value);
  GOLENS_TRY(bool row, find->Step());
  if (row) return find->Int(0);
  GOLENS_TRY(StmtUse insert, db.Cached("INSERT INTO label_pairs(key, wildcard, value) VALUES (?, ?, ?)"));
  insert->Bind(1, pair.key);
  insert->Bind(2, int64_t{pair.wildcard});
  insert->Bind(3, pair.value);
  GOLENS_TRY_VOID(insert->Run());
  return db.LastInsertRowid();
}

// Trains a dictionary on the first profiles of (service, build) stored
// without one; 0 when it would not help (then none is stored).
Result<int64_t> TrainAndStore(StoreState& s, Db& db, const ProfileMeta& meta) {
  GOLENS_TRY(StmtUse rows, db.Cached(
      "SELECT p.raw_bytes, d.data FROM profiles p JOIN profile_data d ON d.id = p.id WHERE p.dict_id = 0 AND "
      "p.source_id IN (SELECT id FROM sources WHERE service = ? AND build_id = ?) ORDER BY p.id LIMIT ?"));
  rows->Bind(1, meta.service);
  rows->Bind(2, meta.build_id);
  rows->Bind(3, kMaxTrainingProfiles);
  std::vector<std::string> samples;
  while (true) {
    GOLENS_TRY(bool row, rows->Step());
    if (!row) break;
    auto raw = DecompressBlob(rows->Blob(1), static_cast<uint64_t>(rows->Int(0)), nullptr);
    if (raw.ok()) samples.push_back(std::move(*raw));  // a corrupt one is just not a sample
  }
  if (samples.size() < 3) return 0;
  // Trained on all but the newest two, which then judge it: a dictionary
  // is kept only when it shrinks profiles it has not seen by 10% or more.
  std::vector<std::string> held_out(std::make_move_iterator(samples.end() - 2), std::make_move_iterator(samples.end()));
  samples.resize(samples.size() - 2);
  std::string dict_bytes = TrainDictionary(samples, kDictionaryCapacity);
  auto dict = Dictionary::Create(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(dict_bytes.data()),
                                                          dict_bytes.size()),
                                 s.options.zstd_level);
  if (!dict.ok()) return 0;
  size_t plain = 0, with_dict = 0;
  for (const std::string& raw : held_out) {
    std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(raw.data()), raw.size());
    GOLENS_TRY(std::string a, CompressBlob(bytes, s.options.zstd_level, nullptr));
    GOLENS_TRY(std::string b, CompressBlob(bytes, s.options.zstd_level, dict->get()));
    plain += a.size();
    with_dict += b.size();
  }
  if (with_dict * 10 > plain * 9) return 0;
  GOLENS_TRY(StmtUse insert, db.Cached(
      "INSERT OR IGNORE INTO dictionaries(service, build_id, trained_on, data) VALUES (?, ?, ?, ?)"));
  insert->Bind(1, meta.service);
  insert->Bind(2, meta.build_id);
  insert->Bind(3, static_cast<int64_t>(samples.size()));
  insert->BindBlob(4, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(dict_bytes.data()),
                                               dict_bytes.size()));
  GOLENS_TRY_VOID(insert->Run());
  GOLENS_TRY(StmtUse find, db.Cached("SELECT id FROM dictionaries WHERE service = ? AND build_id = ?"));
  find->Bind(1, meta.service);
  find->Bind(2, meta.build_id);
  GOLENS_TRY(bool row, find->Step());
  return row ? find->Int(0) : 0;
}

// The dictionary state of (service, build), read from the database the first
// time this process sees that build.
Result<DictState> LoadDictState(Db& db, const ProfileMeta& meta, int after) {
  DictState st;
  GOLENS_TRY(StmtUse find, db.Cached("SELECT id FROM dictionaries WHERE service = ? AND build_id = ?"));
  find->Bind(1, meta.service);
  find->Bind(2, meta.build_id);
  GOLENS_TRY(bool row, find->Step());
  if (row) {
    st.dict_id = find->Int(0);
    return st;
  }
  GOLENS_TRY(StmtUse count, db.Cached("SELECT COUNT(*) FROM profiles WHERE dict_id = 0 AND source_id IN "
                                      "(SELECT id FROM sources WHERE service = ? AND build_id = ?)"));
  count->Bind(1, meta.service);
  count->Bind(2, meta.build_id);
  GOLENS_TRY(bool counted, count->Step());
  st.undictionaried = counted ? count->Int(0) : 0;
  st.next_training_at = std::max<int64_t>(after, st.undictionaried);
  return st;
}

struct Staged {
  DictState dict_state;
  int64_t new_dict_id = 0;
};

Result<int64_t> PutLocked(StoreState& s, const ProfileMeta& meta, const std::string& raw,
                          const std::vector<LabelPair>& pairs, int64_t samples, PutStats* stats, Staged* staged) {
  Db& db = *s.writer;
  GOLENS_TRY(int64_t source_id, SourceId(db, meta));

  std::shared_ptr<const Dictionary> dict;
  const int after = s.options.dictionary_after_profiles;
  if (after > 0) {
    auto key = std::make_pair(meta.service, meta.build_id);
    auto it = s.dict_states.find(key);
    if (it != s.dict_states.end()) {
      staged->dict_state = it->second;
    } else {
      GOLENS_TRY(staged->dict_state, LoadDictState(db, meta, after));
    }
    DictState& st = staged->dict_state;
    if (st.dict_id == 0 && st.undictionaried >= st.next_training_at) {
      GOLENS_TRY(int64_t id, TrainAndStore(s, db, meta));
      if (id != 0) {
        st.dict_id = id;
        staged->new_dict_id = id;
      } else {
        // Too few or too different profiles: try again on twice as many,
        // up to the most it trains on (then once per process start).
        st.next_training_at = st.undictionaried >= kMaxTrainingProfiles
                                  ? std::numeric_limits<int64_t>::max()
                                  : std::min(st.undictionaried * 2 + 1, kMaxTrainingProfiles);
      }
    }
    if (st.dict_id != 0) {
      GOLENS_TRY(dict, s.GetDictionary(db, st.dict_id));
    } else {
      ++st.undictionaried;
    }
  }

  std::span<const uint8_t> raw_bytes(reinterpret_cast<const uint8_t*>(raw.data()), raw.size());
  GOLENS_TRY(std::string blob, CompressBlob(raw_bytes, s.options.zstd_level, dict.get()));

  std::vector<int64_t> pair_ids;
  pair_ids.reserve(pairs.size());
  for (const LabelPair& pair : pairs) {
    GOLENS_TRY(int64_t id, LabelPairId(db, pair));
    pair_ids.push_back(id);
  }
  std::string label_ids = EncodeIds(pair_ids);

  GOLENS_TRY(StmtUse insert, db.Cached(
      "INSERT INTO profiles(source_id, pid, start_ns, end_ns, samples, raw_bytes, stored_bytes, dict_id, label_ids) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  insert->Bind(1, source_id);
  insert->Bind(2, meta.pid);
  insert->Bind(3, meta.start_ns);
  insert->Bind(4, meta.end_ns);
  insert->Bind(5, samples);
  insert->Bind(6, static_cast<int64_t>(raw.size()));
  insert->Bind(7, static_cast<int64_t>(blob.size()));
  insert->Bind(8, dict ? staged->dict_state.dict_id : 0);
  insert->BindBlob(9, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(label_ids.data()), label_ids.size()),
                   true);
  GOLENS_TRY_VOID(insert->Run());
  const int64_t id = db.LastInsertRowid();

  GOLENS_TRY(StmtUse data, db.Cached("INSERT INTO profile_data(id, data) VALUES (?, ?)"));
  data->Bind(1, id);
  data->BindBlob(2, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(blob.data()), blob.size()), true);
  GOLENS_TRY_VOID(data->Run());

  GOLENS_TRY(StmtUse link, db.Cached("INSERT INTO profile_labels(pair_id, profile_id) VALUES (?, ?)"));
  for (int64_t pair_id : pair_ids) {
    link->Reset();
    link->Bind(1, pair_id);
    link->Bind(2, id);
    GOLENS_TRY_VOID(link->Run());
  }

  GOLENS_TRY(StmtUse source, db.Cached(
      "UPDATE sources SET profiles = profiles + 1, samples = samples + ?2, "
      "first_ns = min(coalesce(first_ns, ?3), ?3), last_ns = max(coalesce(last_ns, ?4), ?4) WHERE id = ?1"));
  source->Bind(1, source_id);
  source->Bind(2, samples);
  source->Bind(3, meta.start_ns);
  source->Bind(4, meta.end_ns);
  GOLENS_TRY_VOID(source->Run());

  GOLENS_TRY(StmtUse gen, db.Cached(
      "UPDATE meta SET value = CASE key WHEN 'generation' THEN value + 1 ELSE max(value, ?) END "
      "WHERE key IN ('generation', 'max_span_ns')"));
  gen->Bind(1, meta.end_ns - meta.start_ns);
  GOLENS_TRY_VOID(gen->Run());

  if (stats != nullptr) {
    stats->raw_bytes = static_cast<int64_t>(raw.size());
    stats->stored_bytes = static_cast<int64_t>(blob.size());
    stats->used_dictionary = dict != nullptr;
  }
  return id;
}

}  // namespace

Result<int64_t> Store::Put(const ProfileMeta& meta, const pprof::Profile& profile, PutStats* stats) {
  Impl& s = *impl_;
  if (!s.writer) return s.Context(MakeError("opened read-only", ErrorKind::kPermissionDenied));
  if (meta.service.empty()) return s.Context(MakeError("a profile needs a service name", ErrorKind::kInvalidArgument));
  if (meta.end_ns < meta.start_ns) {
    return s.Context(MakeError("profile of " + meta.service + " ends before it starts", ErrorKind::kInvalidArgument));
  }
  auto stable = WithStableIds(profile);
  if (!stable.ok()) return s.Context(stable.error());
  auto raw = pprof::SerializePprof(*stable, /*gzip=*/false);
  if (!raw.ok()) return s.Context(raw.error());
  int64_t samples = 0;
  for (const pprof::Sample& sample : profile.samples) {
    if (!sample.values.empty()) samples += sample.values[0];
  }
  std::vector<LabelPair> pairs = ExtractLabelPairs(profile);

  std::lock_guard<std::mutex> lock(s.write_mu);
  Db& db = *s.writer;
  auto begin = db.Exec("BEGIN IMMEDIATE");
  if (!begin.ok()) return s.Context(begin.error());
  Staged staged;
  auto id = PutLocked(s, meta, *raw, pairs, samples, stats, &staged);
  if (id.ok()) {
    auto commit = db.Exec("COMMIT");
    if (!commit.ok()) id = commit.error();
  }
  if (!id.ok()) {
    // Nothing of this profile is visible; caches keep their pre-Put state
    // (a dictionary inserted by this transaction is gone with it).
    db.RollbackQuietly();
    if (staged.new_dict_id != 0) {
      std::lock_guard<std::mutex> dict_lock(s.dict_mu);
      s.dictionaries.erase(staged.new_dict_id);
    }
    return s.Context(id.error().Context("put profile of " + meta.service));
  }
  if (s.options.dictionary_after_profiles > 0) {
    s.dict_states[std::make_pair(meta.service, meta.build_id)] = staged.dict_state;
  }
  if (staged.new_dict_id != 0) {
    GOLENS_LOG(kDebug) << "store " << s.dir << ": zstd dictionary " << staged.new_dict_id << " for " << meta.service
                       << " build " << meta.build_id;
  }
  return *id;
}

Result<int64_t> Store::DeleteEndedBefore(int64_t cutoff_ns) {
  Impl& s = *impl_;
  if (!s.writer) return s.Context(MakeError("opened read-only", ErrorKind::kPermissionDenied));
  std::lock_guard<std::mutex> lock(s.write_mu);
  Db& db = *s.writer;
  GOLENS_TRY_VOID(db.Exec("BEGIN IMMEDIATE"));
  auto run = [&]() -> Result<int64_t> {
    struct Victim {
      int64_t id, source_id;
      std::vector<int64_t> pairs;
    };
    std::vector<Victim> victims;
    {
      GOLENS_TRY(StmtUse select, db.Cached("SELECT id, source_id, label_ids FROM profiles WHERE end_ns < ?"));
      select->Bind(1, cutoff_ns);
      while (true) {
        GOLENS_TRY(bool row, select->Step());
        if (!row) break;
        auto pairs = DecodeIds(select->Blob(2));
        // A corrupt id list only costs index rows left behind, never the delete.
        victims.push_back(Victim{select->Int(0), select->Int(1), pairs.ok() ? *pairs : std::vector<int64_t>{}});
      }
    }
    if (victims.empty()) return int64_t{0};
    std::set<int64_t> sources, pairs;
    GOLENS_TRY(StmtUse del_data, db.Cached("DELETE FROM profile_data WHERE id = ?"));
    GOLENS_TRY(StmtUse del_profile, db.Cached("DELETE FROM profiles WHERE id = ?"));
    GOLENS_TRY(StmtUse del_link, db.Cached("DELETE FROM profile_labels WHERE pair_id = ? AND profile_id = ?"));
    for (const Victim& v : victims) {
      del_data->Reset();
      del_data->Bind(1, v.id);
      GOLENS_TRY_VOID(del_data->Run());
      del_profile->Reset();
      del_profile->Bind(1, v.id);
      GOLENS_TRY_VOID(del_profile->Run());
      for (int64_t pair : v.pairs) {
        del_link->Reset();
        del_link->Bind(1, pair);
        del_link->Bind(2, v.id);
        GOLENS_TRY_VOID(del_link->Run());
        pairs.insert(pair);
      }
      sources.insert(v.source_id);
    }
    GOLENS_TRY(StmtUse gc_pair, db.Cached(
        "DELETE FROM label_pairs WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM profile_labels WHERE pair_id = ?1)"));
    for (int64_t pair : pairs) {
      gc_pair->Reset();
      gc_pair->Bind(1, pair);
      GOLENS_TRY_VOID(gc_pair->Run());
    }
    GOLENS_TRY(StmtUse recount, db.Cached(
        "UPDATE sources SET (profiles, samples, first_ns, last_ns) = (SELECT COUNT(*), coalesce(sum(samples), 0), "
        "min(start_ns), max(end_ns) FROM profiles WHERE source_id = ?1) WHERE id = ?1"));
    for (int64_t source : sources) {
      recount->Reset();
      recount->Bind(1, source);
      GOLENS_TRY_VOID(recount->Run());
    }
    GOLENS_TRY_VOID(db.Exec("UPDATE meta SET value = value + 1 WHERE key = 'generation'"));
    return static_cast<int64_t>(victims.size());
  };
  auto deleted = run();
  if (deleted.ok()) {
    auto commit = db.Exec("COMMIT");
    if (!commit.ok()) deleted = commit.error();
  }
  if (!deleted.ok()) {
    db.RollbackQuietly();
    return s.Context(deleted.error().Context("delete old profiles"));
  }
  if (*deleted > 0) {
    // Give the freed pages back to the file system (auto_vacuum=INCREMENTAL),
    // so the file follows the retained data instead of its peak. Failing
    // here (e.g. disk full) only delays that.
    auto vacuum = db.Exec("PRAGMA incremental_vacuum");
    if (!vacuum.ok()) {
      db.RollbackQuietly();
      GOLENS_LOG(kWarn) << "store " << s.dir << ": incremental vacuum: " << vacuum.error().message;
    }
  }
  return *deleted;
}

}  // namespace golens::store
