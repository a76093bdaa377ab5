#include <doctest/doctest.h>

#include "router.hpp"

using namespace redloop::api;

namespace {
Handler noop() {
    return [](Context&) -> redloop::engine::Result<Response> { return Response{}; };
}
}  // namespace

TEST_CASE("routes match by method and pattern") {
    Router r;
    r.add("GET", "/v1/products/{id}", noop());
    r.add("PATCH", "/v1/products/{id}", noop());
    r.add("POST", "/v1/skus/{id}/stock-adjustments", noop());
    r.add("GET", "/v1/notes", noop());

    auto get = r.match("GET", {"v1", "products", "prd_1"});
    REQUIRE(get.route);
    CHECK(get.route->pattern == "/v1/products/{id}");
    CHECK(get.params == std::vector<std::string>{"prd_1"});

    auto post = r.match("POST", {"v1", "skus", "sku_1", "stock-adjustments"});
    REQUIRE(post.route);
    CHECK(post.params.at(0) == "sku_1");

    auto wrong = r.match("DELETE", {"v1", "products", "prd_1"});
    CHECK_FALSE(wrong.route);
    CHECK(wrong.allowed == std::vector<std::string>{"GET", "PATCH"});

    auto none = r.match("GET", {"v1", "nothing"});
    CHECK_FALSE(none.route);
    CHECK(none.allowed.empty());

    CHECK_FALSE(r.match("GET", {"v1", "products", ""}).route);
    CHECK_FALSE(r.match("GET", {"v1", "products"}).route);
    auto head = r.match("HEAD", {"v1", "notes"});
    REQUIRE(head.route);
    CHECK(head.route->method == "GET");
    CHECK_FALSE(r.match("HEAD", {"v1", "skus", "sku_1", "stock-adjustments"}).route);
}

TEST_CASE("request targets are parsed into the decoded path segments and query parameters") {
    auto t = parse_target("/v1/notes/nte%5F1?sku_id=sku_1&limit=5&x=a%20b&flag");
    REQUIRE(t);
    CHECK(t->path == "/v1/notes/nte_1");  // decoded, like the segments
    CHECK(t->segments == std::vector<std::string>{"v1", "notes", "nte_1"});
    REQUIRE(t->query.size() == 4);
    CHECK(t->query[0] == std::pair<std::string, std::string>{"sku_id", "sku_1"});
    CHECK(t->query[2].second == "a b");
    CHECK(t->query[3] == std::pair<std::string, std::string>{"flag", ""});

    CHECK_FALSE(parse_target("v1/notes"));           // not origin form
    CHECK_FALSE(parse_target("http://x/v1/notes"));  // absolute form
    CHECK_FALSE(parse_target("/v1/no tes"));         // a space
    CHECK_FALSE(parse_target("/v1/notes?a=%zz"));    // a bad escape
    auto root = parse_target("/");
    REQUIRE(root);
    CHECK(root->segments.empty());
}
