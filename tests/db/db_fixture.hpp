#pragma once
// A fresh, migrated SQLite database in a temporary file for each test.
#include <doctest/doctest.h>

#include <unistd.h>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "redloop/db/database.hpp"
#include "redloop/db/repos.hpp"

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
    std::string path = fresh_db_path();
    std::unique_ptr<db::Database> db;

    DbFixture() {
        auto opened = db::Database::open(db::DatabaseOptions{path, 3, 5000});
        REQUIRE_MESSAGE(opened, (opened ? "" : opened.error().detail));
        db = std::move(*opened);
        auto applied = db->migrate();
        REQUIRE_MESSAGE(applied, (applied ? "" : applied.error().detail));
    }
    ~DbFixture() {
        db.reset();
        for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    }

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
