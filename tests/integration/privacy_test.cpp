// Personal data over the real server: sealed at rest (AES-256-GCM under REDLOOP_DATA_KEYS),
// never logged, shown only to the order's buyer and shop, erased from finished orders with the
// money records kept whole, and re-sealed by `redloop rekey` when the key rotates.
#include <fstream>
#include <iterator>
#include <sstream>

#include "replay.hpp"
#include "support.hpp"
#include "test_database.hpp"

using namespace redloop;
using namespace redloop::it;
using api::Role;

namespace {

// A person nobody else is: each string must appear nowhere at rest or in the logs.
const std::string kName = "Zhao Plaintextcanary";
const std::string kPhone = "+86 138 0000 1234";
const std::string kLine1 = "88 Canary Road";
const std::vector<std::string> kCanaries{"Plaintextcanary", "138 0000 1234", "88 Canary Road"};
const std::string kCanaryAddress =
    R"({"shipping_address":{"name":"Zhao Plaintextcanary","phone":"+86 138 0000 1234",)"
    R"("line1":"88 Canary Road","city":"Chengdu","postal_code":"610000","country":"CN"}})";

// base64 of 32 bytes each.
const std::string kK1 = "k1:MTExMTExMTExMTExMTExMTExMTExMTExMTExMTExMTE=";
const std::string kK2 = "k2:MjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjI=";

bool on_postgresql(const std::string& db) {
    return db.rfind("postgres", 0) == 0;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Which canaries occur in `text`.
std::vector<std::string> canaries_in(const std::string& text) {
    std::vector<std::string> found;
    for (const auto& c : kCanaries) {
        if (text.find(c) != std::string::npos) found.push_back(c);
    }
    return found;
}

// How many stored values hold `pattern` (a LIKE pattern) where personal data is kept.
std::int64_t stored_like(const std::string& db, const std::string& like) {
    std::int64_t n = 0;
    for (const char* col : {"ship_name", "ship_phone", "ship_line1", "ship_city",
                            "ship_postal_code", "ship_country"}) {
        n += db_int(db, std::string("SELECT COUNT(*) FROM orders WHERE ") + col + " LIKE ?1",
                    {like});
    }
    n += db_int(db, "SELECT COUNT(*) FROM journal WHERE body LIKE ?1", {like});
    n += db_int(db, "SELECT COUNT(*) FROM idempotency_keys WHERE response_body LIKE ?1", {like});
    n += db_int(db, "SELECT COUNT(*) FROM events WHERE data LIKE ?1", {like});
    return n;
}

struct Shop {
    Actor merchant;
    std::string sku;
};

Shop open_shop(const ServerProcess& s, HttpClient& c, const std::string& title) {
    Shop shop{new_merchant(s), ""};
    shop.sku =
        jstr(create_product(c, shop.merchant.auth, title, {{"tin", 5000, 20}}), "/skus/0/id");
    return shop;
}

void put_in_cart(HttpClient& c, const Actor& buyer, const std::string& sku) {
    REQUIRE_STATUS(c.request("PUT", "/v1/cart/items/" + sku, R"({"quantity":1})",
                             {{"Authorization", buyer.auth}, {"Content-Type", "application/json"}}),
                   200);
}

json::value checkout(HttpClient& c, const Actor& buyer, const std::string& key) {
    const auto r = c.post("/v1/checkouts", kCanaryAddress, buyer.auth, {{"Idempotency-Key", key}});
    REQUIRE_STATUS(r, 201);
    return r.json();
}

// The order of `chk` sold by `shop`.
std::string order_of(const json::value& chk, const Shop& shop) {
    for (const auto& o : chk.at("orders").as_array()) {
        if (jstr(o, "/merchant_id") == shop.merchant.id) return jstr(o, "/id");
    }
    FAIL("no order of " << shop.merchant.id);
    return {};
}

json::value get_order(HttpClient& c, const std::string& id, const std::string& auth) {
    const auto r = c.get("/v1/orders/" + id, auth);
    REQUIRE_STATUS(r, 200);
    return r.json();
}

// The order without what an erasure may change.
json::value money_view(json::value o) {
    auto& obj = o.as_object();
    obj.erase("shipping_address");
    obj.erase("updated_at");
    return o;
}

}  // namespace

TEST_SUITE("integration_privacy") {
    TEST_CASE(
        "personal data: sealed at rest, never logged, shown to the buyer and the shop only, "
        "erased from finished orders with the money records whole") {
        ServerOptions options;
        options.env["REDLOOP_LOG_LEVEL"] = "trace";  // every log line there is
        // Small effects epochs, so the erased checkout's is closed (its rows in a carrier).
        options.extra_args = {"--journal-effects-epoch", "3"};
        std::optional<ServerProcess> server;
        server.emplace(options);
        ServerProcess& s = *server;
        const std::string db = s.db_path();
        HttpClient c(s.port());
        const Shop tea = open_shop(s, c, "Tea");
        const Shop ink = open_shop(s, c, "Ink");
        const Actor buyer = new_user(s);
        const Actor other_user = new_user(s);
        const Actor other_merchant = new_merchant(s);
        const std::string admin = s.bearer(Role::admin, "usr_admin");

        // Checkout 1: one order at each shop; both end finished. Checkout 2: stays under way.
        put_in_cart(c, buyer, tea.sku);
        put_in_cart(c, buyer, ink.sku);
        const auto chk1 = checkout(c, buyer, "privacy-1");
        const std::string first_response = to_json(chk1);
        pay_checkout(c, buyer, chk1);
        const std::string tea_order = order_of(chk1, tea), ink_order = order_of(chk1, ink);
        put_in_cart(c, buyer, tea.sku);
        const auto chk2 = checkout(c, buyer, "privacy-2");
        pay_checkout(c, buyer, chk2);
        const std::string open_order = order_of(chk2, tea);

        REQUIRE_STATUS(c.post("/v1/orders/" + tea_order + "/ship",
                              R"({"carrier":"SF","tracking_number":"SF100"})", tea.merchant.auth),
                       200);
        REQUIRE_STATUS(c.post("/v1/orders/" + tea_order + "/deliver", "", tea.merchant.auth), 200);
        REQUIRE_STATUS(c.post("/v1/orders/" + tea_order + "/complete", "", buyer.auth), 200);
        REQUIRE_STATUS(c.post("/v1/orders/" + tea_order + "/refunds",
                              R"({"amount":{"amount":1000,"currency":"CNY"},"reason":"dent",)"
                              R"("restock":false})",
                              tea.merchant.auth, {{"Idempotency-Key", "privacy-refund"}}),
                       201);
        REQUIRE(eventually(
            [&] {
                return jint(get_order(c, tea_order, buyer.auth), "/refunded_amount/amount") == 1000;
            },
            std::chrono::seconds(8)));
        REQUIRE_STATUS(c.post("/v1/orders/" + ink_order + "/cancel", "", ink.merchant.auth), 200);
        REQUIRE(eventually(
            [&] {
                return jint(get_order(c, ink_order, buyer.auth), "/refunded_amount/amount") == 5000;
            },
            std::chrono::seconds(8)));

        // (c) Who sees the address: the buyer and the order's shop; nobody else.
        CHECK(jstr(get_order(c, tea_order, buyer.auth), "/shipping_address/name") == kName);
        CHECK(jstr(get_order(c, tea_order, tea.merchant.auth), "/shipping_address/phone") ==
              kPhone);
        CHECK(jstr(get_order(c, ink_order, ink.merchant.auth), "/shipping_address/line1") ==
              kLine1);
        CHECK_PROBLEM(c.get("/v1/orders/" + tea_order, ink.merchant.auth), 404, "not_found");
        CHECK_PROBLEM(c.get("/v1/orders/" + tea_order, other_merchant.auth), 404, "not_found");
        CHECK_PROBLEM(c.get("/v1/orders/" + tea_order, other_user.auth), 404, "not_found");
        const auto as_admin = get_order(c, tea_order, admin);  // sees the order, not the person
        CHECK(jnull(as_admin, "/shipping_address"));
        CHECK(jint(as_admin, "/total/amount") == 5000);
        for (const auto& auth : {other_user.auth, other_merchant.auth, admin}) {
            const auto list = c.get("/v1/orders?limit=100", auth);
            REQUIRE_STATUS(list, 200);
            CHECK(canaries_in(list.body).empty());
        }
        const auto ink_list = c.get("/v1/orders", ink.merchant.auth);
        CHECK(ink_list.body.find(tea_order) == std::string::npos);
        // The live stream: the shop's history has the address, an admin's every order without.
        auto history = [&](Role role, const std::string& sub) {
            const auto r =
                run_cli({"stream", "orders", "--port", std::to_string(s.port()), "--token",
                         s.token(role, sub), "--after-seq", "0", "--timeout", "2"},
                        secret_env());
            REQUIRE(r.exit_code == 0);
            return r.out;
        };
        const auto shop_history = history(Role::merchant, tea.merchant.id);
        CHECK(shop_history.find("Plaintextcanary") != std::string::npos);
        const auto admin_history = history(Role::admin, "usr_admin");
        CHECK(admin_history.find(tea_order) != std::string::npos);
        CHECK(admin_history.find(ink_order) != std::string::npos);
        CHECK(canaries_in(admin_history).empty());
        CHECK(history(Role::merchant, other_merchant.id).find(tea_order) == std::string::npos);

        // (a) At rest: every stored copy is sealed.
        CHECK(stored_like(db, "%Plaintextcanary%") == 0);
        CHECK(stored_like(db, "%Canary Road%") == 0);
        CHECK(db_int(db, "SELECT COUNT(*) FROM orders WHERE ship_name LIKE 'v1:it1:%'") == 3);
        CHECK(db_int(db, "SELECT COUNT(*) FROM journal WHERE body NOT LIKE 'v1:it1:%'") == 0);
        CHECK(db_int(db,
                     "SELECT COUNT(*) FROM idempotency_keys WHERE response_body NOT LIKE "
                     "'v1:it1:%'") == 0);
        CHECK(db_int(db,
                     "SELECT COUNT(*) FROM events WHERE scope = 'orders' AND data NOT LIKE "
                     "'v1:it1:%'") == 0);
        if (!on_postgresql(db)) {
            // The raw bytes of the database and its write-ahead log.
            CHECK(canaries_in(read_file(db)).empty());
            CHECK(canaries_in(read_file(db + "-wal")).empty());
            CHECK(read_file(db + "-wal").size() + read_file(db).size() > 0);
        }

        // (d) Erasure: the finished orders (completed, cancelled) lose the person; the order
        // under way keeps it; amounts, lines, history, payments and refunds stay and add up.
        const auto tea_before = get_order(c, tea_order, buyer.auth);
        const auto ink_before = get_order(c, ink_order, buyer.auth);
        const auto payment_before = c.get("/v1/payments/" + jstr(chk1, "/payment/id"), buyer.auth);
        const auto refunds_before = c.get("/v1/orders/" + tea_order + "/refunds", buyer.auth);
        const auto erase =
            c.request("DELETE", "/v1/users/me/personal-data", "", {{"Authorization", buyer.auth}});
        REQUIRE_STATUS(erase, 200);
        CHECK(jint(erase.json(), "/erased_orders") == 2);
        const auto tea_after = get_order(c, tea_order, buyer.auth);
        const auto ink_after = get_order(c, ink_order, buyer.auth);
        CHECK(jnull(tea_after, "/shipping_address"));
        CHECK(jnull(ink_after, "/shipping_address"));
        CHECK(jnull(get_order(c, tea_order, tea.merchant.auth), "/shipping_address"));
        CHECK(jstr(get_order(c, open_order, buyer.auth), "/shipping_address/name") == kName);
        CHECK(to_json(money_view(tea_after)) == to_json(money_view(tea_before)));
        CHECK(to_json(money_view(ink_after)) == to_json(money_view(ink_before)));
        const auto payment_after = c.get("/v1/payments/" + jstr(chk1, "/payment/id"), buyer.auth);
        CHECK(payment_after.body == payment_before.body);
        CHECK(c.get("/v1/orders/" + tea_order + "/refunds", buyer.auth).body ==
              refunds_before.body);
        // The money adds up: the payment is the two orders' totals, its refunds theirs.
        const auto pay_json = payment_after.json();
        CHECK(jint(pay_json, "/amount/amount") ==
              jint(tea_after, "/total/amount") + jint(ink_after, "/total/amount"));
        CHECK(jint(tea_after, "/refunded_amount/amount") +
                  jint(ink_after, "/refunded_amount/amount") ==
              1000 + 5000);
        CHECK(jstr(tea_after, "/status") == "completed");
        CHECK(jstr(ink_after, "/status") == "cancelled");
        // Erasing again finds nothing more to erase.
        CHECK(jint(c.request("DELETE", "/v1/users/me/personal-data", "",
                             {{"Authorization", buyer.auth}})
                       .json(),
                   "/erased_orders") == 0);

        // The copies: the stored answer to checkout 1 (a retry gets it without the person),
        // the live stream's history, and the journal's request.
        const auto retry =
            c.post("/v1/checkouts", kCanaryAddress, buyer.auth, {{"Idempotency-Key", "privacy-1"}});
        REQUIRE_STATUS(retry, 201);
        CHECK(canaries_in(retry.body).empty());
        CHECK(jstr(retry.json(), "/id") == jstr(chk1, "/id"));
        CHECK(first_response.find("Plaintextcanary") != std::string::npos);
        const auto retry2 =
            c.post("/v1/checkouts", kCanaryAddress, buyer.auth, {{"Idempotency-Key", "privacy-2"}});
        CHECK(retry2.body.find("Plaintextcanary") != std::string::npos);  // still under way

        const auto stream =
            run_cli({"stream", "orders", "--port", std::to_string(s.port()), "--token",
                     s.token(Role::user, buyer.id), "--after-seq", "0", "--timeout", "2"},
                    secret_env());
        REQUIRE(stream.exit_code == 0);
        CHECK(stream.out.find(tea_order) != std::string::npos);
        std::istringstream frames(stream.out);
        int open_frames = 0;
        for (std::string line; std::getline(frames, line);) {
            if (line.find("Plaintextcanary") == std::string::npos) continue;
            INFO(line);
            CHECK(line.find(open_order) != std::string::npos);  // only the order under way
            CHECK(line.find(tea_order) == std::string::npos);
            CHECK(line.find(ink_order) == std::string::npos);
            ++open_frames;
        }
        CHECK(open_frames > 0);

        TempDir dir;
        const auto exported = run_cli({"journal", "export", "--db", db});
        REQUIRE(exported.exit_code == 0);
        std::istringstream lines(exported.out);
        int erased_entries = 0;
        for (std::string line; std::getline(lines, line);) {
            if (line.find(jstr(chk1, "/id")) == std::string::npos ||
                line.find("\"target\":\"/v1/checkouts\"") == std::string::npos) {
                continue;
            }
            CHECK(canaries_in(line).empty());
            CHECK(line.find("\"response_sha256\":\"erased\"") != std::string::npos);
            // Its epoch's recorded effects (the orders' rows as inserted) are dropped too.
            if (!test::on_postgresql()) CHECK(line.find("\"effects\":\"-") != std::string::npos);
            ++erased_entries;
        }
        CHECK(erased_entries == 1);
        CHECK(exported.out.find(jstr(chk2, "/id")) != std::string::npos);

        // The journal still replays to the live state (the erased request is checked by status).
        const auto live_hash = hash_line(run_cli({"state-hash", "--db", db}).out);
        REQUIRE(live_hash.size() == 64);
        const std::string journal = dir.file("journal.jsonl");
        std::ofstream(journal) << exported.out;
        const auto replay_db = dir.db("replay");
        const auto replayed =
            run_cli({"replay", journal, "--db", replay_db, "--expect-hash", live_hash});
        INFO(replayed.out, replayed.err);
        CHECK(replayed.exit_code == 0);
        // Its journal is the erased one: the stand-in body and "erased" stay as they were.
        const auto rewritten = api::journal_without_effects(exported.out);
        CHECK(journal_is(replay_db, rewritten));
        // And from the recorded effects: the erased epoch runs, the others are applied.
        const auto effects_db = dir.db("effects");
        const auto from_effects = run_cli(
            {"replay", journal, "--db", effects_db, "--effects", "--expect-hash", live_hash});
        INFO(from_effects.out, from_effects.err);
        CHECK(from_effects.exit_code == 0);
        CHECK(journal_is(effects_db, rewritten));
        if (!test::on_postgresql())
            CHECK(from_effects.out.find("from recorded effects: 0;") == std::string::npos);

        // (b) The whole run's log holds no personal data.
        REQUIRE(s.terminate() == std::optional<int>(0));
        const std::string log = read_file(s.log_path());
        CHECK(log.find(tea_order) != std::string::npos);  // trace level logged the requests
        CHECK(canaries_in(log).empty());
        CHECK(canaries_in(stream.err).empty());
        CHECK(canaries_in(exported.err + replayed.out + replayed.err).empty());
        CHECK(canaries_in(from_effects.out + from_effects.err).empty());
    }

    TEST_CASE(
        "rotation: sealed under k1, rekeyed to k2 while the server runs, k1 dropped: all "
        "still reads and nothing is left under k1") {
        TempDir dir;
        const std::string db = dir.db("rotate");
        auto options_with = [&](const std::string& keys) {
            ServerOptions o;
            o.db_path = db;
            o.env["REDLOOP_DATA_KEYS"] = keys;
            return o;
        };
        std::string order1, order2, first_response;
        Actor buyer;
        {
            ServerProcess s(options_with(kK1));
            HttpClient c(s.port());
            const Shop tea = open_shop(s, c, "Tea");
            buyer = new_user(s);
            put_in_cart(c, buyer, tea.sku);
            const auto r = c.post("/v1/checkouts", kCanaryAddress, buyer.auth,
                                  {{"Idempotency-Key", "rotate-1"}});
            REQUIRE_STATUS(r, 201);
            first_response = r.body;
            order1 = jstr(r.json(), "/orders/0/id");
            pay_checkout(c, buyer, r.json());
            REQUIRE(s.terminate() == std::optional<int>(0));
        }
        CHECK(db_int(db, "SELECT COUNT(*) FROM orders WHERE ship_name LIKE 'v1:k1:%'") == 1);
        REQUIRE(run_cli({"state-hash", "--db", db}, {{"REDLOOP_DATA_KEYS", kK1}}).exit_code == 0);
        // Without k1 the old values can't be opened: state-hash fails, naming the key.
        const auto without = run_cli({"state-hash", "--db", db}, {{"REDLOOP_DATA_KEYS", kK2}});
        CHECK(without.exit_code != 0);
        CHECK(without.err.find("k1") != std::string::npos);
        {
            // The new key first, the old one still there; rekey runs beside the live server.
            ServerProcess s(options_with(kK2 + "," + kK1));
            HttpClient c(s.port());
            const Shop ink = open_shop(s, c, "Ink");
            put_in_cart(c, buyer, ink.sku);
            const auto r = c.post("/v1/checkouts", kCanaryAddress, s.bearer(Role::user, buyer.id),
                                  {{"Idempotency-Key", "rotate-2"}});
            REQUIRE_STATUS(r, 201);
            order2 = jstr(r.json(), "/orders/0/id");
            CHECK(db_int(db, "SELECT COUNT(*) FROM orders WHERE ship_name LIKE 'v1:k2:%'") == 1);
            const EnvChanges both{{"REDLOOP_DATA_KEYS", kK2 + "," + kK1}};
            const auto hash_before = hash_line(run_cli({"state-hash", "--db", db}, both).out);
            REQUIRE(hash_before.size() == 64);
            const auto rekeyed = run_cli({"rekey", "--db", db, "--batch", "3"},
                                         {{"REDLOOP_DATA_KEYS", kK2 + "," + kK1}});
            INFO(rekeyed.out, rekeyed.err);
            REQUIRE(rekeyed.exit_code == 0);
            CHECK(rekeyed.out.find("under key k1") != std::string::npos);
            CHECK(rekeyed.out.find("resealed ") != std::string::npos);
            CHECK(stored_like(db, "v1:k1:%") == 0);
            // The state hash is the plaintext's: rotation does not move it.
            CHECK(hash_line(run_cli({"state-hash", "--db", db}, both).out) == hash_before);
            // The live server still reads both orders.
            CHECK(jstr(get_order(c, order1, s.bearer(Role::user, buyer.id)),
                       "/shipping_address/name") == kName);
            REQUIRE(s.terminate() == std::optional<int>(0));
        }
        CHECK(stored_like(db, "v1:k1:%") == 0);
        CHECK(stored_like(db, "v1:k2:%") > 0);
        CHECK(stored_like(db, "%Plaintextcanary%") == 0);
        {
            // k1 dropped.
            ServerProcess s(options_with(kK2));
            HttpClient c(s.port());
            const std::string auth = s.bearer(Role::user, buyer.id);
            CHECK(jstr(get_order(c, order1, auth), "/shipping_address/phone") == kPhone);
            CHECK(jstr(get_order(c, order2, auth), "/shipping_address/line1") == kLine1);
            // The stored answer comes back byte for byte.
            const auto retry =
                c.post("/v1/checkouts", kCanaryAddress, auth, {{"Idempotency-Key", "rotate-1"}});
            CHECK(retry.body == first_response);
            REQUIRE(s.terminate() == std::optional<int>(0));
        }
        // The rekeyed journal exports in plaintext and replays to the same state.
        const auto after = run_cli({"state-hash", "--db", db}, {{"REDLOOP_DATA_KEYS", kK2}});
        REQUIRE(after.exit_code == 0);
        CHECK(hash_line(after.out).size() == 64);
        const auto exported =
            run_cli({"journal", "export", "--db", db}, {{"REDLOOP_DATA_KEYS", kK2}});
        REQUIRE(exported.exit_code == 0);
        CHECK(exported.out.find("Plaintextcanary") != std::string::npos);  // plaintext export
        const std::string journal = dir.file("journal.jsonl");
        std::ofstream(journal) << exported.out;
        const auto replayed = run_cli(
            {"replay", journal, "--db", dir.db("replay"), "--expect-hash", hash_line(after.out)},
            {{"REDLOOP_DATA_KEYS", kK2}});
        INFO(replayed.out, replayed.err);
        CHECK(replayed.exit_code == 0);
    }

    TEST_CASE("the data key ring: required, checked at start, made up by --dev") {
        TempDir dir;
        EnvChanges no_keys = secret_env();
        no_keys["REDLOOP_DATA_KEYS"] = std::nullopt;
        const auto refused = run_cli({"serve", "--db", dir.db("a"), "--port", "0"}, no_keys);
        CHECK(refused.exit_code == 2);
        CHECK(refused.err.find("REDLOOP_DATA_KEYS is not set") != std::string::npos);
        for (const char* bad : {"k1", "k1:short", "k1:MTEx,",
                                "bad id:MTExMTExMTExMTExMTExMTExMTExMTExMTExMTExMTE="}) {
            EnvChanges env = secret_env();
            env["REDLOOP_DATA_KEYS"] = bad;
            const auto r = run_cli({"serve", "--db", dir.db("a"), "--port", "0"}, env);
            CAPTURE(bad);
            CHECK(r.exit_code == 2);
            CHECK(r.err.find("REDLOOP_DATA_KEYS: ") != std::string::npos);
        }
        for (const std::vector<std::string>& cmd :
             std::vector<std::vector<std::string>>{{"state-hash", "--db", dir.db("b")},
                                                   {"journal", "export", "--db", dir.db("b")},
                                                   {"rekey", "--db", dir.db("b")}}) {
            const auto r = run_cli(cmd, no_keys);
            CHECK(r.exit_code == 2);
            CHECK(r.err.find("REDLOOP_DATA_KEYS is not set") != std::string::npos);
        }
        // --dev makes one up and says so.
        ServerOptions dev;
        dev.env = no_keys;
        dev.extra_args = {"--dev"};
        ServerProcess s(dev);
        HttpClient c(s.port());
        CHECK(c.get("/readyz").status == 200);
        CHECK(s.log().find("personal data sealed under key dev") != std::string::npos);
    }
}
