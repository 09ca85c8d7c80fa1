#include "pprof/store/sqlite_db.h"

#include <cerrno>

namespace golens::store {

Error SqliteError(sqlite3* db, int rc, const std::string& what) {
  const char* msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string text = what + ": " + (msg ? msg : sqlite3_errstr(rc));
  int err = db ? sqlite3_system_errno(db) : 0;
  switch (rc & 0xff) {
    case SQLITE_FULL:
      return Error{text, ErrorKind::kResourceExhausted, err ? err : ENOSPC};
    case SQLITE_NOMEM:
      return Error{text, ErrorKind::kResourceExhausted, ENOMEM};
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Error{text, ErrorKind::kCorrupt, 0};
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
      return Error{text, ErrorKind::kPermissionDenied, err};
    case SQLITE_CANTOPEN:
      return Error{text, err ? KindForErrno(err) : ErrorKind::kIo, err};
    case SQLITE_IOERR:
      // A write that hit ENOSPC/EDQUOT surfaces as an I/O error on some
      // paths (e.g. the WAL index); the errno says what it really was.
      return Error{text, err ? KindForErrno(err) : ErrorKind::kIo, err};
    default:
      return Error{text, ErrorKind::kFailed, err};
  }
}

Result<bool> Stmt::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  const char* sql = sqlite3_sql(stmt_);
  std::string head = sql ? std::string(sql).substr(0, 48) : "statement";
  return SqliteError(db_, rc, "sqlite (" + head + ")");
}

Result<void> Stmt::Run() {
  GOLENS_TRY(bool row, Step());
  (void)row;
  return Ok();
}

Result<std::unique_ptr<Db>> Db::Open(const std::string& path, bool read_only, bool create) {
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_NOMUTEX | (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE);
  if (create && !read_only) flags |= SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    Error e = SqliteError(raw, rc, "open " + path);
    sqlite3_close_v2(raw);
    return e;
  }
  sqlite3_extended_result_codes(raw, 1);
  return std::unique_ptr<Db>(new Db(raw, path));
}

Db::~Db() {
  CloseStatements();
  sqlite3_close_v2(db_);
}

Result<StmtUse> Db::Cached(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    GOLENS_TRY(Stmt stmt, Prepare(sql));
    it = cache_.emplace(sql, std::make_unique<Stmt>(std::move(stmt))).first;
  }
  it->second->Reset();
  return StmtUse(it->second.get());
}

Result<Stmt> Db::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt,
                              nullptr);
  if (rc != SQLITE_OK) return SqliteError(db_, rc, "sqlite prepare (" + std::string(sql.substr(0, 48)) + ")");
  return Stmt(db_, stmt);
}

Result<void> Db::Exec(const std::string& sql) {
  char* msg = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &msg);
  sqlite3_free(msg);
  if (rc != SQLITE_OK) return SqliteError(db_, rc, "sqlite (" + sql.substr(0, 48) + ")");
  return Ok();
}

Result<int64_t> Db::QueryInt(const std::string& sql) {
  GOLENS_TRY(Stmt stmt, Prepare(sql));
  GOLENS_TRY(bool row, stmt.Step());
  return row ? stmt.Int(0) : 0;
}

void Db::RollbackQuietly() {
  if (InTransaction()) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

}  // namespace golens::store
