#include "redloop/db/database.hpp"

#include <fmt/format.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <fcntl.h>
#include <libpq-fe.h>
#include <openssl/rand.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include "effects.hpp"
#include "soci_util.hpp"
#include "statement_cache.hpp"
#include "statement_profile.hpp"

namespace redloop::db {

using engine::ErrorCode;
using engine::fail;

// A command waiting for the group commit (see run_grouped).
struct Database::Job {
    const std::function<engine::Status(Tx&)>* fn = nullptr;
    Database::ThreadContext context;
    engine::Status status;
    bool done = false;  // under Impl::queue_mutex
    bool lead = false;  // under Impl::queue_mutex: this caller becomes the writer
    std::condition_variable cv;
};

// Per SQLite connection: whether its open transaction wrote a catalog row (set by SQLite's
// update hook on the connection's thread, read after COMMIT by the same thread).
struct CatalogWatch {
    bool dirty = false;
};

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
    // SQLite on a file, with DatabaseOptions::profile_statements: the writer's statements timed.
    // Declared before the writer, so it outlives the connection whose hooks point at it.
    std::unique_ptr<StatementProfile> profile;
    // SQLite on a file: group commit on a connection of its own (see Database::run_grouped).
    std::unique_ptr<soci::session> writer;
    std::unique_ptr<StatementCache> writer_statements;
    std::mutex queue_mutex;
    std::deque<Job*> queue;      // under queue_mutex
    bool writer_active = false;  // under queue_mutex
    // Durable group commit: the writer commits with synchronous=NORMAL (no fsync in COMMIT) and
    // the batch's writer then fsyncs the WAL itself, after handing the writer role on, so the
    // next batch runs while this one reaches the disk. Callers are answered after the fsync.
    bool sync_wal = false;
    std::string wal_path;
    int wal_fd = -1;  // opened on first use, under wal_mutex
    std::mutex wal_mutex;
    // Bulk mode (a replay): one caller, commits every kBulkCommands commands; reads go to the
    // writer connection so they see what is not committed yet.
    std::atomic<bool> bulk{false};
    std::size_t bulk_pending = 0;             // by the writer
    std::atomic<bool> record_effects{false};  // see records_effects()
    // The open effects epoch (run_batch), used by the writer only.
    std::unique_ptr<EffectRecorder> epoch;
    std::string epoch_id;
    std::size_t epoch_entries = 0;  // journal entries written in it
    // Entries at which it closes. Not one per command: a session's first change to each table
    // looks the table up in the schema, which per command cost more than the command itself.
    std::atomic<std::size_t> epoch_size{256};
    bool epoch_abandoned = false;
    long long epoch_data_version = 0;  // when it began
    Database::CaptureContext capture = nullptr;
    Database::InstallContext install = nullptr;
    std::size_t max_batch = 256;
    std::atomic<std::uint64_t> batches{0}, grouped{0};
    std::atomic<std::uint64_t> run_ns{0}, commit_ns{0};  // time running commands, committing
    Database::BeforeCommit before_commit;
    Database::AfterCommit after_commit;
    std::vector<std::unique_ptr<CatalogWatch>> watches;  // by pool position (SQLite)
    CatalogWatch writer_watch;
    std::atomic<std::uint64_t> catalog_version{0};
    // Checkpoints of the WAL into the database file run on a thread and connection of their
    // own, woken by the writer's commits once the WAL holds kCheckpointFrames pages, so the
    // writer never copies pages or fsyncs the database file itself (SQLite's automatic
    // checkpoint would, inside a COMMIT).
    static constexpr int kCheckpointFrames = 1000;
    std::unique_ptr<soci::session> checkpointer;
    std::thread checkpoint_thread;
    std::mutex checkpoint_mutex;
    std::condition_variable checkpoint_cv;
    bool checkpoint_due = false;   // under checkpoint_mutex
    bool checkpoint_stop = false;  // under checkpoint_mutex
    std::atomic<std::uint64_t> checkpoints{0};
    // Effects epochs closed with a carrier, and given up without one (write_stats()).
    std::atomic<std::uint64_t> epochs_carried{0};
    std::atomic<std::uint64_t> epochs_given_up{0};
    // PostgreSQL: the connection string (for listeners), retries and pool waits.
    std::string conninfo;
    int pool_timeout_ms = 5000;
    std::atomic<std::uint64_t> retried{0}, gave_up{0}, pool_timeouts{0};

    // After a commit (or a rollback: harmless) on a connection that wrote catalog rows.
    void catalog_committed(CatalogWatch& w) {
        if (!w.dirty) return;
        w.dirty = false;
        catalog_version.fetch_add(1, std::memory_order_acq_rel);
    }
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

}  // namespace

