// Store: opening, the schema, and checks that index.db is ours.
#include <sys/stat.h>

#include <cerrno>
#include <filesystem>

#include "pprof/store/store_impl.h"

namespace golens::store {
namespace {

// PRAGMA application_id of a golens store: "glns".
constexpr int64_t kApplicationId = 0x676c6e73;
constexpr int64_t kSchemaVersion = 1;

// Profile rows hold metadata only; the compressed data lives in
// profile_data so listing and selecting never touch the big BLOBs. Strings
// shared by many profiles (service, build, paths, host) are interned in
// sources, which also keeps per-source counters for ListServices. Label
// pairs are interned in label_pairs; profile_labels is the inverted index
// (pair -> profiles) used to pre-select by --tag, and profiles.label_ids the
// forward list (for LabelValues and for deleting a profile's index rows).
constexpr const char* kSchema = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO meta VALUES ('generation', 0), ('max_span_ns', 0);
CREATE TABLE sources(
  id INTEGER PRIMARY KEY,
  service TEXT NOT NULL, build_id TEXT NOT NULL, go_version TEXT NOT NULL,
  exe_path TEXT NOT NULL, host TEXT NOT NULL, container_id TEXT NOT NULL,
  profiles INTEGER NOT NULL DEFAULT 0, samples INTEGER NOT NULL DEFAULT 0,
  first_ns INTEGER, last_ns INTEGER,
  UNIQUE(service, build_id, go_version, exe_path, host, container_id));
CREATE TABLE dictionaries(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  service TEXT NOT NULL, build_id TEXT NOT NULL,
  trained_on INTEGER NOT NULL, data BLOB NOT NULL,
  UNIQUE(service, build_id));
CREATE TABLE profiles(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  source_id INTEGER NOT NULL, pid INTEGER NOT NULL,
  start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL, samples INTEGER NOT NULL,
  raw_bytes INTEGER NOT NULL, stored_bytes INTEGER NOT NULL, dict_id INTEGER NOT NULL,
  label_ids BLOB NOT NULL);
CREATE INDEX profiles_by_source_time ON profiles(source_id, start_ns);
CREATE INDEX profiles_by_end ON profiles(end_ns);
CREATE TABLE profile_data(id INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE label_pairs(
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL, value TEXT NOT NULL, wildcard INTEGER NOT NULL,
  UNIQUE(key, wildcard, value));
CREATE TABLE profile_labels(
  pair_id INTEGER NOT NULL, profile_id INTEGER NOT NULL,
  PRIMARY KEY(pair_id, profile_id)) WITHOUT ROWID;
)sql";

Result<void> Configure(Db& db) {
  sqlite3_busy_timeout(db.get(), 5000);
  return Ok();
}

// Creates the schema in an empty database, or checks an existing one.
Result<void> InitOrCheck(Db& db, bool read_only) {
  const std::string name = db.path();
  auto not_ours = [&](const std::string& why) {
    return MakeError(name + " is not a golens store (" + why + ")", ErrorKind::kCorrupt);
  };
  // The first read of the header: a non-SQLite file fails here.
  auto app = db.QueryInt("PRAGMA application_id");
  if (!app.ok()) {
    if (app.error().Is(ErrorKind::kCorrupt)) return not_ours(app.error().message);
    return app.error();
  }
  GOLENS_TRY(int64_t tables, db.QueryInt("SELECT COUNT(*) FROM sqlite_master"));
  if (*app == 0 && tables == 0) {
    if (read_only) return MakeError(name + " is an empty database, not a golens store", ErrorKind::kCorrupt);
    // auto_vacuum must be chosen before the first table; WAL persists in the file.
    GOLENS_TRY_VOID(db.Exec("PRAGMA auto_vacuum=INCREMENTAL"));
    GOLENS_TRY_VOID(db.Exec("PRAGMA journal_mode=WAL"));
    GOLENS_TRY_VOID(db.Exec("BEGIN IMMEDIATE"));
    // Another process may have created it meanwhile.
    auto again = db.QueryInt("SELECT COUNT(*) FROM sqlite_master");
    if (!again.ok()) {
      db.RollbackQuietly();
      return again.error();
    }
    if (*again == 0) {
      auto created = db.Exec(std::string(kSchema) + "PRAGMA application_id=" + std::to_string(kApplicationId) +
                             "; PRAGMA user_version=" + std::to_string(kSchemaVersion) + ";");
      if (!created.ok()) {
        db.RollbackQuietly();
        return created.error();
      }
    }
    auto done = db.Exec("COMMIT");
    if (!done.ok()) {
      db.RollbackQuietly();
      return done.error();
    }
    GOLENS_TRY(int64_t app2, db.QueryInt("PRAGMA application_id"));
    *app = app2;
  }
  if (*app != kApplicationId) {
    return not_ours(*app == 0 ? "a SQLite database of something else"
                              : "SQLite application_id " + std::to_string(*app));
  }
  GOLENS_TRY(int64_t version, db.QueryInt("PRAGMA user_version"));
  if (version > kSchemaVersion) {
    return MakeError(name + " was written by a newer golens (store format " + std::to_string(version) +
                         ", this one reads " + std::to_string(kSchemaVersion) + ")",
                     ErrorKind::kUnsupported);
  }
  if (!read_only) {
    // Already WAL since creation; NORMAL is crash-safe for kill -9 in WAL (a
    // commit is in the WAL before it returns), and power loss may lose the
    // newest transactions but never tears one. The WAL is cut back to 4 MiB
    // after checkpoints so a burst does not keep its size forever.
    GOLENS_TRY_VOID(db.Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA journal_size_limit=4194304"));
  }
  return Ok();
}

}  // namespace

Result<std::shared_ptr<const Dictionary>> StoreState::GetDictionary(Db& db, int64_t id) {
  {
    std::lock_guard<std::mutex> lock(dict_mu);
    auto it = dictionaries.find(id);
    if (it != dictionaries.end()) return it->second;
  }
  GOLENS_TRY(Stmt stmt, db.Prepare("SELECT data FROM dictionaries WHERE id = ?"));
  stmt.Bind(1, id);
  GOLENS_TRY(bool row, stmt.Step());
  if (!row) return MakeError("dictionary " + std::to_string(id) + " is missing", ErrorKind::kCorrupt);
  auto dict = Dictionary::Create(stmt.Blob(0), options.zstd_level);
  if (!dict.ok()) return dict.error().Context("dictionary " + std::to_string(id));
  std::lock_guard<std::mutex> lock(dict_mu);
  dictionaries.emplace(id, *dict);
  return *dict;
}

Result<std::unique_ptr<Store>> Store::Open(const std::string& dir, const StoreOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  impl->options = options;
  if (dir.empty()) return MakeError("store: empty directory name", ErrorKind::kInvalidArgument);
  const std::string path = dir + "/index.db";
  if (!options.read_only) {
    // Like mkdir -p: missing parents too.
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return impl->Context(ErrnoError("mkdir " + dir, ec.value()));
  }
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return impl->Context(ErrnoError("stat " + dir));
  if (!S_ISDIR(st.st_mode)) return impl->Context(MakeError(dir + " is not a directory", ErrorKind::kInvalidArgument));
  if (options.read_only && ::stat(path.c_str(), &st) != 0) return impl->Context(ErrnoError("open " + path));

  if (!options.read_only) {
    auto writer = Db::Open(path, false, true);
    if (!writer.ok()) return impl->Context(writer.error());
    impl->writer = std::move(*writer);
    GOLENS_TRY_VOID(Configure(*impl->writer));
    auto init = InitOrCheck(*impl->writer, false);
    if (!init.ok()) return impl->Context(init.error());
  }
  auto reader = Db::Open(path, options.read_only, false);
  if (!reader.ok()) return impl->Context(reader.error());
  impl->reader = std::move(*reader);
  GOLENS_TRY_VOID(Configure(*impl->reader));
  if (options.read_only) {
    auto check = InitOrCheck(*impl->reader, true);
    if (!check.ok()) return impl->Context(check.error());
  }
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;
const std::string& Store::dir() const { return impl_->dir; }

Result<int64_t> Store::Generation() {
  std::lock_guard<std::mutex> lock(impl_->read_mu);
  auto g = impl_->reader->QueryInt("SELECT value FROM meta WHERE key = 'generation'");
  if (!g.ok()) return impl_->Context(g.error());
  return *g;
}

}  // namespace golens::store
