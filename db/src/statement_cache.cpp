#include "statement_cache.hpp"

#include <sqlite3.h>

#include <mutex>
#include <stdexcept>
#include <utility>

namespace redloop::db {

void configure_sqlite_once() {
    static std::once_flag once;
    std::call_once(once, [] {
        // SQLITE_MISUSE when SQLite was already initialized (by another user in the process):
        // it then stays serialized, which is only slower.
        sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
        // No memory statistics (nothing here reads them): with them every allocation SQLite
        // makes takes a global mutex (2 % of a replay's time).
        sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    });
}

StatementCache::Lease::Lease(Lease&& o) noexcept
    : stmt_(std::exchange(o.stmt_, nullptr)), entry_(std::exchange(o.entry_, nullptr)) {}

StatementCache::Lease& StatementCache::Lease::operator=(Lease&& o) noexcept {
    if (this != &o) {
        release();
        stmt_ = std::exchange(o.stmt_, nullptr);
        entry_ = std::exchange(o.entry_, nullptr);
    }
    return *this;
}

StatementCache::Lease::~Lease() {
    release();
}

void StatementCache::Lease::release() {
    if (!stmt_) return;
    if (entry_) {
        // Ends any read it holds (a reader left open would pin the WAL) and drops the binds.
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
        entry_->busy = false;
    } else {
        sqlite3_finalize(stmt_);
    }
    stmt_ = nullptr;
    entry_ = nullptr;
}

StatementCache::~StatementCache() {
    for (auto& [sql, e] : entries_) sqlite3_finalize(e.stmt);
}

namespace {

sqlite3_stmt* prepare(sqlite3* db, const std::string& sql, unsigned flags) {
    sqlite3_stmt* stmt = nullptr;
    const int rc =
        sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), flags, &stmt, nullptr);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(stmt);
        throw std::runtime_error(std::string(sqlite3_errmsg(db)) + " while preparing \"" +
                                 sql.substr(0, 200) + "\"");
    }
    return stmt;
}

}  // namespace

StatementCache::Lease StatementCache::acquire(const std::string& sql) {
    auto it = entries_.find(sql);
    if (it != entries_.end()) {
        if (!it->second.busy) {
            it->second.busy = true;
            return Lease(it->second.stmt, &it->second);
        }
        return Lease(prepare(db_, sql, 0), nullptr);
    }
    if (entries_.size() >= kMaxEntries) return Lease(prepare(db_, sql, 0), nullptr);
    sqlite3_stmt* stmt = prepare(db_, sql, SQLITE_PREPARE_PERSISTENT);
    auto& e = entries_[sql];
    e.stmt = stmt;
    e.busy = true;
    return Lease(stmt, &e);
}

void StatementCache::exec(const std::string& sql) {
    auto lease = acquire(sql);
    int rc = sqlite3_step(lease.get());
    while (rc == SQLITE_ROW) rc = sqlite3_step(lease.get());
    if (rc != SQLITE_DONE) throw std::runtime_error(sqlite3_errmsg(db_));
}

bool StatementCache::in_transaction() const {
    return sqlite3_get_autocommit(db_) == 0;
}

long long StatementCache::data_version() {
    auto stmt = acquire("PRAGMA data_version");
    if (sqlite3_step(stmt.get()) != SQLITE_ROW)
        throw std::runtime_error("PRAGMA data_version: " + std::string(sqlite3_errmsg(db_)));
    return sqlite3_column_int64(stmt.get(), 0);
}

}  // namespace redloop::db
