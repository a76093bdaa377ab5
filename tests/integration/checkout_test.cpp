// Cart, checkout, reservations, orders and expiry on the real server.
#include <atomic>
#include <set>
#include <thread>

#include "support.hpp"

using namespace redloop;
using namespace redloop::it;
using api::Role;

namespace {

const std::string kAddress =
    R"({"shipping_address":{"name":"Lin","phone":"+86 138 0000 0000","line1":"1 West Lake Rd",)"
    R"("city":"Hangzhou","postal_code":"310000","country":"CN"}})";

HttpResponse put_line(HttpClient& c, const Actor& u, const std::string& sku, std::int64_t quantity,
                      const std::string& note = "") {
    std::string body = R"({"quantity":)" + std::to_string(quantity);
    if (!note.empty()) body += R"(,"note_id":")" + note + "\"";
    body += "}";
    return c.request("PUT", "/v1/cart/items/" + sku, body,
                     {{"Authorization", u.auth}, {"Content-Type", "application/json"}});
}

HttpResponse checkout(HttpClient& c, const Actor& u, const std::string& key,
                      const std::string& body = kAddress) {
    return c.post("/v1/checkouts", body, u.auth, {{"Idempotency-Key", key}});
}

json::value inventory(HttpClient& c, const Actor& m, const std::string& sku) {
    const auto r = c.get("/v1/skus/" + sku + "/inventory", m.auth);
    REQUIRE_STATUS(r, 200);
    return r.json();
}

}  // namespace

