// The dashboard's shop views over the real server: GET /v1/analytics/notes (which notes sold
// what) and GET /v1/inventory (the shop's SKUs with on_hand and reserved).
#include <set>

#include "support.hpp"

using namespace redloop;
using namespace redloop::it;

namespace {

HttpResponse put_line(HttpClient& c, const Actor& buyer, const std::string& sku,
                      std::int64_t quantity, const std::string& note) {
    std::string body = R"({"quantity":)" + std::to_string(quantity);
    if (!note.empty()) body += R"(,"note_id":")" + note + "\"";
    body += "}";
    return c.request("PUT", "/v1/cart/items/" + sku, body,
                     {{"Authorization", buyer.auth}, {"Content-Type", "application/json"}});
}

// Checks out the buyer's cart; returns the checkout JSON.
json::value checkout(HttpClient& c, const Actor& buyer, const std::string& key) {
    const auto r = c.post("/v1/checkouts", kAddressBody, buyer.auth, {{"Idempotency-Key", key}});
    REQUIRE_STATUS(r, 201);
    return r.json();
}

// The attribution row of a note, or null.
json::value row_of(const json::value& list, const std::string& note) {
    for (const auto& r : list.at("data").as_array()) {
        if (r.at("note_id").as_string() == note) return r;
    }
    return nullptr;
}

}  // namespace

