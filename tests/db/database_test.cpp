#include <soci/soci.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>
#include <vector>

#include "db_fixture.hpp"

using namespace redloop;
using redloop::test::DbFixture;

namespace {

// The names of the indexes on `table` (or named in `names`): sqlite_master on SQLite, pg_indexes
// on PostgreSQL, where a primary key is an index too (SQLite's INTEGER PRIMARY KEY is the rowid).
std::string index_count_sql(db::Dialect d, const std::string& where) {
    switch (d) {
        case db::Dialect::sqlite:
            return "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND " + where;
        case db::Dialect::postgresql:
            return "SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() AND " +
                   where;
    }
    return {};
}

}  // namespace

TEST_CASE("migrations apply once and are recorded") {
    DbFixture f;
    auto version = f.db->schema_version();
    REQUIRE(version);
    CHECK(*version == static_cast<int>(db::builtin_migrations().back().version));
    auto again = f.db->migrate();
    REQUIRE(again);
    CHECK(again->empty());
    CHECK(f.db->ping());
}

TEST_CASE("builtin migrations are numbered in order") {
    const auto& all = db::builtin_migrations();
    REQUIRE_FALSE(all.empty());
    CHECK(all.front().version == 1);
    for (std::size_t i = 0; i < all.size(); ++i) {
        // Strictly increasing; a gap is allowed (a migration of another branch still to come).
        if (i > 0) CHECK(all[i].version > all[i - 1].version);
        CHECK_FALSE(all[i].sql.empty());
    }
}

TEST_CASE("a migration numbered below the newest applied one still runs (branches merged)") {
    // As if 0007 (two indexes) arrived after a newer one had been applied: its record and its
    // indexes are gone while the newest migration stays recorded.
    DbFixture f;
    REQUIRE(db::builtin_migrations().back().version > 7);
    auto undone = f.db->write([](db::Tx& tx) -> engine::Result<bool> {
        tx.sql() << "DELETE FROM schema_migrations WHERE version = 7";
        tx.sql() << "DROP INDEX orders_by_merchant_id";
        tx.sql() << "DROP INDEX order_lines_with_note";
        return true;
    });
    REQUIRE(undone);
    auto applied = f.db->migrate();
    REQUIRE(applied);
    REQUIRE(applied->size() == 1);
    CHECK(applied->front() == "0007_performance");
    const auto name = f.sqlite() ? "name" : "indexname";
    auto indexes = f.db->read([&](db::Tx& tx) -> engine::Result<int> {
        int n = 0;
        tx.sql() << index_count_sql(
            f.dialect(),
            std::string(name) + " IN ('orders_by_merchant_id', 'order_lines_with_note')"),
            soci::into(n);
        return n;
    });
    REQUIRE(indexes);
    CHECK(*indexes == 2);
    auto again = f.db->migrate();
    REQUIRE(again);
    CHECK(again->empty());
}

