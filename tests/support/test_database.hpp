#pragma once
// The database a test runs against: SQLite files by default, or fresh PostgreSQL databases on
// the server named by REDLOOP_TEST_PG (a base URL, postgresql://postgres@127.0.0.1:PORT, no
// database). ctest sets it for the `pg_*` tests (tests/CMakeLists.txt), whose fixture starts a
// throw-away cluster with scripts/pg-cluster.
#include <cstdint>
#include <string>
#include <vector>

namespace redloop::test {

// REDLOOP_TEST_PG without a trailing '/', or "" when the tests run on SQLite.
std::string pg_base_url();
inline bool on_postgresql() {
    return !pg_base_url().empty();
}

// Creates an empty database on the REDLOOP_TEST_PG server (named `prefix` + pid + a counter;
// one left over from an earlier run is dropped first) and returns its URL. `options` follow
// CREATE DATABASE name (e.g. "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'").
std::string pg_create_database(const std::string& prefix, const std::string& options = "");
// Drops the database of `url` (created by pg_create_database), disconnecting its sessions.
// Errors are ignored: the cluster is thrown away after the run anyway.
void pg_drop_database(const std::string& url) noexcept;

// Runs a query returning one integer on a PostgreSQL database (libpq, outside any test
// connection pool). Params bind to $1, $2, ... as text; `?N` in the SQL is read as `$N`, so
// the same text serves SQLite. No row or NULL gives 0, as sqlite3_column_int64 does.
std::int64_t pg_int(const std::string& url, const std::string& sql,
                    const std::vector<std::string>& params = {});

}  // namespace redloop::test