TEST_SUITE("integration_analytics") {
    TEST_CASE("attribution: views, add-to-carts, orders, units and GMV per note of the shop") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto shop = new_merchant(server);
        const auto other_shop = new_merchant(server);
        const auto author = new_user(server);
        const auto buyer = new_user(server);
        const auto p = create_product(c, shop.auth, "Longjing",
                                      {{"50 g tin", 6800, 50}, {"gift box", 29800, 5}});
        const auto tin = jstr(p, "/skus/0/id");
        const auto box = jstr(p, "/skus/1/id");
        const auto other_sku =
            jstr(create_product(c, other_shop.auth, "Poles", {{"black", 39900, 5}}), "/skus/0/id");

        const auto spring = post_note(c, author.auth, "春茶 ritual", {tin});
        REQUIRE_STATUS(spring, 201);
        const auto spring_id = jstr(spring.json(), "/id");
        const auto quiet = post_note(c, shop.auth, "Quiet note", {box});
        REQUIRE_STATUS(quiet, 201);
        const auto quiet_id = jstr(quiet.json(), "/id");
        const auto hike = post_note(c, author.auth, "Hike", {other_sku});
        REQUIRE_STATUS(hike, 201);
        const auto hike_id = jstr(hike.json(), "/id");

        // Three reads of the spring note; views are flushed in batches (lag under a second).
        for (int i = 0; i < 3; ++i) REQUIRE_STATUS(c.get("/v1/notes/" + spring_id), 200);

        // Add-to-carts: creating the line and raising it count; lowering it and a line
        // without a note do not. The gift box is bought from the spring note too (same
        // product), which attributes it to that note.
        REQUIRE_STATUS(put_line(c, buyer, tin, 1, spring_id), 200);
        REQUIRE_STATUS(put_line(c, buyer, tin, 3, spring_id), 200);
        REQUIRE_STATUS(put_line(c, buyer, tin, 2, spring_id), 200);
        REQUIRE_STATUS(put_line(c, buyer, box, 1, spring_id), 200);
        const auto paid = checkout(c, buyer, "an-1");
        pay_checkout(c, buyer, paid);

        // A second buyer adds from the note but never pays: an add-to-cart, no sale.
        const auto idle_buyer = new_user(server);
        REQUIRE_STATUS(put_line(c, idle_buyer, tin, 4, spring_id), 200);
        checkout(c, idle_buyer, "an-2");
        // A third buys without a note: a sale of the shop that belongs to no note.
        const auto plain_buyer = new_user(server);
        REQUIRE_STATUS(put_line(c, plain_buyer, tin, 1, ""), 200);
        pay_checkout(c, plain_buyer, checkout(c, plain_buyer, "an-3"));

        json::value list;
        REQUIRE(eventually(
            [&] {
                const auto r = c.get("/v1/analytics/notes", shop.auth);
                if (r.status != 200) return false;
                list = r.json();
                const auto row = row_of(list, spring_id);
                return !row.is_null() && jint(row, "/views") == 3;
            },
            std::chrono::seconds(5)));
        INFO(to_json(list));
        const auto s = row_of(list, spring_id);
        CHECK(jstr(s, "/title") == "春茶 ritual");
        CHECK(jstr(s, "/author_id") == author.id);
        CHECK(jint(s, "/add_to_carts") == 4);  // 1, raised to 3, the box, the idle buyer's 4
        CHECK(jint(s, "/orders") == 1);
        CHECK(jint(s, "/units") == 3);
        CHECK(jint(s, "/gmv/amount") == 2 * 6800 + 29800);
        CHECK(jstr(s, "/gmv/currency") == "CNY");
        // A note that tags the shop's SKU and did nothing yet is listed with zeros.
        const auto q = row_of(list, quiet_id);
        REQUIRE(!q.is_null());
        CHECK(jint(q, "/views") == 0);
        CHECK(jint(q, "/orders") == 0);
        CHECK(jint(q, "/gmv/amount") == 0);
        // Disclosure, as readers see it: the shop's own note is "brand"; a user's note on a SKU
        // that pays no commission has none.
        CHECK(jstr(q, "/disclosure") == "brand");
        CHECK(jnull(s, "/disclosure"));
        // Sorted by GMV: the spring note first. Another shop's note is not there.
        CHECK(jstr(list, "/data/0/note_id") == spring_id);
        CHECK(row_of(list, hike_id).is_null());
        CHECK(list.at("data").as_array().size() == 2);

        // The other shop sees only its own note.
        const auto theirs = c.get("/v1/analytics/notes", other_shop.auth);
        REQUIRE_STATUS(theirs, 200);
        CHECK(theirs.json().at("data").as_array().size() == 1);
        CHECK(jstr(theirs.json(), "/data/0/note_id") == hike_id);
        CHECK(jint(theirs.json(), "/data/0/gmv/amount") == 0);

        // A refund keeps the sale in GMV (gross); cancelling a paid order takes it out.
        const auto order_id = jstr(paid, "/orders/0/id");
        REQUIRE_STATUS(c.post("/v1/orders/" + order_id + "/cancel", "{}", shop.auth), 200);
        const auto after = c.get("/v1/analytics/notes", shop.auth).json();
        CHECK(jint(row_of(after, spring_id), "/orders") == 0);
        CHECK(jint(row_of(after, spring_id), "/gmv/amount") == 0);

        // A user's note on a product that pays commission is "affiliate".
        const auto cup =
            jstr(create_product(c, shop.auth, "Cup", {{"white", 5000, 5}}, 800), "/skus/0/id");
        const auto cup_note = post_note(c, author.auth, "Cup love", {cup});
        REQUIRE_STATUS(cup_note, 201);
        CHECK(jstr(cup_note.json(), "/disclosure") == "affiliate");
        const auto with_cup = c.get("/v1/analytics/notes", shop.auth).json();
        CHECK(jstr(row_of(with_cup, jstr(cup_note.json(), "/id")), "/disclosure") == "affiliate");

        // A list like the others: paged in GMV order, bad paging refused.
        REQUIRE(with_cup.at("data").as_array().size() == 3);
        CHECK(jnull(with_cup, "/next_cursor"));
        const auto first = c.get("/v1/analytics/notes?limit=2", shop.auth).json();
        REQUIRE(first.at("data").as_array().size() == 2);
        CHECK(jstr(first, "/data/0/note_id") == jstr(with_cup, "/data/0/note_id"));
        CHECK(jstr(first, "/data/1/note_id") == jstr(with_cup, "/data/1/note_id"));
        const auto second =
            c.get("/v1/analytics/notes?limit=2&cursor=" + jstr(first, "/next_cursor"), shop.auth)
                .json();
        REQUIRE(second.at("data").as_array().size() == 1);
        CHECK(jstr(second, "/data/0/note_id") == jstr(with_cup, "/data/2/note_id"));
        CHECK(jnull(second, "/next_cursor"));
        for (const char* bad : {"?limit=abc", "?limit=0", "?limit=101", "?cursor=zz"}) {
            CAPTURE(bad);
            CHECK_PROBLEM(c.get(std::string("/v1/analytics/notes") + bad, shop.auth), 400,
                          "invalid_request");
        }

        // Merchants only.
        CHECK_PROBLEM(c.get("/v1/analytics/notes", buyer.auth), 403, "forbidden");
        CHECK_PROBLEM(c.get("/v1/analytics/notes"), 401, "unauthenticated");
    }

    TEST_CASE("inventory: the shop's skus with on_hand, reserved and available, paged") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto shop = new_merchant(server);
        const auto other_shop = new_merchant(server);
        const auto buyer = new_user(server);
        const auto p =
            create_product(c, shop.auth, "龙井 green tea",
                           {{"50 g", 6800, 10}, {"100 g", 12000, 4}, {"250 g", 29800, 2}});
        create_product(c, other_shop.auth, "Other", {{"x", 100, 1}});
        const auto sku = jstr(p, "/skus/0/id");
        REQUIRE_STATUS(put_line(c, buyer, sku, 3, ""), 200);
        checkout(c, buyer, "inv-1");  // reserves 3, unpaid

        const auto all = c.get("/v1/inventory", shop.auth);
        REQUIRE_STATUS(all, 200);
        const auto j = all.json();
        INFO(to_json(j));
        REQUIRE(j.at("data").as_array().size() == 3);
        CHECK(j.at("next_cursor").is_null());
        bool found = false;
        for (const auto& r : j.at("data").as_array()) {
            CHECK(jstr(r, "/product_id") == jstr(p, "/id"));
            CHECK(jstr(r, "/product_title") == "龙井 green tea");
            CHECK(jstr(r, "/status") == "active");
            if (jstr(r, "/sku_id") != sku) continue;
            found = true;
            CHECK(jstr(r, "/title") == "50 g");
            CHECK(jint(r, "/price/amount") == 6800);
            CHECK(jint(r, "/on_hand") == 10);
            CHECK(jint(r, "/reserved") == 3);
            CHECK(jint(r, "/available") == 7);
        }
        CHECK(found);

        // Paging: two pages, no overlap, nothing lost.
        const auto first = c.get("/v1/inventory?limit=2", shop.auth);
        REQUIRE_STATUS(first, 200);
        REQUIRE(first.json().at("data").as_array().size() == 2);
        const auto cursor = jstr(first.json(), "/next_cursor");
        const auto second = c.get("/v1/inventory?limit=2&cursor=" + cursor, shop.auth);
        REQUIRE_STATUS(second, 200);
        REQUIRE(second.json().at("data").as_array().size() == 1);
        CHECK(second.json().at("next_cursor").is_null());
        std::set<std::string> seen;
        for (const auto* page : {&first, &second}) {
            const auto body = page->json();
            for (const auto& r : body.at("data").as_array())
                seen.insert(std::string(r.at("sku_id").as_string()));
        }
        CHECK(seen.size() == 3);

        CHECK_PROBLEM(c.get("/v1/inventory?limit=0", shop.auth), 400, "invalid_request");
        CHECK_PROBLEM(c.get("/v1/inventory?cursor=nonsense", shop.auth), 400, "invalid_request");
        CHECK_PROBLEM(c.get("/v1/inventory", buyer.auth), 403, "forbidden");
        CHECK_PROBLEM(c.get("/v1/inventory"), 401, "unauthenticated");
    }
}
