// Thin RAII over the SQLite C API: one connection (Db), prepared statements
// (Stmt) and SQLite result codes turned into golens errors with a kind
// (SQLITE_FULL -> kResourceExhausted, SQLITE_CORRUPT/NOTADB -> kCorrupt).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "profiler/base/result.h"

namespace golens::store {

// The error for SQLite result code `rc` on `db` ("what: message").
Error SqliteError(sqlite3* db, int rc, const std::string& what);

class Stmt {
 public:
  Stmt() = default;
  Stmt(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(Stmt&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }
  Stmt& operator=(Stmt&& o) noexcept {
    if (this != &o) {
      sqlite3_finalize(stmt_);
      db_ = o.db_;
      stmt_ = o.stmt_;
      o.stmt_ = nullptr;
    }
    return *this;
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  // Resets and clears bindings: a cached statement starts fresh on each use.
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  // Bind by 1-based index; SQLite copies text and blobs (SQLITE_TRANSIENT)
  // unless `stable` says the bytes outlive the step.
  void Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void Bind(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void BindBlob(int i, std::span<const uint8_t> v, bool stable = false) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), stable ? SQLITE_STATIC : SQLITE_TRANSIENT);
  }
  void BindNull(int i) { sqlite3_bind_null(stmt_, i); }

  // Next row: true = a row is there, false = done; errors with context.
  Result<bool> Step();
  // Steps a statement that returns no rows (INSERT/UPDATE/DELETE).
  Result<void> Run();

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string Text(int col) const {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, col)) : std::string();
  }
  // Valid until the next Step/Reset.
  std::span<const uint8_t> Blob(int col) const {
    const void* p = sqlite3_column_blob(stmt_, col);
    int n = sqlite3_column_bytes(stmt_, col);
    return p ? std::span<const uint8_t>(static_cast<const uint8_t*>(p), static_cast<size_t>(n))
             : std::span<const uint8_t>();
  }
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

// A cached statement in use: reset when it goes out of scope, so a
// half-stepped SELECT never keeps a read snapshot (and the WAL) pinned.
class StmtUse {
 public:
  explicit StmtUse(Stmt* stmt) : stmt_(stmt) {}
  ~StmtUse() {
    if (stmt_) sqlite3_reset(stmt_->get());
  }
  StmtUse(StmtUse&& o) noexcept : stmt_(o.stmt_) { o.stmt_ = nullptr; }
  StmtUse& operator=(StmtUse&&) = delete;
  StmtUse(const StmtUse&) = delete;
  StmtUse& operator=(const StmtUse&) = delete;
  Stmt* operator->() const { return stmt_; }
  Stmt& operator*() const { return *stmt_; }

 private:
  Stmt* stmt_;
};

class Db {
 public:
  // Opens (creating when `create`) the database file; read_only opens it so.
  static Result<std::unique_ptr<Db>> Open(const std::string& path, bool read_only, bool create);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  Result<Stmt> Prepare(std::string_view sql);
  // The same statement prepared once per connection and reused: reset and
  // unbound on each call. Valid while the Db lives; not re-entrant per SQL.
  Result<StmtUse> Cached(const std::string& sql);
  // Runs one or more statements without results (schema, pragmas, BEGIN...).
  Result<void> Exec(const std::string& sql);
  // First column of the first row of `sql` as an integer (pragmas, counts).
  Result<int64_t> QueryInt(const std::string& sql);
  bool InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }
  // ROLLBACK when a transaction is open; never fails loudly (used on error paths).
  void RollbackQuietly();
  int64_t LastInsertRowid() const { return sqlite3_last_insert_rowid(db_); }
  sqlite3* get() const { return db_; }
  const std::string& path() const { return path_; }

 private:
  Db(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  // Statements are finalized (cache_) before the connection is closed.
  void CloseStatements() { cache_.clear(); }
  sqlite3* db_;
  std::string path_;
  std::unordered_map<std::string, std::unique_ptr<Stmt>> cache_;
};

}  // namespace golens::store
