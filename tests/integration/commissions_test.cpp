// Creator commissions over the real server: accrual when a note's sale is paid (after coupons),
// proportional reversal with refunds, settlement after the return window, the creator's and
// the shop's views of the ledger, and attribution's discount, commission and net.
#include <thread>

#include "support.hpp"
#include "ws_client.hpp"

using namespace redloop;
using namespace redloop::it;

namespace {

// The token of an actor without "Bearer ".
std::string bare(const Actor& a) {
    return a.auth.substr(a.auth.find(' ') + 1);
}

HttpResponse put_line(HttpClient& c, const Actor& buyer, const std::string& sku,
                      std::int64_t quantity, const std::string& note = "") {
    std::string body = R"({"quantity":)" + std::to_string(quantity);
    if (!note.empty()) body += R"(,"note_id":")" + note + "\"";
    body += "}";
    return c.request("PUT", "/v1/cart/items/" + sku, body,
                     {{"Authorization", buyer.auth}, {"Content-Type", "application/json"}});
}

// Checks out the buyer's cart with the coupons; returns the checkout JSON.
json::value checkout(HttpClient& c, const Actor& buyer, const std::string& key,
                     const std::vector<std::string>& coupons = {}) {
    std::string body = kAddressBody;
    if (!coupons.empty()) {
        body.pop_back();  // the closing brace
        body += R"(,"coupon_codes":[)";
        for (std::size_t i = 0; i < coupons.size(); ++i) {
            body += (i ? ",\"" : "\"") + coupons[i] + "\"";
        }
        body += "]}";
    }
    const auto r = c.post("/v1/checkouts", body, buyer.auth, {{"Idempotency-Key", key}});
    REQUIRE_STATUS(r, 201);
    return r.json();
}

bool payment_is(HttpClient& c, const Actor& buyer, const std::string& payment,
                const std::string& status) {
    return eventually(
        [&] {
            return jstr(c.get("/v1/payments/" + payment, buyer.auth).json(), "/status") == status;
        },
        std::chrono::seconds(8));
}

void pay(HttpClient& c, const Actor& buyer, const json::value& chk) {
    const auto payment = jstr(chk, "/payment/id");
    REQUIRE_STATUS(c.post("/v1/payments/" + payment + "/confirm", kGoodCard, buyer.auth), 200);
    REQUIRE(payment_is(c, buyer, payment, "succeeded"));
}

// A refund of `amount`, completed by the sandbox's refund.succeeded webhook.
void refund(HttpClient& c, const Actor& merchant, const std::string& order, std::int64_t amount,
            const std::string& key) {
    const auto r = c.post("/v1/orders/" + order + "/refunds",
                          R"({"amount":{"amount":)" + std::to_string(amount) +
                              R"(,"currency":"CNY"},"reason":"test"})",
                          merchant.auth, {{"Idempotency-Key", key}});
    REQUIRE_STATUS(r, 201);
    const auto id = jstr(r.json(), "/id");
    REQUIRE(eventually(
        [&] {
            const auto list =
                c.get("/v1/orders/" + order + "/refunds?limit=100", merchant.auth).json();
            for (const auto& item : list.at("data").as_array()) {
                if (item.at("id").as_string() == id) return item.at("status") == "succeeded";
            }
            return false;
        },
        std::chrono::seconds(8)));
}

json::value earnings(HttpClient& c, const Actor& creator, const std::string& query = "") {
    const auto r = c.get("/v1/creators/me/earnings" + query, creator.auth);
    REQUIRE_STATUS(r, 200);
    return r.json();
}

json::value commissions(HttpClient& c, const Actor& merchant) {
    const auto r = c.get("/v1/merchants/me/commissions", merchant.auth);
    REQUIRE_STATUS(r, 200);
    return r.json();
}

// The attribution row of a note, or null.
json::value row_of(const json::value& list, const std::string& note) {
    for (const auto& r : list.at("data").as_array()) {
        if (r.at("note_id").as_string() == note) return r;
    }
    return nullptr;
}

// The merchant ships and delivers, the buyer completes.
void complete(HttpClient& c, const Actor& merchant, const Actor& buyer, const std::string& order) {
    REQUIRE_STATUS(c.post("/v1/orders/" + order + "/ship",
                          R"({"carrier":"SF","tracking_number":"SF1"})", merchant.auth),
                   200);
    REQUIRE_STATUS(c.post("/v1/orders/" + order + "/deliver", "", merchant.auth), 200);
    REQUIRE_STATUS(c.post("/v1/orders/" + order + "/complete", "", buyer.auth), 200);
}

}  // namespace

