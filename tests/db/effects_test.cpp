// Recorded effects (docs/journal.md#effects): the group commit keeps an SQLite session over an
// epoch of journal entries and stores its net changes on the epoch's last entry; applying those
// to an empty database gives the same state. SQLite files only: PostgreSQL records none.
#include <soci/soci.h>

#include <string>
#include <vector>

#include "db_fixture.hpp"
#include "redloop/db/journal.hpp"
#include "redloop/db/repos.hpp"

using namespace redloop;
using redloop::test::DbFixture;

namespace {

// The journal entry of a command by `user` at `at`.
void journal_command(db::Tx& tx, const std::string& user, long long at) {
    db::JournalEntry e;
    e.at = engine::Timestamp{at};
    e.kind = "actor";
    e.actor = user;
    e.role = "user";
    e.status = 200;
    e.response_sha256 = user;
    db::append_journal(tx, e);
}

// One command: a user and a journal entry naming it (and, every third, a change to an earlier
// user, so an epoch holds updates of rows it inserted).
void add_user(db::Database& d, int i) {
    auto r = d.write([&](db::Tx& tx) -> engine::Result<bool> {
        const std::string id = "usr_fx" + std::to_string(i);
        long long at = 1000 + i;
        tx.sql() << "INSERT INTO users (id, created_at) VALUES (:id, :at)", soci::use(id),
            soci::use(at);
        if (i % 3 == 2) {
            const std::string earlier = "usr_fx" + std::to_string(i - 1);
            tx.sql() << "UPDATE users SET created_at = created_at + 1 WHERE id = :id",
                soci::use(earlier);
        }
        if (i == 5) {
            // Rows inserted and deleted: in no patchset, but their table's counter moved (the
            // SKU they name does not exist: the foreign key is checked at the commit, when they
            // are gone).
            tx.sql() << "PRAGMA defer_foreign_keys = ON";
            for (int k = 0; k < 3; ++k) {
                tx.sql() << "INSERT INTO cart_lines (user_id, sku_id, quantity, added_at, "
                            "updated_at) VALUES ('usr_fx5', 'sku_fx', 1, 1, 1)";
                tx.sql() << "DELETE FROM cart_lines";
            }
        }
        journal_command(tx, id, at);
        return true;
    });
    REQUIRE(r);
}

std::vector<db::JournalEntry> journal(db::Database& d) {
    auto j = d.read([](db::Tx& tx) -> engine::Result<std::vector<db::JournalEntry>> {
        return db::journal_since(tx, 0, 1000);
    });
    REQUIRE(j);
    return *j;
}

std::string hash_of(db::Database& d) {
    auto h = d.read([](db::Tx& tx) -> engine::Result<std::string> { return db::state_hash(tx); });
    REQUIRE(h);
    return *h;
}

// The patchsets of the carriers, in order.
std::vector<std::string> carriers(const std::vector<db::JournalEntry>& entries) {
    std::vector<std::string> out;
    for (const auto& e : entries) {
        if (e.effects && !e.effects->empty() && (*e.effects)[0] != '+')
            out.push_back(e.effects->substr(e.effects->find(':') + 1));
    }
    return out;
}

long long count(db::Database& d, const std::string& sql) {
    auto n = d.read([&](db::Tx& tx) -> engine::Result<long long> {
        long long v = 0;
        tx.sql() << sql, soci::into(v);
        return v;
    });
    REQUIRE(n);
    return *n;
}

engine::Status apply(db::Database& d, const std::vector<std::string>& patches) {
    std::vector<std::string_view> views(patches.begin(), patches.end());
    auto r = d.write([&](db::Tx& tx) -> engine::Result<bool> {
        if (auto s = db::apply_effects(tx, views); !s) return engine::fail(s.error());
        return true;
    });
    if (!r) return engine::fail(r.error());
    return {};
}

}  // namespace