TEST_CASE("0011 rebuilds the event log: rows keep their seq, new ones never reuse a purged seq") {
    DbFixture f;
    auto seqs = [&](const char* sql) {
        auto r = f.db->read([&](db::Tx& tx) -> engine::Result<std::vector<long long>> {
            std::vector<long long> out(50);
            tx.sql() << sql, soci::into(out);
            return out;
        });
        REQUIRE(r);
        return *r;
    };
    // Five events, the last two since purged (the AUTOINCREMENT counter stays at 5), and 0011
    // not yet applied.
    auto before = f.db->write([](db::Tx& tx) -> engine::Result<bool> {
        for (int i = 0; i < 5; ++i) {
            tx.sql() << "INSERT INTO events (at, scope, type, data) VALUES (1, 'sku', "
                        "'sku.stock_changed', '{}')";
        }
        tx.sql() << "DELETE FROM events WHERE seq > 3";
        tx.sql() << "DELETE FROM schema_migrations WHERE version = 11";
        return true;
    });
    REQUIRE(before);
    auto applied = f.db->migrate();
    REQUIRE(applied);
    REQUIRE(applied->size() == 1);
    CHECK(applied->front() == "0011_earnings_events");
    CHECK(seqs("SELECT seq FROM events ORDER BY seq") == std::vector<long long>{1, 2, 3});
    auto after = f.db->write([](db::Tx& tx) -> engine::Result<bool> {
        tx.sql() << "INSERT INTO events (at, scope, type, user_id, data) VALUES (2, 'earnings', "
                    "'commission.accrued', 'usr_a', '{}')";
        return true;
    });
    REQUIRE(after);
    CHECK(seqs("SELECT seq FROM events WHERE scope = 'earnings'") == std::vector<long long>{6});
    auto bad = f.db->write([](db::Tx& tx) -> engine::Result<bool> {
        tx.sql() << "INSERT INTO events (at, scope, type, data) VALUES (2, 'gossip', 'x', '{}')";
        return true;
    });
    CHECK_FALSE(bad);
    // The four indexes again (and, on PostgreSQL, the primary key's).
    const auto table = f.sqlite() ? "tbl_name = 'events'" : "tablename = 'events'";
    CHECK(seqs(index_count_sql(f.dialect(), table).c_str()) ==
          std::vector<long long>{f.sqlite() ? 4 : 5});
}

TEST_CASE("connections are durable and enforce foreign keys (SQLite: WAL, synchronous FULL)") {
    DbFixture f;
    auto settings = f.db->read([&](db::Tx& tx) -> engine::Result<std::string> {
        switch (f.dialect()) {
            case db::Dialect::sqlite: {
                std::string mode;
                int fk = 0, sync = 0;
                tx.sql() << "PRAGMA journal_mode", soci::into(mode);
                tx.sql() << "PRAGMA foreign_keys", soci::into(fk);
                tx.sql() << "PRAGMA synchronous", soci::into(sync);
                return mode + "/" + std::to_string(fk) + "/" + std::to_string(sync);
            }
            case db::Dialect::postgresql: {
                // A commit returns once its WAL record is flushed (fsync on, as the cluster
                // scripts/pg-cluster starts it); foreign keys are always enforced.
                std::string sync, fsync;
                tx.sql() << "SHOW synchronous_commit", soci::into(sync);
                tx.sql() << "SHOW fsync", soci::into(fsync);
                return sync + "/" + fsync;
            }
        }
        return engine::fail(engine::ErrorCode::internal, "no dialect");
    });
    REQUIRE(settings);
    CHECK(*settings == (f.sqlite() ? "wal/1/2" : "on/on"));
    // Either way, a product of a merchant that doesn't exist is refused.
    auto orphan = f.db->write([](db::Tx& tx) -> engine::Result<int> {
        tx.sql() << "INSERT INTO products (id, merchant_id, title, description, status, "
                    "commission_rate_bps, created_at, updated_at) VALUES ('prd_orphan', "
                    "'mer_nobody', 't', 'd', 'active', 0, 1, 1)";
        return 1;
    });
    REQUIRE_FALSE(orphan);
    const auto& why = orphan.error().detail;
    CHECK((why.find("FOREIGN KEY") != std::string::npos ||
           why.find("foreign key") != std::string::npos));
}

TEST_CASE("a failed transaction leaves nothing behind") {
    DbFixture f;
    const auto id = *engine::MerchantId::parse("mer_tea");
    auto failed = f.db->write([&](db::Tx& tx) -> engine::Result<int> {
        db::insert_merchant_if_absent(tx, engine::new_merchant(id, engine::Timestamp{1}));
        return engine::fail(engine::ErrorCode::conflict, "changed my mind");
    });
    REQUIRE_FALSE(failed);
    CHECK(failed.error().code == engine::ErrorCode::conflict);
    auto found = f.db->read(
        [&](db::Tx& tx) -> engine::Result<bool> { return db::find_merchant(tx, id).has_value(); });
    CHECK_FALSE(*found);
}

