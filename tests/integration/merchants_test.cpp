// GET/PATCH /v1/merchants/me on the real server.
#include "support.hpp"

using namespace redloop;
using namespace redloop::it;
using api::Role;

namespace {

json::value money(std::int64_t amount, const std::string& currency = "CNY") {
    return json::object{{"amount", amount}, {"currency", currency}};
}

}  // namespace

TEST_SUITE("integration_merchants") {
    TEST_CASE("the first request of a merchant token creates the merchant with defaults") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto id = unique_id("mer_");
        const auto auth = server.bearer(Role::merchant, id);
        CHECK(db_int(server, "SELECT COUNT(*) FROM merchants WHERE id = ?1", {id}) == 0);

        const auto r = c.get("/v1/merchants/me", auth);
        REQUIRE_STATUS(r, 200);
        CHECK(r.header("content-type").rfind("application/json", 0) == 0);
        const auto j = r.json();
        CHECK(jstr(j, "/id") == id);
        CHECK(jstr(j, "/currency") == "CNY");
        CHECK(jint(j, "/shipping_fee/amount") == 0);
        CHECK(jstr(j, "/shipping_fee/currency") == "CNY");
        CHECK(jnull(j, "/free_shipping_over"));
        CHECK(jint(j, "/return_window_days") == 7);
        CHECK(!jstr(j, "/name").empty());
        CHECK(jstr(j, "/created_at").back() == 'Z');
        CHECK(db_int(server, "SELECT COUNT(*) FROM merchants WHERE id = ?1", {id}) == 1);

        // Reading again changes nothing and creates nothing more.
        const auto again = c.get("/v1/merchants/me", auth);
        REQUIRE_STATUS(again, 200);
        CHECK(again.body == r.body);
        CHECK(db_int(server, "SELECT COUNT(*) FROM merchants") == 1);
    }

    TEST_CASE("PATCH /v1/merchants/me updates the shop settings") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto auth = server.bearer(Role::merchant, unique_id("mer_"));

        const auto all = c.patch("/v1/merchants/me",
                                 to_json(json::object{{"name", "Hangzhou Tea Co."},
                                                      {"shipping_fee", money(800)},
                                                      {"free_shipping_over", money(19900)},
                                                      {"return_window_days", 14}}),
                                 auth);
        REQUIRE_STATUS(all, 200);
        auto j = all.json();
        CHECK(jstr(j, "/name") == "Hangzhou Tea Co.");
        CHECK(jint(j, "/shipping_fee/amount") == 800);
        CHECK(jint(j, "/free_shipping_over/amount") == 19900);
        CHECK(jstr(j, "/free_shipping_over/currency") == "CNY");
        CHECK(jint(j, "/return_window_days") == 14);

        // A GET sees what PATCH answered.
        const auto got = c.get("/v1/merchants/me", auth);
        REQUIRE_STATUS(got, 200);
        CHECK(jstr(got.json(), "/name") == "Hangzhou Tea Co.");
        CHECK(jint(got.json(), "/shipping_fee/amount") == 800);
        CHECK(jint(got.json(), "/free_shipping_over/amount") == 19900);
        CHECK(jint(got.json(), "/return_window_days") == 14);

        // A partial patch leaves the other fields alone.
        const auto partial = c.patch("/v1/merchants/me", R"({"return_window_days":30})", auth);
        REQUIRE_STATUS(partial, 200);
        j = partial.json();
        CHECK(jint(j, "/return_window_days") == 30);
        CHECK(jstr(j, "/name") == "Hangzhou Tea Co.");
        CHECK(jint(j, "/shipping_fee/amount") == 800);
        CHECK(jint(j, "/free_shipping_over/amount") == 19900);

        // null clears the free-shipping threshold; leaving it out keeps it.
        REQUIRE_STATUS(c.patch("/v1/merchants/me", R"({"name":"Renamed"})", auth), 200);
        CHECK(jint(c.get("/v1/merchants/me", auth).json(), "/free_shipping_over/amount") == 19900);
        const auto cleared = c.patch("/v1/merchants/me", R"({"free_shipping_over":null})", auth);
        REQUIRE_STATUS(cleared, 200);
        CHECK(jnull(cleared.json(), "/free_shipping_over"));
        const auto after = c.get("/v1/merchants/me", auth).json();
        CHECK(jnull(after, "/free_shipping_over"));
        CHECK(jstr(after, "/name") == "Renamed");
        CHECK(jint(after, "/shipping_fee/amount") == 800);

        // The edges of the ranges are allowed.
        REQUIRE_STATUS(
            c.patch("/v1/merchants/me",
                    R"({"return_window_days":0,"shipping_fee":{"amount":0,"currency":"CNY"}})",
                    auth),
            200);
        REQUIRE_STATUS(c.patch("/v1/merchants/me", R"({"return_window_days":365})", auth), 200);
        CHECK(jint(c.get("/v1/merchants/me", auth).json(), "/return_window_days") == 365);
        // An empty patch is allowed and changes nothing that matters.
        REQUIRE_STATUS(c.patch("/v1/merchants/me", "{}", auth), 200);
        CHECK(jint(c.get("/v1/merchants/me", auth).json(), "/return_window_days") == 365);
    }

    TEST_CASE("invalid merchant patches are 400 and change nothing") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto id = unique_id("mer_");
        const auto auth = server.bearer(Role::merchant, id);
        REQUIRE_STATUS(c.patch("/v1/merchants/me",
                               to_json(json::object{{"name", "Before"},
                                                    {"shipping_fee", money(500)},
                                                    {"free_shipping_over", money(9900)},
                                                    {"return_window_days", 10}}),
                               auth),
                       200);
        const auto before = c.get("/v1/merchants/me", auth);
        REQUIRE_STATUS(before, 200);

        const std::vector<std::string> bad = {
            // values out of range
            R"({"shipping_fee":{"amount":-1,"currency":"CNY"}})",
            R"({"free_shipping_over":{"amount":-100,"currency":"CNY"}})",
            R"({"shipping_fee":{"amount":1000000000001,"currency":"CNY"}})",
            R"({"return_window_days":400})",
            R"({"return_window_days":366})",
            R"({"return_window_days":-1})",
            R"({"name":""})",
            R"({"name":")" + std::string(101, 'n') + R"("})",
            R"({"name":"line\nbreak"})",
            // currencies
            R"({"shipping_fee":{"amount":800,"currency":"USD"}})",
            R"({"free_shipping_over":{"amount":800,"currency":"USD"}})",
            R"({"shipping_fee":{"amount":800,"currency":"cny"}})",
            R"({"shipping_fee":{"amount":800,"currency":"XXX"}})",
            R"({"shipping_fee":{"amount":800}})",
            // unknown fields (no mass assignment) and nested unknown fields
            R"({"currency":"USD"})",
            R"({"id":"mer_someoneelse"})",
            R"({"created_at":"2020-01-01T00:00:00Z"})",
            R"({"name":"ok","nickname":"x"})",
            R"({"shipping_fee":{"amount":800,"currency":"CNY","extra":1}})",
            // wrong types
            R"({"name":5})",
            R"({"name":null})",
            R"({"return_window_days":"7"})",
            R"({"return_window_days":7.5})",
            R"({"return_window_days":true})",
            R"({"shipping_fee":800})",
            R"({"shipping_fee":"8.00 CNY"})",
            R"({"shipping_fee":null})",
            R"({"shipping_fee":{"amount":"800","currency":"CNY"}})",
            R"({"shipping_fee":{"amount":8.5,"currency":"CNY"}})",
            R"({"free_shipping_over":"none"})",
            R"({"free_shipping_over":[]})",
            // a valid change together with an invalid one: all or nothing
            R"({"name":"Half applied","return_window_days":400})",
            R"({"return_window_days":20,"shipping_fee":{"amount":-5,"currency":"CNY"}})",
        };
        for (const auto& body : bad) {
            INFO("PATCH body: ", body);
            CHECK_PROBLEM(c.patch("/v1/merchants/me", body, auth), 400, "invalid_request");
        }
        const auto after = c.get("/v1/merchants/me", auth);
        REQUIRE_STATUS(after, 200);
        CHECK(after.body == before.body);
        const auto j = after.json();
        CHECK(jstr(j, "/name") == "Before");
        CHECK(jint(j, "/shipping_fee/amount") == 500);
        CHECK(jint(j, "/free_shipping_over/amount") == 9900);
        CHECK(jint(j, "/return_window_days") == 10);
        CHECK(jstr(j, "/currency") == "CNY");
        CHECK(jstr(j, "/id") == id);
    }

    TEST_CASE("merchants are separate: a patch touches only the caller's shop") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto a = server.bearer(Role::merchant, unique_id("mer_"));
        const auto b = server.bearer(Role::merchant, unique_id("mer_"));
        REQUIRE_STATUS(c.patch("/v1/merchants/me", R"({"name":"Shop A"})", a), 200);
        REQUIRE_STATUS(
            c.patch("/v1/merchants/me", R"({"name":"Shop B","return_window_days":3})", b), 200);
        const auto ja = c.get("/v1/merchants/me", a).json();
        const auto jb = c.get("/v1/merchants/me", b).json();
        CHECK(jstr(ja, "/name") == "Shop A");
        CHECK(jint(ja, "/return_window_days") == 7);
        CHECK(jstr(jb, "/name") == "Shop B");
        CHECK(jint(jb, "/return_window_days") == 3);
    }

}  // TEST_SUITE
