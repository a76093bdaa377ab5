// Products, SKUs and stock on the real server.
#include <set>
#include <thread>

#include "support.hpp"

using namespace redloop;
using namespace redloop::it;
using api::Role;

namespace {

std::int64_t products_of(const ServerProcess& s, const std::string& merchant_id) {
    return db_int(s, "SELECT COUNT(*) FROM products WHERE merchant_id = ?1", {merchant_id});
}
std::int64_t skus_of(const ServerProcess& s, const std::string& merchant_id) {
    return db_int(s, "SELECT COUNT(*) FROM skus WHERE merchant_id = ?1", {merchant_id});
}
std::int64_t ledger_on_hand(const ServerProcess& s, const std::string& sku_id) {
    return db_int(s,
                  "SELECT COALESCE(SUM(on_hand_delta), 0) FROM inventory_ledger "
                  "WHERE sku_id = ?1",
                  {sku_id});
}

// A valid create-product body with one change applied at a JSON pointer-like spot.
json::object valid_product() {
    return product_json("Valid tea", {{"50 g tin", 6800, 10}, {"250 g box", 29800, 2}}, 500);
}

}  // namespace

TEST_SUITE("integration_catalog") {
    TEST_CASE("POST /v1/products creates a product with the contract's fields; reads are public") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto m = new_merchant(server);
        const json::object body{
            {"title", "Mingqian Longjing"},
            {"description", "Hand-fried.\nChestnut finish."},
            {"media",
             json::array{json::object{{"type", "image"}, {"url", "https://m.example.com/a.jpg"}},
                         json::object{{"type", "video"}, {"url", "http://m.example.com/b.mp4"}}}},
            {"commission_rate_bps", 800},
            {"skus",
             json::array{
                 json::object{{"title", "50 g tin"},
                              {"price", json::object{{"amount", 6800}, {"currency", "CNY"}}},
                              {"stock", 120}},
                 json::object{{"title", "250 g box"},
                              {"price", json::object{{"amount", 29800}, {"currency", "CNY"}}},
                              {"stock", 0}}}}};
        const auto r = c.post("/v1/products", to_json(body), m.auth);
        REQUIRE_STATUS(r, 201);
        CHECK(r.header("content-type").rfind("application/json", 0) == 0);
        const auto p = r.json();
        const auto id = jstr(p, "/id");
        CHECK(id.rfind("prd_", 0) == 0);
        CHECK(jstr(p, "/merchant_id") == m.id);
        CHECK(jstr(p, "/title") == "Mingqian Longjing");
        CHECK(jstr(p, "/description") == "Hand-fried.\nChestnut finish.");
        CHECK(p.at("media") == body.at("media"));
        CHECK(jstr(p, "/status") == "active");
        CHECK(jint(p, "/commission_rate_bps") == 800);
        REQUIRE(p.at("skus").as_array().size() == 2);
        std::set<std::string> sku_ids;
        for (std::size_t i = 0; i < 2; ++i) {
            const auto base = "/skus/" + std::to_string(i);
            const auto sku_id = jstr(p, base + "/id");
            CHECK(sku_id.rfind("sku_", 0) == 0);
            sku_ids.insert(sku_id);
            CHECK(jstr(p, base + "/product_id") == id);
            CHECK(jstr(p, base + "/merchant_id") == m.id);
            CHECK(jstr(p, base + "/status") == "active");
            CHECK(jstr(p, base + "/price/currency") == "CNY");
        }
        CHECK(sku_ids.size() == 2);
        CHECK(jstr(p, "/skus/0/title") == "50 g tin");
        CHECK(jint(p, "/skus/0/price/amount") == 6800);
        CHECK(jint(p, "/skus/0/available") == 120);
        CHECK(jstr(p, "/skus/1/title") == "250 g box");
        CHECK(jint(p, "/skus/1/price/amount") == 29800);
        CHECK(jint(p, "/skus/1/available") == 0);
        CHECK(products_of(server, m.id) == 1);
        CHECK(skus_of(server, m.id) == 2);
        // The initial stock is in the ledger.
        CHECK(ledger_on_hand(server, jstr(p, "/skus/0/id")) == 120);

        // Public reads, without a token.
        HttpClient anon(server.port());
        const auto got = anon.get("/v1/products/" + id);
        REQUIRE_STATUS(got, 200);
        CHECK(got.json() == p);
        const auto sku = anon.get("/v1/skus/" + jstr(p, "/skus/0/id"));
        REQUIRE_STATUS(sku, 200);
        const auto s = sku.json();
        CHECK(s == p.at("skus").as_array()[0]);
        for (const char* key : {"/id", "/product_id", "/merchant_id", "/title", "/price/amount",
                                "/price/currency", "/available", "/status"}) {
            INFO("sku field ", key);
            CHECK(jhas(s, key));
        }
        // Another signed-in role can read too.
        REQUIRE_STATUS(c.get("/v1/products/" + id, server.bearer(Role::user, unique_id("usr_"))),
                       200);
    }

    TEST_CASE("the owner patches a product and a sku price; reads show the change") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto m = new_merchant(server);
        const auto p = create_product(c, m.auth, "Old title", {{"Tin", 1000, 5}}, 0);
        const auto id = jstr(p, "/id");
        const auto sku = jstr(p, "/skus/0/id");

        const auto renamed = c.patch("/v1/products/" + id,
                                     R"({"title":"New title","description":"New text"})", m.auth);
        REQUIRE_STATUS(renamed, 200);
        CHECK(jstr(renamed.json(), "/title") == "New title");
        CHECK(jstr(renamed.json(), "/description") == "New text");
        CHECK(jint(renamed.json(), "/commission_rate_bps") == 0);

        const auto commission =
            c.patch("/v1/products/" + id, R"({"commission_rate_bps":1500})", m.auth);
        REQUIRE_STATUS(commission, 200);
        CHECK(jint(commission.json(), "/commission_rate_bps") == 1500);
        CHECK(jstr(commission.json(), "/title") == "New title");

        const auto archived = c.patch("/v1/products/" + id, R"({"status":"archived"})", m.auth);
        REQUIRE_STATUS(archived, 200);
        CHECK(jstr(archived.json(), "/status") == "archived");
        const auto got = c.get("/v1/products/" + id).json();
        CHECK(jstr(got, "/status") == "archived");
        CHECK(jstr(got, "/title") == "New title");
        CHECK(jstr(got, "/description") == "New text");
        CHECK(jint(got, "/commission_rate_bps") == 1500);
        // A sku's status is its product's.
        CHECK(jstr(c.get("/v1/skus/" + sku).json(), "/status") == "archived");
        CHECK(jstr(got, "/skus/0/status") == "archived");

        REQUIRE_STATUS(c.patch("/v1/products/" + id, R"({"status":"active"})", m.auth), 200);
        CHECK(jstr(c.get("/v1/skus/" + sku).json(), "/status") == "active");

        const auto priced =
            c.patch("/v1/skus/" + sku, R"({"price":{"amount":1290,"currency":"CNY"}})", m.auth);
        REQUIRE_STATUS(priced, 200);
        CHECK(jint(priced.json(), "/price/amount") == 1290);
        CHECK(jint(c.get("/v1/skus/" + sku).json(), "/price/amount") == 1290);
        CHECK(jint(c.get("/v1/products/" + id).json(), "/skus/0/price/amount") == 1290);
        CHECK(jint(c.get("/v1/skus/" + sku).json(), "/available") == 5);  // untouched
        // Free is a price.
        REQUIRE_STATUS(
            c.patch("/v1/skus/" + sku, R"({"price":{"amount":0,"currency":"CNY"}})", m.auth), 200);
        CHECK(jint(c.get("/v1/skus/" + sku).json(), "/price/amount") == 0);
    }

    TEST_CASE("invalid product and sku patches are 400 and change nothing") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto m = new_merchant(server);
        const auto p = create_product(c, m.auth, "Stable", {{"Tin", 1000, 5}}, 100);
        const auto id = jstr(p, "/id");
        const auto sku = jstr(p, "/skus/0/id");
        const auto product_before = c.get("/v1/products/" + id).body;

        for (const std::string& body : std::vector<std::string>{
                 R"({"title":""})", R"({"title":5})", R"({"title":null})",
                 R"({"status":"deleted"})", R"({"status":"ARCHIVED"})",
                 R"({"commission_rate_bps":9000})", R"({"commission_rate_bps":-1})",
                 R"({"commission_rate_bps":"100"})", R"({"merchant_id":"mer_other"})",
                 R"({"id":"prd_other"})", R"({"skus":[]})", R"({"title":"ok","status":"gone"})"}) {
            INFO("PATCH product: ", body);
            CHECK_PROBLEM(c.patch("/v1/products/" + id, body, m.auth), 400, "invalid_request");
        }
        for (const std::string& body : std::vector<std::string>{
                 R"({"price":{"amount":-1,"currency":"CNY"}})",
                 R"({"price":{"amount":100,"currency":"USD"}})",
                 R"({"price":{"amount":100000001,"currency":"CNY"}})",
                 R"({"price":{"amount":10.5,"currency":"CNY"}})", R"({"price":"10.00"})",
                 R"({"price":null})", R"({"available":100})", R"({"stock":100})",
                 R"({"product_id":"prd_other"})"}) {
            INFO("PATCH sku: ", body);
            CHECK_PROBLEM(c.patch("/v1/skus/" + sku, body, m.auth), 400, "invalid_request");
        }
        CHECK(c.get("/v1/products/" + id).body == product_before);
    }

    TEST_CASE("another merchant's product and sku are 404 and stay unchanged") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto owner = new_merchant(server);
        const auto other = new_merchant(server);
        const auto p = create_product(c, owner.auth, "Owned", {{"Tin", 1000, 5}});
        const auto id = jstr(p, "/id");
        const auto sku = jstr(p, "/skus/0/id");
        const auto before = c.get("/v1/products/" + id).body;

        CHECK_PROBLEM(c.patch("/v1/products/" + id, R"({"title":"Stolen"})", other.auth), 404,
                      "not_found");
        CHECK_PROBLEM(c.patch("/v1/products/" + id, R"({"status":"archived"})", other.auth), 404,
                      "not_found");
        CHECK_PROBLEM(
            c.patch("/v1/skus/" + sku, R"({"price":{"amount":1,"currency":"CNY"}})", other.auth),
            404, "not_found");
        CHECK_PROBLEM(c.post("/v1/skus/" + sku + "/stock-adjustments",
                             R"({"delta":-5,"reason":"not mine"})", other.auth),
                      404, "not_found");
        CHECK_PROBLEM(c.get("/v1/skus/" + sku + "/inventory", other.auth), 404, "not_found");

        // The 404 looks like the one for an id that doesn't exist: no hint that it exists.
        const auto missing =
            c.patch("/v1/products/prd_doesnotexist", R"({"title":"x"})", other.auth);
        CHECK_PROBLEM(missing, 404, "not_found");

        CHECK(c.get("/v1/products/" + id).body == before);
        CHECK(ledger_on_hand(server, sku) == 5);
        // The owner still can.
        REQUIRE_STATUS(c.patch("/v1/products/" + id, R"({"title":"Mine"})", owner.auth), 200);
    }

    TEST_CASE("stock adjustments move on_hand and never below zero") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto m = new_merchant(server);
        const auto p = create_product(c, m.auth, "Stocked", {{"Tin", 1000, 10}});
        const auto sku = jstr(p, "/skus/0/id");
        const auto adjust = "/v1/skus/" + sku + "/stock-adjustments";

        const auto up = c.post(adjust, R"({"delta":5,"reason":"delivery"})", m.auth);
        REQUIRE_STATUS(up, 200);
        auto j = up.json();
        CHECK(jstr(j, "/sku_id") == sku);
        CHECK(jint(j, "/on_hand") == 15);
        CHECK(jint(j, "/reserved") == 0);
        CHECK(jint(j, "/available") == 15);
        CHECK(j.as_object().size() == 4);

        const auto down = c.post(adjust, R"({"delta":-15,"reason":"stocktake"})", m.auth);
        REQUIRE_STATUS(down, 200);
        CHECK(jint(down.json(), "/on_hand") == 0);
        CHECK(jint(down.json(), "/available") == 0);

        const auto below = c.post(adjust, R"({"delta":-1,"reason":"too far"})", m.auth);
        CHECK_PROBLEM(below, 409, "conflict");
        REQUIRE_STATUS(c.post(adjust, R"({"delta":3,"reason":"found some"})", m.auth), 200);
        CHECK_PROBLEM(c.post(adjust, R"({"delta":-4,"reason":"too far"})", m.auth), 409,
                      "conflict");

        const auto inv = c.get("/v1/skus/" + sku + "/inventory", m.auth);
        REQUIRE_STATUS(inv, 200);
        CHECK(jint(inv.json(), "/on_hand") == 3);
        CHECK(jint(inv.json(), "/available") == 3);
        CHECK(jint(c.get("/v1/skus/" + sku).json(), "/available") == 3);
        // An admin reads any shop's inventory.
        const auto admin =
            c.get("/v1/skus/" + sku + "/inventory", server.bearer(Role::admin, unique_id("usr_")));
        REQUIRE_STATUS(admin, 200);
        CHECK(admin.body == inv.body);
        // The ledger adds up to on_hand.
        CHECK(ledger_on_hand(server, sku) == 3);

        for (const std::string& body : std::vector<std::string>{
                 R"({"delta":0,"reason":"nothing"})", R"({"delta":1})", R"({"reason":"no delta"})",
                 R"({"delta":1,"reason":""})", R"({"delta":1.5,"reason":"half"})",
                 R"({"delta":"1","reason":"string"})", R"({"delta":10000001,"reason":"too many"})",
                 R"({"delta":1,"reason":"x","on_hand":100})"}) {
            INFO("adjustment: ", body);
            CHECK_PROBLEM(c.post(adjust, body, m.auth), 400, "invalid_request");
        }
        CHECK(jint(c.get("/v1/skus/" + sku + "/inventory", m.auth).json(), "/on_hand") == 3);
        CHECK(ledger_on_hand(server, sku) == 3);
    }

    TEST_CASE("every invalid product is 400 and creates nothing") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto m = new_merchant(server);

        auto with = [](auto&& change) {
            json::object o = valid_product();
            change(o);
            return to_json(o);
        };
        auto sku0 = [](json::object& o) -> json::object& {
            return o["skus"].as_array()[0].as_object();
        };
        auto price0 = [&](json::object& o) -> json::object& {
            return sku0(o)["price"].as_object();
        };

        struct Case {
            const char* name;
            std::string body;
        };
        std::vector<Case> cases = {
            {"unknown field", with([](json::object& o) { o["status"] = "archived"; })},
            {"unknown field merchant_id",
             with([](json::object& o) { o["merchant_id"] = "mer_x"; })},
            {"unknown sku field", with([&](json::object& o) { sku0(o)["id"] = "sku_mine"; })},
            {"unknown sku field available",
             with([&](json::object& o) { sku0(o)["available"] = 5; })},
            {"unknown media field",
             with([](json::object& o) { o["media"].as_array()[0].as_object()["alt"] = "x"; })},
            {"missing title", with([](json::object& o) { o.erase("title"); })},
            {"empty title", with([](json::object& o) { o["title"] = ""; })},
            {"title with a newline", with([](json::object& o) { o["title"] = "a\nb"; })},
            {"title of 201 characters",
             with([](json::object& o) { o["title"] = std::string(201, 't'); })},
            {"title of 201 CJK characters", with([](json::object& o) {
                 std::string t;
                 for (int i = 0; i < 201; ++i) t += "\xe8\x8c\xb6";  // 茶
                 o["title"] = t;
             })},
            {"title not a string", with([](json::object& o) { o["title"] = 42; })},
            {"description too long",
             with([](json::object& o) { o["description"] = std::string(10'001, 'd'); })},
            {"missing skus", with([](json::object& o) { o.erase("skus"); })},
            {"empty skus", with([](json::object& o) { o["skus"] = json::array{}; })},
            {"skus not an array", with([](json::object& o) { o["skus"] = json::object{}; })},
            {"sku not an object", with([](json::object& o) { o["skus"] = json::array{"sku"}; })},
            {"101 skus", with([](json::object& o) {
                 json::array a;
                 for (int i = 0; i < 101; ++i)
                     a.push_back(
                         json::object{{"title", "v" + std::to_string(i)},
                                      {"price", json::object{{"amount", 100}, {"currency", "CNY"}}},
                                      {"stock", 1}});
                 o["skus"] = std::move(a);
             })},
            {"duplicate sku titles", with([&](json::object& o) {
                 o["skus"].as_array()[1].as_object()["title"] = "50 g tin";
             })},
            {"missing sku title", with([&](json::object& o) { sku0(o).erase("title"); })},
            {"missing price", with([&](json::object& o) { sku0(o).erase("price"); })},
            {"float price", with([&](json::object& o) { price0(o)["amount"] = 68.5; })},
            {"float price with .0", with([&](json::object& o) { price0(o)["amount"] = 6800.0; })},
            {"string price", with([&](json::object& o) { price0(o)["amount"] = "6800"; })},
            {"price as a string", with([&](json::object& o) { sku0(o)["price"] = "68.00"; })},
            {"price as a number", with([&](json::object& o) { sku0(o)["price"] = 6800; })},
            {"negative price", with([&](json::object& o) { price0(o)["amount"] = -1; })},
            {"huge price", with([&](json::object& o) { price0(o)["amount"] = 100'000'001; })},
            {"price over the money limit",
             with([&](json::object& o) { price0(o)["amount"] = 10'000'000'000'000LL; })},
            {"price over int64", with([&](json::object& o) {
                 price0(o)["amount"] = std::uint64_t{18'000'000'000'000'000'000ULL};
             })},
            {"USD price", with([&](json::object& o) { price0(o)["currency"] = "USD"; })},
            {"unknown currency", with([&](json::object& o) { price0(o)["currency"] = "ABC"; })},
            {"lower-case currency", with([&](json::object& o) { price0(o)["currency"] = "cny"; })},
            {"missing currency", with([&](json::object& o) { price0(o).erase("currency"); })},
            {"unknown price field", with([&](json::object& o) { price0(o)["tax"] = 0; })},
            {"negative stock", with([&](json::object& o) { sku0(o)["stock"] = -1; })},
            {"stock over the limit", with([&](json::object& o) { sku0(o)["stock"] = 10'000'001; })},
            {"float stock", with([&](json::object& o) { sku0(o)["stock"] = 1.5; })},
            {"missing stock", with([&](json::object& o) { sku0(o).erase("stock"); })},
            {"bad media type", with([](json::object& o) {
                 o["media"] =
                     json::array{json::object{{"type", "gif"}, {"url", "https://x.example/a.gif"}}};
             })},
            {"media type missing", with([](json::object& o) {
                 o["media"] = json::array{json::object{{"url", "https://x.example/a.gif"}}};
             })},
            {"ftp media url", with([](json::object& o) {
                 o["media"] =
                     json::array{json::object{{"type", "image"}, {"url", "ftp://x.example/a.jpg"}}};
             })},
            {"javascript media url", with([](json::object& o) {
                 o["media"] =
                     json::array{json::object{{"type", "image"}, {"url", "javascript:alert(1)"}}};
             })},
            {"relative media url", with([](json::object& o) {
                 o["media"] = json::array{json::object{{"type", "image"}, {"url", "/img/a.jpg"}}};
             })},
            {"media url without host", with([](json::object& o) {
                 o["media"] = json::array{json::object{{"type", "image"}, {"url", "https://"}}};
             })},
            {"media url with a space", with([](json::object& o) {
                 o["media"] = json::array{
                     json::object{{"type", "image"}, {"url", "https://x.example/a b.jpg"}}};
             })},
            {"media not an array",
             with([](json::object& o) { o["media"] = "https://x.example/a.jpg"; })},
            {"commission 9000", with([](json::object& o) { o["commission_rate_bps"] = 9000; })},
            {"commission 8001", with([](json::object& o) { o["commission_rate_bps"] = 8001; })},
            {"negative commission", with([](json::object& o) { o["commission_rate_bps"] = -1; })},
            {"commission as a string",
             with([](json::object& o) { o["commission_rate_bps"] = "500"; })},
        };
        for (const auto& tc : cases) {
            INFO("case: ", tc.name, " body: ", tc.body.substr(0, 300));
            CHECK_PROBLEM(c.post("/v1/products", tc.body, m.auth), 400, "invalid_request");
        }
        CHECK(products_of(server, m.id) == 0);
        CHECK(skus_of(server, m.id) == 0);
        CHECK(db_int(server, "SELECT COUNT(*) FROM inventory_ledger") == 0);

        // The edges that are allowed: 200 characters (also CJK), commission 8000, price 1 000
        // 000.00.
        std::string cjk;
        for (int i = 0; i < 200; ++i) cjk += "\xe8\x8c\xb6";
        const auto edge = c.post("/v1/products", with([&](json::object& o) {
                                     o["title"] = cjk;
                                     o["commission_rate_bps"] = 8000;
                                     price0(o)["amount"] = 100'000'000;
                                     sku0(o)["stock"] = 10'000'000;
                                 }),
                                 m.auth);
        REQUIRE_STATUS(edge, 201);
        CHECK(jstr(edge.json(), "/title") == cjk);
        REQUIRE_STATUS(
            c.post("/v1/products",
                   with([](json::object& o) { o["title"] = std::string(200, 't'); }), m.auth),
            201);
        CHECK(products_of(server, m.id) == 2);
    }

    TEST_CASE("ids in the path: malformed is 400, unknown is 404") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto m = new_merchant(server);
        for (const std::string& bad :
             std::vector<std::string>{"abc", "prd_", "prd_!!", "sku_abc", "prd_a-b",
                                      "prd_" + std::string(65, 'a'), "PRD_abc", "prd_%20x"}) {
            INFO("product id: ", bad);
            CHECK_PROBLEM(c.get("/v1/products/" + bad), 400, "invalid_request");
            CHECK_PROBLEM(c.patch("/v1/products/" + bad, R"({"title":"x"})", m.auth), 400,
                          "invalid_request");
        }
        for (const std::string& bad :
             std::vector<std::string>{"abc", "sku_", "prd_abc", "sku_a.b"}) {
            INFO("sku id: ", bad);
            CHECK_PROBLEM(c.get("/v1/skus/" + bad), 400, "invalid_request");
            CHECK_PROBLEM(
                c.patch("/v1/skus/" + bad, R"({"price":{"amount":1,"currency":"CNY"}})", m.auth),
                400, "invalid_request");
            CHECK_PROBLEM(c.post("/v1/skus/" + bad + "/stock-adjustments",
                                 R"({"delta":1,"reason":"x"})", m.auth),
                          400, "invalid_request");
        }
        CHECK_PROBLEM(c.get("/v1/products/prd_doesnotexist"), 404, "not_found");
        CHECK_PROBLEM(c.get("/v1/products/prd_" + std::string(64, 'z')), 404, "not_found");
        CHECK_PROBLEM(c.patch("/v1/products/prd_doesnotexist", R"({"title":"x"})", m.auth), 404,
                      "not_found");
        CHECK_PROBLEM(c.get("/v1/skus/sku_doesnotexist"), 404, "not_found");
        CHECK_PROBLEM(c.patch("/v1/skus/sku_doesnotexist",
                              R"({"price":{"amount":1,"currency":"CNY"}})", m.auth),
                      404, "not_found");
        CHECK_PROBLEM(c.post("/v1/skus/sku_doesnotexist/stock-adjustments",
                             R"({"delta":1,"reason":"x"})", m.auth),
                      404, "not_found");
        CHECK_PROBLEM(c.get("/v1/skus/sku_doesnotexist/inventory", m.auth), 404, "not_found");
    }

    TEST_CASE("Idempotency-Key on POST /v1/products replays the first response") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto m = new_merchant(server);
        const auto body = to_json(valid_product());
        const Headers key{{"Idempotency-Key", "create-tea-1"}};

        const auto first = c.post("/v1/products", body, m.auth, key);
        REQUIRE_STATUS(first, 201);
        const auto second = c.post("/v1/products", body, m.auth, key);
        CHECK(second.status == first.status);
        CHECK(second.body == first.body);  // byte for byte
        CHECK(second.header("content-type") == first.header("content-type"));
        const auto third = c.post("/v1/products", body, m.auth, key);
        CHECK(third.status == 201);
        CHECK(third.body == first.body);
        CHECK(products_of(server, m.id) == 1);
        CHECK(skus_of(server, m.id) == 2);

        // The same key with another body.
        auto changed = valid_product();
        changed["title"] = "Another tea";
        const auto reused = c.post("/v1/products", to_json(changed), m.auth, key);
        CHECK_PROBLEM(reused, 422, "idempotency_key_reused");
        CHECK(products_of(server, m.id) == 1);
        // ... and the first body still replays after that.
        CHECK(c.post("/v1/products", body, m.auth, key).body == first.body);

        // Without a key, or with a new key, the same body creates a new product.
        const auto fresh =
            c.post("/v1/products", body, m.auth, {{"Idempotency-Key", "create-tea-2"}});
        REQUIRE_STATUS(fresh, 201);
        CHECK(jstr(fresh.json(), "/id") != jstr(first.json(), "/id"));
        REQUIRE_STATUS(c.post("/v1/products", body, m.auth), 201);
        CHECK(products_of(server, m.id) == 3);

        // Keys are per caller: another merchant's same key is its own request.
        const auto other = new_merchant(server);
        const auto theirs = c.post("/v1/products", body, other.auth, key);
        REQUIRE_STATUS(theirs, 201);
        CHECK(jstr(theirs.json(), "/merchant_id") == other.id);
        CHECK(jstr(theirs.json(), "/id") != jstr(first.json(), "/id"));
        CHECK(products_of(server, other.id) == 1);

        // A key that can't be a key.
        CHECK_PROBLEM(
            c.post("/v1/products", body, m.auth, {{"Idempotency-Key", std::string(256, 'k')}}), 400,
            "invalid_request");
        CHECK(products_of(server, m.id) == 3);
    }

    TEST_CASE("Idempotency-Key on a stock adjustment moves stock once") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto m = new_merchant(server);
        const auto sku = jstr(create_product(c, m.auth, "Once", {{"Tin", 1000, 10}}), "/skus/0/id");
        const auto adjust = "/v1/skus/" + sku + "/stock-adjustments";
        const Headers key{{"Idempotency-Key", "restock-42"}};
        const auto first = c.post(adjust, R"({"delta":7,"reason":"delivery 42"})", m.auth, key);
        REQUIRE_STATUS(first, 200);
        CHECK(jint(first.json(), "/on_hand") == 17);
        const auto again = c.post(adjust, R"({"delta":7,"reason":"delivery 42"})", m.auth, key);
        CHECK(again.status == 200);
        CHECK(again.body == first.body);
        CHECK(jint(c.get("/v1/skus/" + sku).json(), "/available") == 17);
        CHECK(ledger_on_hand(server, sku) == 17);
        CHECK_PROBLEM(c.post(adjust, R"({"delta":8,"reason":"delivery 42"})", m.auth, key), 422,
                      "idempotency_key_reused");
        CHECK(jint(c.get("/v1/skus/" + sku).json(), "/available") == 17);
    }

    TEST_CASE("a refusal under an Idempotency-Key is replayed; a 400 is not stored") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto m = new_merchant(server);
        const auto sku = jstr(create_product(c, m.auth, "Few", {{"Tin", 1000, 3}}), "/skus/0/id");
        const auto adjust = "/v1/skus/" + sku + "/stock-adjustments";
        const Headers key{{"Idempotency-Key", "take-5"}};
        const auto refused = c.post(adjust, R"({"delta":-5,"reason":"breakage"})", m.auth, key);
        CHECK_PROBLEM(refused, 409, "conflict");
        // Enough stock arrives, but the key already has its answer: same status, same bytes.
        REQUIRE_STATUS(c.post(adjust, R"({"delta":10,"reason":"delivery"})", m.auth), 200);
        const auto again = c.post(adjust, R"({"delta":-5,"reason":"breakage"})", m.auth, key);
        CHECK(again.status == 409);
        CHECK(again.body == refused.body);
        CHECK(again.header("idempotent-replayed") == "true");
        CHECK(jint(c.get("/v1/skus/" + sku).json(), "/available") == 13);
        // Malformed input is answered before anything runs and is not kept under the key.
        const Headers key2{{"Idempotency-Key", "fix-me"}};
        CHECK_PROBLEM(c.post(adjust, R"({"delta":"x","reason":"typo"})", m.auth, key2), 400,
                      "invalid_request");
        const auto fixed = c.post(adjust, R"({"delta":-1,"reason":"typo fixed"})", m.auth, key2);
        REQUIRE_STATUS(fixed, 200);
        CHECK(jint(fixed.json(), "/on_hand") == 12);
    }

    TEST_CASE("concurrent requests with one Idempotency-Key create one product") {
        ServerProcess server;
        const auto m = new_merchant(server);
        const auto body = to_json(valid_product());
        constexpr int kThreads = 6;
        std::vector<HttpResponse> responses(kThreads);
        std::vector<std::string> errors(kThreads);
        {
            std::vector<std::thread> threads;
            for (int i = 0; i < kThreads; ++i) {
                threads.emplace_back([&, i] {
                    try {
                        HttpClient c(server.port());
                        responses[static_cast<std::size_t>(i)] =
                            c.post("/v1/products", body, m.auth, {{"Idempotency-Key", "race-1"}});
                    } catch (const std::exception& e) {
                        errors[static_cast<std::size_t>(i)] = e.what();
                    }
                });
            }
            for (auto& t : threads) t.join();
        }
        for (int i = 0; i < kThreads; ++i) {
            const auto& r = responses[static_cast<std::size_t>(i)];
            INFO("thread ", i, ": ", errors[static_cast<std::size_t>(i)], " ", r.status, " ",
                 r.body);
            CHECK(r.status == 201);
            CHECK(r.body == responses[0].body);
        }
        CHECK(products_of(server, m.id) == 1);
    }

    TEST_CASE("concurrent stock decrements never take on_hand below zero") {
        ServerProcess server;
        HttpClient setup(server.port());
        const auto m = new_merchant(server);
        const auto sku =
            jstr(create_product(setup, m.auth, "Scarce", {{"Last five", 1000, 5}}), "/skus/0/id");
        constexpr int kThreads = 10;
        std::vector<int> statuses(kThreads, 0);
        std::vector<std::string> codes(kThreads);
        {
            std::vector<std::thread> threads;
            for (int i = 0; i < kThreads; ++i) {
                threads.emplace_back([&, i] {
                    try {
                        HttpClient c(server.port());
                        const auto r = c.post("/v1/skus/" + sku + "/stock-adjustments",
                                              R"({"delta":-1,"reason":"race"})", m.auth);
                        statuses[static_cast<std::size_t>(i)] = r.status;
                        codes[static_cast<std::size_t>(i)] = r.status == 200 ? "" : problem_code(r);
                    } catch (const std::exception& e) {
                        codes[static_cast<std::size_t>(i)] = e.what();
                    }
                });
            }
            for (auto& t : threads) t.join();
        }
        int ok = 0;
        int conflicts = 0;
        for (int i = 0; i < kThreads; ++i) {
            const auto s = statuses[static_cast<std::size_t>(i)];
            INFO("thread ", i, ": ", s, " ", codes[static_cast<std::size_t>(i)]);
            CHECK((s == 200 || (s == 409 && codes[static_cast<std::size_t>(i)] == "conflict")));
            ok += s == 200;
            conflicts += s == 409;
        }
        CHECK(ok == 5);
        CHECK(conflicts == 5);
        CHECK(jint(setup.get("/v1/skus/" + sku).json(), "/available") == 0);
        CHECK(ledger_on_hand(server, sku) == 0);
    }

}  // TEST_SUITE