TEST_CASE("an exception becomes an error and rolls back") {
    DbFixture f;
    auto r = f.db->write([&](db::Tx& tx) -> engine::Result<int> {
        db::insert_user_if_absent(tx, *engine::UserId::parse("usr_a"), engine::Timestamp{1});
        tx.sql() << "INSERT INTO no_such_table VALUES (1)";
        return 1;
    });
    REQUIRE_FALSE(r);
    CHECK(r.error().code == engine::ErrorCode::internal);
    auto inserted_again = f.write([&](db::Tx& tx) {
        return db::insert_user_if_absent(tx, *engine::UserId::parse("usr_a"), engine::Timestamp{1});
    });
    CHECK(inserted_again);  // the first insert was rolled back
}

TEST_CASE("constraint violations are conflicts") {
    DbFixture f;
    auto r = f.db->write([&](db::Tx& tx) -> engine::Result<int> {
        tx.sql() << "INSERT INTO users (id, created_at) VALUES ('usr_a', 1)";
        tx.sql() << "INSERT INTO users (id, created_at) VALUES ('usr_a', 2)";
        return 1;
    });
    REQUIRE_FALSE(r);
    CHECK(r.error().code == engine::ErrorCode::conflict);
}

TEST_CASE("a postgresql:// URL becomes libpq keywords, decoded and quoted") {
    const struct {
        const char* url;
        const char* conninfo;
    } rows[] = {
        {"postgresql://postgres@127.0.0.1:55432/redloop",
         "user='postgres' host='127.0.0.1' port='55432' dbname='redloop'"},
        {"postgres://app:s%40cr%27t@db.internal/shop?sslmode=require&connect_timeout=5",
         "user='app' password='s@cr\\'t' host='db.internal' dbname='shop' sslmode='require' "
         "connect_timeout='5'"},
        {"postgresql://[::1]:5433/x", "host='::1' port='5433' dbname='x'"},
        {"postgresql:///local", "dbname='local'"},
    };
    for (const auto& r : rows) {
        CAPTURE(r.url);
        auto info = db::postgres_conninfo(r.url);
        REQUIRE(info);
        CHECK(*info == r.conninfo);
    }
    for (const char* bad : {"postgresql://u@h/d?sslmode", "postgresql://u%zz@h/d"}) {
        CAPTURE(bad);
        auto info = db::postgres_conninfo(bad);
        REQUIRE_FALSE(info);
        CHECK(info.error().code == engine::ErrorCode::invalid_request);
    }
}

TEST_CASE("opening refuses bad locations clearly") {
    auto missing_dir = db::Database::open(db::DatabaseOptions{"/nonexistent/dir/x.db", 1, 1000});
    REQUIRE_FALSE(missing_dir);
    CHECK(missing_dir.error().detail.find("cannot open database") != std::string::npos);
    auto spaces = db::Database::open(db::DatabaseOptions{"a b.db", 1, 1000});
    CHECK_FALSE(spaces);
    auto empty = db::Database::open(db::DatabaseOptions{"", 1, 1000});
    CHECK_FALSE(empty);
    if (test::on_postgresql()) {
        // A database the server doesn't have.
        auto absent = db::Database::open(
            db::DatabaseOptions{test::pg_base_url() + "/redloop_no_such_database", 1, 1000});
        REQUIRE_FALSE(absent);
        CHECK(absent.error().detail.find("cannot open database") != std::string::npos);
        CHECK(absent.error().detail.find("redloop_no_such_database") != std::string::npos);
    }
}

