#pragma once
// Prepared SQLite statements kept per connection and reused: parsing SQL text was about 40 % of
// a write's CPU time before (docs/performance.md). One connection is used by one thread at a
// time (the pool's lease), so the cache needs no lock.
#include <cstddef>
#include <string>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace redloop::db {

// Puts SQLite in multi-thread mode (no mutex on every call) before the first connection opens:
// a connection, and its statements, is only ever used by one thread at a time here (the pool's
// lease, the group commit's single writer). Later calls do nothing.
void configure_sqlite_once();

class StatementCache {
    struct Entry {
        sqlite3_stmt* stmt = nullptr;
        bool busy = false;
    };

  public:
    // A statement in use; reset and handed back (or finalized when not cached) on destruction.
    class Lease {
      public:
        Lease() = default;
        Lease(Lease&& o) noexcept;
        Lease& operator=(Lease&& o) noexcept;
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        ~Lease();
        sqlite3_stmt* get() const { return stmt_; }
        explicit operator bool() const { return stmt_ != nullptr; }

      private:
        friend class StatementCache;
        Lease(sqlite3_stmt* stmt, Entry* entry) : stmt_(stmt), entry_(entry) {}
        void release();
        sqlite3_stmt* stmt_ = nullptr;
        Entry* entry_ = nullptr;  // null: owned, finalized on release
    };

    explicit StatementCache(sqlite3* db) : db_(db) {}
    ~StatementCache();
    StatementCache(const StatementCache&) = delete;
    StatementCache& operator=(const StatementCache&) = delete;

    sqlite3* db() const { return db_; }
    // The prepared statement for `sql`: the cached one, or a fresh one when that is in use
    // (a query run inside another's fetch loop) or the cache is full. Throws
    // std::runtime_error with SQLite's message when the SQL does not prepare.
    Lease acquire(const std::string& sql);
    // Runs a statement without results (BEGIN IMMEDIATE, COMMIT, SAVEPOINT ...).
    void exec(const std::string& sql);
    std::size_t size() const { return entries_.size(); }
    // True while a transaction is open on the connection.
    bool in_transaction() const;
    // PRAGMA data_version: it changes when another connection commits to the file.
    long long data_version();

  private:
    static constexpr std::size_t kMaxEntries = 512;  // statements built from varying text
    sqlite3* db_;
    std::unordered_map<std::string, Entry> entries_;
};

}  // namespace redloop::db
