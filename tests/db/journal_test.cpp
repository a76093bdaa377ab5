// The state hash: the same rows give the same hash on SQLite and on PostgreSQL, whatever order
// they were written in and whatever the PostgreSQL database's collation.
#include <soci/soci.h>

#include <string>
#include <vector>

#include "db_fixture.hpp"
#include "redloop/db/journal.hpp"

using namespace redloop;
using redloop::test::DbFixture;

namespace {

// Ids that en-US orders differently from their bytes: punctuation first, then letters before
// digits' neighbours, lower case before upper ("usr_a_b usr_a1 usr_ab usr_aB"); bytewise they
// are "usr_a1 usr_aB usr_a_b usr_ab".
const std::vector<std::string> kIds = {"usr_a_b", "usr_a1", "usr_aB", "usr_ab"};

void add_users(db::Database& d, bool reversed) {
    auto ids = kIds;
    if (reversed) ids.assign(kIds.rbegin(), kIds.rend());
    auto r = d.write([&](db::Tx& tx) -> engine::Result<int> {
        for (const auto& id : ids)
            tx.sql() << "INSERT INTO users (id, created_at) VALUES (:id, 7)", soci::use(id);
        return 1;
    });
    REQUIRE(r);
}

std::string hash_of(db::Database& d) {
    auto h = d.read([](db::Tx& tx) -> engine::Result<std::string> { return db::state_hash(tx); });
    REQUIRE(h);
    return *h;
}

// The hash of a migrated database holding only kIds' users, on either database (computed on
// SQLite; a change to the hashed tables changes it, as it changes the recorded journals' hashes).
constexpr const char* kUsersHash =
    "0fbe45d9a81488a188da084c5d3712336f4dc346eb17262d091cfb81e063e17c";

}  // namespace

TEST_CASE("the state hash is the same on SQLite and PostgreSQL, in any collation") {
    DbFixture f;
    add_users(*f.db, false);
    const auto hash = hash_of(*f.db);
    CHECK(hash == kUsersHash);
    switch (f.dialect()) {
        case db::Dialect::sqlite: {
            // Written in the opposite order: the same hash.
            DbFixture other;
            add_users(*other.db, true);
            CHECK(hash_of(*other.db) == hash);
            break;
        }
        case db::Dialect::postgresql: {
            // A database that sorts text as en-US does (ICU), written in the opposite order.
            const auto url = test::pg_create_database(
                "redloop_icu", "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'");
            {
                auto opened = db::Database::open(db::DatabaseOptions{url, 1, 5000});
                REQUIRE(opened);
                auto& other = **opened;
                REQUIRE(other.migrate());
                // The collation really differs: en-US puts "usr_a_b" first.
                auto first = other.read([](db::Tx& tx) -> engine::Result<std::string> {
                    std::string id;
                    tx.sql() << "SELECT id FROM (VALUES ('usr_a1'), ('usr_a_b')) v(id) ORDER BY id "
                                "LIMIT 1",
                        soci::into(id);
                    return id;
                });
                REQUIRE(first);
                CHECK(*first == "usr_a_b");
                add_users(other, true);
                CHECK(hash_of(other) == hash);
            }
            test::pg_drop_database(url);
            break;
        }
    }
}