TEST_CASE("idempotency keys are stored per caller and purged by age") {
    DbFixture f;
    f.write([](db::Tx& tx) {
        db::store_idempotent(tx, "usr_a", "k1", db::StoredResponse{"h1", 201, "{\"a\":1}"},
                             engine::Timestamp{1000});
        db::store_idempotent(tx, "usr_b", "k1", db::StoredResponse{"h2", 200, "{}"},
                             engine::Timestamp{5000});
        return 0;
    });
    auto found = f.write([](db::Tx& tx) { return db::find_idempotent(tx, "usr_a", "k1"); });
    REQUIRE(found);
    CHECK(found->status == 201);
    CHECK(found->body == "{\"a\":1}");
    CHECK(found->request_hash == "h1");
    CHECK_FALSE(f.write([](db::Tx& tx) { return db::find_idempotent(tx, "usr_c", "k1"); }));
    CHECK(f.write([](db::Tx& tx) { return db::purge_idempotency(tx, engine::Timestamp{2000}); }) ==
          1);
    CHECK_FALSE(f.write([](db::Tx& tx) { return db::find_idempotent(tx, "usr_a", "k1"); }));
    CHECK(f.write([](db::Tx& tx) { return db::find_idempotent(tx, "usr_b", "k1"); }));
}

TEST_CASE("group commit: concurrent writes each stand or fall alone, and are durable on return") {
    DbFixture f;
    const auto before = f.db->write_stats();
    constexpr int kThreads = 12, kEach = 40;
    std::atomic<int> ok{0}, refused{0}, thrown{0}, unseen{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kEach; ++i) {
                const auto id =
                    *engine::UserId::parse("usr_t" + std::to_string(t) + "n" + std::to_string(i));
                const int kind = (t + i) % 7;  // 0: refuses after writing, 1: throws
                auto r = f.db->write([&](db::Tx& tx) -> engine::Result<int> {
                    db::insert_user_if_absent(tx, id, engine::Timestamp{i});
                    if (kind == 0) return engine::fail(engine::ErrorCode::conflict, "no");
                    if (kind == 1) tx.sql() << "INSERT INTO no_such_table VALUES (1)";
                    return 1;
                });
                if (r) {
                    ++ok;
                    // answered only after the COMMIT: another connection sees it at once
                    auto seen = f.db->read([&](db::Tx& tx) -> engine::Result<bool> {
                        long long n = 0;
                        tx.sql() << "SELECT COUNT(*) FROM users WHERE id = :id",
                            soci::use(id.str()), soci::into(n);
                        return n == 1;
                    });
                    if (!seen || !*seen) ++unseen;
                } else if (r.error().code == engine::ErrorCode::conflict) {
                    ++refused;
                } else {
                    ++thrown;
                }
            }
        });
    }
    for (auto& th : threads) th.join();
    CHECK(ok + refused + thrown == kThreads * kEach);
    CHECK(unseen == 0);
    int expected_ok = 0;
    for (int t = 0; t < kThreads; ++t)
        for (int i = 0; i < kEach; ++i) expected_ok += (t + i) % 7 > 1;
    CHECK(ok == expected_ok);
    CHECK(refused + thrown == kThreads * kEach - expected_ok);
    auto users = f.db->read([](db::Tx& tx) -> engine::Result<long long> {
        long long n = 0;
        tx.sql() << "SELECT COUNT(*) FROM users", soci::into(n);
        return n;
    });
    REQUIRE(users);
    CHECK(*users == expected_ok);  // the refused and failed ones left nothing behind
    const auto after = f.db->write_stats();
    CHECK(after.commands - before.commands == static_cast<std::uint64_t>(kThreads * kEach));
    CHECK(after.batches - before.batches <= after.commands - before.commands);
    MESSAGE("batches: " << after.batches - before.batches
                        << " for commands: " << after.commands - before.commands);
}