TEST_SUITE("integration_commissions") {
    TEST_CASE("a note's sale accrues after the coupon; refunds reverse in proportion") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto shop = new_merchant(server);
        const auto author = new_user(server);
        const auto buyer = new_user(server);
        const auto product =
            create_product(c, shop.auth, "Longjing", {{"tin", 10000, 20}}, /*commission*/ 1000);
        const auto tin = jstr(product, "/skus/0/id");
        const auto cup = jstr(create_product(c, shop.auth, "Cup", {{"white", 5000, 20}}),
                              "/skus/0/id");  // no commission, bought without a note
        const auto note = post_note(c, author.auth, "Spring tea", {tin});
        REQUIRE_STATUS(note, 201);
        const auto note_id = jstr(note.json(), "/id");
        REQUIRE_STATUS(
            c.post("/v1/coupons", R"({"code":"SPRING20","kind":"amount","value":2000})", shop.auth),
            201);

        REQUIRE_STATUS(put_line(c, buyer, tin, 2, note_id), 200);
        REQUIRE_STATUS(put_line(c, buyer, cup, 1), 200);
        const auto chk = checkout(c, buyer, "k1", {"SPRING20"});
        const auto order = jstr(chk, "/orders/0/id");
        CHECK(jint(chk, "/orders/0/discount/amount") == 2000);
        CHECK(jint(chk, "/orders/0/total/amount") == 23000);
        // the tin's line: 20000 less its part of the coupon
        const auto& lines = chk.at_pointer("/orders/0/lines").as_array();
        std::int64_t line_total = 0, line_discount = 0;
        for (const auto& l : lines) {
            if (l.at("sku_id").as_string() == tin) {
                line_total = jint(l, "/line_total/amount");
                line_discount = jint(l, "/discount/amount");
            }
        }
        REQUIRE(line_total == 20000);
        CHECK(line_discount > 0);
        const std::int64_t accrued = (line_total - line_discount) * 1000 / 10000;

        // nothing before payment; a rate change after checkout does not alter this sale
        CHECK(jint(earnings(c, author), "/accrued/amount") == 0);
        REQUIRE_STATUS(c.patch("/v1/products/" + jstr(product, "/id"),
                               R"({"commission_rate_bps":5000})", shop.auth),
                       200);
        pay(c, buyer, chk);

        auto e = earnings(c, author);
        CHECK(jint(e, "/accrued/amount") == accrued);
        CHECK(jint(e, "/reversed/amount") == 0);
        CHECK(jint(e, "/settled/amount") == 0);
        CHECK(jint(e, "/balance/amount") == accrued);
        CHECK(jstr(e, "/balance/currency") == "CNY");
        REQUIRE(e.at("entries").as_array().size() == 1);
        CHECK(jstr(e, "/entries/0/kind") == "accrue");
        CHECK(jstr(e, "/entries/0/order_id") == order);
        CHECK(jstr(e, "/entries/0/note_id") == note_id);
        CHECK(jint(e, "/entries/0/amount/amount") == accrued);
        CHECK(jhas(e, "/entries/0/at"));
        CHECK(jnull(e, "/next_cursor"));

        // half refunded: half the commission reversed
        refund(c, shop, order, 11500, "r1");
        e = earnings(c, author);
        const std::int64_t half = accrued * 11500 / 23000;
        CHECK(jint(e, "/reversed/amount") == half);
        CHECK(jint(e, "/balance/amount") == accrued - half);
        CHECK(jstr(e, "/entries/0/kind") == "reverse");
        CHECK(jint(e, "/entries/0/amount/amount") == half);

        // attribution: discount, commission (accrued - reversed) and net per note
        const auto analytics = c.get("/v1/analytics/notes", shop.auth);
        REQUIRE_STATUS(analytics, 200);
        const auto row = row_of(analytics.json(), note_id);
        REQUIRE(row.is_object());
        CHECK(jint(row, "/gmv/amount") == 20000);
        CHECK(jint(row, "/discount/amount") == line_discount);
        CHECK(jint(row, "/commission/amount") == accrued - half);
        CHECK(jint(row, "/net/amount") == 20000 - line_discount - (accrued - half));

        // the rest refunded: everything accrued is reversed, to the fen
        refund(c, shop, order, 11500, "r2");
        e = earnings(c, author);
        CHECK(jint(e, "/reversed/amount") == accrued);
        CHECK(jint(e, "/balance/amount") == 0);
        REQUIRE(e.at("entries").as_array().size() == 3);
        CHECK(jint(e, "/entries/0/amount/amount") == accrued - half);

        // the shop's view: the same totals, with the creator named
        const auto m = commissions(c, shop);
        CHECK(jint(m, "/accrued/amount") == accrued);
        CHECK(jint(m, "/reversed/amount") == accrued);
        CHECK(jint(m, "/owed/amount") == 0);
        CHECK(m.at("entries").as_array().size() == 3);
        CHECK(jstr(m, "/entries/2/creator_id") == author.id);
        CHECK(jstr(m, "/entries/2/kind") == "accrue");

        // pages, newest first
        const auto first = earnings(c, author, "?limit=2");
        REQUIRE(first.at("entries").as_array().size() == 2);
        REQUIRE_FALSE(jnull(first, "/next_cursor"));
        const auto second = earnings(c, author, "?limit=2&cursor=" + jstr(first, "/next_cursor"));
        REQUIRE(second.at("entries").as_array().size() == 1);
        CHECK(jstr(second, "/entries/0/kind") == "accrue");
        CHECK(jnull(second, "/next_cursor"));
        CHECK_PROBLEM(c.get("/v1/creators/me/earnings?limit=0", author.auth), 400,
                      "invalid_request");
        // the ledger and each line's running commission agree
        CHECK(db_int(server, "SELECT SUM(commission_minor) FROM order_lines WHERE order_id = ?1",
                     {order}) == 0);
    }

    TEST_CASE("no commission on a brand's note or on the author's own purchase; roles") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto shop = new_merchant(server);
        const auto author = new_user(server);
        const auto buyer = new_user(server);
        const auto tin = jstr(create_product(c, shop.auth, "Longjing", {{"tin", 10000, 20}}, 1000),
                              "/skus/0/id");
        const auto brand_note = post_note(c, shop.auth, "From the shop", {tin});
        REQUIRE_STATUS(brand_note, 201);
        const auto own_note = post_note(c, author.auth, "Mine", {tin});
        REQUIRE_STATUS(own_note, 201);

        REQUIRE_STATUS(put_line(c, buyer, tin, 1, jstr(brand_note.json(), "/id")), 200);
        pay(c, buyer, checkout(c, buyer, "b1"));
        REQUIRE_STATUS(put_line(c, author, tin, 1, jstr(own_note.json(), "/id")), 200);
        pay(c, author, checkout(c, author, "a1"));

        const auto e = earnings(c, author);
        CHECK(jint(e, "/accrued/amount") == 0);
        CHECK(jint(e, "/balance/amount") == 0);
        CHECK(e.at("entries").as_array().empty());
        const auto m = commissions(c, shop);
        CHECK(jint(m, "/owed/amount") == 0);
        CHECK(m.at("entries").as_array().empty());
        CHECK(db_int(server, "SELECT COUNT(*) FROM commission_entries") == 0);
        CHECK(db_int(server, "SELECT COUNT(*) FROM order_lines WHERE creator_id IS NOT NULL") == 0);

        CHECK_PROBLEM(c.get("/v1/creators/me/earnings", shop.auth), 403, "forbidden");
        CHECK_PROBLEM(c.get("/v1/creators/me/earnings"), 401, "unauthenticated");
        CHECK_PROBLEM(c.get("/v1/merchants/me/commissions", author.auth), 403, "forbidden");
        CHECK_PROBLEM(c.get("/v1/merchants/me/commissions"), 401, "unauthenticated");
    }

    TEST_CASE("settlement after completion and the return window; a later refund claws back") {
        ServerProcess server(with_args({"--settle-interval", "1"}));
        HttpClient c(server.port());
        const auto shop = new_merchant(server);
        const auto author = new_user(server);
        const auto buyer = new_user(server);
        const auto tin = jstr(create_product(c, shop.auth, "Longjing", {{"tin", 10000, 20}}, 1500),
                              "/skus/0/id");
        const auto note = post_note(c, author.auth, "Spring tea", {tin});
        REQUIRE_STATUS(note, 201);
        // The author and the shop watch the earnings topic live.
        WsClient author_ws(server.port(), "/v1/stream", bare(author));
        WsClient shop_ws(server.port(), "/v1/stream", bare(shop));
        author_ws.subscribe("earnings");
        shop_ws.subscribe("earnings");
        author_ws.expect_type("subscribed");
        shop_ws.expect_type("subscribed");
        REQUIRE_STATUS(put_line(c, buyer, tin, 1, jstr(note.json(), "/id")), 200);
        const auto chk = checkout(c, buyer, "s1");
        const auto order = jstr(chk, "/orders/0/id");
        pay(c, buyer, chk);
        CHECK(jint(earnings(c, author), "/accrued/amount") == 1500);

        // delivered but not completed: nothing settles (even with a window of 0 days)
        REQUIRE_STATUS(c.patch("/v1/merchants/me", R"({"return_window_days":0})", shop.auth), 200);
        REQUIRE_STATUS(c.post("/v1/orders/" + order + "/ship",
                              R"({"carrier":"SF","tracking_number":"SF1"})", shop.auth),
                       200);
        REQUIRE_STATUS(c.post("/v1/orders/" + order + "/deliver", "", shop.auth), 200);
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
        CHECK(jint(earnings(c, author), "/settled/amount") == 0);

        REQUIRE_STATUS(c.post("/v1/orders/" + order + "/complete", "", buyer.auth), 200);
        REQUIRE(eventually([&] { return jint(earnings(c, author), "/settled/amount") == 1500; },
                           std::chrono::seconds(8)));
        auto e = earnings(c, author);
        CHECK(jint(e, "/balance/amount") == 0);
        CHECK(jstr(e, "/entries/0/kind") == "settle");
        CHECK(jint(e, "/entries/0/amount/amount") == 1500);
        // a second sweep settles nothing
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
        CHECK(db_int(server, "SELECT COUNT(*) FROM commission_entries WHERE kind = 'settle'") == 1);
        CHECK(db_int(server, "SELECT COUNT(*) FROM journal WHERE kind = 'settle'") == 1);

        // a refund after settlement still reverses: the balance goes negative (a clawback)
        refund(c, shop, order, 4000, "late");
        e = earnings(c, author);
        CHECK(jint(e, "/reversed/amount") == 600);
        CHECK(jint(e, "/balance/amount") == -600);
        const auto m = commissions(c, shop);
        CHECK(jint(m, "/accrued/amount") == 1500);
        CHECK(jint(m, "/reversed/amount") == 600);
        CHECK(jint(m, "/settled/amount") == 1500);
        CHECK(jint(m, "/owed/amount") == -600);

        // The stream told both, in order: accrued, settled, reversed, with the amounts.
        for (auto* ws : {&author_ws, &shop_ws}) {
            std::vector<std::pair<std::string, std::int64_t>> seen;
            while (seen.size() < 3) {
                const auto f = ws->next(std::chrono::seconds(5));
                REQUIRE_FALSE(f.timed_out);
                REQUIRE_FALSE(f.closed);
                const auto v = f.json();
                CHECK(jstr(v, "/topic") == "earnings");
                seen.emplace_back(jstr(v, "/type"), jint(v, "/data/amount/amount"));
                CHECK(jstr(v, "/data/order_id") == order);
                CHECK(jstr(v, "/data/creator_id") == author.id);
            }
            CHECK(seen[0] == std::pair<std::string, std::int64_t>{"commission.accrued", 1500});
            CHECK(seen[1] == std::pair<std::string, std::int64_t>{"commission.settled", 1500});
            CHECK(seen[2] == std::pair<std::string, std::int64_t>{"commission.reversed", 600});
        }
        // Someone else's earnings are not theirs to watch: a buyer's topic stays quiet.
        WsClient other(server.port(), "/v1/stream", bare(buyer));
        other.subscribe("earnings", 0);
        other.expect_type("subscribed");
        CHECK(other.next(std::chrono::milliseconds(300)).timed_out);
        // Anonymous sessions may not subscribe.
        WsClient anon(server.port(), "/v1/stream");
        anon.subscribe("earnings");
        const auto refused = anon.expect_type("error");
        CHECK(jstr(refused, "/code") == "unauthenticated");
    }

    TEST_CASE("a return window not yet over holds the settlement") {
        ServerProcess server(with_args({"--settle-interval", "1"}));
        HttpClient c(server.port());
        const auto shop = new_merchant(server);  // 7-day returns by default
        const auto author = new_user(server);
        const auto buyer = new_user(server);
        const auto tin = jstr(create_product(c, shop.auth, "Longjing", {{"tin", 10000, 20}}, 1000),
                              "/skus/0/id");
        const auto note = post_note(c, author.auth, "Spring tea", {tin});
        REQUIRE_STATUS(note, 201);
        REQUIRE_STATUS(put_line(c, buyer, tin, 1, jstr(note.json(), "/id")), 200);
        const auto chk = checkout(c, buyer, "w1");
        pay(c, buyer, chk);
        complete(c, shop, buyer, jstr(chk, "/orders/0/id"));
        std::this_thread::sleep_for(std::chrono::milliseconds(2500));
        const auto e = earnings(c, author);
        CHECK(jint(e, "/settled/amount") == 0);
        CHECK(jint(e, "/balance/amount") == 1000);
    }
}
