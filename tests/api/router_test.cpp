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