// libpq's keyword form of a postgresql:// URL (SOCI passes its connect string through its own
// parser, which reads a URL's path as a keyword): user, password, host, port, dbname and the
// query's parameters (sslmode=..., connect_timeout=...), each value percent-decoded and quoted.
engine::Result<std::string> postgres_conninfo(const std::string& url) {
    const auto scheme_end = url.find("://");
    std::string rest = url.substr(scheme_end + 3);
    std::string query;
    if (const auto q = rest.find('?'); q != std::string::npos) {
        query = rest.substr(q + 1);
        rest.resize(q);
    }
    std::string authority = rest, dbname;
    if (const auto slash = rest.find('/'); slash != std::string::npos) {
        authority = rest.substr(0, slash);
        dbname = rest.substr(slash + 1);
    }
    std::string userinfo, hostport = authority;
    if (const auto at = authority.rfind('@'); at != std::string::npos) {
        userinfo = authority.substr(0, at);
        hostport = authority.substr(at + 1);
    }
    auto decode = [](const std::string& in) -> std::optional<std::string> {
        std::string out;
        for (std::size_t i = 0; i < in.size(); ++i) {
            if (in[i] != '%') {
                out.push_back(in[i]);
                continue;
            }
            if (i + 2 >= in.size() || !std::isxdigit(static_cast<unsigned char>(in[i + 1])) ||
                !std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
                return std::nullopt;
            }
            out.push_back(static_cast<char>(std::stoi(in.substr(i + 1, 2), nullptr, 16)));
            i += 2;
        }
        return out;
    };
    std::vector<std::pair<std::string, std::string>> kv;
    auto add = [&](const std::string& key, const std::string& raw) -> bool {
        if (raw.empty()) return true;
        auto v = decode(raw);
        if (!v) return false;
        kv.emplace_back(key, *v);
        return true;
    };
    bool ok = true;
    if (!userinfo.empty()) {
        const auto colon = userinfo.find(':');
        ok &= add("user", userinfo.substr(0, colon));
        if (colon != std::string::npos) ok &= add("password", userinfo.substr(colon + 1));
    }
    std::string host = hostport, port;
    if (!hostport.empty() && hostport.front() == '[') {  // [::1]:5432
        const auto close = hostport.find(']');
        host = hostport.substr(1, close == std::string::npos ? std::string::npos : close - 1);
        if (close != std::string::npos && close + 1 < hostport.size() && hostport[close + 1] == ':')
            port = hostport.substr(close + 2);
    } else if (const auto colon = hostport.rfind(':'); colon != std::string::npos) {
        host = hostport.substr(0, colon);
        port = hostport.substr(colon + 1);
    }
    ok &= add("host", host);
    ok &= add("port", port);
    ok &= add("dbname", dbname);
    for (std::size_t pos = 0; pos < query.size();) {
        auto amp = query.find('&', pos);
        if (amp == std::string::npos) amp = query.size();
        const std::string pair = query.substr(pos, amp - pos);
        pos = amp + 1;
        const auto eq = pair.find('=');
        if (eq == std::string::npos || eq == 0) {
            ok = false;
            break;
        }
        ok &= add(pair.substr(0, eq), pair.substr(eq + 1));
    }
    if (!ok) return fail(ErrorCode::invalid_request, "malformed PostgreSQL URL: " + redact(url));
    std::string out;
    for (const auto& [k, v] : kv) {
        std::string quoted;
        for (char c : v) {
            if (c == '\\' || c == '\'') quoted.push_back('\\');
            quoted.push_back(c);
        }
        out += (out.empty() ? "" : " ") + k + "='" + quoted + "'";
    }
    return out;
}