TEST_CASE("effects are recorded in epochs and applied give the same state") {
    DbFixture live;
    if (!live.sqlite()) {
        // PostgreSQL has no session extension: nothing is recorded, every replay runs.
        CHECK_FALSE(live.db->applies_effects());
        live.db->set_effects_recording(true, 4);
        add_user(*live.db, 0);
        CHECK_FALSE(journal(*live.db).front().effects);
        return;
    }
    CHECK_FALSE(live.db->records_effects());  // off until asked for
    add_user(*live.db, 100);                  // before recording: no effects
    live.db->set_effects_recording(true, 4);
    CHECK(live.db->records_effects());
    for (int i = 0; i < 10; ++i) add_user(*live.db, i);
    const auto entries = journal(*live.db);
    REQUIRE(entries.size() == 11);
    CHECK_FALSE(entries[0].effects);
    // Entries 1-4 and 5-8 are two closed epochs (marks, then a carrier); 9-10 are still open.
    std::vector<std::string> epochs;
    for (std::size_t i = 1; i < entries.size(); ++i) {
        REQUIRE(entries[i].effects);
        const auto& fx = *entries[i].effects;
        const bool carrier = i == 4 || i == 8;
        INFO("entry ", i, ": ", fx.substr(0, 40));
        if (carrier) {
            CHECK(fx.find(':') == 16);
            epochs.push_back(fx.substr(0, 16));
        } else {
            CHECK(fx[0] == '+');
            CHECK(fx.size() == 17);
        }
    }
    REQUIRE(epochs.size() == 2);
    CHECK(epochs[0] != epochs[1]);
    CHECK(*entries[1].effects == "+" + epochs[0]);
    CHECK(*entries[9].effects == *entries[10].effects);
    CHECK(entries[10].effects->substr(1) != epochs[1]);  // a third epoch, open

    // Close the open epoch (2 more entries), so every change is in a carrier, then apply the
    // first user (recorded before) and the carriers to an empty database.
    add_user(*live.db, 10);
    add_user(*live.db, 11);
    const auto all = journal(*live.db);
    const auto patches = carriers(all);
    REQUIRE(patches.size() == 3);
    DbFixture copy;
    add_user(*copy.db, 100);
    REQUIRE(apply(*copy.db, patches));
    CHECK(hash_of(*copy.db) == hash_of(*live.db));
    CHECK(count(*copy.db, "SELECT COUNT(*) FROM users") == 13);
    const auto counter = "SELECT seq FROM sqlite_sequence WHERE name = 'cart_lines'";
    CHECK(count(*live.db, counter) == 3);
    CHECK(count(*copy.db, counter) == 3);

    // Applied twice they don't fit: the rows to insert are there already. Nothing is applied.
    const auto before = hash_of(*copy.db);
    auto again = apply(*copy.db, patches);
    REQUIRE_FALSE(again);
    CHECK(again.error().detail.find("already there") != std::string::npos);
    CHECK(again.error().detail.find("users") != std::string::npos);
    CHECK(hash_of(*copy.db) == before);
    // Not a patchset at all: refused, nothing applied.
    CHECK_FALSE(apply(*copy.db, {"bm90IGEgcGF0Y2hzZXQ="}));
    CHECK_FALSE(apply(*copy.db, {"not base64!"}));
    CHECK(hash_of(*copy.db) == before);
}

TEST_CASE("a rolled-back command leaves nothing in its epoch's effects") {
    DbFixture live;
    if (!live.sqlite()) return;  // nothing recorded on PostgreSQL (see above)
    live.db->set_effects_recording(true, 2);
    add_user(*live.db, 0);
    auto failed = live.db->write([&](db::Tx& tx) -> engine::Result<bool> {
        tx.sql() << "INSERT INTO users (id, created_at) VALUES ('usr_gone', 1)";
        return engine::fail(engine::ErrorCode::conflict, "changed its mind");
    });
    REQUIRE_FALSE(failed);
    add_user(*live.db, 1);
    const auto patches = carriers(journal(*live.db));
    REQUIRE(patches.size() == 1);
    DbFixture copy;
    REQUIRE(apply(*copy.db, patches));
    CHECK(hash_of(*copy.db) == hash_of(*live.db));
    CHECK(count(*copy.db, "SELECT COUNT(*) FROM users WHERE id = 'usr_gone'") == 0);
}