TEST_SUITE("integration_checkout") {
    TEST_CASE("two merchants, one checkout: two orders, one payment, stock reserved, replay") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto tea = new_merchant(server);
        const auto glow = new_merchant(server);
        const auto buyer = new_user(server);
        REQUIRE_STATUS(c.patch("/v1/merchants/me",
                               R"({"shipping_fee":{"amount":800,"currency":"CNY"},)"
                               R"("free_shipping_over":{"amount":50000,"currency":"CNY"}})",
                               tea.auth),
                       200);
        const auto tea_sku =
            jstr(create_product(c, tea.auth, "Longjing", {{"50 g", 6800, 10}}), "/skus/0/id");
        const auto glow_sku =
            jstr(create_product(c, glow.auth, "Sunscreen", {{"50 ml", 15900, 5}}), "/skus/0/id");
        const auto tea_note = post_note(c, buyer.auth, "Tea time", {tea_sku});
        REQUIRE_STATUS(tea_note, 201);
        const auto glow_note = post_note(c, glow.auth, "Our sunscreen", {glow_sku});
        REQUIRE_STATUS(glow_note, 201);

        REQUIRE_STATUS(put_line(c, buyer, tea_sku, 2, jstr(tea_note.json(), "/id")), 200);
        const auto cart = put_line(c, buyer, glow_sku, 1, jstr(glow_note.json(), "/id"));
        REQUIRE_STATUS(cart, 200);
        CHECK(jint(cart.json(), "/subtotal/amount") == 2 * 6800 + 15900);
        CHECK(jstr(cart.json(), "/items/0/note_id") == jstr(tea_note.json(), "/id"));
        CHECK(jint(cart.json(), "/items/0/line_total/amount") == 13600);
        CHECK(jbool(cart.json(), "/items/1/purchasable"));

        const auto first = checkout(c, buyer, "chk-key-1");
        REQUIRE_STATUS(first, 201);
        const auto v = first.json();
        CHECK(jstr(v, "/status") == "awaiting_payment");
        REQUIRE(v.at_pointer("/orders").as_array().size() == 2);
        std::int64_t sum = 0;
        for (const auto& o : v.at_pointer("/orders").as_array()) {
            CHECK(jstr(o, "/status") == "awaiting_payment");
            CHECK(jstr(o, "/user_id") == buyer.id);
            CHECK(jint(o, "/total/amount") ==
                  jint(o, "/subtotal/amount") + jint(o, "/shipping_fee/amount"));
            CHECK(jint(o, "/refunded_amount/amount") == 0);
            CHECK(jstr(o, "/shipping_address/city") == "Hangzhou");
            CHECK(jnull(o, "/shipment"));
            CHECK(jstr(o, "/history/0/status") == "awaiting_payment");
            sum += jint(o, "/total/amount");
            if (jstr(o, "/merchant_id") == tea.id) {
                CHECK(jint(o, "/shipping_fee/amount") == 800);
                CHECK(jstr(o, "/lines/0/note_id") == jstr(tea_note.json(), "/id"));
                CHECK(jint(o, "/lines/0/quantity") == 2);
            } else {
                CHECK(jstr(o, "/merchant_id") == glow.id);
                CHECK(jint(o, "/shipping_fee/amount") == 0);
            }
        }
        CHECK(jstr(v, "/payment/status") == "requires_confirmation");
        CHECK(jint(v, "/payment/amount/amount") == sum);
        CHECK(jint(v, "/payment/amount/amount") == 13600 + 800 + 15900);

        // stock is reserved, the cart is empty
        const auto inv = inventory(c, tea, tea_sku);
        CHECK(jint(inv, "/on_hand") == 10);
        CHECK(jint(inv, "/reserved") == 2);
        CHECK(jint(inv, "/available") == 8);
        CHECK(jint(c.get("/v1/skus/" + glow_sku).json(), "/available") == 4);
        CHECK(c.get("/v1/cart", buyer.auth).json().at_pointer("/items").as_array().empty());
        check_stock_invariants(server, tea_sku);
        check_stock_invariants(server, glow_sku);

        // the same request again: the same bytes, nothing new
        const auto again = checkout(c, buyer, "chk-key-1");
        CHECK(again.status == 201);
        CHECK(again.body == first.body);
        CHECK(db_int(server, "SELECT COUNT(*) FROM checkouts") == 1);
        CHECK(jint(inventory(c, tea, tea_sku), "/reserved") == 2);
        // the same JSON spaced differently is the same request
        std::string respaced = kAddress;
        respaced.insert(1, "\n  ");
        const auto spaced = checkout(c, buyer, "chk-key-1", respaced);
        CHECK(spaced.status == 201);
        CHECK(spaced.body == first.body);
        // the same key with another body
        CHECK_PROBLEM(checkout(c, buyer, "chk-key-1",
                               R"({"shipping_address":{"name":"X","phone":"1",)"
                               R"("line1":"a","city":"b","postal_code":"1","country":"CN"}})"),
                      422, "idempotency_key_reused");

        // reads: owner and admin see it; another user does not
        const auto checkout_id = jstr(v, "/id");
        const auto payment_id = jstr(v, "/payment/id");
        CHECK(c.get("/v1/checkouts/" + checkout_id, buyer.auth).body == first.body);
        CHECK(c.get("/v1/checkouts/" + checkout_id, server.bearer(Role::admin, "usr_ops")).status ==
              200);
        const auto stranger = new_user(server);
        CHECK_PROBLEM(c.get("/v1/checkouts/" + checkout_id, stranger.auth), 404, "not_found");
        CHECK_PROBLEM(c.get("/v1/payments/" + payment_id, stranger.auth), 404, "not_found");
        const auto pay = c.get("/v1/payments/" + payment_id, buyer.auth);
        REQUIRE_STATUS(pay, 200);
        CHECK(jint(pay.json(), "/amount/amount") == sum);
        CHECK_PROBLEM(c.get("/v1/checkouts/" + checkout_id, tea.auth), 403, "forbidden");

        // each merchant sees only its own order; the buyer sees both
        const auto tea_orders = c.get("/v1/orders", tea.auth).json();
        REQUIRE(tea_orders.at_pointer("/data").as_array().size() == 1);
        CHECK(jstr(tea_orders, "/data/0/merchant_id") == tea.id);
        CHECK(c.get("/v1/orders", buyer.auth).json().at_pointer("/data").as_array().size() == 2);
        CHECK(c.get("/v1/orders", stranger.auth).json().at_pointer("/data").as_array().empty());
        const auto glow_order = jstr(c.get("/v1/orders", glow.auth).json(), "/data/0/id");
        CHECK_PROBLEM(c.get("/v1/orders/" + glow_order, tea.auth), 404, "not_found");
        CHECK_PROBLEM(c.get("/v1/orders/" + glow_order, stranger.auth), 404, "not_found");
        CHECK(c.get("/v1/orders/" + glow_order, buyer.auth).status == 200);
        const auto metrics = c.get("/metrics").body;
        CHECK(metric_value(metrics, "redloop_checkouts_total{outcome=\"created\"}") == 1.0);
        CHECK(metric_value(metrics, "redloop_checkouts_total{outcome=\"replayed\"}") == 2.0);
        CHECK(metric_value(metrics, "redloop_orders{status=\"awaiting_payment\"}") == 2.0);
    }

    TEST_CASE("50 concurrent checkouts for 10 units: exactly 10 succeed") {
        ServerOptions opts;
        opts.threads = 4;
        ServerProcess server(opts);
        HttpClient setup(server.port());
        const auto m = new_merchant(server);
        const auto sku =
            jstr(create_product(setup, m.auth, "Last ten", {{"one", 9900, 10}}), "/skus/0/id");
        constexpr int kBuyers = 50;
        std::vector<Actor> buyers;
        for (int i = 0; i < kBuyers; ++i) {
            buyers.push_back(new_user(server));
            REQUIRE_STATUS(put_line(setup, buyers.back(), sku, 1), 200);
        }
        std::atomic<int> created{0}, sold_out{0}, other{0};
        race(server, kBuyers, [&](int i, HttpClient& c) {
            const auto r = checkout(c, buyers[i], "race-" + std::to_string(i));
            if (r.status == 201) {
                ++created;
            } else if (r.status == 409 && problem_code(r) == "out_of_stock" &&
                       r.body.find(sku) != std::string::npos) {
                ++sold_out;
            } else {
                ++other;
            }
        });
        CHECK(created.load() == 10);
        CHECK(sold_out.load() == kBuyers - 10);
        CHECK(other.load() == 0);
        const auto metrics = setup.get("/metrics").body;
        CHECK(metric_value(metrics, "redloop_checkouts_total{outcome=\"created\"}") == 10.0);
        CHECK(metric_value(metrics, "redloop_checkouts_total{outcome=\"out_of_stock\"}") == 40.0);
        const auto inv = inventory(setup, m, sku);
        CHECK(jint(inv, "/reserved") == 10);
        CHECK(jint(inv, "/available") == 0);
        CHECK(db_int(server, "SELECT COUNT(*) FROM orders") == 10);
        check_stock_invariants(server, sku);
        // the losers' carts still hold their line, flagged short of stock
        int flagged = 0;
        for (const auto& b : buyers) {
            const auto cart = setup.get("/v1/cart", b.auth).json();
            if (cart.at_pointer("/items").as_array().empty()) continue;
            CHECK(jstr(cart, "/items/0/problem") == "insufficient_stock");
            CHECK_FALSE(jbool(cart, "/items/0/purchasable"));
            ++flagged;
        }
        CHECK(flagged == kBuyers - 10);
    }

    TEST_CASE("all or nothing: one short line reserves nothing and names the sku") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto m = new_merchant(server);
        const auto buyer = new_user(server);
        const auto p = create_product(c, m.auth, "Pair", {{"plenty", 100, 50}, {"scarce", 100, 2}});
        const auto plenty = jstr(p, "/skus/0/id");
        const auto scarce = jstr(p, "/skus/1/id");
        REQUIRE_STATUS(put_line(c, buyer, plenty, 5), 200);
        REQUIRE_STATUS(put_line(c, buyer, scarce, 2), 200);
        // the merchant takes stock away after the cart was filled
        REQUIRE_STATUS(c.post("/v1/skus/" + scarce + "/stock-adjustments",
                              R"({"delta":-1,"reason":"damaged"})", m.auth),
                       200);
        const auto cart = c.get("/v1/cart", buyer.auth).json();
        CHECK(jstr(cart, "/items/1/problem") == "insufficient_stock");
        CHECK(jnull(cart, "/items/0/problem"));
        const auto r = checkout(c, buyer, "short-1");
        CHECK_PROBLEM(r, 409, "out_of_stock");
        CHECK(jstr(r.json(), "/detail").find(scarce) != std::string::npos);
        CHECK(jstr(r.json(), "/detail").find(plenty) == std::string::npos);
        CHECK(jint(inventory(c, m, plenty), "/reserved") == 0);
        CHECK(jint(inventory(c, m, scarce), "/reserved") == 0);
        CHECK(db_int(server, "SELECT COUNT(*) FROM checkouts") == 0);
        CHECK(c.get("/v1/cart", buyer.auth).json().at_pointer("/items").as_array().size() == 2);
        check_stock_invariants(server, plenty);
        check_stock_invariants(server, scarce);
        // with the line fixed and a new key, it goes through
        REQUIRE_STATUS(put_line(c, buyer, scarce, 1), 200);
        CHECK(checkout(c, buyer, "short-2").status == 201);
        CHECK(jint(inventory(c, m, scarce), "/available") == 0);
    }

    TEST_CASE("an unpaid checkout expires and its stock returns") {
        ServerOptions opts;
        opts.extra_args = {"--checkout-ttl", "1"};
        ServerProcess server(opts);
        HttpClient c(server.port());
        const auto m = new_merchant(server);
        const auto buyer = new_user(server);
        const auto sku = jstr(create_product(c, m.auth, "Brief", {{"one", 500, 3}}), "/skus/0/id");
        REQUIRE_STATUS(put_line(c, buyer, sku, 3), 200);
        const auto r = checkout(c, buyer, "exp-1");
        REQUIRE_STATUS(r, 201);
        CHECK(jint(c.get("/v1/skus/" + sku).json(), "/available") == 0);
        const auto id = jstr(r.json(), "/id");
        const bool expired = eventually(
            [&] {
                return jstr(c.get("/v1/checkouts/" + id, buyer.auth).json(), "/status") ==
                       "expired";
            },
            std::chrono::seconds(6));
        REQUIRE(expired);
        const auto after = c.get("/v1/checkouts/" + id, buyer.auth).json();
        CHECK(jstr(after, "/orders/0/status") == "expired");
        CHECK(jstr(after, "/orders/0/history/1/status") == "expired");
        CHECK(jstr(after, "/payment/status") == "cancelled");
        CHECK(jint(after, "/payment/amount/amount") == 1500);
        CHECK(jint(c.get("/v1/skus/" + sku).json(), "/available") == 3);
        CHECK(db_int(server.db_path(),
                     "SELECT COUNT(*) FROM inventory_ledger WHERE sku_id = ?1 AND kind = 'release'",
                     {sku}) == 1);
        check_stock_invariants(server, sku);
        // expired is final
        const auto order = jstr(after, "/orders/0/id");
        CHECK_PROBLEM(c.post("/v1/orders/" + order + "/cancel", "", buyer.auth), 409,
                      "invalid_transition");
        // a later sweep changes nothing
        std::this_thread::sleep_for(std::chrono::milliseconds(1200));
        CHECK(db_int(server.db_path(),
                     "SELECT COUNT(*) FROM inventory_ledger WHERE sku_id = ?1 AND kind = 'release'",
                     {sku}) == 1);
    }

    TEST_CASE("order moves: role checks, cancel releases at once, invalid moves are 409") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto m = new_merchant(server);
        const auto other_m = new_merchant(server);
        const auto buyer = new_user(server);
        const auto stranger = new_user(server);
        const auto sku = jstr(create_product(c, m.auth, "Moves", {{"one", 1000, 5}}), "/skus/0/id");
        REQUIRE_STATUS(put_line(c, buyer, sku, 2), 200);
        const auto r = checkout(c, buyer, "moves-1");
        REQUIRE_STATUS(r, 201);
        const auto order = jstr(r.json(), "/orders/0/id");
        const auto base = "/v1/orders/" + order;
        const std::string ship_body = R"({"carrier":"SF Express","tracking_number":"SF1234"})";

        // unpaid orders cannot ship, be delivered or completed
        const auto ship = c.post(base + "/ship", ship_body, m.auth);
        CHECK_PROBLEM(ship, 409, "invalid_transition");
        CHECK(jstr(ship.json(), "/detail") ==
              "order " + order + " is awaiting_payment: it cannot ship");
        CHECK_PROBLEM(c.post(base + "/deliver", "", m.auth), 409, "invalid_transition");
        CHECK_PROBLEM(c.post(base + "/complete", "", buyer.auth), 409, "invalid_transition");
        // the wrong party
        CHECK_PROBLEM(c.post(base + "/ship", ship_body, buyer.auth), 403, "forbidden");
        CHECK_PROBLEM(c.post(base + "/complete", "", m.auth), 403, "forbidden");
        CHECK_PROBLEM(c.post(base + "/ship", ship_body, other_m.auth), 404, "not_found");
        CHECK_PROBLEM(c.post(base + "/cancel", "", stranger.auth), 404, "not_found");
        CHECK_PROBLEM(c.post(base + "/cancel", "", other_m.auth), 404, "not_found");
        // bad bodies
        CHECK_PROBLEM(c.post(base + "/ship", R"({"carrier":"SF"})", m.auth), 400,
                      "invalid_request");
        CHECK_PROBLEM(c.post(base + "/ship", R"({"carrier":"","tracking_number":"1"})", m.auth),
                      400, "invalid_request");
        CHECK_PROBLEM(c.post(base + "/cancel", R"({"reason":"x"})", buyer.auth), 400,
                      "invalid_request");
        CHECK_PROBLEM(c.post("/v1/orders/ord_!/cancel", "", buyer.auth), 400, "invalid_request");
        CHECK_PROBLEM(c.post("/v1/orders/ord_missing/cancel", "", buyer.auth), 404, "not_found");
        CHECK(jint(c.get("/v1/skus/" + sku).json(), "/available") == 3);

        // the buyer cancels: stock returns at once, the checkout and payment are cancelled
        const auto cancelled = c.post(base + "/cancel", "{}", buyer.auth);
        REQUIRE_STATUS(cancelled, 200);
        CHECK(jstr(cancelled.json(), "/status") == "cancelled");
        CHECK(jstr(cancelled.json(), "/history/1/status") == "cancelled");
        CHECK(jint(c.get("/v1/skus/" + sku).json(), "/available") == 5);
        const auto chk = c.get("/v1/checkouts/" + jstr(r.json(), "/id"), buyer.auth).json();
        CHECK(jstr(chk, "/status") == "cancelled");
        CHECK(jstr(chk, "/payment/status") == "cancelled");
        check_stock_invariants(server, sku);
        CHECK_PROBLEM(c.post(base + "/cancel", "", m.auth), 409, "invalid_transition");
        CHECK(jint(c.get("/v1/skus/" + sku).json(), "/available") == 5);
        CHECK(c.get("/v1/orders?status=cancelled", m.auth)
                  .json()
                  .at_pointer("/data")
                  .as_array()
                  .size() == 1);
        CHECK(c.get("/v1/orders?status=awaiting_payment", m.auth)
                  .json()
                  .at_pointer("/data")
                  .as_array()
                  .empty());
        CHECK_PROBLEM(c.get("/v1/orders?status=lost", m.auth), 400, "invalid_request");
    }

    TEST_CASE("cancelling one order of two lowers the payment to what is left") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto a = new_merchant(server);
        const auto b = new_merchant(server);
        const auto buyer = new_user(server);
        const auto sa = jstr(create_product(c, a.auth, "A", {{"one", 1000, 5}}), "/skus/0/id");
        const auto sb = jstr(create_product(c, b.auth, "B", {{"one", 3000, 5}}), "/skus/0/id");
        REQUIRE_STATUS(put_line(c, buyer, sa, 1), 200);
        REQUIRE_STATUS(put_line(c, buyer, sb, 1), 200);
        const auto r = checkout(c, buyer, "partial-1");
        REQUIRE_STATUS(r, 201);
        CHECK(jint(r.json(), "/payment/amount/amount") == 4000);
        const auto b_orders = c.get("/v1/orders", b.auth).json();
        REQUIRE_STATUS(c.post("/v1/orders/" + jstr(b_orders, "/data/0/id") + "/cancel", "", b.auth),
                       200);
        const auto chk = c.get("/v1/checkouts/" + jstr(r.json(), "/id"), buyer.auth).json();
        CHECK(jstr(chk, "/status") == "awaiting_payment");
        CHECK(jint(chk, "/payment/amount/amount") == 1000);
        CHECK(jstr(chk, "/payment/status") == "requires_confirmation");
        CHECK(jint(c.get("/v1/skus/" + sb).json(), "/available") == 5);
        CHECK(jint(c.get("/v1/skus/" + sa).json(), "/available") == 4);
    }

    TEST_CASE("cart validation: every bad input is a clear error and changes nothing") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto m = new_merchant(server);
        const auto buyer = new_user(server);
        const auto p = create_product(c, m.auth, "Cart", {{"one", 100, 5}});
        const auto sku = jstr(p, "/skus/0/id");
        const auto other =
            jstr(create_product(c, m.auth, "Other", {{"one", 100, 5}}), "/skus/0/id");
        const auto note = post_note(c, buyer.auth, "about other", {other});
        REQUIRE_STATUS(note, 201);
        const auto cart_path = "/v1/cart/items/" + sku;
        auto put_raw = [&](const std::string& path, const std::string& body,
                           const std::string& auth) {
            return c.request("PUT", path, body,
                             {{"Authorization", auth}, {"Content-Type", "application/json"}});
        };
        CHECK_PROBLEM(put_line(c, buyer, sku, 1000), 400, "invalid_request");
        CHECK_PROBLEM(put_line(c, buyer, sku, -1), 400, "invalid_request");
        CHECK_PROBLEM(put_raw(cart_path, R"({"quantity":1.5})", buyer.auth), 400,
                      "invalid_request");
        CHECK_PROBLEM(put_raw(cart_path, R"({"quantity":1,"price":1})", buyer.auth), 400,
                      "invalid_request");
        CHECK_PROBLEM(put_raw(cart_path, R"({})", buyer.auth), 400, "invalid_request");
        CHECK_PROBLEM(put_line(c, buyer, sku, 6), 409, "out_of_stock");
        CHECK_PROBLEM(put_line(c, buyer, "sku_nothere", 1), 404, "not_found");
        CHECK_PROBLEM(put_line(c, buyer, "prd_wrong", 1), 400, "invalid_request");
        CHECK_PROBLEM(put_line(c, buyer, sku, 1, "nte_nothere"), 400, "invalid_request");
        CHECK_PROBLEM(put_line(c, buyer, sku, 1, jstr(note.json(), "/id")), 400, "invalid_request");
        CHECK_PROBLEM(put_line(c, Actor{m.id, m.auth}, sku, 1), 403, "forbidden");
        CHECK_PROBLEM(c.get("/v1/cart"), 401, "unauthenticated");
        CHECK(c.get("/v1/cart", buyer.auth).json().at_pointer("/items").as_array().empty());

        // archived products can't be added, and a line whose product is archived says so
        REQUIRE_STATUS(put_line(c, buyer, sku, 2), 200);
        REQUIRE_STATUS(
            c.patch("/v1/products/" + jstr(p, "/id"), R"({"status":"archived"})", m.auth), 200);
        CHECK(jstr(c.get("/v1/cart", buyer.auth).json(), "/items/0/problem") == "archived");
        CHECK_PROBLEM(put_line(c, buyer, sku, 3), 409, "conflict");
        CHECK_PROBLEM(checkout(c, buyer, "arch-1"), 409, "conflict");
        // removing: quantity 0 and DELETE
        REQUIRE_STATUS(put_line(c, buyer, sku, 0), 200);
        REQUIRE_STATUS(put_line(c, buyer, other, 1), 200);
        const auto del =
            c.request("DELETE", "/v1/cart/items/" + other, "", {{"Authorization", buyer.auth}});
        REQUIRE_STATUS(del, 200);
        CHECK(del.json().at_pointer("/items").as_array().empty());
    }

    TEST_CASE("a cart holds at most 100 lines") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto m = new_merchant(server);
        const auto buyer = new_user(server);
        std::vector<SkuSpec> specs;
        for (int i = 0; i < 100; ++i) specs.push_back({"size " + std::to_string(i), 100, 5});
        const auto p = create_product(c, m.auth, "Many", specs);
        for (int i = 0; i < 100; ++i) {
            REQUIRE_STATUS(put_line(c, buyer, jstr(p, "/skus/" + std::to_string(i) + "/id"), 1),
                           200);
        }
        const auto extra =
            jstr(create_product(c, m.auth, "Extra", {{"one", 100, 5}}), "/skus/0/id");
        const auto full = put_line(c, buyer, extra, 1);
        CHECK_PROBLEM(full, 409, "conflict");
        CHECK(jstr(full.json(), "/detail") == "the cart is full: at most 100 lines");
        // changing an existing line still works
        CHECK(put_line(c, buyer, jstr(p, "/skus/0/id"), 3).status == 200);
        CHECK(c.get("/v1/cart", buyer.auth).json().at_pointer("/items").as_array().size() == 100);
    }

    TEST_CASE("checkout refusals") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto m = new_merchant(server);
        const auto buyer = new_user(server);
        const auto sku = jstr(create_product(c, m.auth, "Refuse", {{"one", 100, 5}}), "/skus/0/id");
        CHECK_PROBLEM(checkout(c, buyer, "empty-1"), 409, "conflict");
        REQUIRE_STATUS(put_line(c, buyer, sku, 1), 200);
        CHECK_PROBLEM(c.post("/v1/checkouts", kAddress, buyer.auth), 400, "invalid_request");
        CHECK_PROBLEM(checkout(c, buyer, "bad-1", R"({"shipping_address":{"name":"Lin"}})"), 400,
                      "invalid_request");
        CHECK_PROBLEM(
            checkout(c, buyer, "bad-2",
                     R"({"shipping_address":{"name":"Lin","phone":"1","line1":"a","city":"b",)"
                     R"("postal_code":"1","country":"China"}})"),
            400, "invalid_request");
        CHECK_PROBLEM(checkout(c, buyer, "bad-3", R"({"shipping_address":{}, "total":1})"), 400,
                      "invalid_request");
        CHECK_PROBLEM(checkout(c, buyer, "bad-4", "[]"), 400, "invalid_request");
        CHECK_PROBLEM(c.post("/v1/checkouts", kAddress, m.auth, {{"Idempotency-Key", "m-1"}}), 403,
                      "forbidden");
        CHECK_PROBLEM(c.post("/v1/checkouts", kAddress, "", {{"Idempotency-Key", "a-1"}}), 401,
                      "unauthenticated");
        CHECK(db_int(server, "SELECT COUNT(*) FROM checkouts") == 0);
        CHECK(jint(c.get("/v1/skus/" + sku).json(), "/available") == 5);
        CHECK(c.get("/v1/cart", buyer.auth).json().at_pointer("/items").as_array().size() == 1);
    }

    TEST_CASE("orders page with a cursor, newest first") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto m = new_merchant(server);
        const auto buyer = new_user(server);
        const auto sku = jstr(create_product(c, m.auth, "Paged", {{"one", 100, 50}}), "/skus/0/id");
        std::vector<std::string> made;
        for (int i = 0; i < 5; ++i) {
            REQUIRE_STATUS(put_line(c, buyer, sku, 1), 200);
            const auto r = checkout(c, buyer, "page-" + std::to_string(i));
            REQUIRE_STATUS(r, 201);
            made.insert(made.begin(), jstr(r.json(), "/orders/0/id"));
        }
        std::vector<std::string> seen;
        std::string cursor;
        for (int page = 0; page < 5; ++page) {
            const auto r =
                c.get("/v1/orders?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor), m.auth);
            REQUIRE_STATUS(r, 200);
            const auto page_json = r.json();
            for (const auto& o : page_json.at_pointer("/data").as_array())
                seen.push_back(jstr(o, "/id"));
            if (jnull(page_json, "/next_cursor")) break;
            cursor = jstr(page_json, "/next_cursor");
        }
        CHECK(seen == made);
        CHECK_PROBLEM(c.get("/v1/orders?limit=0", m.auth), 400, "invalid_request");
        CHECK_PROBLEM(c.get("/v1/orders?cursor=zzz", m.auth), 400, "invalid_request");
        CHECK(c.get("/v1/orders", server.bearer(Role::admin, "usr_ops"))
                  .json()
                  .at_pointer("/data")
                  .as_array()
                  .size() == 5);
    }

    TEST_CASE("the order listing follows every change of an order (encoded orders are cached)") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto m = new_merchant(server);
        const auto buyer = new_user(server);
        const auto admin = server.bearer(Role::admin, "usr_ops");
        const auto sku =
            jstr(create_product(c, m.auth, "Cached", {{"one", 1000, 5}}), "/skus/0/id");
        REQUIRE_STATUS(put_line(c, buyer, sku, 2), 200);
        const auto r = checkout(c, buyer, "cached-1");
        REQUIRE_STATUS(r, 201);
        const auto order = jstr(r.json(), "/orders/0/id");
        // The order as each viewer's listing shows it, and as GET /v1/orders/{id} (never cached)
        // does: the same JSON, read twice so the second read is a hit.
        auto same_in_listing = [&](const std::string& auth) {
            const auto single = to_json(c.get("/v1/orders/" + order, auth).json());
            for (int i = 0; i < 2; ++i) {
                const auto page = c.get("/v1/orders?limit=100", auth).json();
                std::string listed;
                for (const auto& o : page.at("data").as_array()) {
                    if (o.at("id").as_string() == order) listed = to_json(o);
                }
                INFO(auth.substr(0, 20), " read ", i);
                CHECK(listed == single);
            }
            return single;
        };
        auto every_viewer = [&](const std::string& status) {
            const auto by_merchant = same_in_listing(m.auth);
            CHECK(by_merchant.find("\"status\":\"" + status + "\"") != std::string::npos);
            CHECK(by_merchant.find("\"shipping_address\":{") != std::string::npos);
            CHECK(same_in_listing(buyer.auth) == by_merchant);
            // an admin's entry (no address) and the shop's are kept apart
            CHECK(same_in_listing(admin).find("\"shipping_address\":null") != std::string::npos);
            CHECK(same_in_listing(m.auth) == by_merchant);
        };
        every_viewer("awaiting_payment");
        pay_checkout(c, buyer, r.json());
        REQUIRE(eventually(
            [&] { return jstr(c.get("/v1/orders/" + order, m.auth).json(), "/status") == "paid"; },
            std::chrono::seconds(8)));
        every_viewer("paid");
        const auto base = "/v1/orders/" + order;
        REQUIRE_STATUS(
            c.post(base + "/ship", R"({"carrier":"SF Express","tracking_number":"SF1"})", m.auth),
            200);
        every_viewer("shipped");
        CHECK(same_in_listing(m.auth).find("\"tracking_number\":\"SF1\"") != std::string::npos);
        REQUIRE_STATUS(c.post(base + "/deliver", "", m.auth), 200);
        every_viewer("delivered");
        REQUIRE_STATUS(c.post(base + "/complete", "", buyer.auth), 200);
        every_viewer("completed");
        const auto metrics = c.get("/metrics", admin).body;
        CHECK(metric_value(metrics, "redloop_order_cache_total{result=\"hit\"}").value_or(0) > 0);
        CHECK(metric_value(metrics, "redloop_order_cache_total{result=\"miss\"}").value_or(0) > 0);
    }
}
