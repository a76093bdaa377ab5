#include "effects.hpp"

// The session extension's declarations are behind these (Debian's libsqlite3 is built with it).
#ifndef SQLITE_ENABLE_SESSION
#define SQLITE_ENABLE_SESSION 1
#endif
#ifndef SQLITE_ENABLE_PREUPDATE_HOOK
#define SQLITE_ENABLE_PREUPDATE_HOOK 1
#endif
#include <sqlite3.h>

#include <fmt/format.h>

#include <cstring>

#include "base64.hpp"

namespace redloop::db {

using engine::ErrorCode;
using engine::fail;

namespace {

int records_table_cb(void*, const char* table) {
    return records_table_effects(table) ? 1 : 0;
}

struct Conflict {
    std::string what;
};

int on_conflict(void* ctx, int kind, sqlite3_changeset_iter* it) {
    const char* table = nullptr;
    int columns = 0, op = 0, indirect = 0;
    sqlite3changeset_op(it, &table, &columns, &op, &indirect);
    const char* why = kind == SQLITE_CHANGESET_CONFLICT      ? "the row to insert is already there"
                      : kind == SQLITE_CHANGESET_NOTFOUND    ? "the row to change is missing"
                      : kind == SQLITE_CHANGESET_DATA        ? "the row holds other values"
                      : kind == SQLITE_CHANGESET_CONSTRAINT  ? "a constraint would break"
                      : kind == SQLITE_CHANGESET_FOREIGN_KEY ? "a foreign key would break"
                                                             : "a conflict";
    auto& c = *static_cast<Conflict*>(ctx);
    if (c.what.empty()) {
        c.what = kind == SQLITE_CHANGESET_FOREIGN_KEY
                     ? std::string(why)
                     : fmt::format("{} ({} on {})", why,
                                   op == SQLITE_INSERT   ? "insert"
                                   : op == SQLITE_DELETE ? "delete"
                                                         : "update",
                                   table ? table : "?");
    }
    return SQLITE_CHANGESET_ABORT;
}

}  // namespace

bool records_table_effects(std::string_view table) {
    // The journal (a replay writes its own entries), the idempotency keys (operational, purged
    // after 24 h), the event log and its state (derived; a replay writes them only with
    // --event-log), the note view counters (written by view flushes, which are not journaled,
    // so entries run by a replay could not make the rows later effects change), SQLite's own.
    static constexpr std::string_view kLeftOut[] = {
        "journal",    "idempotency_keys",  "events",         "event_log_state",
        "note_stats", "schema_migrations", "sqlite_sequence"};
    for (const auto t : kLeftOut) {
        if (table == t) return false;
    }
    return true;
}

EffectRecorder::EffectRecorder(sqlite3* db) {
    if (sqlite3session_create(db, "main", &session_) != SQLITE_OK) {
        session_ = nullptr;
        return;
    }
    sqlite3session_table_filter(session_, records_table_cb, nullptr);
    if (sqlite3session_attach(session_, nullptr) != SQLITE_OK) {
        sqlite3session_delete(session_);
        session_ = nullptr;
    }
}

EffectRecorder::~EffectRecorder() {
    if (session_) sqlite3session_delete(session_);
}

engine::Result<std::string> EffectRecorder::patchset_base64() {
    if (!session_) return fail(ErrorCode::internal, "the effects of a command were not recorded");
    int n = 0;
    void* p = nullptr;
    const int rc = sqlite3session_patchset(session_, &n, &p);
    if (rc != SQLITE_OK) {
        sqlite3_free(p);
        return fail(ErrorCode::internal,
                    fmt::format("could not read a command's effects: {}", sqlite3_errstr(rc)));
    }
    std::string out =
        n > 0 ? base64_encode(static_cast<const unsigned char*>(p), static_cast<std::size_t>(n))
              : std::string();
    sqlite3_free(p);
    return out;
}

EffectBatch::EffectBatch() {
    reset();
}

EffectBatch::~EffectBatch() {
    if (group_) sqlite3changegroup_delete(group_);
}

void EffectBatch::reset() {
    if (group_) sqlite3changegroup_delete(group_);
    if (sqlite3changegroup_new(&group_) != SQLITE_OK) group_ = nullptr;
    added_.clear();
}

engine::Result<bool> EffectBatch::add(std::string_view patchset) {
    if (!group_) return fail(ErrorCode::internal, "out of memory for effects");
    if (patchset.empty()) return true;
    int rc = sqlite3changegroup_add(group_, static_cast<int>(patchset.size()),
                                    const_cast<char*>(patchset.data()));
    if (rc == SQLITE_OK) {
        added_.push_back(patchset);
        return true;
    }
    // The group now holds the tables of this patchset that came before the one that stopped it:
    // built again from what was added before. (A patchset that does not parse fails the whole
    // apply, so the batch is dropped anyway: it needs no rebuild.)
    if (rc == SQLITE_SCHEMA) {
        auto before = std::move(added_);
        reset();
        for (const auto p : before) {
            if (!group_ || sqlite3changegroup_add(group_, static_cast<int>(p.size()),
                                                  const_cast<char*>(p.data())) != SQLITE_OK)
                return fail(ErrorCode::internal, "could not combine effects again");
            added_.push_back(p);
        }
        return false;
    }
    return fail(ErrorCode::invalid_request,
                fmt::format("effects are not a patchset: {}", sqlite3_errstr(rc)));
}

engine::Status EffectBatch::apply(sqlite3* db) {
    if (!group_) return fail(ErrorCode::internal, "out of memory for effects");
    int n = 0;
    void* p = nullptr;
    int rc = sqlite3changegroup_output(group_, &n, &p);
    reset();
    if (rc != SQLITE_OK) {
        sqlite3_free(p);
        return fail(ErrorCode::internal,
                    fmt::format("could not combine effects: {}", sqlite3_errstr(rc)));
    }
    if (n == 0) {
        sqlite3_free(p);
        return {};
    }
    Conflict conflict;
    // The rows passed their CHECK constraints when the commands wrote them; checking them again
    // was a fifth of applying (an `x IN (...)` builds a temporary b-tree per row). The final
    // state hash checks what was applied.
    sqlite3_exec(db, "PRAGMA ignore_check_constraints=ON", nullptr, nullptr, nullptr);
    rc = sqlite3changeset_apply(db, n, p, nullptr, on_conflict, &conflict);
    sqlite3_exec(db, "PRAGMA ignore_check_constraints=OFF", nullptr, nullptr, nullptr);
    sqlite3_free(p);
    if (rc != SQLITE_OK) {
        return fail(ErrorCode::conflict,
                    conflict.what.empty()
                        ? fmt::format("could not apply effects: {}", sqlite3_errmsg(db))
                        : "the effects do not fit the database: " + conflict.what);
    }
    return {};
}

}  // namespace redloop::db