namespace {

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
        // 2 GiB, the most SQLite maps (a million orders take about 2.6 GB).
        s << "PRAGMA mmap_size=2147418112";
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

// The dialect's text for a migration's tokens:
//   {{SEQ_PK}}                      the auto-increment key column;
//   {{KEEP_SEQ new_table old_table}} on its own line, after a table was built again under its
//                                   old name: new seq values continue after every value the
//                                   old table ever gave out (rows removed since included), so
//                                   a position someone remembers (a stream's after_seq) never
//                                   comes round again. Before the old table is dropped.
std::string apply_dialect(std::string sql, Dialect d) {
    const std::string token = "{{SEQ_PK}}";
    const std::string repl =
        d == Dialect::sqlite ? "INTEGER PRIMARY KEY AUTOINCREMENT" : "BIGSERIAL PRIMARY KEY";
    for (auto p = sql.find(token); p != std::string::npos; p = sql.find(token, p)) {
        sql.replace(p, token.size(), repl);
    }
    const std::string keep = "{{KEEP_SEQ ";
    for (auto p = sql.find(keep); p != std::string::npos; p = sql.find(keep, p)) {
        const auto end = sql.find("}}", p);
        assert(end != std::string::npos && "an unclosed {{KEEP_SEQ");
        const std::string args = sql.substr(p + keep.size(), end - p - keep.size());
        const auto space = args.find(' ');
        const std::string table = args.substr(0, space), old = args.substr(space + 1);
        const std::string text =
            d == Dialect::sqlite
                ? "DELETE FROM sqlite_sequence WHERE name = '" + table +
                      "';\nINSERT INTO sqlite_sequence (name, seq) SELECT '" + table +
                      "', seq FROM sqlite_sequence WHERE name = '" + old + "';"
                // is_called false: the next nextval() returns this value itself, as SQLite's
                // next seq is sqlite_sequence + 1 (true skipped one: a fresh database's
                // event log started at seq 2).
                : "SELECT setval(pg_get_serial_sequence('" + table +
                      "', 'seq'), GREATEST(nextval(pg_get_serial_sequence('" + old +
                      "', 'seq')), (SELECT COALESCE(MAX(seq), 0) + 1 FROM " + table + ")), false);";
        sql.replace(p, end + 2 - p, text);
    }
    return sql;
}

// The writer's page cache outside bulk mode, in KiB (negative: a size, not a page count).
constexpr int kWriterCacheKiB = -65536;

// The tables a rendered note is made of (see Database::catalog_version).
void on_row_changed(void* arg, int /*op*/, const char* /*db*/, const char* table,
                    sqlite_api::sqlite3_int64 /*rowid*/) {
    static constexpr std::string_view kCatalog[] = {
        "notes", "note_media", "note_skus", "products", "product_media", "skus", "merchants"};
    const std::string_view t(table);
    for (auto c : kCatalog) {
        if (t == c) {
            static_cast<CatalogWatch*>(arg)->dirty = true;
            return;
        }
    }
}

// The writer's commits: wake the checkpointer once the WAL is long enough.
int on_wal_commit(void* arg, sqlite_api::sqlite3* /*db*/, const char* /*name*/, int frames) {
    auto* d = static_cast<Database::Impl*>(arg);
    if (frames >= Database::Impl::kCheckpointFrames) {
        {
            std::lock_guard lock(d->checkpoint_mutex);
            d->checkpoint_due = true;
        }
        d->checkpoint_cv.notify_one();
    }
    return 0;  // SQLITE_OK
}

void run_checkpoints(Database::Impl* d) {
    auto* backend = static_cast<soci::sqlite3_session_backend*>(d->checkpointer->get_backend());
    for (;;) {
        {
            std::unique_lock lock(d->checkpoint_mutex);
            d->checkpoint_cv.wait(lock, [&] { return d->checkpoint_due || d->checkpoint_stop; });
            if (d->checkpoint_stop) return;
            d->checkpoint_due = false;
        }
        // PASSIVE: copies what no reader still needs, never blocks the writer or the readers.
        sqlite_api::sqlite3_wal_checkpoint_v2(backend->conn_, nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                              nullptr, nullptr);
        ++d->checkpoints;
    }
}

void watch_catalog(soci::session& s, CatalogWatch& w) {
    auto* backend = static_cast<soci::sqlite3_session_backend*>(s.get_backend());
    sqlite_api::sqlite3_update_hook(backend->conn_, on_row_changed, &w);
}

std::int64_t wall_clock_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

Database::Database(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Database::~Database() {
    if (impl_ && impl_->checkpoint_thread.joinable()) {
        {
            std::lock_guard lock(impl_->checkpoint_mutex);
            impl_->checkpoint_stop = true;
        }
        impl_->checkpoint_cv.notify_one();
        impl_->checkpoint_thread.join();
    }
    if (impl_ && impl_->wal_fd >= 0) ::close(impl_->wal_fd);
}

Dialect Database::dialect() const {
    return impl_->dialect;
}
const std::string& Database::description() const {
    return impl_->description;
}

engine::Result<std::unique_ptr<Database>> Database::open(const DatabaseOptions& options) {
    configure_sqlite_once();
    auto impl = std::make_unique<Impl>();
    std::string conn;
    const std::string& url = options.url;
    if (url.empty()) return fail(ErrorCode::invalid_request, "no database given (--db)");
    std::size_t size = options.pool_size == 0 ? 1 : options.pool_size;
    std::string sqlite_path;
    if (starts_with(url, "postgresql://") || starts_with(url, "postgres://")) {
        impl->dialect = Dialect::postgresql;
        auto info = postgres_conninfo(url);
        if (!info) return fail(info.error());
        conn = *info;
    } else {
        impl->dialect = Dialect::sqlite;
        std::string path = starts_with(url, "sqlite:") ? url.substr(7) : url;
        sqlite_path = path;
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
    impl->pool_timeout_ms = options.pool_timeout_ms;
    if (impl->dialect == Dialect::postgresql) impl->conninfo = conn;
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
                impl->watches.push_back(std::make_unique<CatalogWatch>());
                watch_catalog(impl->pool->at(i), *impl->watches.back());
            }
        }
        if (impl->dialect == Dialect::sqlite && conn.find("db=:memory:") == std::string::npos) {
            impl->writer = std::make_unique<soci::session>();
            auto st = open_session(*impl->writer, impl->dialect, conn, options.busy_timeout_ms,
                                   options.durable);
            if (!st) return fail(st.error());
            if (options.durable) {
                *impl->writer << "PRAGMA synchronous=NORMAL";  // run_grouped fsyncs the WAL
                impl->sync_wal = true;
                impl->wal_path = sqlite_path + "-wal";
            }
            auto* backend =
                static_cast<soci::sqlite3_session_backend*>(impl->writer->get_backend());
            impl->writer_statements =
                std::make_unique<StatementCache>(reinterpret_cast<::sqlite3*>(backend->conn_));
            watch_catalog(*impl->writer, impl->writer_watch);
            // A larger page cache for the one connection that writes (its cache stays valid
            // across its own commits), and the savepoints' statement journals in memory rather
            // than in temporary files. (SQLITE_CONFIG_STMTJRNL_SPILL, which does that in one
            // allocation, made every write fail with SQLITE_FULL on a 2.6 GB database.)
            *impl->writer << "PRAGMA cache_size=" + std::to_string(kWriterCacheKiB);
            *impl->writer << "PRAGMA temp_store=MEMORY";
            impl->checkpointer = std::make_unique<soci::session>();
            st = open_session(*impl->checkpointer, impl->dialect, conn, options.busy_timeout_ms,
                              options.durable);
            if (!st) return fail(st.error());
            sqlite_api::sqlite3_wal_hook(backend->conn_, on_wal_commit, impl.get());
            if (options.profile_statements) {
                impl->profile = std::make_unique<StatementProfile>();
                impl->profile->attach(reinterpret_cast<::sqlite3*>(backend->conn_));
            }
            impl->checkpoint_thread = std::thread(run_checkpoints, impl.get());
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
    Lease(soci::connection_pool& pool, std::size_t pos) : pool_(pool), pos_(pos) {}
    ~Lease() { pool_.give_back(pos_); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    soci::session& session() { return pool_.at(pos_); }
    std::size_t position() const { return pos_; }

  private:
    soci::connection_pool& pool_;
    std::size_t pos_;
};

// Attempts of a transaction that lost a race (deadlock, serialization failure) on PostgreSQL.
constexpr int kAttempts = 3;

}  // namespace

engine::Status Database::run(bool write, const std::function<engine::Status(Tx&)>& fn) {
    if (impl_->writer && (write || impl_->bulk)) return run_grouped(fn);
    std::size_t pos = 0;
    if (!impl_->pool->try_lease(pos, impl_->pool_timeout_ms)) {
        ++impl_->pool_timeouts;
        return fail(ErrorCode::unavailable,
                    fmt::format("all {} database connections stayed busy for {} ms (--db-pool)",
                                impl_->size, impl_->pool_timeout_ms));
    }
    Lease lease(*impl_->pool, pos);
    const int attempts = impl_->dialect == Dialect::postgresql ? kAttempts : 1;
    for (int attempt = 1;; ++attempt) {
        bool retryable = false;
        auto status = run_once(lease.session(), lease.position(), write, fn, retryable);
        if (!retryable) return status;
        if (attempt == attempts) {
            ++impl_->gave_up;
            return fail(ErrorCode::unavailable,
                        fmt::format("gave up after {} attempts: {}", attempts,
                                    status ? std::string() : status.error().detail));
        }
        ++impl_->retried;
        // A little later and not in step with the transaction it lost to.
        const auto pause_ms = 5 * attempt + static_cast<int>(wall_clock_ms() % 7);
        std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
    }
}

engine::Status Database::run_once(soci::session& sql, std::size_t position, bool write,
                                  const std::function<engine::Status(Tx&)>& fn, bool& retryable) {
    std::unique_lock<std::mutex> writer(impl_->write_mutex, std::defer_lock);
    const bool sqlite = impl_->dialect == Dialect::sqlite;
    StatementCache* statements = sqlite ? impl_->statements.at(position).get() : nullptr;
    CatalogWatch* watch = sqlite ? impl_->watches.at(position).get() : nullptr;
    // Transaction control through the statement cache on SQLite (no re-parsing), SOCI otherwise.
    auto exec = [&](const char* stmt) {
        if (statements) {
            statements->exec(stmt);
        } else {
            sql << stmt;
        }
    };
    if (write && sqlite) writer.lock();
    // write_stats(): a write on this path (PostgreSQL, SQLite in memory) is a batch of one.
    struct WriteCount {
        Impl* d = nullptr;  // null for a read
        std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
        std::chrono::steady_clock::time_point ran{};
        ~WriteCount() {
            if (!d) return;
            const auto end = std::chrono::steady_clock::now();
            if (ran == std::chrono::steady_clock::time_point{}) ran = end;
            auto ns = [](auto dt) {
                return static_cast<std::uint64_t>(
                    std::chrono::duration_cast<std::chrono::nanoseconds>(dt).count());
            };
            d->run_ns += ns(ran - started);
            d->commit_ns += ns(end - ran);
            ++d->batches;
            ++d->grouped;
        }
    } count;
    if (write) count.d = impl_.get();
    bool open = false;
    try {
        if (sqlite) {
            exec(write ? "BEGIN IMMEDIATE" : "BEGIN");
        } else {
            exec(write ? "BEGIN" : "BEGIN READ ONLY");
            // Writers take turns, as on SQLite (BEGIN IMMEDIATE), across every connection and
            // node: a read-then-write (a per-user limit, a coupon's redemptions) can't be
            // overtaken, and the journal's seq order is commit order, the order a replay
            // applies. Held to COMMIT or ROLLBACK. (The same key as lock_event_log.)
            if (write) exec("SELECT pg_advisory_xact_lock(727375)");
        }
        open = true;
        Tx tx(sql, impl_->dialect, statements);
        auto status = fn(tx);
        const bool changed = write && !tx.changes().empty();
        if (status && changed && impl_->before_commit) status = impl_->before_commit(tx);
        if (!status) {
            exec("ROLLBACK");
            if (watch) impl_->catalog_committed(*watch);
            return status;
        }
        count.ran = std::chrono::steady_clock::now();
        exec("COMMIT");
        open = false;
        if (watch) impl_->catalog_committed(*watch);
        if (changed && impl_->after_commit) {
            if (writer.owns_lock()) writer.unlock();
            try {
                impl_->after_commit();
            } catch (const std::exception&) {  // committed: a failed wake-up loses nothing
            }
        }
        return {};
    } catch (const std::exception& e) {
        retryable = is_retryable(e);
        if (open) {
            try {
                exec("ROLLBACK");
            } catch (const std::exception&) {  // the connection may be gone: see below
            }
        }
        if (watch) impl_->catalog_committed(*watch);
        if (!sqlite) {
            // A connection the server closed (a restart, a failover) is opened again, so the
            // pool recovers once the database is back.
            try {
                if (!sql.is_connected()) sql.reconnect();
            } catch (const std::exception&) {  // still away: tried again on the next failure
            }
        }
        return fail(classify_exception(e));
    }
}

// Group commit. A caller queues its command; if no writer is at work it becomes the writer:
// it takes the queued commands (its own and those that arrived meanwhile), runs them one after
// another on the writer connection, each in a savepoint of one transaction so a failure rolls
// back only its own changes, commits once (one fsync for the batch), and only then answers
// them all. Commands queued during that batch go in the next one, run by the first of their
// callers. Running each command on the writer's thread, not handing the connection from
// thread to thread, is what makes it fast: a hand-off costs a wake-up, a batch costs one.
engine::Status Database::run_grouped(const std::function<engine::Status(Tx&)>& fn) {
    Impl& d = *impl_;
    Job job;
    job.fn = &fn;
    if (d.capture) job.context = d.capture();
    std::unique_lock lock(d.queue_mutex);
    d.queue.push_back(&job);
    // Wait to be answered, or to be the writer: the first in line when none is at work, or
    // the one the last writer handed the role to (always the front of the queue).
    job.cv.wait(lock, [&] { return job.done || job.lead || !d.writer_active; });
    if (job.done) return job.status;
    d.writer_active = true;
    job.lead = false;
    std::vector<Job*> batch;  // from the front: this caller's command is the first
    while (!d.queue.empty() && batch.size() < d.max_batch) {
        batch.push_back(d.queue.front());
        d.queue.pop_front();
    }
    lock.unlock();
    bool changed = run_batch(batch);
    lock.lock();
    // The next batch may run while this one is synced.
    if (d.queue.empty()) {
        d.writer_active = false;
    } else {
        d.queue.front()->lead = true;
        d.queue.front()->cv.notify_one();
    }
    lock.unlock();
    // Only a command that succeeded may have written something to sync.
    const bool wrote = std::any_of(batch.begin(), batch.end(),
                                   [](const Job* j) { return static_cast<bool>(j->status); });
    if (d.sync_wal && wrote) {
        if (auto s = sync_wal(); !s) {
            // Committed but perhaps not on disk: nobody is told it worked.
            for (auto* j : batch) {
                if (j->status) j->status = fail(s.error());
            }
            changed = true;  // others may have seen it; the stream may as well
        }
    }
    lock.lock();
    for (auto* j : batch) {
        j->done = true;
        if (j != &job) j->cv.notify_one();
    }
    lock.unlock();
    if (changed && d.after_commit) {
        try {
            d.after_commit();
        } catch (const std::exception&) {  // committed: a failed wake-up loses nothing
        }
    }
    return job.status;
}

engine::Status Database::sync_wal() {
    Impl& d = *impl_;
    const auto started = std::chrono::steady_clock::now();
    int fd = -1;
    {
        std::lock_guard lock(d.wal_mutex);
        if (d.wal_fd < 0) d.wal_fd = ::open(d.wal_path.c_str(), O_RDWR | O_CLOEXEC);
        fd = d.wal_fd;
    }
    if (fd < 0 || ::fdatasync(fd) != 0) {
        return fail(ErrorCode::internal,
                    fmt::format("could not sync the write-ahead log {}", d.wal_path));
    }
    d.commit_ns += static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                  std::chrono::steady_clock::now() - started)
                                                  .count());
    return {};
}

