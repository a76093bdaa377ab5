// Coupons over the real server: merchant and platform coupons, the split of a platform coupon
// across merchant orders, refusals that change nothing, limits under a race, and redemptions
// that return with cancelled, declined and expired orders.
#include <atomic>
#include <thread>

#include "support.hpp"

using namespace redloop;
using namespace redloop::it;
using api::Role;

namespace {

HttpResponse put_line(HttpClient& c, const Actor& u, const std::string& sku,
                      std::int64_t quantity) {
    return c.request("PUT", "/v1/cart/items/" + sku,
                     R"({"quantity":)" + std::to_string(quantity) + "}",
                     {{"Authorization", u.auth}, {"Content-Type", "application/json"}});
}

// The checkout body with these coupon codes.
std::string body_with(const std::vector<std::string>& codes) {
    json::array a;
    for (const auto& c : codes) a.emplace_back(c);
    auto body = json::parse(kAddressBody).as_object();
    body["coupon_codes"] = std::move(a);
    return json::serialize(body);
}

HttpResponse checkout(HttpClient& c, const Actor& u, const std::string& key,
                      const std::vector<std::string>& codes) {
    return c.post("/v1/checkouts", body_with(codes), u.auth, {{"Idempotency-Key", key}});
}

HttpResponse create_coupon(HttpClient& c, const std::string& auth, const std::string& body) {
    return c.post("/v1/coupons", body, auth);
}

std::int64_t available(HttpClient& c, const std::string& sku) {
    return jint(c.get("/v1/skus/" + sku).json(), "/available");
}

json::value coupon(HttpClient& c, const std::string& auth, const std::string& code) {
    const auto r = c.get("/v1/coupons/" + code, auth);
    REQUIRE_STATUS(r, 200);
    return r.json();
}

bool payment_becomes(HttpClient& c, const Actor& buyer, const std::string& payment,
                     const std::string& status) {
    return eventually(
        [&] {
            return jstr(c.get("/v1/payments/" + payment, buyer.auth).json(), "/status") == status;
        },
        std::chrono::seconds(8));
}

// The order of `merchant` in a checkout's JSON.
json::value order_of(const json::value& chk, const std::string& merchant) {
    for (const auto& o : chk.at("orders").as_array()) {
        if (jstr(o, "/merchant_id") == merchant) return o;
    }
    FAIL("no order of " << merchant);
    return {};
}

}  // namespace

