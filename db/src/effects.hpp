#pragma once
// A command's effects: the rows it changed, as an SQLite patchset (the session extension), so a
// replay can apply them instead of running the handlers again (docs/journal.md#effects).
// SQLite only; a connection is used by one thread at a time, and so are these.
#include <string>
#include <string_view>
#include <vector>

#include "redloop/engine/result.hpp"

struct sqlite3;
struct sqlite3_session;
struct sqlite3_changegroup;

namespace redloop::db {

// Whether a table's changes are effects (see the list in effects.cpp of those that are not).
bool records_table_effects(std::string_view table);

// Records every change to the tables records_table_effects() names on `db` from construction
// on. A recorder that could not start records nothing and says so (ok() false).
class EffectRecorder {
  public:
    explicit EffectRecorder(sqlite3* db);
    ~EffectRecorder();
    EffectRecorder(const EffectRecorder&) = delete;
    EffectRecorder& operator=(const EffectRecorder&) = delete;
    bool ok() const { return session_ != nullptr; }
    // The net changes so far as a patchset (primary keys and new values), base64; "" when
    // nothing changed. Rows changed and changed back (a savepoint rolled back) are not in it.
    engine::Result<std::string> patchset_base64();

  private:
    sqlite3_session* session_ = nullptr;
};

// Patchsets of consecutive commands, combined into one (a row inserted then updated becomes
// one insert) and applied in one pass: preparing the apply's statements per command cost more
// than applying.
class EffectBatch {
  public:
    EffectBatch();
    ~EffectBatch();
    EffectBatch(const EffectBatch&) = delete;
    EffectBatch& operator=(const EffectBatch&) = delete;
    // Adds one epoch's patchset (raw bytes, decode_effects), which must outlive the batch:
    // invalid_request when it is not one; false when it holds a table with another number of
    // columns than this batch does (recorded on either side of a migration), and then the batch
    // holds what it held before: apply it, then add this patchset to the next.
    engine::Result<bool> add(std::string_view patchset);
    // Applies what was added to `db`, inside the caller's transaction, and empties the batch.
    // Any conflict (a row to insert already there, a row to change missing, a constraint
    // broken) applies nothing and is an error naming the table.
    engine::Status apply(sqlite3* db);

  private:
    void reset();

    sqlite3_changegroup* group_ = nullptr;
    // What the group holds, to build it again without a patchset that stopped half-way in.
    std::vector<std::string_view> added_;
};

}  // namespace redloop::db