namespace {

std::string new_epoch_id() {
    std::uint64_t v = 0;
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v) != 1) {
        static std::atomic<std::uint64_t> fallback{static_cast<std::uint64_t>(
            std::chrono::steady_clock::now().time_since_epoch().count())};
        v = fallback.fetch_add(0x9e3779b97f4a7c15ULL) * 0xbf58476d1ce4e5b9ULL;
    }
    return fmt::format("{:016x}", v);
}

}  // namespace

bool Database::run_batch(const std::vector<Job*>& batch) {
    Impl& d = *impl_;
    StatementCache& st = *d.writer_statements;
    std::optional<engine::Error> batch_error;
    bool changed = false;
    const auto started = std::chrono::steady_clock::now();
    try {
        if (!st.in_transaction()) st.exec("BEGIN IMMEDIATE");  // open already in bulk mode
    } catch (const std::exception& e) {
        batch_error = classify_exception(e);
    }
    // Effects are recorded in epochs: one session on the writer from the epoch's first command
    // on; once it has enough entries, its net changes go on the last entry a batch wrote (the
    // carrier, "<epoch>:<patchset>"), the entries before it being marked "+<epoch>".
    // Another process committed since the last batch (`redloop seed`, `redloop rekey` beside
    // the server): its changes would mix into the open epoch's net changes in the wrong order,
    // so that epoch is given up (its entries run in a replay) and a new one begins.
    if (!batch_error && d.epoch) {
        bool other = true;
        try {
            other = st.data_version() != d.epoch_data_version;
        } catch (const std::exception&) {
        }
        if (other) {
            d.epoch.reset();
            ++d.epochs_given_up;
        }
    }
    if (!batch_error && !d.epoch && d.record_effects.load(std::memory_order_relaxed)) {
        try {
            d.epoch_data_version = st.data_version();
            d.epoch = std::make_unique<EffectRecorder>(st.db());
            if (!d.epoch->ok()) d.epoch.reset();
        } catch (const std::exception&) {
            d.epoch.reset();
        }
        if (!d.epoch) ++d.epochs_given_up;  // could not begin: these entries get no effects
        d.epoch_id = new_epoch_id();
        d.epoch_entries = 0;
        d.epoch_abandoned = false;
    }
    std::int64_t batch_last_seq = 0;
    for (auto* j : batch) {
        if (batch_error) break;
        Database::ThreadContext previous;
        if (d.install) previous = d.install(j->context);
        engine::Status status;
        try {
            st.exec("SAVEPOINT command");
            try {
                Tx tx(*d.writer, d.dialect, &st);
                if (d.epoch) tx.set_effects_mark("+" + d.epoch_id);
                status = (*j->fn)(tx);
                const bool noted = !tx.changes().empty();
                if (status && noted && d.before_commit) status = d.before_commit(tx);
                if (status && noted) changed = true;
                if (status && tx.last_journal_seq() != 0) {
                    batch_last_seq = tx.last_journal_seq();
                    ++d.epoch_entries;
                }
                if (status && tx.abandons_effects_epoch()) d.epoch_abandoned = true;
            } catch (const std::exception& e) {
                status = fail(classify_exception(e));
            }
            if (!status) st.exec("ROLLBACK TO command");
            st.exec("RELEASE command");
        } catch (const std::exception& e) {
            if (status) status = fail(classify_exception(e));
        }
        if (d.install) d.install(previous);
        j->status = std::move(status);
        if (!st.in_transaction()) {  // SQLite gave up the whole transaction (disk full, ...)
            batch_error = engine::Error{
                ErrorCode::internal,
                "the write batch was rolled back by the database" +
                    (j->status ? std::string() : " after: " + j->status.error().detail)};
        }
    }
    if (d.epoch && !batch_error && st.in_transaction()) {
        const bool stop = d.epoch_abandoned || !d.record_effects.load(std::memory_order_relaxed);
        if (!stop && batch_last_seq != 0 &&
            d.epoch_entries >= d.epoch_size.load(std::memory_order_relaxed)) {
            bool carried = false;
            try {
                auto patch = d.epoch->patchset_base64();
                if (patch) {
                    Tx tx(*d.writer, d.dialect, &st);
                    // With the AUTOINCREMENT counters: a row inserted and deleted within the
                    // epoch is in no patchset but moved its table's counter, and entries run
                    // after this one in a replay must be given the seq values they got live.
                    std::string carrier = d.epoch_id + ":" + *patch + ";";
                    {
                        std::string name;
                        long long value = 0;
                        Query c(tx, "SELECT name, seq FROM sqlite_sequence ORDER BY name");
                        c.into(name).into(value);
                        c.execute();
                        bool first = true;
                        while (c.fetch()) {
                            // Not the journal's nor the event log's: a replay writes those.
                            if (!records_table_effects(name)) continue;
                            carrier += fmt::format("{}{}={}", first ? "" : ",", name, value);
                            first = false;
                        }
                    }
                    const long long seq = batch_last_seq;
                    Query q(tx, "UPDATE journal SET effects = :e WHERE seq = :s");
                    q.use(carrier).use(seq);
                    q.run();
                    carried = true;
                }
            } catch (const std::exception&) {
                // The epoch's entries keep their marks and no carrier: a replay runs them.
            }
            ++(carried ? d.epochs_carried : d.epochs_given_up);
            d.epoch.reset();
        } else if (stop) {
            d.epoch.reset();  // its entries have no carrier: a replay runs them
            ++d.epochs_given_up;
        }
    }
    const auto ran = std::chrono::steady_clock::now();
    constexpr std::size_t kBulkCommands = 1000;
    if (!batch_error && d.bulk && (d.bulk_pending += batch.size()) < kBulkCommands) {
        d.run_ns += static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(ran - started).count());
        d.grouped += batch.size();
        d.catalog_committed(d.writer_watch);  // bulk reads see uncommitted rows
        return changed;                       // committed later, with the next ones
    }
    d.bulk_pending = 0;
    if (!batch_error) {
        try {
            st.exec("COMMIT");
        } catch (const std::exception& e) {
            batch_error = classify_exception(e);
        }
    }
    if (batch_error) {
        batch_error->code = ErrorCode::internal;
        try {
            if (st.in_transaction()) st.exec("ROLLBACK");
        } catch (const std::exception&) {  // nothing more to undo
        }
        for (auto* j : batch) {
            if (j->status) j->status = fail(*batch_error);
        }
        changed = false;
    }
    d.catalog_committed(d.writer_watch);
    const auto committed = std::chrono::steady_clock::now();
    auto ns = [](auto dt) {
        return static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(dt).count());
    };
    d.run_ns += ns(ran - started);
    d.commit_ns += ns(committed - ran);
    ++d.batches;
    d.grouped += batch.size();
    return changed;
}