TEST_SUITE("integration_promotions") {
    TEST_CASE("a platform coupon across two shops: shares add up to the fen, after shop coupons") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto tea = new_merchant(server);
        const auto pot = new_merchant(server);
        const auto admin = server.bearer(Role::admin, unique_id("usr_"));
        const auto buyer = new_user(server);
        // Tea: 3 x 11.11 = 33.33; pots: 66.67.
        const auto tea_sku =
            jstr(create_product(c, tea.auth, "Tea", {{"tin", 1111, 20}}), "/skus/0/id");
        const auto pot_sku =
            jstr(create_product(c, pot.auth, "Pot", {{"clay", 6667, 20}}), "/skus/0/id");
        REQUIRE_STATUS(put_line(c, buyer, tea_sku, 3), 200);
        REQUIRE_STATUS(put_line(c, buyer, pot_sku, 1), 200);

        const auto plat = create_coupon(
            c, admin,
            R"({"code":"redloop10","kind":"amount","value":1000,"min_spend":{"amount":5000,"currency":"CNY"}})");
        REQUIRE_STATUS(plat, 201);
        CHECK(jstr(plat.json(), "/code") == "REDLOOP10");  // codes are upper case
        CHECK(jstr(plat.json(), "/scope") == "platform");
        CHECK(jnull(plat.json(), "/merchant_id"));
        const auto shop =
            create_coupon(c, tea.auth, R"({"code":"TEA-10","kind":"percent","value":10})");
        REQUIRE_STATUS(shop, 201);
        CHECK(jstr(shop.json(), "/merchant_id") == tea.id);

        const auto r = checkout(c, buyer, "plat-1", {"tea-10", "REDLOOP10"});
        REQUIRE_STATUS(r, 201);
        const auto chk = r.json();
        // Shop coupon: 10 % of 33.33 = 3.33 (rounded down). The platform's 10.00 then goes over
        // what is left, 30.00 and 66.67: 3.1033... and 6.8966... -> 3.10 and 6.89, and the last
        // fen to the larger remainder -> 3.10 + 6.90.
        const auto t = order_of(chk, tea.id);
        CHECK(jint(t, "/subtotal/amount") == 3333);
        CHECK(jint(t, "/discount/amount") == 333 + 310);
        CHECK(jstr(t, "/discounts/0/code") == "TEA-10");
        CHECK(jint(t, "/discounts/0/amount/amount") == 333);
        CHECK(jstr(t, "/discounts/1/code") == "REDLOOP10");
        CHECK(jint(t, "/discounts/1/amount/amount") == 310);
        CHECK(jint(t, "/total/amount") == 3333 - 643);
        CHECK(jint(t, "/lines/0/discount/amount") == 643);
        const auto p = order_of(chk, pot.id);
        CHECK(jint(p, "/discount/amount") == 690);
        CHECK(p.at_pointer("/discounts").as_array().size() == 1);
        CHECK(jint(p, "/discounts/0/amount/amount") == 690);
        CHECK(jint(p, "/total/amount") == 6667 - 690);
        // The platform's shares add up to its face value; the payment is the sum of the totals.
        CHECK(jint(t, "/discounts/1/amount/amount") + jint(p, "/discounts/0/amount/amount") ==
              1000);
        CHECK(jint(chk, "/payment/amount/amount") == (3333 - 643) + (6667 - 690));

        // Held, not redeemed, until the payment succeeds; the owner sees the counts.
        auto pc = coupon(c, admin, "REDLOOP10");
        CHECK(jint(pc, "/in_use") == 1);
        CHECK(jint(pc, "/redeemed") == 0);
        CHECK_FALSE(jhas(coupon(c, buyer.auth, "REDLOOP10"), "/in_use"));  // a buyer doesn't
        const auto payment = jstr(chk, "/payment/id");
        REQUIRE_STATUS(c.post("/v1/payments/" + payment + "/confirm", kGoodCard, buyer.auth), 200);
        REQUIRE(payment_becomes(c, buyer, payment, "succeeded"));
        pc = coupon(c, admin, "REDLOOP10");
        CHECK(jint(pc, "/in_use") == 1);
        CHECK(jint(pc, "/redeemed") == 1);
        CHECK(jint(coupon(c, tea.auth, "TEA-10"), "/redeemed") == 1);
        // The orders keep their discount lines when read back, alone and in a list.
        const auto order = c.get("/v1/orders/" + jstr(t, "/id"), buyer.auth);
        REQUIRE_STATUS(order, 200);
        CHECK(jint(order.json(), "/discount/amount") == 643);
        CHECK(jstr(order.json(), "/discounts/1/code") == "REDLOOP10");
        const auto listed = c.get("/v1/orders?limit=10", tea.auth).json();
        CHECK(jint(listed, "/data/0/discount/amount") == 643);
        CHECK(jint(listed, "/data/0/discounts/0/amount/amount") == 333);
        // A refund can't exceed what was paid after the discount.
        CHECK_PROBLEM(c.post("/v1/orders/" + jstr(t, "/id") + "/refunds",
                             R"({"amount":{"amount":3333,"currency":"CNY"},"reason":"x"})",
                             tea.auth, {{"Idempotency-Key", "rf-over"}}),
                      409, "conflict");
    }

    TEST_CASE("coupons that do not apply are refused by name and change nothing") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto tea = new_merchant(server);
        const auto other = new_merchant(server);
        const auto admin = server.bearer(Role::admin, unique_id("usr_"));
        const auto buyer = new_user(server);
        const auto sku = jstr(create_product(c, tea.auth, "Tea", {{"tin", 2000, 5}}), "/skus/0/id");
        REQUIRE_STATUS(put_line(c, buyer, sku, 2), 200);
        REQUIRE_STATUS(create_coupon(c, tea.auth,
                                     R"({"code":"BIG","kind":"amount","value":500,)"
                                     R"("min_spend":{"amount":10000,"currency":"CNY"}})"),
                       201);
        REQUIRE_STATUS(
            create_coupon(c, other.auth, R"({"code":"ELSEWHERE","kind":"amount","value":100})"),
            201);
        REQUIRE_STATUS(create_coupon(c, tea.auth,
                                     R"({"code":"SOON","kind":"percent","value":5,)"
                                     R"("starts_at":"2999-01-01T00:00:00Z"})"),
                       201);
        REQUIRE_STATUS(create_coupon(c, admin, R"({"code":"PL1","kind":"amount","value":100})"),
                       201);
        REQUIRE_STATUS(create_coupon(c, admin, R"({"code":"PL2","kind":"amount","value":100})"),
                       201);
        REQUIRE_STATUS(create_coupon(c, tea.auth, R"({"code":"GONE","kind":"amount","value":100})"),
                       201);
        REQUIRE_STATUS(
            c.request("PATCH", "/v1/coupons/gone", R"({"status":"disabled"})",
                      {{"Authorization", tea.auth}, {"Content-Type", "application/json"}}),
            200);
        const struct {
            std::vector<std::string> codes;
            std::string code_named, reason;
        } cases[] = {
            {{"NOPE"}, "NOPE", "no such coupon"},
            {{"BIG"}, "BIG", "needs a spend of 100.00 CNY"},
            {{"ELSEWHERE"}, "ELSEWHERE", "nothing in the cart is from it"},
            {{"SOON"}, "SOON", "valid from 2999-01-01"},
            {{"PL1", "PL2"}, "PL2", "only one platform coupon"},
            {{"GONE"}, "GONE", "withdrawn"},
        };
        int n = 0;
        for (const auto& k : cases) {
            CAPTURE(k.code_named);
            const auto r = checkout(c, buyer, "no-" + std::to_string(n++), k.codes);
            CHECK_PROBLEM(r, 409, "conflict");
            CHECK(r.body.find("coupon " + k.code_named) != std::string::npos);
            CHECK(r.body.find(k.reason) != std::string::npos);
        }
        // Nothing was reserved, no order made, the cart is intact, no coupon counted.
        CHECK(available(c, sku) == 5);
        CHECK(db_int(server, "SELECT COUNT(*) FROM orders") == 0);
        CHECK(db_int(server, "SELECT COUNT(*) FROM coupon_redemptions") == 0);
        CHECK(db_int(server, "SELECT SUM(in_use) FROM coupons") == 0);
        CHECK(c.get("/v1/cart", buyer.auth).json().at_pointer("/items").as_array().size() == 1);

        // Malformed requests are 400 before any work.
        const struct {
            std::string body;
            std::string field;
        } bad[] = {
            {R"({"code":"x!","kind":"amount","value":1})", "code"},
            {R"({"code":"OK1","kind":"gift","value":1})", "kind"},
            {R"({"code":"OK2","kind":"percent","value":101})", "between 1 and 100"},
            {R"({"code":"OK3","kind":"amount","value":0})", "value"},
            {R"({"code":"OK4","kind":"amount","value":1,"merchant_id":"mer_x"})", "merchant_id"},
            {R"({"code":"OK5","kind":"amount","value":1,"ends_at":"yesterday"})", "ends_at"},
            {R"({"code":"OK6","kind":"amount","value":1,"min_spend":{"amount":1,"currency":"USD"}})",
             "min_spend"},
            {R"({"code":"OK7","kind":"amount","value":{"amount":100,"currency":"USD"}})",
             "value must be in CNY"},
            {R"({"code":"OK8","kind":"percent","value":{"amount":10,"currency":"CNY"}})",
             "not money"},
            {R"({"code":"OK9","kind":"amount","value":{"amount":"100","currency":"CNY"}})",
             "value"},
            {R"({"code":"OKA","kind":"amount","value":"100"})", "value"},
        };
        for (const auto& b : bad) {
            CAPTURE(b.body);
            const auto r = create_coupon(c, tea.auth, b.body);
            CHECK_PROBLEM(r, 400, "invalid_request");
            CHECK(r.body.find(b.field) != std::string::npos);
        }
        CHECK_PROBLEM(checkout(c, buyer, "dup", {"big", "BIG"}), 400, "invalid_request");
        CHECK_PROBLEM(checkout(c, buyer, "many", {"A11", "A12", "A13", "A14", "A15", "A16"}), 400,
                      "invalid_request");
        // A code is unique across shops, without case; buyers can't make coupons; one shop
        // can't see the counts of, or change, another's.
        CHECK_PROBLEM(create_coupon(c, other.auth, R"({"code":"big","kind":"amount","value":1})"),
                      409, "conflict");
        CHECK_PROBLEM(create_coupon(c, buyer.auth, R"({"code":"MINE","kind":"amount","value":1})"),
                      403, "forbidden");
        // An amount coupon's value may also come as money, like every amount in the API.
        const auto as_money = create_coupon(
            c, tea.auth,
            R"({"code":"MONEY5","kind":"amount","value":{"amount":500,"currency":"CNY"}})");
        REQUIRE_STATUS(as_money, 201);
        CHECK(jint(as_money.json(), "/value") == 500);
        CHECK(jstr(as_money.json(), "/currency") == "CNY");
        CHECK_FALSE(jhas(coupon(c, other.auth, "BIG"), "/in_use"));
        CHECK_PROBLEM(
            c.request("PATCH", "/v1/coupons/BIG", R"({"status":"disabled"})",
                      {{"Authorization", other.auth}, {"Content-Type", "application/json"}}),
            404, "not_found");
        CHECK_PROBLEM(c.get("/v1/coupons/NOSUCH", buyer.auth), 404, "not_found");
        CHECK(db_int(server, "SELECT COUNT(*) FROM coupons") == 7);  // the six above and MONEY5
        // A shop lists its own coupons only.
        const auto mine = c.get("/v1/coupons", other.auth).json();
        CHECK(mine.at_pointer("/data").as_array().size() == 1);
        CHECK(jstr(mine, "/data/0/code") == "ELSEWHERE");
    }

    TEST_CASE("a coupon limited to one use is redeemed exactly once by 100 racing buyers") {
        ServerOptions opts;
        opts.threads = 4;
        ServerProcess server(opts);
        HttpClient setup(server.port());
        const auto m = new_merchant(server);
        const auto sku =
            jstr(create_product(setup, m.auth, "Plenty", {{"one", 3000, 1000}}), "/skus/0/id");
        REQUIRE_STATUS(create_coupon(setup, m.auth,
                                     R"({"code":"ONLYONE","kind":"amount","value":1000,)"
                                     R"("max_redemptions":1})"),
                       201);
        constexpr int kBuyers = 100;
        std::vector<Actor> buyers;
        for (int i = 0; i < kBuyers; ++i) {
            buyers.push_back(new_user(server));
            REQUIRE_STATUS(put_line(setup, buyers.back(), sku, 1), 200);
        }
        std::atomic<int> created{0}, exhausted{0}, other{0};
        std::vector<std::string> winner(kBuyers);
        race(server, kBuyers, [&](int i, HttpClient& c) {
            const auto r = checkout(c, buyers[i], "race-" + std::to_string(i), {"ONLYONE"});
            if (r.status == 201) {
                ++created;
                winner[i] = r.body;
            } else if (r.status == 409 && problem_code(r) == "conflict" &&
                       r.body.find("fully redeemed") != std::string::npos) {
                ++exhausted;
            } else {
                ++other;
            }
        });
        CHECK(created.load() == 1);
        CHECK(exhausted.load() == kBuyers - 1);
        CHECK(other.load() == 0);
        CHECK(db_int(server, "SELECT COUNT(*) FROM coupon_redemptions") == 1);
        // The winner pays: redeemed once.
        int w = 0;
        while (winner[w].empty()) ++w;
        const auto chk = json::parse(winner[w]);
        CHECK(jint(chk, "/payment/amount/amount") == 2000);
        const auto payment = jstr(chk, "/payment/id");
        REQUIRE_STATUS(
            setup.post("/v1/payments/" + payment + "/confirm", kGoodCard, buyers[w].auth), 200);
        REQUIRE(payment_becomes(setup, buyers[w], payment, "succeeded"));
        const auto after = coupon(setup, m.auth, "ONLYONE");
        CHECK(jint(after, "/redeemed") == 1);
        CHECK(jint(after, "/in_use") == 1);
        // A loser checking out again without the code goes through at full price.
        const int loser = w == 0 ? 1 : 0;
        const auto full = checkout(setup, buyers[loser], "again", {});
        REQUIRE_STATUS(full, 201);
        CHECK(jint(full.json(), "/payment/amount/amount") == 3000);
    }

    TEST_CASE("a redemption returns when its order is cancelled, declined or expires") {
        ServerOptions opts;
        opts.extra_args = {"--checkout-ttl", "1"};
        ServerProcess server(opts);
        HttpClient c(server.port());
        const auto m = new_merchant(server);
        const auto a = new_user(server);
        const auto b = new_user(server);
        const auto sku = jstr(create_product(c, m.auth, "Tea", {{"tin", 2000, 50}}), "/skus/0/id");
        REQUIRE_STATUS(create_coupon(c, m.auth,
                                     R"({"code":"ONCE","kind":"percent","value":50,)"
                                     R"("per_user_limit":1,"max_redemptions":1})"),
                       201);
        // Cancelled by the buyer before paying: the coupon is free again.
        REQUIRE_STATUS(put_line(c, a, sku, 1), 200);
        const auto first = checkout(c, a, "a-1", {"ONCE"});
        REQUIRE_STATUS(first, 201);
        CHECK(jint(first.json(), "/orders/0/total/amount") == 1000);
        REQUIRE_STATUS(put_line(c, a, sku, 1), 200);
        const auto again = checkout(c, a, "a-2", {"ONCE"});
        CHECK_PROBLEM(again, 409, "conflict");
        CHECK(again.body.find("fully redeemed") != std::string::npos);
        REQUIRE_STATUS(
            c.post("/v1/orders/" + jstr(first.json(), "/orders/0/id") + "/cancel", "", a.auth),
            200);
        CHECK(jint(coupon(c, m.auth, "ONCE"), "/in_use") == 0);
        CHECK(db_int(server, "SELECT COUNT(*) FROM coupon_redemptions WHERE state = 'returned'") ==
              1);

        // Declined card: the orders are cancelled and the coupon returns.
        const auto second = checkout(c, a, "a-3", {"ONCE"});
        REQUIRE_STATUS(second, 201);
        const auto pay2 = jstr(second.json(), "/payment/id");
        REQUIRE_STATUS(c.post("/v1/payments/" + pay2 + "/confirm", kDeclinedCard, a.auth), 200);
        REQUIRE(payment_becomes(c, a, pay2, "failed"));
        CHECK(jint(coupon(c, m.auth, "ONCE"), "/in_use") == 0);

        // Expired: held until the sweeper expires the checkout, then free for someone else.
        REQUIRE_STATUS(put_line(c, b, sku, 1), 200);
        const auto third = checkout(c, b, "b-1", {"ONCE"});
        REQUIRE_STATUS(third, 201);
        CHECK(jint(coupon(c, m.auth, "ONCE"), "/in_use") == 1);
        REQUIRE(eventually([&] { return jint(coupon(c, m.auth, "ONCE"), "/in_use") == 0; },
                           std::chrono::seconds(8)));
        CHECK(jstr(c.get("/v1/checkouts/" + jstr(third.json(), "/id"), b.auth).json(), "/status") ==
              "expired");

        // Paid: the per-user limit now holds for a, and the total limit for everyone.
        REQUIRE_STATUS(put_line(c, a, sku, 1), 200);
        const auto paid = checkout(c, a, "a-4", {"ONCE"});
        REQUIRE_STATUS(paid, 201);
        const auto pay4 = jstr(paid.json(), "/payment/id");
        REQUIRE_STATUS(c.post("/v1/payments/" + pay4 + "/confirm", kGoodCard, a.auth), 200);
        REQUIRE(payment_becomes(c, a, pay4, "succeeded"));
        const auto used = coupon(c, m.auth, "ONCE");
        CHECK(jint(used, "/redeemed") == 1);
        REQUIRE_STATUS(c.request("PATCH", "/v1/coupons/ONCE", R"({"max_redemptions":5})",
                                 {{"Authorization", m.auth}, {"Content-Type", "application/json"}}),
                       200);
        REQUIRE_STATUS(put_line(c, a, sku, 1), 200);
        const auto per_user = checkout(c, a, "a-5", {"ONCE"});
        CHECK_PROBLEM(per_user, 409, "conflict");
        CHECK(per_user.body.find("limit 1 per person") != std::string::npos);
        // b may use it (the total limit is 5 now); a limit can't go below what is in use.
        REQUIRE_STATUS(put_line(c, b, sku, 1), 200);
        REQUIRE_STATUS(checkout(c, b, "b-2", {"ONCE"}), 201);
        CHECK(jint(coupon(c, m.auth, "ONCE"), "/in_use") == 2);
        const auto lower =
            c.request("PATCH", "/v1/coupons/ONCE", R"({"max_redemptions":1})",
                      {{"Authorization", m.auth}, {"Content-Type", "application/json"}});
        CHECK_PROBLEM(lower, 409, "conflict");
        CHECK(jint(coupon(c, m.auth, "ONCE"), "/max_redemptions") == 5);
    }
}