TEST_CASE("redacting an entry drops its whole epoch's effects, and gives up the open one") {
    DbFixture live;
    if (!live.sqlite()) return;  // nothing recorded on PostgreSQL (see above)
    live.db->set_effects_recording(true, 3);
    for (int i = 0; i < 9; ++i) add_user(*live.db, i);  // epochs: 1-3, 4-6, 7-9 (seq)
    auto redact = [&](std::int64_t seq) {
        REQUIRE(live.db->write([&](db::Tx& tx) -> engine::Result<bool> {
            db::redact_journal_entry(tx, seq, "{}", "erased");
            return true;
        }));
    };
    // Whether an entry's effects were dropped ("-<epoch>": a replay runs it).
    auto dropped = [](const db::JournalEntry& e) {
        return e.effects && !e.effects->empty() && (*e.effects)[0] == '-';
    };
    const auto middle_epoch = journal(*live.db)[4].effects->substr(1);
    redact(5);  // a mark in the middle epoch
    auto entries = journal(*live.db);
    for (std::size_t i = 0; i < entries.size(); ++i) {
        INFO("seq ", entries[i].seq);
        const bool middle = entries[i].seq >= 4 && entries[i].seq <= 6;
        CHECK(dropped(entries[i]) == middle);
        if (middle) CHECK(*entries[i].effects == "-" + middle_epoch);
    }
    redact(9);  // a carrier: its epoch too
    entries = journal(*live.db);
    for (const auto& e : entries) {
        INFO("seq ", e.seq);
        CHECK(dropped(e) == (e.seq > 3));
    }
    // Another process commits while an epoch is open (a `redloop seed` beside the server): its
    // changes would mix into the epoch's net changes, so the epoch is given up (no carrier: a
    // replay runs its entries) and a new one begins.
    {
        auto other = db::Database::open(db::DatabaseOptions{live.url, 2, 5000});
        REQUIRE(other);
        add_user(*live.db, 20);  // seq 10: a new epoch
        add_user(**other, 21);   // seq 11: no effects
        add_user(*live.db, 22);  // seq 12: another epoch
        add_user(*live.db, 23);  // seq 13
        auto around = journal(*live.db);
        REQUIRE(around.size() == 13);
        REQUIRE(around[9].effects);
        CHECK((*around[9].effects)[0] == '+');
        CHECK_FALSE(around[10].effects);
        REQUIRE(around[11].effects);
        CHECK(*around[11].effects != *around[9].effects);
        CHECK(*around[12].effects == *around[11].effects);  // open, two of three
        redact(10);  // its epoch: the entry alone; the other process's entry keeps none
        around = journal(*live.db);
        CHECK(dropped(around[9]));
        CHECK_FALSE(around[10].effects);
        CHECK((*around[11].effects)[0] == '+');
    }
    // An open epoch with a redacted entry gets no carrier: its entries keep their marks only.
    add_user(*live.db, 9);  // seq 14, opens an epoch
    redact(14);
    add_user(*live.db, 10);  // seq 15, 16, 17: a new epoch closes at 17
    add_user(*live.db, 11);
    add_user(*live.db, 12);
    entries = journal(*live.db);
    REQUIRE(entries.size() == 17);
    CHECK(dropped(entries[13]));
    REQUIRE(entries[16].effects);
    CHECK((*entries[16].effects)[0] != '+');
    CHECK(entries[14].effects->substr(1) == entries[16].effects->substr(0, 16));
}

TEST_CASE("carriers recorded on either side of a column added are applied in two passes") {
    DbFixture live;
    if (!live.sqlite()) return;  // nothing recorded on PostgreSQL (see above)
    auto exec = [](db::Database& d, const std::string& sql) {
        REQUIRE(d.write([&](db::Tx& tx) -> engine::Result<bool> {
            tx.sql() << sql;
            return true;
        }));
    };
    // One command: a user, then a row of fx_t (so a carrier holds users before fx_t).
    auto command = [&](const std::string& user, const std::string& row) {
        REQUIRE(live.db->write([&](db::Tx& tx) -> engine::Result<bool> {
            tx.sql() << "INSERT INTO users (id, created_at) VALUES ('" + user + "', 1)";
            tx.sql() << "INSERT INTO fx_t VALUES " + row;
            journal_command(tx, user, 1);
            return true;
        }));
    };
    exec(*live.db, "CREATE TABLE fx_t (id TEXT PRIMARY KEY, v INTEGER)");
    live.db->set_effects_recording(true, 1);
    command("usr_fxa", "('a', 1)");
    // A migration adds a column between the two carriers.
    live.db->set_effects_recording(false);
    exec(*live.db, "ALTER TABLE fx_t ADD COLUMN w INTEGER DEFAULT 7");
    live.db->set_effects_recording(true, 1);
    command("usr_fxb", "('b', 2, 3)");
    const auto patches = carriers(journal(*live.db));
    REQUIRE(patches.size() == 2);

    // The second carrier's users change is added to the batch before its fx_t stops it: it must
    // not be applied with the first pass and then again with the second.
    DbFixture copy;
    exec(*copy.db, "CREATE TABLE fx_t (id TEXT PRIMARY KEY, v INTEGER, w INTEGER DEFAULT 7)");
    auto applied = apply(*copy.db, patches);
    const std::string why = applied ? std::string() : applied.error().detail;
    INFO(why);
    REQUIRE(applied);
    CHECK(hash_of(*copy.db) == hash_of(*live.db));
    CHECK(count(*copy.db, "SELECT COUNT(*) FROM users WHERE id IN ('usr_fxa', 'usr_fxb')") == 2);
    CHECK(count(*copy.db, "SELECT w FROM fx_t WHERE id = 'a'") == 7);  // the default
    CHECK(count(*copy.db, "SELECT w FROM fx_t WHERE id = 'b'") == 3);
}