bool Database::applies_effects() const {
    return impl_->writer != nullptr;
}

bool Database::records_effects() const {
    return impl_->writer != nullptr && impl_->record_effects.load(std::memory_order_relaxed);
}

void Database::set_effects_recording(bool on, std::size_t epoch_entries) {
    impl_->epoch_size.store(std::max<std::size_t>(1, epoch_entries), std::memory_order_relaxed);
    impl_->record_effects.store(on, std::memory_order_relaxed);
}

engine::Status Database::set_writer_foreign_keys(bool on) {
    Impl& d = *impl_;
    if (!d.writer) return {};
    std::lock_guard lock(d.queue_mutex);
    if (d.writer_active || d.writer_statements->in_transaction())
        return fail(ErrorCode::internal, "foreign keys can only change between transactions");
    try {
        d.writer_statements->exec(on ? "PRAGMA foreign_keys=ON" : "PRAGMA foreign_keys=OFF");
    } catch (const std::exception& e) {
        return fail(classify_exception(e));
    }
    return {};
}

engine::Status Database::set_bulk(bool on) {
    Impl& d = *impl_;
    if (!d.writer) return {};  // PostgreSQL, or SQLite in memory: each write commits anyway
    std::lock_guard lock(d.queue_mutex);
    if (on == d.bulk) return {};
    if (on) {
        // A bulk transaction touches far more pages than the default 2 MB cache holds: the
        // pager spilled dirty pages to the WAL in the middle of it (see also the statement
        // journal in configure_sqlite_once).
        try {
            d.writer_statements->exec("PRAGMA cache_size=-262144");  // KiB: 256 MiB at most
        } catch (const std::exception& e) {
            return fail(classify_exception(e));
        }
        d.bulk = true;
        return {};
    }
    d.bulk = false;
    d.bulk_pending = 0;
    try {
        if (d.writer_statements->in_transaction()) d.writer_statements->exec("COMMIT");
        d.writer_statements->exec("PRAGMA cache_size=" + std::to_string(kWriterCacheKiB));
        d.catalog_committed(d.writer_watch);
    } catch (const std::exception& e) {
        return fail(classify_exception(e));
    }
    return {};
}