TEST_CASE("the catalog version moves after a commit that changed a catalog row, and only then") {
    DbFixture f;
    if (!f.sqlite()) {
        // PostgreSQL: other nodes write too, so this process can't know the version; it says
        // so (the note cache is then off) and the version stays put.
        CHECK_FALSE(f.db->catalog_tracked());
        const auto v = f.db->catalog_version();
        f.write([](db::Tx& tx) {
            tx.sql() << "INSERT INTO merchants (id, name, currency, shipping_fee_minor, "
                        "return_window_days, created_at, updated_at) VALUES ('mer_cv1', 'Tea', "
                        "'CNY', 0, 7, 1, 1)";
            return 1;
        });
        CHECK(f.db->catalog_version() == v);
        return;
    }
    REQUIRE(f.db->catalog_tracked());
    const auto v0 = f.db->catalog_version();
    // Not a catalog table: users.
    f.write([](db::Tx& tx) {
        db::insert_user_if_absent(tx, *engine::UserId::parse("usr_cv1"), engine::Timestamp{1});
        return 1;
    });
    CHECK(f.db->catalog_version() == v0);
    // A merchant is part of what a note shows: the version moves once the write has returned.
    f.write([](db::Tx& tx) {
        tx.sql()
            << "INSERT INTO merchants (id, name, currency, shipping_fee_minor, return_window_days, "
               "created_at, updated_at) VALUES ('mer_cv1', 'Tea', 'CNY', 0, 7, 1, 1)";
        return 1;
    });
    const auto v1 = f.db->catalog_version();
    CHECK(v1 > v0);
    // While a catalog write runs, the version has not moved yet (a reader caching what it reads
    // at the old version is invalidated after the commit, not before).
    std::uint64_t during = 0;
    f.write([&](db::Tx& tx) {
        tx.sql() << "UPDATE merchants SET name = 'Tea house' WHERE id = 'mer_cv1'";
        during = f.db->catalog_version();
        return 1;
    });
    CHECK(during == v1);
    CHECK(f.db->catalog_version() > v1);
    // A refused write changed nothing lasting; moving the version anyway is only a cache miss.
    const auto v2 = f.db->catalog_version();
    auto refused = f.db->write([](db::Tx& tx) -> engine::Result<int> {
        tx.sql() << "UPDATE merchants SET name = 'x' WHERE id = 'mer_cv1'";
        return engine::fail(engine::ErrorCode::conflict, "no");
    });
    CHECK_FALSE(refused);
    CHECK(f.db->catalog_version() >= v2);
}

