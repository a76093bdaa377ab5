#pragma once
// The database: a pool of SOCI sessions (sqlite3 by default, postgresql by URL), migrations,
// and transactions. SOCI's exceptions end here: every failure leaves as an engine Error.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "redloop/db/tx.hpp"
#include "redloop/engine/result.hpp"

namespace redloop::db {

struct DatabaseOptions {
    // A file path ("var/redloop.db", "sqlite:var/redloop.db", ":memory:" for tests) or a
    // "postgresql://user@host:port/dbname" URL.
    std::string url;
    std::size_t pool_size = 4;
    int busy_timeout_ms = 5000;
    // How long a transaction waits for a free pooled connection before it gives up with
    // `unavailable` (503): a node whose connections are all busy answers instead of queueing
    // without bound.
    int pool_timeout_ms = 5000;
    // false only for scratch databases (a replay target): SQLite then skips fsync.
    bool durable = true;
    // SQLite files: time every statement the group-commit writer runs (statement_profile()).
    // A diagnostic for finding where the write path's time goes; ignored elsewhere.
    bool profile_statements = false;
};

// One statement's share of the writer's time: its SQL text, how often it ran, and the time
// from its first step to its reset, summed (so a query's time includes reading its rows).
struct StatementTiming {
    std::string sql;
    std::uint64_t runs = 0;
    std::int64_t nanoseconds = 0;
};

struct Migration {
    int version = 0;
    std::string name;
    std::string sql;
};
// The migrations compiled into the binary, in version order (db/migrations/NNNN_name.sql).
const std::vector<Migration>& builtin_migrations();

// libpq's keyword form ("user='u' host='h' port='5432' dbname='d' sslmode='require'") of a
// postgresql:// URL; invalid_request when it is malformed.
engine::Result<std::string> postgres_conninfo(const std::string& url);

class Database {
  public:
    static engine::Result<std::unique_ptr<Database>> open(const DatabaseOptions& options);
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    Dialect dialect() const;
    const std::string& description() const;  // the URL with any password removed

    // Applies the pending migrations in order, each in its own transaction with its record in
    // schema_migrations. Returns the names applied (empty when up to date).
    engine::Result<std::vector<std::string>> migrate();
    engine::Result<int> schema_version();
    // How many tables the database holds (its schema on PostgreSQL): 0 for an empty one, the
    // only kind a replay writes into.
    engine::Result<long long> table_count();
    // The writer's statements timed so far, the most time first, when opened with
    // profile_statements on an SQLite file; nullopt otherwise.
    std::optional<std::vector<StatementTiming>> statement_profile() const;
    // A round trip to the database (for /readyz).
    engine::Status ping();
    // SQLite's `PRAGMA integrity_check` over the whole file (every page, every index entry):
    // the problems it reports, empty when the database is sound. PostgreSQL checks its own
    // pages (data checksums, WAL): nothing to run here, always empty.
    engine::Result<std::vector<std::string>> integrity_check();

    // PostgreSQL: a connection of its own that LISTENs on `channel` and calls `on_notify` (on
    // a thread of its own) for every notification, and once after each reconnection (anything
    // may have been missed while it was away). Notifications are a wake-up, not data: the
    // caller reads what changed from the database. Stops when destroyed. Null on SQLite.
    class Listener {
      public:
        virtual ~Listener() = default;
        // Notifications received so far (for /metrics).
        virtual std::uint64_t received() const = 0;
    };
    engine::Result<std::unique_ptr<Listener>> listen(const std::string& channel,
                                                     std::function<void()> on_notify);

    // Transactions run again after a deadlock or a serialization failure (PostgreSQL), and
    // those that failed even so.
    struct RetryStats {
        std::uint64_t retried = 0;
        std::uint64_t gave_up = 0;
        std::uint64_t pool_timeouts = 0;  // no connection free within pool_timeout_ms
    };
    RetryStats retry_stats() const;

    // Hooks around the commit of a write transaction that noted changes (Tx::changes()):
    // `before` runs inside the transaction (an error rolls it back), `after` once it has
    // committed. Set them before the first write; they are not synchronized with writes.
    using BeforeCommit = std::function<engine::Status(Tx&)>;
    using AfterCommit = std::function<void()>;
    void set_commit_hooks(BeforeCommit before, AfterCommit after);

