// Notes on the real server: live listings, disclosure, validation, pagination, view counts.
#include <set>
#include <thread>

#include "support.hpp"
#include "test_database.hpp"

using namespace redloop;
using namespace redloop::it;
using api::Role;

namespace {

std::int64_t views_in_db(const ServerProcess& s, const std::string& note_id) {
    return db_int(s, "SELECT views FROM note_stats WHERE note_id = ?1", {note_id});
}

std::int64_t note_count(const ServerProcess& s) {
    return db_int(s, "SELECT COUNT(*) FROM notes");
}

std::string disclosure(const HttpResponse& r) {
    const auto j = r.json();
    return jnull(j, "/disclosure") ? std::string("null") : jstr(j, "/disclosure");
}

}  // namespace

TEST_SUITE("integration_notes") {
    TEST_CASE("a note shows its tagged skus with live price and availability") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto shop = new_merchant(server);
        const auto author = new_user(server);
        const auto p = create_product(c, shop.auth, "Longjing", {{"50 g tin", 6800, 12}}, 0);
        const auto product_id = jstr(p, "/id");
        const auto sku = jstr(p, "/skus/0/id");

        const auto created = post_note(c, author.auth, "My spring tea", {sku});
        REQUIRE_STATUS(created, 201);
        const auto n = created.json();
        const auto id = jstr(n, "/id");
        CHECK(id.rfind("nte_", 0) == 0);
        CHECK(jstr(n, "/author_id") == author.id);
        CHECK(jstr(n, "/title") == "My spring tea");
        CHECK(jstr(n, "/body") == "Written by the integration tests.\nSecond line.");
        CHECK(n.at("media").as_array().empty());
        CHECK(jstr(n, "/created_at").back() == 'Z');
        REQUIRE(n.at("products").as_array().size() == 1);
        CHECK(jstr(n, "/products/0/sku_id") == sku);
        CHECK(jstr(n, "/products/0/product_id") == product_id);
        CHECK(jstr(n, "/products/0/merchant_id") == shop.id);
        CHECK(jstr(n, "/products/0/title") == "Longjing");
        CHECK(jint(n, "/products/0/price/amount") == 6800);
        CHECK(jstr(n, "/products/0/price/currency") == "CNY");
        CHECK(jint(n, "/products/0/available") == 12);
        CHECK(jbool(n, "/products/0/purchasable"));

        // Public read.
        HttpClient anon(server.port());
        const auto got = anon.get("/v1/notes/" + id);
        REQUIRE_STATUS(got, 200);
        CHECK(jstr(got.json(), "/id") == id);
        CHECK(jint(got.json(), "/products/0/price/amount") == 6800);
        CHECK(jint(got.json(), "/products/0/available") == 12);

        // The merchant changes price and stock: the next read shows them.
        REQUIRE_STATUS(
            c.patch("/v1/skus/" + sku, R"({"price":{"amount":5900,"currency":"CNY"}})", shop.auth),
            200);
        REQUIRE_STATUS(c.post("/v1/skus/" + sku + "/stock-adjustments",
                              R"({"delta":-10,"reason":"sold at the market"})", shop.auth),
                       200);
        const auto live = anon.get("/v1/notes/" + id);
        REQUIRE_STATUS(live, 200);
        CHECK(jint(live.json(), "/products/0/price/amount") == 5900);
        CHECK(jint(live.json(), "/products/0/available") == 2);
        CHECK(jbool(live.json(), "/products/0/purchasable"));

        // Sold out: not purchasable.
        REQUIRE_STATUS(c.post("/v1/skus/" + sku + "/stock-adjustments",
                              R"({"delta":-2,"reason":"last two"})", shop.auth),
                       200);
        const auto sold_out = anon.get("/v1/notes/" + id).json();
        CHECK(jint(sold_out, "/products/0/available") == 0);
        CHECK_FALSE(jbool(sold_out, "/products/0/purchasable"));

        // Archived: still shown, not purchasable, even with stock.
        REQUIRE_STATUS(c.post("/v1/skus/" + sku + "/stock-adjustments",
                              R"({"delta":5,"reason":"restock"})", shop.auth),
                       200);
        CHECK(jbool(anon.get("/v1/notes/" + id).json(), "/products/0/purchasable"));
        REQUIRE_STATUS(c.patch("/v1/products/" + product_id,
                               R"J({"status":"archived","title":"Longjing (old)"})J", shop.auth),
                       200);
        const auto archived = anon.get("/v1/notes/" + id).json();
        CHECK_FALSE(jbool(archived, "/products/0/purchasable"));
        CHECK(jstr(archived, "/products/0/title") == "Longjing (old)");

        CHECK_PROBLEM(anon.get("/v1/notes/nte_doesnotexist"), 404, "not_found");
        CHECK_PROBLEM(anon.get("/v1/notes/not_a_note"), 400, "invalid_request");
        CHECK_PROBLEM(anon.get("/v1/notes/nte_!!"), 400, "invalid_request");
    }

    TEST_CASE("a note read again after a checkout or a cancelled one shows the stock they moved") {
        // Reads are served from the rendered-note cache while the catalog is unchanged; a
        // reservation, its release and a sale each change it.
        ServerProcess server;
        HttpClient c(server.port());
        const auto shop = new_merchant(server);
        const auto buyer = new_user(server);
        const auto sku =
            jstr(create_product(c, shop.auth, "Oolong", {{"tin", 3000, 5}}, 0), "/skus/0/id");
        const auto id = jstr(post_note(c, shop.auth, "Oolong", {sku}).json(), "/id");
        HttpClient anon(server.port());
        for (int i = 0; i < 3; ++i) {
            CHECK(jint(anon.get("/v1/notes/" + id).json(), "/products/0/available") == 5);
        }
        const auto metrics = c.get("/metrics").body;
        const auto hits = metric_value(metrics, "redloop_note_cache_total{result=\"hit\"}");
        if (test::on_postgresql()) {
            // No note cache on PostgreSQL: other nodes write the catalog too
            // (Database::catalog_tracked), so every read goes to the database.
            CHECK(hits.value_or(-1) == 0);
            CHECK(metric_value(metrics, "redloop_note_cache_total{result=\"miss\"}").value_or(-1) ==
                  0);
        } else {
            CHECK(hits.value_or(0) >= 2);
        }

        REQUIRE_STATUS(
            c.request("PUT", "/v1/cart/items/" + sku, R"({"quantity":2})",
                      {{"Authorization", buyer.auth}, {"Content-Type", "application/json"}}),
            200);
        const std::string address =
            R"({"shipping_address":{"name":"Lin","phone":"+86 138 0000 0000",)"
            R"("line1":"1 West Lake Rd","city":"Hangzhou","postal_code":"310000","country":"CN"}})";
        const auto co = c.post("/v1/checkouts", address, buyer.auth, {{"Idempotency-Key", "n-1"}});
        REQUIRE_STATUS(co, 201);
        CHECK(jint(anon.get("/v1/notes/" + id).json(), "/products/0/available") == 3);
        const auto order = jstr(co.json(), "/orders/0/id");
        REQUIRE_STATUS(c.post("/v1/orders/" + order + "/cancel", "{}", buyer.auth), 200);
        CHECK(jint(anon.get("/v1/notes/" + id).json(), "/products/0/available") == 5);
    }

    TEST_CASE("disclosure is set by the engine: brand, affiliate or null") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto shop = new_merchant(server);
        const auto other_shop = new_merchant(server);
        const auto author = new_user(server);
        const auto paying =
            jstr(create_product(c, shop.auth, "Pays", {{"A", 1000, 5}}, 1500), "/skus/0/id");
        const auto plain_product = create_product(c, shop.auth, "Plain", {{"B", 1000, 5}}, 0);
        const auto plain = jstr(plain_product, "/skus/0/id");
        const auto others = jstr(
            create_product(c, other_shop.auth, "Theirs", {{"C", 1000, 5}}, 2000), "/skus/0/id");

        struct Case {
            const char* name;
            const Actor* author;
            std::vector<std::string> skus;
            std::string expected;
        };
        const std::vector<Case> cases = {
            {"merchant tags its own sku", &shop, {plain}, "brand"},
            {"merchant tags its own paying sku", &shop, {paying}, "brand"},
            {"merchant tags another shop's paying sku", &other_shop, {paying}, "null"},
            {"merchant tags its own and another's", &other_shop, {plain, others}, "brand"},
            {"user tags a product with commission", &author, {paying}, "affiliate"},
            {"user tags one with and one without", &author, {plain, paying}, "affiliate"},
            {"user tags a product without commission", &author, {plain}, "null"},
            {"user tags nothing", &author, {}, "null"},
            {"merchant tags nothing", &shop, {}, "null"},
        };
        for (const auto& tc : cases) {
            INFO("case: ", tc.name);
            const auto r = post_note(c, tc.author->auth, tc.name, tc.skus);
            REQUIRE_STATUS(r, 201);
            CHECK(disclosure(r) == tc.expected);
            const auto id = jstr(r.json(), "/id");
            CHECK(disclosure(c.get("/v1/notes/" + id)) == tc.expected);
        }

        // The author can't set it.
        const auto self_declared = c.post(
            "/v1/notes",
            to_json(json::object{{"title", "trust me"},
                                 {"disclosure", json::value(nullptr)},
                                 {"products", json::array{json::object{{"sku_id", paying}}}}}),
            author.auth);
        CHECK_PROBLEM(self_declared, 400, "invalid_request");
        CHECK_PROBLEM(c.post("/v1/notes",
                             to_json(json::object{{"title", "trust me"}, {"disclosure", "brand"}}),
                             author.auth),
                      400, "invalid_request");
        CHECK_PROBLEM(
            c.post("/v1/notes", to_json(json::object{{"title", "not me"}, {"author_id", shop.id}}),
                   author.auth),
            400, "invalid_request");

        // It follows the product's commission as it is now.
        const auto note = post_note(c, author.auth, "before the commission", {plain});
        REQUIRE_STATUS(note, 201);
        CHECK(disclosure(note) == "null");
        REQUIRE_STATUS(c.patch("/v1/products/" + jstr(plain_product, "/id"),
                               R"({"commission_rate_bps":300})", shop.auth),
                       200);
        CHECK(disclosure(c.get("/v1/notes/" + jstr(note.json(), "/id"))) == "affiliate");
    }

    TEST_CASE("invalid notes are 400 and create nothing") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto shop = new_merchant(server);
        const auto author = new_user(server);
        std::vector<SkuSpec> specs;
        for (int i = 0; i < 21; ++i) specs.push_back({"v" + std::to_string(i), 100 + i, 1});
        const auto many = create_product(c, shop.auth, "Many variants", specs);
        std::vector<std::string> skus;
        for (const auto& s : many.at("skus").as_array()) skus.push_back(jstr(s, "/id"));
        const auto archived = create_product(c, shop.auth, "Gone", {{"G", 100, 1}});
        REQUIRE_STATUS(
            c.patch("/v1/products/" + jstr(archived, "/id"), R"({"status":"archived"})", shop.auth),
            200);
        const auto archived_sku = jstr(archived, "/skus/0/id");

        CHECK_PROBLEM(post_note(c, author.auth, "unknown sku", {"sku_doesnotexist"}), 400,
                      "invalid_request");
        CHECK_PROBLEM(post_note(c, author.auth, "unknown among known", {skus[0], "sku_nothere"}),
                      400, "invalid_request");
        CHECK_PROBLEM(post_note(c, author.auth, "archived product", {archived_sku}), 400,
                      "invalid_request");
        CHECK_PROBLEM(post_note(c, shop.auth, "own archived product", {archived_sku}), 400,
                      "invalid_request");
        CHECK_PROBLEM(post_note(c, author.auth, "same sku twice", {skus[0], skus[1], skus[0]}), 400,
                      "invalid_request");
        CHECK_PROBLEM(post_note(c, author.auth, "21 skus", skus), 400, "invalid_request");
        CHECK_PROBLEM(post_note(c, author.auth, "malformed sku id", {"prd_abc"}), 400,
                      "invalid_request");
        CHECK_PROBLEM(post_note(c, author.auth, "", {skus[0]}), 400, "invalid_request");
        CHECK_PROBLEM(post_note(c, author.auth, std::string(201, 'x'), {skus[0]}), 400,
                      "invalid_request");
        for (const std::string& body : std::vector<std::string>{
                 R"({"body":"no title","products":[]})",
                 R"({"title":"x","products":[{"sku":"x"}]})",
                 R"({"title":"x","products":[{"sku_id":5}]})",
                 R"({"title":"x","products":["sku_a"]})",
                 R"({"title":"x","products":{"sku_id":"sku_a"}})", R"({"title":"x","views":100})",
                 R"({"title":"x","media":[{"type":"image","url":"file:///etc/passwd"}]})",
                 R"({"title":"x","media":[{"type":"audio","url":"https://x.example/a.mp3"}]})"}) {
            INFO("body: ", body);
            CHECK_PROBLEM(c.post("/v1/notes", body, author.auth), 400, "invalid_request");
        }
        CHECK(note_count(server) == 0);
        CHECK(db_int(server, "SELECT COUNT(*) FROM note_skus") == 0);

        // 20 skus is the limit, and allowed.
        const std::vector<std::string> twenty(skus.begin(), skus.begin() + 20);
        const auto ok = post_note(c, author.auth, "twenty", twenty);
        REQUIRE_STATUS(ok, 201);
        REQUIRE(ok.json().at("products").as_array().size() == 20);
        // In the order tagged.
        for (std::size_t i = 0; i < 20; ++i) {
            CHECK(jstr(ok.json(), "/products/" + std::to_string(i) + "/sku_id") == twenty[i]);
        }
        CHECK(note_count(server) == 1);
    }

    TEST_CASE("GET /v1/notes?sku_id= pages through the notes of a sku") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto shop = new_merchant(server);
        const auto p = create_product(c, shop.auth, "Popular", {{"A", 1000, 5}, {"B", 2000, 5}});
        const auto sku = jstr(p, "/skus/0/id");
        const auto other_sku = jstr(p, "/skus/1/id");

        std::set<std::string> created;
        for (int i = 0; i < 5; ++i) {
            const auto author = i % 2 == 0 ? new_user(server) : shop;
            const auto r = post_note(c, author.auth, "note " + std::to_string(i), {sku});
            REQUIRE_STATUS(r, 201);
            created.insert(jstr(r.json(), "/id"));
        }
        // Notes of another sku don't show up.
        REQUIRE_STATUS(post_note(c, new_user(server).auth, "elsewhere", {other_sku}), 201);
        REQUIRE_STATUS(post_note(c, new_user(server).auth, "untagged", {}), 201);

        std::vector<std::string> seen;
        std::vector<std::size_t> page_sizes;
        std::string next = "/v1/notes?sku_id=" + sku + "&limit=2";
        int pages = 0;
        while (true) {
            INFO("page ", pages, " ", next);
            const auto r = c.get(next);
            REQUIRE_STATUS(r, 200);
            const auto j = r.json();
            const auto& data = j.at("data").as_array();
            page_sizes.push_back(data.size());
            for (const auto& n : data) {
                seen.push_back(jstr(n, "/id"));
                // Each item is a full note tagging the sku.
                CHECK(jstr(n, "/products/0/sku_id") == sku);
                CHECK(jhas(n, "/disclosure"));
            }
            ++pages;
            REQUIRE(pages <= 5);
            REQUIRE(j.as_object().contains("next_cursor"));
            if (jnull(j, "/next_cursor")) break;
            const auto cursor = jstr(j, "/next_cursor");
            CHECK(!cursor.empty());
            next = "/v1/notes?sku_id=" + sku + "&limit=2&cursor=" + cursor;
        }
        CHECK(pages == 3);
        CHECK(page_sizes == std::vector<std::size_t>{2, 2, 1});
        CHECK(seen.size() == 5);
        CHECK(std::set<std::string>(seen.begin(), seen.end()) == created);

        // One page with everything; the default limit covers five.
        const auto all = c.get("/v1/notes?sku_id=" + sku + "&limit=5").json();
        CHECK(all.at("data").as_array().size() == 5);
        CHECK(jnull(all, "/next_cursor"));
        const auto dflt = c.get("/v1/notes?sku_id=" + sku).json();
        CHECK(dflt.at("data").as_array().size() == 5);
        CHECK(jnull(dflt, "/next_cursor"));
        // The same order as the pages.
        std::vector<std::string> all_ids;
        for (const auto& n : all.at("data").as_array()) all_ids.push_back(jstr(n, "/id"));
        CHECK(all_ids == seen);

        // Exactly a page's worth: no empty page after it.
        const auto four = c.get("/v1/notes?sku_id=" + sku + "&limit=4").json();
        CHECK(four.at("data").as_array().size() == 4);
        const auto rest =
            c.get("/v1/notes?sku_id=" + sku + "&limit=4&cursor=" + jstr(four, "/next_cursor"))
                .json();
        CHECK(rest.at("data").as_array().size() == 1);
        CHECK(jnull(rest, "/next_cursor"));

        // A sku nobody tagged: an empty list.
        const auto lonely = create_product(c, shop.auth, "Lonely", {{"L", 1000, 5}});
        const auto empty = c.get("/v1/notes?sku_id=" + jstr(lonely, "/skus/0/id"));
        REQUIRE_STATUS(empty, 200);
        CHECK(empty.json().at("data").as_array().empty());
        CHECK(jnull(empty.json(), "/next_cursor"));
    }

    TEST_CASE("GET /v1/notes rejects bad parameters") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto shop = new_merchant(server);
        const auto sku = jstr(create_product(c, shop.auth, "P", {{"A", 1000, 5}}), "/skus/0/id");
        REQUIRE_STATUS(post_note(c, shop.auth, "one", {sku}), 201);
        const auto base = "/v1/notes?sku_id=" + sku;

        for (const std::string& limit :
             std::vector<std::string>{"0", "101", "x", "-1", "2.5", "", "1e1", "99999999999"}) {
            INFO("limit=", limit);
            CHECK_PROBLEM(c.get(base + "&limit=" + limit), 400, "invalid_request");
        }
        REQUIRE_STATUS(c.get(base + "&limit=1"), 200);
        REQUIRE_STATUS(c.get(base + "&limit=100"), 200);
        for (const std::string& cursor : std::vector<std::string>{
                 "garbage", "c", "c0", "c-1", "c!!", "x123", "", "czzzzzzzzzzzzzzzzzzzzzzz"}) {
            INFO("cursor=", cursor);
            CHECK_PROBLEM(c.get(base + "&cursor=" + cursor), 400, "invalid_request");
        }
        CHECK_PROBLEM(c.get("/v1/notes"), 400, "invalid_request");
        CHECK_PROBLEM(c.get("/v1/notes?limit=2"), 400, "invalid_request");
        CHECK_PROBLEM(c.get("/v1/notes?sku_id="), 400, "invalid_request");
        CHECK_PROBLEM(c.get("/v1/notes?sku_id=prd_abc"), 400, "invalid_request");
        CHECK_PROBLEM(c.get("/v1/notes?sku_id=sku_doesnotexist"), 404, "not_found");
    }

    TEST_CASE("each read of a note counts one view, written to note_stats within 2 s") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto shop = new_merchant(server);
        const auto sku =
            jstr(create_product(c, shop.auth, "Viewed", {{"A", 1000, 5}}), "/skus/0/id");
        const auto created = post_note(c, new_user(server).auth, "watched", {sku});
        REQUIRE_STATUS(created, 201);
        const auto id = jstr(created.json(), "/id");
        const auto other =
            jstr(post_note(c, new_user(server).auth, "ignored", {sku}).json(), "/id");

        constexpr int kReads = 7;
        for (int i = 0; i < kReads; ++i) REQUIRE_STATUS(c.get("/v1/notes/" + id), 200);
        // Failed reads and lists are not views of this note.
        CHECK_PROBLEM(c.get("/v1/notes/nte_doesnotexist"), 404, "not_found");
        REQUIRE_STATUS(c.get("/v1/notes?sku_id=" + sku), 200);

        const bool reached = eventually([&] { return views_in_db(server, id) >= kReads; },
                                        std::chrono::milliseconds(2000));
        CHECK(reached);
        // Not more, even after further flushes.
        std::this_thread::sleep_for(std::chrono::milliseconds(700));
        CHECK(views_in_db(server, id) == kReads);
        CHECK(views_in_db(server, other) == 0);
        CHECK(db_int(server, "SELECT COUNT(*) FROM note_stats WHERE note_id = ?1",
                     {"nte_doesnotexist"}) == 0);

        // More reads add up.
        for (int i = 0; i < 3; ++i) REQUIRE_STATUS(c.get("/v1/notes/" + id), 200);
        CHECK(eventually([&] { return views_in_db(server, id) == kReads + 3; },
                         std::chrono::milliseconds(2000)));
    }

    TEST_CASE("concurrent reads are all counted") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto note = post_note(c, new_user(server).auth, "popular", {});
        REQUIRE_STATUS(note, 201);
        const auto id = jstr(note.json(), "/id");
        constexpr int kThreads = 4;
        constexpr int kReadsEach = 25;
        std::vector<int> ok(kThreads, 0);
        {
            std::vector<std::thread> threads;
            for (int i = 0; i < kThreads; ++i) {
                threads.emplace_back([&, i] {
                    try {
                        HttpClient mine(server.port());
                        for (int k = 0; k < kReadsEach; ++k) {
                            if (mine.get("/v1/notes/" + id).status == 200)
                                ++ok[static_cast<std::size_t>(i)];
                        }
                    } catch (const std::exception&) {
                    }
                });
            }
            for (auto& t : threads) t.join();
        }
        for (int n : ok) CHECK(n == kReadsEach);
        CHECK(eventually([&] { return views_in_db(server, id) == kThreads * kReadsEach; },
                         std::chrono::milliseconds(2000)));
        CHECK(views_in_db(server, id) == kThreads * kReadsEach);
    }

    TEST_CASE("views counted just before SIGTERM are written at shutdown") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto note = post_note(c, new_user(server).auth, "last words", {});
        REQUIRE_STATUS(note, 201);
        const auto id = jstr(note.json(), "/id");
        // Let any pending flush pass, then read and stop at once.
        std::this_thread::sleep_for(std::chrono::milliseconds(600));
        for (int i = 0; i < 4; ++i) REQUIRE_STATUS(c.get("/v1/notes/" + id), 200);
        c.close();
        const auto code = server.terminate(std::chrono::seconds(10));
        INFO(server.log());
        REQUIRE(code.has_value());
        CHECK(*code == 0);
        CHECK(views_in_db(server, id) == 4);
    }

}  // TEST_SUITE
