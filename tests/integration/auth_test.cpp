// Bearer tokens against the real server: only HS256 tokens signed with the server's secret,
// unexpired, with a sub that fits the role, get in; roles decide what they may do.
#include "support.hpp"

using namespace redloop;
using namespace redloop::it;
using api::Role;

namespace {

std::string claims(const std::string& sub, const std::string& role, std::int64_t exp) {
    return to_json(json::object{{"sub", sub}, {"role", role}, {"exp", exp}});
}

const std::string kHs256Header = R"({"alg":"HS256","typ":"JWT"})";

std::int64_t merchants_named(const ServerProcess& s, const std::string& id) {
    return db_int(s, "SELECT COUNT(*) FROM merchants WHERE id = ?1", {id});
}

}  // namespace

TEST_SUITE("integration_auth") {
    TEST_CASE("protected routes without a token are 401 unauthenticated") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto anonymous = c.get("/v1/merchants/me");
        CHECK_PROBLEM(anonymous, 401, "unauthenticated");
        CHECK(anonymous.header("WWW-Authenticate") == R"(Bearer realm="redloop")");
        CHECK_PROBLEM(c.patch("/v1/merchants/me", R"({"name":"x"})"), 401, "unauthenticated");
        CHECK_PROBLEM(c.post("/v1/products", to_json(product_json("T", {{"S", 100, 1}}))), 401,
                      "unauthenticated");
        CHECK_PROBLEM(c.patch("/v1/products/prd_abc", R"({"title":"x"})"), 401, "unauthenticated");
        CHECK_PROBLEM(c.patch("/v1/skus/sku_abc", R"({"price":{"amount":1,"currency":"CNY"}})"),
                      401, "unauthenticated");
        CHECK_PROBLEM(c.post("/v1/skus/sku_abc/stock-adjustments", R"({"delta":1,"reason":"x"})"),
                      401, "unauthenticated");
        CHECK_PROBLEM(c.get("/v1/skus/sku_abc/inventory"), 401, "unauthenticated");
        CHECK_PROBLEM(c.post("/v1/notes", R"({"title":"x","products":[]})"), 401,
                      "unauthenticated");
        CHECK(db_int(server, "SELECT COUNT(*) FROM notes") == 0);
        CHECK(db_int(server, "SELECT COUNT(*) FROM products") == 0);
    }

    TEST_CASE("a valid HS256 token gets in, minted or built by hand") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto mer = unique_id("mer_");
        const auto minted = c.get("/v1/merchants/me", server.bearer(Role::merchant, mer));
        REQUIRE_STATUS(minted, 200);
        CHECK(jstr(minted.json(), "/id") == mer);

        // The hand-built token is accepted: the rejections below are about what they vary.
        const auto mer2 = unique_id("mer_");
        const auto by_hand = hand_jwt(kHs256Header, claims(mer2, "merchant", unix_now() + 600),
                                      "HS256", server.secret());
        const auto r = c.get("/v1/merchants/me", "Bearer " + by_hand);
        REQUIRE_STATUS(r, 200);
        CHECK(jstr(r.json(), "/id") == mer2);
        // Without "typ" too.
        const auto no_typ =
            hand_jwt(R"({"alg":"HS256"})", claims(mer2, "merchant", unix_now() + 600), "HS256",
                     server.secret());
        REQUIRE_STATUS(c.get("/v1/merchants/me", "Bearer " + no_typ), 200);
    }

    TEST_CASE("alg none is 401") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto mer = unique_id("mer_");
        const auto payload = claims(mer, "merchant", unix_now() + 600);
        for (const std::string& header : std::vector<std::string>{
                 std::string(R"({"alg":"none","typ":"JWT"})"), std::string(R"({"alg":"none"})"),
                 std::string(R"({"alg":"None","typ":"JWT"})"), std::string(R"({"alg":"NONE"})")}) {
            INFO("header: ", header);
            const auto token = hand_jwt(header, payload, "none", server.secret());
            CHECK_PROBLEM(c.get("/v1/merchants/me", "Bearer " + token), 401, "unauthenticated");
            // Even with an HS256 signature appended.
            const auto signed_none = hand_jwt(header, payload, "HS256", server.secret());
            CHECK_PROBLEM(c.get("/v1/merchants/me", "Bearer " + signed_none), 401,
                          "unauthenticated");
        }
        CHECK(merchants_named(server, mer) == 0);
    }

    TEST_CASE("HS384 and HS512 tokens signed with the right secret are 401") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto mer = unique_id("mer_");
        const auto payload = claims(mer, "merchant", unix_now() + 600);
        for (const std::string& alg : std::vector<std::string>{"HS384", "HS512"}) {
            INFO("alg: ", alg);
            const auto token =
                hand_jwt(R"({"alg":")" + alg + R"(","typ":"JWT"})", payload, alg, server.secret());
            CHECK_PROBLEM(c.get("/v1/merchants/me", "Bearer " + token), 401, "unauthenticated");
            // A header that claims HS256 over another algorithm's signature.
            const auto lying = hand_jwt(kHs256Header, payload, alg, server.secret());
            CHECK_PROBLEM(c.get("/v1/merchants/me", "Bearer " + lying), 401, "unauthenticated");
        }
        for (const std::string& alg : std::vector<std::string>{"RS256", "ES256", "hs256"}) {
            INFO("alg: ", alg);
            const auto token = hand_jwt(R"({"alg":")" + alg + R"(","typ":"JWT"})", payload, "HS256",
                                        server.secret());
            CHECK_PROBLEM(c.get("/v1/merchants/me", "Bearer " + token), 401, "unauthenticated");
        }
        CHECK(merchants_named(server, mer) == 0);
    }

    TEST_CASE("a token signed with another secret is 401") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto mer = unique_id("mer_");
        const auto payload = claims(mer, "merchant", unix_now() + 600);
        const auto other = hand_jwt(kHs256Header, payload, "HS256",
                                    "a-completely-different-secret-of-enough-length");
        CHECK_PROBLEM(c.get("/v1/merchants/me", "Bearer " + other), 401, "unauthenticated");
        // The server's secret with one character changed.
        std::string near = server.secret();
        near.back() = near.back() == 'x' ? 'y' : 'x';
        CHECK_PROBLEM(
            c.get("/v1/merchants/me", "Bearer " + hand_jwt(kHs256Header, payload, "HS256", near)),
            401, "unauthenticated");
        // A valid token whose payload was swapped after signing (role escalation).
        const auto user_token = server.token(Role::user, unique_id("usr_"));
        const auto first_dot = user_token.find('.');
        const auto second_dot = user_token.find('.', first_dot + 1);
        const auto forged = user_token.substr(0, first_dot + 1) + base64url(payload) +
                            user_token.substr(second_dot);
        CHECK_PROBLEM(c.get("/v1/merchants/me", "Bearer " + forged), 401, "unauthenticated");
        // The signature stripped off.
        CHECK_PROBLEM(c.get("/v1/merchants/me", "Bearer " + user_token.substr(0, second_dot + 1)),
                      401, "unauthenticated");
        CHECK(merchants_named(server, mer) == 0);
    }

    TEST_CASE("an expired token is 401") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto mer = unique_id("mer_");
        CHECK_PROBLEM(c.get("/v1/merchants/me", server.bearer(Role::merchant, mer, -60)), 401,
                      "unauthenticated");
        CHECK_PROBLEM(
            c.get("/v1/merchants/me",
                  "Bearer " + hand_jwt(kHs256Header, claims(mer, "merchant", unix_now() - 1),
                                       "HS256", server.secret())),
            401, "unauthenticated");
        // exp missing or not a number.
        const auto no_exp = to_json(json::object{{"sub", mer}, {"role", "merchant"}});
        CHECK_PROBLEM(c.get("/v1/merchants/me",
                            "Bearer " + hand_jwt(kHs256Header, no_exp, "HS256", server.secret())),
                      401, "unauthenticated");
        const auto string_exp = to_json(json::object{
            {"sub", mer}, {"role", "merchant"}, {"exp", std::to_string(unix_now() + 600)}});
        CHECK_PROBLEM(c.get("/v1/merchants/me", "Bearer " + hand_jwt(kHs256Header, string_exp,
                                                                     "HS256", server.secret())),
                      401, "unauthenticated");
        CHECK(merchants_named(server, mer) == 0);
        // The same claims, unexpired, pass.
        REQUIRE_STATUS(c.get("/v1/merchants/me", server.bearer(Role::merchant, mer, 60)), 200);
    }

    TEST_CASE("a sub that doesn't fit the role, or no valid sub or role, is 401") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto exp = unix_now() + 600;
        const std::vector<std::string> payloads = {
            claims("usr_abc", "merchant", exp),                      // merchant role, user id
            claims("mer_abc", "user", exp),                          // user role, merchant id
            claims("mer_abc", "admin", exp),                         // admin is a user id
            claims("mer_!!", "merchant", exp),                       // not an id
            claims("mer_", "merchant", exp),                         // empty id body
            claims("prd_abc", "merchant", exp),                      // another kind of id
            claims("mer_" + std::string(65, 'a'), "merchant", exp),  // id body too long
            claims("", "user", exp),
            claims("usr_abc", "superuser", exp),  // unknown role
            claims("usr_abc", "", exp),
            to_json(json::object{{"role", "user"}, {"exp", exp}}),    // no sub
            to_json(json::object{{"sub", "usr_abc"}, {"exp", exp}}),  // no role
            to_json(json::object{{"sub", 42}, {"role", "user"}, {"exp", exp}}),
        };
        for (const auto& p : payloads) {
            INFO("claims: ", p);
            const auto token = hand_jwt(kHs256Header, p, "HS256", server.secret());
            CHECK_PROBLEM(c.get("/v1/merchants/me", "Bearer " + token), 401, "unauthenticated");
            CHECK_PROBLEM(c.post("/v1/notes", R"({"title":"x","products":[]})", "Bearer " + token),
                          401, "unauthenticated");
        }
        CHECK(db_int(server, "SELECT COUNT(*) FROM merchants") == 0);
        CHECK(db_int(server, "SELECT COUNT(*) FROM users") == 0);
        CHECK(db_int(server, "SELECT COUNT(*) FROM notes") == 0);
    }

    TEST_CASE("garbage in the Authorization header is 401") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto good = server.token(Role::merchant, unique_id("mer_"));
        const std::vector<std::string> values = {
            "Bearer abc",
            "Bearer a.b.c",
            "Bearer ..",
            "Bearer " + good + ".extra",
            "Bearer " + good + "x",
            "Bearer !!!.???.***",
            "Bearer " + std::string(5000, 'A') + "." + std::string(10, 'A') + ".AAAA",
            "Bearer",
            "Bearer ",
            "Basic dXNlcjpwYXNzd29yZA==",
            "Token " + good,
            good,  // no scheme
        };
        for (const auto& v : values) {
            INFO("Authorization: ", v.substr(0, 120));
            CHECK_PROBLEM(c.get("/v1/merchants/me", v), 401, "unauthenticated");
        }
        // A bad token is refused on a public route too, not ignored.
        CHECK_PROBLEM(c.get("/v1/products/prd_abc", "Bearer a.b.c"), 401, "unauthenticated");
        CHECK(db_int(server, "SELECT COUNT(*) FROM merchants") == 0);
        // Two sets of credentials, even both good, or two idempotency keys: 400, nothing done.
        const auto twice =
            c.request("GET", "/v1/merchants/me", "",
                      {{"Authorization", "Bearer " + good}, {"Authorization", "Bearer " + good}});
        CHECK_PROBLEM(twice, 400, "invalid_request");
        CHECK(jstr(twice.json(), "/detail").find("Authorization") != std::string::npos);
        const auto keys =
            c.request("POST", "/v1/products", to_json(product_json("T", {{"S", 100, 1}})),
                      {{"Authorization", "Bearer " + good},
                       {"Content-Type", "application/json"},
                       {"Idempotency-Key", "k1"},
                       {"Idempotency-Key", "k2"}});
        CHECK_PROBLEM(keys, 400, "invalid_request");
        CHECK(jstr(keys.json(), "/detail").find("Idempotency-Key") != std::string::npos);
        CHECK(db_int(server, "SELECT COUNT(*) FROM products") == 0);
        CHECK(db_int(server, "SELECT COUNT(*) FROM merchants") == 0);
        // the same at the live stream's upgrade
        CHECK_PROBLEM(c.request("GET", "/v1/stream", "",
                                {{"Connection", "Upgrade"},
                                 {"Upgrade", "websocket"},
                                 {"Sec-WebSocket-Version", "13"},
                                 {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                                 {"Authorization", "Bearer " + good},
                                 {"Authorization", "Bearer " + good}}),
                      400, "invalid_request");
        // answered by the app like any request: counted under its route
        HttpClient m(server.port());
        const auto metrics = m.get("/metrics").body;
        CHECK(metrics.find(R"(route="/v1/merchants/me",method="GET",status="400"} 1)") !=
              std::string::npos);
        CHECK(metrics.find(R"(route="/v1/products",method="POST",status="400"} 1)") !=
              std::string::npos);
    }

    TEST_CASE("a valid token with the wrong role is 403 forbidden") {
        ServerProcess server;
        HttpClient c(server.port());
        const auto user = server.bearer(Role::user, unique_id("usr_"));
        const auto admin = server.bearer(Role::admin, unique_id("usr_"));
        const auto merchant = server.bearer(Role::merchant, unique_id("mer_"));
        const auto product = to_json(product_json("Forbidden tea", {{"Tin", 1000, 5}}));

        CHECK_PROBLEM(c.post("/v1/products", product, user), 403, "forbidden");
        CHECK_PROBLEM(c.post("/v1/products", product, admin), 403, "forbidden");
        CHECK_PROBLEM(c.get("/v1/merchants/me", user), 403, "forbidden");
        CHECK_PROBLEM(c.patch("/v1/merchants/me", R"({"name":"x"})", user), 403, "forbidden");
        CHECK_PROBLEM(c.post("/v1/notes", R"({"title":"x","products":[]})", admin), 403,
                      "forbidden");
        CHECK(db_int(server, "SELECT COUNT(*) FROM products") == 0);
        CHECK(db_int(server, "SELECT COUNT(*) FROM notes") == 0);

        // The merchant may create what the user may not, on the same server.
        const auto created = create_product(c, merchant, "Allowed tea", {{"Tin", 1000, 5}});
        const auto sku = jstr(created, "/skus/0/id");
        CHECK_PROBLEM(
            c.patch("/v1/skus/" + sku, R"({"price":{"amount":1,"currency":"CNY"}})", user), 403,
            "forbidden");
        CHECK_PROBLEM(c.post("/v1/skus/" + sku + "/stock-adjustments",
                             R"({"delta":-5,"reason":"user tries"})", user),
                      403, "forbidden");
        const auto after = c.get("/v1/skus/" + sku);
        REQUIRE_STATUS(after, 200);
        CHECK(jint(after.json(), "/price/amount") == 1000);
        CHECK(jint(after.json(), "/available") == 5);
    }

}  // TEST_SUITE