void Database::set_thread_context_hooks(CaptureContext capture, InstallContext install) {
    impl_->capture = capture;
    impl_->install = install;
}

std::uint64_t Database::catalog_version() const {
    return impl_->catalog_version.load(std::memory_order_acquire);
}

bool Database::catalog_tracked() const {
    return impl_->dialect == Dialect::sqlite;
}

Database::WriteStats Database::write_stats() const {
    return WriteStats{impl_->batches.load(),        impl_->grouped.load(),
                      impl_->run_ns.load(),         impl_->commit_ns.load(),
                      impl_->checkpoints.load(),    impl_->epochs_carried.load(),
                      impl_->epochs_given_up.load()};
}

void Database::set_commit_hooks(BeforeCommit before, AfterCommit after) {
    impl_->before_commit = std::move(before);
    impl_->after_commit = std::move(after);
}

std::optional<std::vector<StatementTiming>> Database::statement_profile() const {
    if (!impl_->profile) return std::nullopt;
    return impl_->profile->totals();
}

engine::Status Database::ping() {
    return run(false, [](Tx& tx) -> engine::Status {
        int one = 0;
        tx.sql() << "SELECT 1", soci::into(one);
        if (one != 1) return fail(ErrorCode::internal, "SELECT 1 did not return 1");
        return {};
    });
}