    // Runs `fn(Tx&) -> Result<T>` in a transaction that commits when it returns a value and
    // rolls back when it returns an error or throws; it returns only after the commit. On
    // PostgreSQL a transaction that failed with a deadlock or a serialization failure (SQLSTATE
    // 40P01, 40001) is rolled back and run again, up to 3 attempts in all, so fn must be
    // repeatable (it may run more than once; only the last run's effects remain); when every
    // attempt failed the error is `unavailable`. Writes
    // are serialized per process on SQLite (one writer at a time, BEGIN IMMEDIATE) and
    // committed in groups: concurrent writes share one transaction, each in its own savepoint,
    // run one after another by whichever caller is the writer at the time (fn may run on
    // another thread than the caller's; see set_thread_context_hooks).
    // Reads run on other connections and see committed data only (WAL).
    // Thread-local state a command relies on (which ids it records, say), carried from the
    // caller's thread to the writer thread that runs it: `capture` runs on the caller's thread,
    // `install` on the writer's around the command, returning what it replaced.
    struct ThreadContext {
        void* a = nullptr;
        void* b = nullptr;
    };
    using CaptureContext = ThreadContext (*)();
    using InstallContext = ThreadContext (*)(ThreadContext);
    void set_thread_context_hooks(CaptureContext capture, InstallContext install);

    // Bulk mode, for one caller applying many commands in a row (a journal replay into a scratch
    // database): commands commit in groups of a thousand, reads see the uncommitted ones.
    // Turning it off commits what is pending. Nothing is durable before that.
    engine::Status set_bulk(bool on);

    // Effects (SQLite files, docs/journal.md#effects): with recording on, the writer keeps an
    // SQLite session (the rows changed) across commands in epochs of a few hundred journal
    // entries; each entry written is marked "+<epoch>", and when the epoch closes its net
    // changes go on the last entry of that batch as "<epoch>:<patchset base64>;<counters>"
    // (the AUTOINCREMENT counters then), in the same transaction. A replay can then apply them
    // instead of running the commands again. Off by default (`serve` turns it on after migrating,
    // unless --journal-effects false). `epoch_entries`: journal entries per epoch (fewer: smaller
    // carriers, more schema lookups; the entries of an epoch still open when the server stops are
    // run again by a replay).
    bool records_effects() const;
    void set_effects_recording(bool on, std::size_t epoch_entries = 256);
    // Whether recorded effects can be applied here (an SQLite file with its writer).
    bool applies_effects() const;
    // Foreign keys on the group-commit writer (on by default). A replay applying recorded
    // effects turns them off: the rows were checked when they were written, and the state hash
    // checks the result. Only between transactions (SQLite ignores it inside one).
    engine::Status set_writer_foreign_keys(bool on);

    // Group commit on SQLite files: how many batches committed and commands they held. Where
    // each write commits on its own (PostgreSQL, SQLite in memory) it is a batch of one.
    struct WriteStats {
        std::uint64_t batches = 0;
        std::uint64_t commands = 0;
        std::uint64_t run_ns = 0;       // running the commands (BEGIN to the last RELEASE)
        std::uint64_t commit_ns = 0;    // in COMMIT and in the fsync of the WAL after it
        std::uint64_t checkpoints = 0;  // WAL checkpoints run by the checkpointer thread
        // Effects epochs (records_effects()) closed with a carrier, and given up without one
        // (stopped by an erasure, another process's commit, recording turned off, a failure).
        std::uint64_t effects_epochs_carried = 0;
        std::uint64_t effects_epochs_given_up = 0;
    };
    WriteStats write_stats() const;

    // The catalog's version: it moves on after every commit that changed a row a note is shown
    // with (notes, their media and tags, products, SKUs with their price and stock, merchants),
    // so a copy of a rendered note read at version v is current while the version is still v
    // (read the version first, then the rows). Tracked on SQLite, where this process is the
    // only writer; on PostgreSQL other nodes write too, and catalog_tracked() is false.
    std::uint64_t catalog_version() const;
    bool catalog_tracked() const;

    template <typename F>
    auto read(F&& fn) {
        return run_typed(false, std::forward<F>(fn));
    }
    template <typename F>
    auto write(F&& fn) {
        return run_typed(true, std::forward<F>(fn));
    }

    struct Impl;  // defined in database.cpp

  private:
    explicit Database(std::unique_ptr<Impl> impl);
    engine::Status run(bool write, const std::function<engine::Status(Tx&)>& fn);
    engine::Status run_once(soci::session& sql, std::size_t position, bool write,
                            const std::function<engine::Status(Tx&)>& fn, bool& retryable);
    engine::Status run_grouped(const std::function<engine::Status(Tx&)>& fn);
    struct Job;
    bool run_batch(const std::vector<Job*>& batch);
    engine::Status sync_wal();

    template <typename F>
    auto run_typed(bool write, F&& fn) {
        using R = std::invoke_result_t<F, Tx&>;
        std::optional<R> out;
        auto status = run(write, [&](Tx& tx) -> engine::Status {
            out.emplace(fn(tx));
            if (!out->has_value()) return engine::fail(out->error());
            return {};
        });
        if (!status) return R(engine::fail(status.error()));
        return std::move(*out);
    }

    std::unique_ptr<Impl> impl_;
};

}  // namespace redloop::db
