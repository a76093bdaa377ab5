// Transaction replay: what the real server did, recorded in its journal, replayed without HTTP
// into an empty database, gives the same state hash; a changed journal is caught.
#include <fstream>
#include <sstream>
#include <thread>

#include "replay.hpp"
#include "support.hpp"
#include "test_database.hpp"

using namespace redloop;
using namespace redloop::it;
using api::Role;

namespace {

void put(HttpClient& c, const Actor& u, const std::string& sku, int quantity) {
    const auto r = c.request("PUT", "/v1/cart/items/" + sku,
                             R"({"quantity":)" + std::to_string(quantity) + "}",
                             {{"Authorization", u.auth}, {"Content-Type", "application/json"}});
    REQUIRE_STATUS(r, 200);
}

json::value checkout(HttpClient& c, const Actor& u, const std::string& key,
                     const std::string& coupon = "") {
    std::string body = kAddressBody;
    if (!coupon.empty()) {
        body.pop_back();
        body += R"(,"coupon_codes":[")" + coupon + R"("]})";
    }
    const auto r = c.post("/v1/checkouts", body, u.auth, {{"Idempotency-Key", key}});
    REQUIRE_STATUS(r, 201);
    return r.json();
}

// A database of `dir` seeded with the demo fixtures.
std::string seeded_db(TempDir& dir, const std::string& name) {
    const auto db = dir.db(name);
    REQUIRE(run_cli({"seed", "--db", db, "--fixtures", fixtures_dir()}, secret_env()).exit_code ==
            0);
    return db;
}

// A day in miniature on a real server: catalog, notes, a paid and partly refunded order, a
// declined card, an expired checkout, a cancelled order, a race for the last units.
std::string record_session(TempDir& dir) {
    const auto db = seeded_db(dir, "live");
    ServerOptions opts;
    opts.db_path = db;
    // Small effects epochs: several close during the session, and one is left open at the stop.
    opts.extra_args = {"--checkout-ttl", "2", "--journal-effects-epoch", "5"};
    {
        ServerProcess server(opts);
        HttpClient c(server.port());
        const auto shop =
            Actor{"mer_westlaketea", server.bearer(Role::merchant, "mer_westlaketea")};
        const auto lin = Actor{"usr_lin", server.bearer(Role::user, "usr_lin")};
        const auto mei = new_user(server);
        const auto chen = new_user(server);
        const auto sku =
            jstr(create_product(c, shop.auth, "Replay tea", {{"tin", 5000, 4}}), "/skus/0/id");
        REQUIRE_STATUS(post_note(c, lin.auth, "Tea note", {sku}), 201);
        // coupons: the platform's and the tea shop's
        const auto admin = server.bearer(Role::admin, "usr_replayadmin");
        REQUIRE_STATUS(
            c.post("/v1/coupons", R"({"code":"RP-PLAT","kind":"amount","value":700})", admin), 201);
        REQUIRE_STATUS(c.post("/v1/coupons",
                              R"({"code":"RP-TEA","kind":"percent","value":15,"per_user_limit":1})",
                              shop.auth),
                       201);
        // paid with a platform coupon, then half refunded with a restock
        put(c, lin, sku, 2);
        const auto paid = checkout(c, lin, "rp-1", "RP-PLAT");
        REQUIRE(jint(paid, "/orders/0/discount/amount") == 700);
        REQUIRE_STATUS(c.post("/v1/payments/" + jstr(paid, "/payment/id") + "/confirm",
                              R"({"card_number":"4242424242424242"})", lin.auth),
                       200);
        REQUIRE(eventually(
            [&] {
                return jstr(c.get("/v1/payments/" + jstr(paid, "/payment/id"), lin.auth).json(),
                            "/status") == "succeeded";
            },
            std::chrono::seconds(5)));
        REQUIRE_STATUS(c.post("/v1/orders/" + jstr(paid, "/orders/0/id") + "/refunds",
                              R"({"amount":{"amount":5000,"currency":"CNY"},"reason":"dent"})",
                              shop.auth, {{"Idempotency-Key", "rp-r1"}}),
                       201);
        // declined
        put(c, mei, "sku_longjing250g", 1);
        const auto declined = checkout(c, mei, "rp-2", "RP-TEA");
        REQUIRE_STATUS(c.post("/v1/payments/" + jstr(declined, "/payment/id") + "/confirm",
                              R"({"card_number":"4000000000000002"})", mei.auth),
                       200);
        // left to expire
        put(c, chen, "sku_celadoncup2", 1);
        checkout(c, chen, "rp-3", "RP-PLAT");
        // cancelled by the buyer
        put(c, chen, "sku_sunscreen50ml", 1);
        const auto cancelled = checkout(c, chen, "rp-4");
        REQUIRE_STATUS(
            c.post("/v1/orders/" + jstr(cancelled, "/orders/0/id") + "/cancel", "", chen.auth),
            200);
        // a race for the last units of the lip balm (2 left): the checkouts share group
        // commits, run on whichever thread is the writer, and must still journal their own ids
        std::vector<std::thread> racers;
        for (int i = 0; i < 24; ++i) {
            racers.emplace_back([&, i] {
                HttpClient rc(server.port());
                const auto u = new_user(server);
                rc.request("PUT", "/v1/cart/items/sku_lipbalm", R"({"quantity":1})",
                           {{"Authorization", u.auth}, {"Content-Type", "application/json"}});
                rc.post("/v1/checkouts", kAddressBody, u.auth,
                        {{"Idempotency-Key", "race-" + std::to_string(i)}});
            });
        }
        for (auto& t : racers) t.join();
        // wait for the refund's webhook and the expiries
        REQUIRE(eventually(
            [&] {
                return db_int(db,
                              "SELECT COUNT(*) FROM checkouts WHERE status = 'awaiting_payment'") ==
                           0 &&
                       db_int(db, "SELECT COUNT(*) FROM refunds WHERE status = 'pending'") == 0 &&
                       db_int(db, "SELECT COUNT(*) FROM payments WHERE status = 'processing'") == 0;
            },
            std::chrono::seconds(10)));
        REQUIRE(server.terminate() == 0);
    }
    return db;
}

}  // namespace