engine::Result<std::vector<std::string>> Database::integrity_check() {
    if (impl_->dialect != Dialect::sqlite) return std::vector<std::string>{};
    return read([](Tx& tx) -> engine::Result<std::vector<std::string>> {
        std::vector<std::string> problems;
        soci::rowset<std::string> rows = (tx.sql().prepare << "PRAGMA integrity_check");
        for (const auto& row : rows) {
            if (row != "ok") problems.push_back(row);
        }
        return problems;
    });
}

Database::RetryStats Database::retry_stats() const {
    return RetryStats{impl_->retried.load(), impl_->gave_up.load(), impl_->pool_timeouts.load()};
}

namespace {

// LISTEN on a libpq connection of its own; a thread waits on its socket (and on a pipe that
// stops it) and reconnects after a loss.
class PgListener final : public Database::Listener {
  public:
    PgListener(std::string conninfo, std::string channel, std::function<void()> on_notify)
        : conninfo_(std::move(conninfo)),
          channel_(std::move(channel)),
          on_notify_(std::move(on_notify)) {
        if (::pipe2(stop_pipe_, O_CLOEXEC) != 0) stop_pipe_[0] = stop_pipe_[1] = -1;
        thread_ = std::thread([this] { run(); });
    }
    ~PgListener() override {
        stopping_ = true;
        if (stop_pipe_[1] >= 0) {
            const char c = 'x';
            [[maybe_unused]] auto n = ::write(stop_pipe_[1], &c, 1);
        }
        if (thread_.joinable()) thread_.join();
        if (conn_) PQfinish(conn_);
        for (int fd : stop_pipe_) {
            if (fd >= 0) ::close(fd);
        }
    }
    PgListener(const PgListener&) = delete;
    PgListener& operator=(const PgListener&) = delete;