TEST_CASE("the WAL is checkpointed off the write path once it is long, and the data stays") {
    DbFixture f;
    if (!f.sqlite()) {
        // PostgreSQL checkpoints on its own: no checkpointer thread, and the rows stay.
        f.write([](db::Tx& tx) {
            tx.sql() << "CREATE TABLE scratch (b BYTEA NOT NULL)";
            for (int i = 0; i < 1200; ++i)
                tx.sql() << "INSERT INTO scratch VALUES (convert_to(repeat('x', 4000), 'UTF8'))";
            return 1;
        });
        auto n = f.db->read([](db::Tx& tx) -> engine::Result<long long> {
            long long count = 0;
            tx.sql() << "SELECT COUNT(*) FROM scratch", soci::into(count);
            return count;
        });
        REQUIRE(n);
        CHECK(*n == 1200);
        CHECK(f.db->write_stats().checkpoints == 0);
        return;
    }
    f.write([](db::Tx& tx) {
        tx.sql() << "CREATE TABLE scratch (b BLOB NOT NULL)";
        return 1;
    });
    // 1 200 rows of 4 000 bytes: more than a thousand WAL pages.
    for (int batch = 0; batch < 12; ++batch) {
        f.write([](db::Tx& tx) {
            for (int i = 0; i < 100; ++i)
                tx.sql() << "INSERT INTO scratch VALUES (randomblob(4000))";
            return 1;
        });
    }
    bool checkpointed = false;
    for (int i = 0; i < 100 && !checkpointed; ++i) {
        checkpointed = f.db->write_stats().checkpoints > 0;
        if (!checkpointed) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    CHECK(checkpointed);
    auto n = f.db->read([](db::Tx& tx) -> engine::Result<long long> {
        long long count = 0;
        tx.sql() << "SELECT COUNT(*) FROM scratch", soci::into(count);
        return count;
    });
    REQUIRE(n);
    CHECK(*n == 1200);
    // The database file holds the pages now, not only the WAL (before any checkpoint it holds
    // the schema alone). Not all 1 200 rows' pages: the checkpoint starts once the WAL holds
    // a thousand frames, and the commits after that may still be only in the WAL.
    CHECK(std::filesystem::file_size(f.path) > 600u * 4000u);
}

TEST_CASE("a transaction that finds no connection free in time is unavailable, not internal") {
    const std::string path = redloop::test::fresh_db_path();
    db::DatabaseOptions options{path, 1, 5000};
    options.pool_timeout_ms = 100;
    auto opened = db::Database::open(options);
    REQUIRE(opened);
    auto& d = **opened;
    REQUIRE(d.migrate());
    // One read holds the only pooled connection until told to finish.
    std::atomic<bool> holding{false}, release{false};
    std::thread holder([&] {
        auto r = d.read([&](db::Tx&) -> engine::Result<int> {
            holding = true;
            while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(5));
            return 1;
        });
        CHECK(r);
    });
    while (!holding) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const auto started = std::chrono::steady_clock::now();
    auto waited = d.read([](db::Tx&) -> engine::Result<int> { return 2; });
    const auto took = std::chrono::steady_clock::now() - started;
    REQUIRE_FALSE(waited);
    CHECK(waited.error().code == engine::ErrorCode::unavailable);
    CHECK(took >= std::chrono::milliseconds(90));
    CHECK(d.retry_stats().pool_timeouts == 1);
    CHECK_FALSE(d.ping());  // /readyz sees it too
    release = true;
    holder.join();
    CHECK(d.ping());  // free again
    opened->reset();
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

TEST_CASE("the writer's statements are timed only when asked, and only the writer's") {
    DbFixture plain;
    CHECK_FALSE(plain.db->statement_profile());  // off by default, on either database

    const std::string path = plain.sqlite() ? test::fresh_db_path() : std::string();
    const std::string url = plain.sqlite() ? path : plain.url;
    db::DatabaseOptions options{url, 3, 5000};
    options.profile_statements = true;
    auto opened = db::Database::open(options);
    REQUIRE_MESSAGE(opened, (opened ? "" : opened.error().detail));
    auto& db = **opened;
    if (!plain.sqlite()) {
        // PostgreSQL has no group-commit writer of ours to time.
        CHECK_FALSE(db.statement_profile());
        return;
    }
    REQUIRE(db.migrate());
    const auto start = db.statement_profile();
    REQUIRE(start);
    for (int i = 0; i < 5; ++i) {
        auto done = db.write([&](db::Tx& tx) -> engine::Result<bool> {
            return db::insert_user_if_absent(
                tx, engine::UserId::trusted("usr_profile" + std::to_string(i)),
                engine::Timestamp{1'700'000'000'000});
        });
        REQUIRE(done);
        CHECK(*done);
    }
    auto counted = db.read([](db::Tx& tx) -> engine::Result<long long> {
        long long n = 0;
        tx.sql() << "SELECT COUNT(*) FROM users WHERE id LIKE 'usr_profile%'", soci::into(n);
        return n;
    });
    REQUIRE(counted);
    CHECK(*counted == 5);

    const auto rows = db.statement_profile();
    REQUIRE(rows);
    const auto find = [&](const std::string& sql) -> const db::StatementTiming* {
        for (const auto& r : *rows) {
            if (r.sql == sql) return &r;
        }
        return nullptr;
    };
    const auto* insert =
        find("INSERT INTO users (id, created_at) VALUES (:id, :at) ON CONFLICT (id) DO NOTHING");
    REQUIRE(insert);
    CHECK(insert->runs == 5);
    CHECK(insert->nanoseconds > 0);
    const auto* commit = find("COMMIT");
    REQUIRE(commit);
    CHECK(commit->runs >= 1);
    // The read ran on a pooled connection, not the writer.
    for (const auto& r : *rows) CHECK(r.sql.find("LIKE 'usr_profile%'") == std::string::npos);
    for (std::size_t i = 1; i < rows->size(); ++i)
        CHECK((*rows)[i - 1].nanoseconds >= (*rows)[i].nanoseconds);
    opened->reset();
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}
