#include "redloop/db/database.hpp"

#include <fmt/format.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>

#include "soci_util.hpp"
#include "statement_cache.hpp"

namespace redloop::db {

using engine::ErrorCode;
using engine::fail;

struct Database::Impl {
    Dialect dialect = Dialect::sqlite;
    std::string description;
    std::size_t size = 0;
    std::unique_ptr<soci::connection_pool> pool;
    // SQLite: each pooled connection's prepared statements, by pool position.
    std::vector<std::unique_ptr<StatementCache>> statements;
    // SQLite has one writer at a time: taking turns here avoids busy-waiting on its file lock
    // (the per-call path: PostgreSQL, and SQLite in memory).
    std::mutex write_mutex;
    // SQLite on a file: group commit on a connection of its own (see Database::run_grouped).
    std::unique_ptr<soci::session> writer;
    std::unique_ptr<StatementCache> writer_statements;
    std::mutex turn;              // held while a command runs or a batch commits
    std::atomic<int> waiting{0};  // callers waiting for their turn
    bool batch_open = false;      // under `turn`
    bool batch_changed = false;   // under `turn`
    std::size_t batch_size = 0;   // under `turn`
    struct Batch {
        bool done = false;                   // under done_mutex
        std::optional<engine::Error> error;  // why the batch failed, under done_mutex
    };
    std::shared_ptr<Batch> batch;  // the open one, under `turn`
    std::mutex done_mutex;
    std::condition_variable done_cv;
    std::size_t max_batch = 256;
    std::atomic<std::uint64_t> batches{0}, grouped{0};
    Database::BeforeCommit before_commit;
    Database::AfterCommit after_commit;
};

namespace {

bool starts_with(const std::string& s, std::string_view p) {
    return s.rfind(p, 0) == 0;
}

std::string redact(const std::string& url) {
    // postgresql://user:secret@host/db -> postgresql://user:***@host/db
    const auto scheme = url.find("://");
    const auto at = url.find('@');
    if (scheme == std::string::npos || at == std::string::npos) return url;
    const auto colon = url.find(':', scheme + 3);
    if (colon == std::string::npos || colon > at) return url;
    return url.substr(0, colon + 1) + "***" + url.substr(at);
}

engine::Status open_session(soci::session& s, Dialect dialect, const std::string& conn,
                            int busy_timeout_ms, bool durable) {
    if (dialect == Dialect::sqlite) {
        s.open(soci::sqlite3, conn);
        // WAL with synchronous=FULL: an acknowledged write survives power loss.
        s << "PRAGMA journal_mode=WAL";
        s << (durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=OFF");
        s << "PRAGMA foreign_keys=ON";
        // Pages read through a shared memory map instead of a read() per page: in WAL mode a
        // connection drops its page cache whenever another one has committed, which is often.
        s << "PRAGMA mmap_size=1073741824";
        s << "PRAGMA busy_timeout=" + std::to_string(busy_timeout_ms);
    } else {
        s.open(soci::postgresql, conn);
    }
    return {};
}

// Splits a migration into statements: each ends with ';' at the end of a line.
std::vector<std::string> split_statements(const std::string& sql) {
    std::vector<std::string> out;
    std::string current;
    std::size_t pos = 0;
    while (pos < sql.size()) {
        auto eol = sql.find('\n', pos);
        if (eol == std::string::npos) eol = sql.size();
        std::string line = sql.substr(pos, eol - pos);
        pos = eol + 1;
        const auto first = line.find_first_not_of(" \t\r");
        if (first == std::string::npos || line.compare(first, 2, "--") == 0) continue;
        current += line;
        current += '\n';
        const auto last = line.find_last_not_of(" \t\r");
        if (line[last] == ';') {
            out.push_back(current);
            current.clear();
        }
    }
    if (current.find_first_not_of(" \t\r\n") != std::string::npos) out.push_back(current);
    return out;
}

std::string apply_dialect(std::string sql, Dialect d) {
    const std::string token = "{{SEQ_PK}}";
    const std::string repl =
        d == Dialect::sqlite ? "INTEGER PRIMARY KEY AUTOINCREMENT" : "BIGSERIAL PRIMARY KEY";
    for (auto p = sql.find(token); p != std::string::npos; p = sql.find(token, p)) {
        sql.replace(p, token.size(), repl);
    }
    return sql;
}

std::int64_t wall_clock_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

Database::Database(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Database::~Database() = default;

Dialect Database::dialect() const {
    return impl_->dialect;
}
const std::string& Database::description() const {
    return impl_->description;
}

engine::Result<std::unique_ptr<Database>> Database::open(const DatabaseOptions& options) {
    auto impl = std::make_unique<Impl>();
    std::string conn;
    const std::string& url = options.url;
    if (url.empty()) return fail(ErrorCode::invalid_request, "no database given (--db)");
    std::size_t size = options.pool_size == 0 ? 1 : options.pool_size;
    if (starts_with(url, "postgresql://") || starts_with(url, "postgres://")) {
        impl->dialect = Dialect::postgresql;
        conn = url;
    } else {
        impl->dialect = Dialect::sqlite;
        std::string path = starts_with(url, "sqlite:") ? url.substr(7) : url;
        if (path.find_first_of(" \t\"'") != std::string::npos) {
            return fail(ErrorCode::invalid_request,
                        "the SQLite path must not contain spaces or quotes: " + path);
        }
        if (path == ":memory:") size = 1;  // each connection would be a separate database
        const int timeout_s = std::max(1, options.busy_timeout_ms / 1000);
        conn = fmt::format("db={} timeout={}", path, timeout_s);
    }
    impl->description = redact(url);
    impl->size = size;
    impl->pool = std::make_unique<soci::connection_pool>(size);
    try {
        for (std::size_t i = 0; i < size; ++i) {
            auto st = open_session(impl->pool->at(i), impl->dialect, conn, options.busy_timeout_ms,
                                   options.durable);
            if (!st) return fail(st.error());
            if (impl->dialect == Dialect::sqlite) {
                auto* backend =
                    static_cast<soci::sqlite3_session_backend*>(impl->pool->at(i).get_backend());
                impl->statements.push_back(
                    std::make_unique<StatementCache>(reinterpret_cast<::sqlite3*>(backend->conn_)));
            }
        }
        if (impl->dialect == Dialect::sqlite && conn.find("db=:memory:") == std::string::npos) {
            impl->writer = std::make_unique<soci::session>();
            auto st = open_session(*impl->writer, impl->dialect, conn, options.busy_timeout_ms,
                                   options.durable);
            if (!st) return fail(st.error());
            auto* backend =
                static_cast<soci::sqlite3_session_backend*>(impl->writer->get_backend());
            impl->writer_statements =
                std::make_unique<StatementCache>(reinterpret_cast<::sqlite3*>(backend->conn_));
        }
    } catch (const std::exception& e) {
        return fail(ErrorCode::internal,
                    fmt::format("cannot open database {}: {}", impl->description, e.what()));
    }
    return std::unique_ptr<Database>(new Database(std::move(impl)));
}

namespace {

// A pooled connection for the length of one transaction.
class Lease {
  public:
    explicit Lease(soci::connection_pool& pool) : pool_(pool), pos_(pool.lease()) {}
    ~Lease() { pool_.give_back(pos_); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    soci::session& session() { return pool_.at(pos_); }
    std::size_t position() const { return pos_; }

  private:
    soci::connection_pool& pool_;
    std::size_t pos_;
};

}  // namespace

engine::Status Database::run(bool write, const std::function<engine::Status(Tx&)>& fn) {
    if (write && impl_->writer) return run_grouped(fn);
    Lease lease(*impl_->pool);
    soci::session& sql = lease.session();
    std::unique_lock<std::mutex> writer(impl_->write_mutex, std::defer_lock);
    const bool sqlite = impl_->dialect == Dialect::sqlite;
    StatementCache* statements = sqlite ? impl_->statements.at(lease.position()).get() : nullptr;
    // Transaction control through the statement cache on SQLite (no re-parsing), SOCI otherwise.
    auto exec = [&](const char* stmt) {
        if (statements) {
            statements->exec(stmt);
        } else {
            sql << stmt;
        }
    };
    if (write && sqlite) writer.lock();
    bool open = false;
    try {
        if (sqlite) {
            exec(write ? "BEGIN IMMEDIATE" : "BEGIN");
        } else {
            exec(write ? "BEGIN" : "BEGIN READ ONLY");
        }
        open = true;
        Tx tx(sql, impl_->dialect, statements);
        auto status = fn(tx);
        const bool changed = write && !tx.changes().empty();
        if (status && changed && impl_->before_commit) status = impl_->before_commit(tx);
        if (!status) {
            exec("ROLLBACK");
            return status;
        }
        exec("COMMIT");
        open = false;
        if (changed && impl_->after_commit) {
            if (writer.owns_lock()) writer.unlock();
            try {
                impl_->after_commit();
            } catch (const std::exception&) {  // committed: a failed wake-up loses nothing
            }
        }
        return {};
    } catch (const std::exception& e) {
        if (open) {
            try {
                exec("ROLLBACK");
            } catch (const std::exception&) {  // the connection may be gone; the pool reopens it
            }
        }
        return fail(classify_exception(e));
    }
}

// Group commit. Writers take turns on the writer connection; each runs in a savepoint of the
// open batch transaction, on its own thread, so a failure rolls back only its own changes. A
// writer that finds others waiting leaves the batch open for them and waits for the COMMIT;
// the last one in line (or the one that fills the batch) commits for all: one fsync for the
// batch. Nobody is answered before the COMMIT that makes their change durable, and a batch
// that fails to commit fails every command in it.
engine::Status Database::run_grouped(const std::function<engine::Status(Tx&)>& fn) {
    Impl& d = *impl_;
    StatementCache& st = *d.writer_statements;
    ++d.waiting;
    std::unique_lock turn(d.turn);
    --d.waiting;
    engine::Status status;
    std::shared_ptr<Impl::Batch> mine;
    bool aborted = false;  // the batch transaction is gone (SQLite rolled it back)
    try {
        if (!d.batch_open) {
            st.exec("BEGIN IMMEDIATE");
            d.batch_open = true;
            d.batch_changed = false;
            d.batch_size = 0;
            d.batch = std::make_shared<Impl::Batch>();
        }
        mine = d.batch;
        st.exec("SAVEPOINT command");
        try {
            Tx tx(*d.writer, d.dialect, &st);
            status = fn(tx);
            const bool changed = !tx.changes().empty();
            if (status && changed && d.before_commit) status = d.before_commit(tx);
            if (status && changed) d.batch_changed = true;
        } catch (const std::exception& e) {
            status = fail(classify_exception(e));
        }
        if (!status) st.exec("ROLLBACK TO command");
        st.exec("RELEASE command");
    } catch (const std::exception& e) {
        if (status) status = fail(classify_exception(e));
        aborted = true;
    }
    if (!aborted && d.batch_open && !st.in_transaction()) aborted = true;
    ++d.batch_size;
    ++d.grouped;
    const bool commit = aborted || d.waiting.load() == 0 || d.batch_size >= d.max_batch;
    if (!commit) {
        turn.unlock();
        std::unique_lock lock(d.done_mutex);
        d.done_cv.wait(lock, [&] { return mine->done; });
        if (mine->error) return fail(*mine->error);
        return status;
    }
    std::optional<engine::Error> batch_error;
    if (aborted) {
        batch_error = engine::Error{ErrorCode::internal,
                                    "the write batch was rolled back by the database" +
                                        (status ? std::string() : ": " + status.error().detail)};
        try {
            if (st.in_transaction()) st.exec("ROLLBACK");
        } catch (const std::exception&) {  // nothing more to undo
        }
    } else {
        try {
            st.exec("COMMIT");
        } catch (const std::exception& e) {
            batch_error = classify_exception(e);
            batch_error->code = ErrorCode::internal;
            try {
                if (st.in_transaction()) st.exec("ROLLBACK");
            } catch (const std::exception&) {
            }
        }
    }
    const bool changed = d.batch_changed && !batch_error;
    d.batch_open = false;
    ++d.batches;
    {
        std::lock_guard lock(d.done_mutex);
        if (mine) {
            mine->done = true;
            mine->error = batch_error;
        }
    }
    d.done_cv.notify_all();
    turn.unlock();
    if (changed && d.after_commit) {
        try {
            d.after_commit();
        } catch (const std::exception&) {  // committed: a failed wake-up loses nothing
        }
    }
    if (batch_error) return fail(*batch_error);
    return status;
}

Database::WriteStats Database::write_stats() const {
    return WriteStats{impl_->batches.load(), impl_->grouped.load()};
}

void Database::set_commit_hooks(BeforeCommit before, AfterCommit after) {
    impl_->before_commit = std::move(before);
    impl_->after_commit = std::move(after);
}

engine::Status Database::ping() {
    return run(false, [](Tx& tx) -> engine::Status {
        int one = 0;
        tx.sql() << "SELECT 1", soci::into(one);
        if (one != 1) return fail(ErrorCode::internal, "SELECT 1 did not return 1");
        return {};
    });
}

engine::Result<int> Database::schema_version() {
    return read([](Tx& tx) -> engine::Result<int> {
        int version = 0;
        soci::indicator ind = soci::i_null;
        tx.sql() << "SELECT MAX(version) FROM schema_migrations", soci::into(version, ind);
        return ind == soci::i_ok ? version : 0;
    });
}

engine::Result<std::vector<std::string>> Database::migrate() {
    auto created = write([](Tx& tx) -> engine::Result<bool> {
        tx.sql() << "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                    "name TEXT NOT NULL, applied_at BIGINT NOT NULL)";
        return true;
    });
    if (!created) return fail(created.error());
    std::vector<std::string> applied;
    for (const auto& m : builtin_migrations()) {
        auto done = write([&](Tx& tx) -> engine::Result<bool> {
            int current = 0;
            soci::indicator ind = soci::i_null;
            tx.sql() << "SELECT MAX(version) FROM schema_migrations", soci::into(current, ind);
            if (ind == soci::i_ok && current >= m.version) return false;
            for (const auto& stmt : split_statements(apply_dialect(m.sql, impl_->dialect))) {
                tx.sql() << stmt;
            }
            const long long at = wall_clock_ms();
            tx.sql() << "INSERT INTO schema_migrations (version, name, applied_at) "
                        "VALUES (:v, :n, :a)",
                soci::use(m.version), soci::use(m.name), soci::use(at);
            return true;
        });
        if (!done) {
            return fail(ErrorCode::internal,
                        fmt::format("migration {} failed: {}", m.name, done.error().detail));
        }
        if (*done) applied.push_back(m.name);
    }
    return applied;
}

}  // namespace redloop::db