    std::uint64_t received() const override { return received_.load(); }

  private:
    // Connects and LISTENs; false (with the connection closed) when that failed.
    bool connect() {
        if (conn_) PQfinish(conn_);
        conn_ = PQconnectdb(conninfo_.c_str());
        if (PQstatus(conn_) != CONNECTION_OK) {
            last_error_ = PQerrorMessage(conn_);
            PQfinish(conn_);
            conn_ = nullptr;
            return false;
        }
        char* quoted = PQescapeIdentifier(conn_, channel_.c_str(), channel_.size());
        const std::string sql = std::string("LISTEN ") + (quoted ? quoted : channel_.c_str());
        if (quoted) PQfreemem(quoted);
        PGresult* r = PQexec(conn_, sql.c_str());
        const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok) last_error_ = PQerrorMessage(conn_);
        PQclear(r);
        if (!ok) {
            PQfinish(conn_);
            conn_ = nullptr;
        }
        return ok;
    }

    void run() {
        while (!stopping_) {
            if (!conn_) {
                if (!connect()) {
                    wait_for_stop(1000);  // the database is away: try again in a second
                    continue;
                }
                notify();  // anything may have committed while no one listened
            }
            pollfd fds[2] = {{PQsocket(conn_), POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
            const int n = ::poll(fds, stop_pipe_[0] >= 0 ? 2 : 1, 1000);
            if (stopping_) return;
            if (n <= 0 || !(fds[0].revents & (POLLIN | POLLERR | POLLHUP))) continue;
            if (!PQconsumeInput(conn_) || PQstatus(conn_) != CONNECTION_OK) {
                PQfinish(conn_);
                conn_ = nullptr;
                continue;
            }
            bool any = false;
            while (PGnotify* note = PQnotifies(conn_)) {
                any = true;
                ++received_;
                PQfreemem(note);
            }
            if (any) notify();
        }
    }
    void notify() {
        try {
            on_notify_();
        } catch (const std::exception&) {  // a wake-up; the reader polls anyway
        }
    }
    void wait_for_stop(int ms) {
        pollfd p{stop_pipe_[0], POLLIN, 0};
        ::poll(&p, stop_pipe_[0] >= 0 ? 1 : 0, ms);
    }

    std::string conninfo_;
    std::string channel_;
    std::function<void()> on_notify_;
    PGconn* conn_ = nullptr;  // owned by the thread once it runs
    std::string last_error_;
    int stop_pipe_[2] = {-1, -1};
    std::atomic<bool> stopping_{false};
    std::atomic<std::uint64_t> received_{0};
    std::thread thread_;
};

}  // namespace

engine::Result<std::unique_ptr<Database::Listener>> Database::listen(
    const std::string& channel, std::function<void()> on_notify) {
    if (impl_->dialect != Dialect::postgresql) return std::unique_ptr<Listener>();
    return std::unique_ptr<Listener>(
        std::make_unique<PgListener>(impl_->conninfo, channel, std::move(on_notify)));
}

engine::Result<int> Database::schema_version() {
    return read([](Tx& tx) -> engine::Result<int> {
        int version = 0;
        soci::indicator ind = soci::i_null;
        tx.sql() << "SELECT MAX(version) FROM schema_migrations", soci::into(version, ind);
        return ind == soci::i_ok ? version : 0;
    });
}

engine::Result<long long> Database::table_count() {
    const char* sql = nullptr;
    switch (impl_->dialect) {
        case Dialect::sqlite:
            sql = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'";
            break;
        case Dialect::postgresql:
            sql =
                "SELECT COUNT(*) FROM information_schema.tables "
                "WHERE table_schema = current_schema()";
            break;
    }
    return read([&](Tx& tx) -> engine::Result<long long> {
        long long n = 0;
        tx.sql() << sql, soci::into(n);
        return n;
    });
}

engine::Result<std::vector<std::string>> Database::migrate() {
    // Several nodes may start at once on one PostgreSQL database: they take turns on a lock
    // held to the end of each migration's transaction, and a node that waited finds the
    // migration recorded (READ COMMITTED reads what committed before each statement).
    auto take_turns = [this](Tx& tx) {
        if (impl_->dialect == Dialect::postgresql)
            tx.sql() << "SELECT pg_advisory_xact_lock(727374)";  // ours alone
    };
    auto created = write([&](Tx& tx) -> engine::Result<bool> {
        take_turns(tx);
        tx.sql() << "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                    "name TEXT NOT NULL, applied_at BIGINT NOT NULL)";
        return true;
    });
    if (!created) return fail(created.error());
    std::vector<std::string> applied;
    for (const auto& m : builtin_migrations()) {
        auto done = write([&](Tx& tx) -> engine::Result<bool> {
            // Applied when not yet recorded (not "above the highest recorded"), so a migration
            // numbered below one already applied -- two branches merged -- still runs.
            take_turns(tx);
            int recorded = 0;
            tx.sql() << "SELECT COUNT(*) FROM schema_migrations WHERE version = :v",
                soci::use(m.version), soci::into(recorded);
            if (recorded > 0) return false;
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
