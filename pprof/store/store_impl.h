// Store internals shared by store.cc (open, schema), store_write.cc (Put,
// retention) and store_read.cc (list, select, load, merge). Not an API.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "pprof/store/blob_codec.h"
#include "pprof/store/sqlite_db.h"
#include "pprof/store/store.h"

namespace golens::store {

// What a writer knows about the dictionary of one (service, build).
struct DictState {
  int64_t dict_id = 0;            // 0 = none (yet)
  int64_t undictionaried = 0;     // profiles of this build stored without one
  int64_t next_training_at = 0;   // train when undictionaried reaches this
};

// Dictionary bytes cap: a few string tables' worth.
inline constexpr size_t kDictionaryCapacity = 64 * 1024;
// Train on at most this many profiles.
inline constexpr int64_t kMaxTrainingProfiles = 32;

// Everything a Store holds (Store::Impl is this, under its private name).
struct StoreState {
  std::string dir;
  StoreOptions options;

  std::mutex write_mu;  // writer connection, its statements, dict_states
  std::unique_ptr<Db> writer;  // null when read-only
  std::map<std::pair<std::string, std::string>, DictState> dict_states;

  std::mutex read_mu;  // reader connection
  std::unique_ptr<Db> reader;

  std::mutex dict_mu;  // loaded dictionaries by id (both connections)
  std::unordered_map<int64_t, std::shared_ptr<const Dictionary>> dictionaries;

  // The dictionary with `id` through `db` (cached); kCorrupt when missing or bad.
  Result<std::shared_ptr<const Dictionary>> GetDictionary(Db& db, int64_t id);
  // One stored profile's raw profile.proto bytes, through the reader (read_mu held).
  Result<std::string> LoadRawLocked(int64_t id);
  // The same decoded into a Profile.
  Result<pprof::Profile> LoadLocked(int64_t id);
  // Store errors name the store: "store DIR: ...".
  Error Context(const Error& e) const { return e.Context("store " + dir); }
};

struct Store::Impl : StoreState {};

}  // namespace golens::store