TEST_SUITE("integration_replay") {
    TEST_CASE("a recorded session replays to the same state; a changed journal is caught") {
        TempDir dir;
        const auto live = record_session(dir);
        const auto live_hash = run_cli({"state-hash", "--db", live});
        REQUIRE(live_hash.exit_code == 0);
        const auto expected = hash_line(live_hash.out);
        REQUIRE(expected.size() == 64);

        const auto exported = run_cli({"journal", "export", "--db", live});
        REQUIRE(exported.exit_code == 0);
        const auto journal = dir.file("journal.jsonl");
        std::ofstream(journal) << exported.out;
        const auto lines = std::count(exported.out.begin(), exported.out.end(), '\n');
        CHECK(lines > 20);
        CHECK(exported.out.find("\"kind\":\"seed\"") != std::string::npos);
        CHECK(exported.out.find("\"kind\":\"expire\"") != std::string::npos);
        CHECK(exported.out.find("/v1/webhooks/payments") != std::string::npos);
        CHECK(exported.out.find("\"kind\":\"config\"") != std::string::npos);

        const auto replay_db = dir.db("replay");
        const auto replayed =
            run_cli({"replay", journal, "--db", replay_db, "--expect-hash", expected});
        INFO(replayed.out, replayed.err);
        CHECK(replayed.exit_code == 0);
        CHECK(hash_line(replayed.out) == expected);
        CHECK(replayed.out.find("divergence") == std::string::npos);
        CHECK(hash_line(run_cli({"state-hash", "--db", replay_db}).out) == expected);
        // The new database's journal is the recorded one, ids and config entries included, so
        // it replays in turn to the same state.
        const auto rewritten = api::journal_without_effects(exported.out);
        CHECK(rewritten.find("\"ids\":[\"") != std::string::npos);
        CHECK(journal_is(replay_db, rewritten));
        if (test::on_postgresql()) {
            // Recorded on PostgreSQL, replayed into SQLite: the same answers and the same state.
            const auto sqlite_db = dir.file("replay.db");
            const auto into_sqlite =
                run_cli({"replay", journal, "--db", sqlite_db, "--expect-hash", expected});
            INFO(into_sqlite.out, into_sqlite.err);
            CHECK(into_sqlite.exit_code == 0);
            CHECK(hash_line(into_sqlite.out) == expected);
            CHECK(journal_is(sqlite_db, rewritten));
        }
        // From the recorded effects (SQLite): the same state, most entries applied, not run;
        // those of the epoch open at the stop (and the config entries' decisions) run.
        const auto effects_db = dir.db("effects");
        const auto from_effects = run_cli(
            {"replay", journal, "--db", effects_db, "--effects", "--expect-hash", expected});
        INFO(from_effects.out, from_effects.err);
        CHECK(from_effects.exit_code == 0);
        CHECK(hash_line(from_effects.out) == expected);
        CHECK(journal_is(effects_db, rewritten));
        const auto applied_line = from_effects.out.find("from recorded effects: ");
        REQUIRE(applied_line != std::string::npos);
        const long applied = std::stol(from_effects.out.substr(applied_line + 23));
        // The event log is written by running entries: the two options exclude each other.
        const auto both =
            run_cli({"replay", journal, "--db", dir.db("both"), "--effects", "--event-log"});
        CHECK(both.exit_code != 0);
        CHECK(both.err.find("excludes") != std::string::npos);
        if (test::on_postgresql()) {
            CHECK(applied == 0);  // PostgreSQL records no effects: every entry runs
            CHECK(exported.out.find("\"effects\":null") != std::string::npos);
        } else {
            CHECK(applied > lines / 2);
            // A carrier's patchset in place of another's: the second epoch's rows are lost and
            // later changes to them do not fit; the replay stops naming the entries (exit 3).
            std::vector<std::size_t> carriers;
            for (auto at = exported.out.find("\"effects\":\""); at != std::string::npos;
                 at = exported.out.find("\"effects\":\"", at + 1)) {
                if (exported.out[at + 11] != '+') carriers.push_back(at + 11);
            }
            REQUIRE(carriers.size() >= 2);
            auto patch_of = [&](std::size_t at) {
                const auto colon = exported.out.find(':', at);
                return std::make_pair(colon + 1, exported.out.find('"', colon) - colon - 1);
            };
            const auto [first_at, first_len] = patch_of(carriers[0]);
            const auto [second_at, second_len] = patch_of(carriers[1]);
            std::string doubled = exported.out;
            doubled.replace(second_at, second_len, exported.out.substr(first_at, first_len));
            const auto bad_fx = dir.file("doubled.jsonl");
            std::ofstream(bad_fx) << doubled;
            // An entry of a closed epoch whose effects were dropped ("-<epoch>", as an erasure
            // marks its epoch's entries) while the others kept theirs: the epoch's entries all
            // run, its carrier is not applied (it holds their changes too): the same state.
            const auto epoch = exported.out.substr(carriers[1], 16);
            const auto mark = "\"effects\":\"+" + epoch + "\"";
            const auto member_at = exported.out.find(mark);
            REQUIRE(member_at != std::string::npos);
            REQUIRE(exported.out.find(mark, member_at + 1) < carriers[1]);  // not the last one
            std::string unmarked = exported.out;
            unmarked.replace(member_at, mark.size(), "\"effects\":\"-" + epoch + "\"");
            const auto unmarked_file = dir.file("unmarked.jsonl");
            std::ofstream(unmarked_file) << unmarked;
            const auto unmarked_db = dir.db("unmarked");
            const auto around = run_cli({"replay", unmarked_file, "--db", unmarked_db, "--effects",
                                         "--expect-hash", expected});
            INFO(around.out, around.err);
            CHECK(around.exit_code == 0);
            CHECK(journal_is(unmarked_db, rewritten));  // copied and run, interleaved
            const auto conflict =
                run_cli({"replay", bad_fx, "--db", dir.db("doubled"), "--effects"});
            INFO(conflict.out);
            CHECK(conflict.exit_code == 3);
            CHECK(conflict.out.find("divergence: the effects of entries") != std::string::npos);
            CHECK(conflict.out.find("do not fit the database") != std::string::npos);
            // A line that is not an entry, after some batches of epochs were applied (so after
            // the indexes were dropped): refused, naming the line.
            std::string garbled = exported.out;
            std::size_t cut = 0;
            for (long i = 0; i < lines * 2 / 3; ++i) cut = garbled.find('\n', cut) + 1;
            garbled.insert(cut, "{\"seq\": \"not an entry\"}\n");
            const auto garbled_file = dir.file("garbled.jsonl");
            std::ofstream(garbled_file) << garbled;
            const auto refused = run_cli({"replay", garbled_file, "--db", dir.db("garbled"),
                                          "--effects", "--effects-batch", "1"});
            INFO(refused.out, refused.err);
            CHECK(refused.exit_code != 0);
            CHECK(refused.err.find("line " + std::to_string(lines * 2 / 3 + 1) + ":") !=
                  std::string::npos);
            // The secondary indexes, dropped for the load from effects and built once after it,
            // are all back as they were: after a replay, a divergence and a refused line alike.
            const auto indexes =
                "SELECT COUNT(*) * 1000000 + SUM(LENGTH(sql)) FROM sqlite_master "
                "WHERE type = 'index' AND sql IS NOT NULL";
            CHECK(db_int(live, indexes) > 30 * 1000000);
            CHECK(db_int(effects_db, indexes) == db_int(live, indexes));
            CHECK(db_int(dir.db("doubled"), indexes) == db_int(live, indexes));
            CHECK(db_int(dir.db("garbled"), indexes) == db_int(live, indexes));
        }
        // the event log (derived, not hashed) is written again only when asked for
        const auto event_rows = "SELECT COUNT(*) FROM events";
        CHECK(db_int(replay_db, event_rows) == 0);
        const auto events_db = dir.db("events");
        const auto with_events = run_cli(
            {"replay", journal, "--db", events_db, "--expect-hash", expected, "--event-log"});
        CHECK(with_events.exit_code == 0);
        CHECK(db_int(events_db, event_rows) > 0);

        // a journal that says something else happened: the first differing entry is named
        std::string tampered = exported.out;
        const auto at = tampered.find("\"response_sha256\":\"", tampered.find("/v1/checkouts"));
        REQUIRE(at != std::string::npos);
        tampered[at + 19] = tampered[at + 19] == '0' ? '1' : '0';
        const auto bad = dir.file("tampered.jsonl");
        std::ofstream(bad) << tampered;
        const auto diverged = run_cli({"replay", bad, "--db", dir.db("diverged")});
        CHECK(diverged.exit_code == 3);
        CHECK(diverged.out.find("divergence: entry") != std::string::npos);
        CHECK(diverged.out.find("POST /v1/checkouts") != std::string::npos);

        const auto again = dir.db("again");
        const auto wrong =
            run_cli({"replay", journal, "--db", again, "--expect-hash", std::string(64, '0')});
        CHECK(wrong.exit_code == 4);
        CHECK(run_cli({"replay", journal, "--db", again}).exit_code == 2);  // not empty
    }

    TEST_CASE("views and restarts: the journal replays from its effects to the same state") {
        // A note's view counter is written by view flushes, which are not journaled: its row
        // made in an epoch that got no carrier (the server stopped) and changed in one that did
        // must not make the replay fail. Epochs of 3; three server runs.
        TempDir dir;
        const auto db = seeded_db(dir, "live");
        ServerOptions opts;
        opts.db_path = db;
        opts.extra_args = {"--journal-effects-epoch", "3"};
        for (int run = 0; run < 3; ++run) {
            ServerProcess server(opts);
            HttpClient c(server.port());
            const auto buyer = new_user(server);  // one journal entry (actor)
            if (run == 0) {
                // a second entry, then the first views (flushed within 500 ms), then the stop:
                // the epoch is left open
                REQUIRE_STATUS(put_cart_line(c, buyer, "sku_longjing50g", 1), 200);
            }
            for (int i = 0; i < 4; ++i) REQUIRE_STATUS(c.get("/v1/notes/nte_springtea"), 200);
            std::this_thread::sleep_for(std::chrono::milliseconds(800));
            if (run > 0) {
                // more views counted, then entries enough to close the epoch they are in
                for (std::int64_t q = 1; q <= 3; ++q)
                    REQUIRE_STATUS(put_cart_line(c, buyer, "sku_longjing250g", q), 200);
                // /metrics counts the epoch closed with its carrier (none on PostgreSQL)
                const auto metrics = c.get("/metrics").body;
                const std::string series =
                    "redloop_journal_effects_epochs_total{outcome=\"carried\"} ";
                const auto at = metrics.find(series);
                REQUIRE(at != std::string::npos);
                CHECK(metrics.find("redloop_journal_effects_epochs_total{outcome=\"given_up\"}") !=
                      std::string::npos);
                CHECK(std::stol(metrics.substr(at + series.size())) ==
                      (test::on_postgresql() ? 0 : 1));
            }
            REQUIRE(server.terminate() == 0);
        }
        REQUIRE(db_int(db, "SELECT SUM(views) FROM note_stats") == 12);
        const auto expected = hash_line(run_cli({"state-hash", "--db", db}).out);
        const auto exported = run_cli({"journal", "export", "--db", db});
        REQUIRE(exported.exit_code == 0);
        const auto journal = dir.file("journal.jsonl");
        std::ofstream(journal) << exported.out;
        const auto replayed = run_cli(
            {"replay", journal, "--db", dir.db("effects"), "--effects", "--expect-hash", expected});
        INFO(replayed.out, replayed.err);
        CHECK(replayed.exit_code == 0);
        if (!test::on_postgresql())
            CHECK(replayed.out.find("from recorded effects: 0;") == std::string::npos);
    }

    TEST_CASE("a journal with commissions and a settlement replays to the same state") {
        TempDir dir;
        const auto db = dir.db("live");
        ServerOptions opts;
        opts.db_path = db;
        opts.extra_args = {"--settle-interval", "1"};
        {
            ServerProcess server(opts);
            HttpClient c(server.port());
            const auto shop = new_merchant(server);
            const auto author = new_user(server);
            const auto buyer = new_user(server);
            REQUIRE_STATUS(c.patch("/v1/merchants/me", R"({"return_window_days":0})", shop.auth),
                           200);
            const auto sku =
                jstr(create_product(c, shop.auth, "Tea", {{"tin", 3333, 10}}, 1250), "/skus/0/id");
            const auto note = post_note(c, author.auth, "Tea note", {sku});
            REQUIRE_STATUS(note, 201);
            REQUIRE_STATUS(
                c.post("/v1/coupons", R"({"code":"TEN","kind":"percent","value":10})", shop.auth),
                201);
            REQUIRE_STATUS(
                c.request("PUT", "/v1/cart/items/" + sku,
                          R"({"quantity":3,"note_id":")" + jstr(note.json(), "/id") + "\"}",
                          {{"Authorization", buyer.auth}, {"Content-Type", "application/json"}}),
                200);
            const auto chk = c.post(
                "/v1/checkouts",
                kAddressBody.substr(0, kAddressBody.size() - 1) + R"(,"coupon_codes":["TEN"]})",
                buyer.auth, {{"Idempotency-Key", "cm-1"}});
            REQUIRE_STATUS(chk, 201);
            const auto order = jstr(chk.json(), "/orders/0/id");
            const auto payment = jstr(chk.json(), "/payment/id");
            REQUIRE_STATUS(c.post("/v1/payments/" + payment + "/confirm", kGoodCard, buyer.auth),
                           200);
            REQUIRE(eventually(
                [&] {
                    return jstr(c.get("/v1/payments/" + payment, buyer.auth).json(), "/status") ==
                           "succeeded";
                },
                std::chrono::seconds(8)));
            REQUIRE_STATUS(c.post("/v1/orders/" + order + "/ship",
                                  R"({"carrier":"SF","tracking_number":"1"})", shop.auth),
                           200);
            REQUIRE_STATUS(c.post("/v1/orders/" + order + "/deliver", "", shop.auth), 200);
            REQUIRE_STATUS(c.post("/v1/orders/" + order + "/complete", "", buyer.auth), 200);
            REQUIRE(eventually(
                [&] {
                    return db_int(db, "SELECT COUNT(*) FROM journal WHERE kind = 'settle'") == 1;
                },
                std::chrono::seconds(8)));
            // a refund after the settlement: a clawback
            REQUIRE_STATUS(c.post("/v1/orders/" + order + "/refunds",
                                  R"({"amount":{"amount":1001,"currency":"CNY"},"reason":"x"})",
                                  shop.auth, {{"Idempotency-Key", "cm-r1"}}),
                           201);
            REQUIRE(eventually(
                [&] {
                    return db_int(db,
                                  "SELECT COUNT(*) FROM commission_entries WHERE kind = "
                                  "'reverse'") == 1;
                },
                std::chrono::seconds(8)));
            REQUIRE(server.terminate() == 0);
        }
        CHECK(db_int(db, "SELECT COUNT(*) FROM commission_entries") == 3);
        const auto expected = hash_line(run_cli({"state-hash", "--db", db}).out);
        REQUIRE(expected.size() == 64);
        const auto exported = run_cli({"journal", "export", "--db", db});
        REQUIRE(exported.exit_code == 0);
        CHECK(exported.out.find("\"kind\":\"settle\"") != std::string::npos);
        const auto journal = dir.file("journal.jsonl");
        std::ofstream(journal) << exported.out;
        const auto replay_db = dir.db("replay");
        const auto replayed =
            run_cli({"replay", journal, "--db", replay_db, "--expect-hash", expected});
        INFO(replayed.out, replayed.err);
        CHECK(replayed.exit_code == 0);
        CHECK(hash_line(replayed.out) == expected);
        CHECK(db_int(replay_db, "SELECT COUNT(*) FROM commission_entries") == 3);
        CHECK(journal_is(replay_db, api::journal_without_effects(exported.out)));
    }

    TEST_CASE("export --since continues from a sequence number") {
        TempDir dir;
        const auto db = seeded_db(dir, "s");
        const auto all = run_cli({"journal", "export", "--db", db});
        REQUIRE(all.exit_code == 0);
        const auto n = std::count(all.out.begin(), all.out.end(), '\n');
        REQUIRE(n >= 1);
        const auto rest = run_cli({"journal", "export", "--db", db, "--since", std::to_string(n)});
        CHECK(rest.exit_code == 0);
        CHECK(rest.out.empty());
    }
}
