#pragma once
// A fresh, migrated database for each test: a SQLite file in a temporary directory, or, when
// REDLOOP_TEST_PG names a PostgreSQL server (the pg_db_tests ctest), a database of its own on
// that server, dropped afterwards. The same test cases run on both; what only one database has
// (PRAGMAs, the WAL checkpointer) is checked per dialect, with the other's equivalent.
#include <doctest/doctest.h>

#include <unistd.h>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "redloop/db/database.hpp"
#include "redloop/db/repos.hpp"
#include "test_database.hpp"

namespace redloop::test {

inline std::string fresh_db_path() {
    static std::atomic<int> counter{0};
    const char* base = std::getenv("REDLOOP_TEST_TMP");
    std::filesystem::path dir =
        base ? base : std::filesystem::temp_directory_path() / "redloop-tests";
    std::filesystem::create_directories(dir);
    auto path =
        dir / ("db-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".db");
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
    return path.string();
}

struct DbFixture {
    // The SQLite file (empty on PostgreSQL) and what Database::open was given.
    std::string path = on_postgresql() ? std::string() : fresh_db_path();
    std::string url = on_postgresql() ? pg_create_database("redloop_dbt") : path;
    std::unique_ptr<db::Database> db;

    DbFixture() {
        auto opened = db::Database::open(db::DatabaseOptions{url, 3, 5000});
        REQUIRE_MESSAGE(opened, (opened ? "" : opened.error().detail));
        db = std::move(*opened);
        auto applied = db->migrate();
        REQUIRE_MESSAGE(applied, (applied ? "" : applied.error().detail));
    }
    ~DbFixture() {
        db.reset();
        if (on_postgresql()) {
            pg_drop_database(url);
            return;
        }
        for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    }
    db::Dialect dialect() const { return db->dialect(); }
    bool sqlite() const { return dialect() == db::Dialect::sqlite; }

    // Runs fn in a write transaction and requires success.
    template <typename F>
    auto write(F&& fn) {
        auto r =
            db->write([&](db::Tx& tx) -> engine::Result<decltype(fn(std::declval<db::Tx&>()))> {
                return fn(tx);
            });
        REQUIRE_MESSAGE(r, (r ? "" : r.error().detail));
        return std::move(*r);
    }
};

}  // namespace redloop::test
