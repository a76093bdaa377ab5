// The dashboard's static files over the real server: content types, caching, the CSP,
// conditional GETs, the app's own routes, and no way out of the directory.
#include <filesystem>
#include <fstream>

#include "support.hpp"

using namespace redloop;
using namespace redloop::it;

namespace {

void write_file(const std::string& path, const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << text;
}

}  // namespace

TEST_SUITE("integration_static") {
    TEST_CASE("the dashboard directory is served with types, caching and a CSP") {
        TempDir site;
        write_file(site.file("dist/index.html"), "<!doctype html><title>订单</title>");
        write_file(site.file("dist/assets/app-3f9a1c.js"), "console.log('hi')");
        write_file(site.file("dist/assets/app-3f9a1c.css"), "body{}");
        write_file(site.file("dist/favicon.svg"), "<svg/>");
        write_file(site.file("secret.txt"), "outside");
        ServerOptions o;
        o.extra_args = {"--dashboard-dir", site.file("dist")};
        ServerProcess server(o);
        HttpClient c(server.port());

        const auto index = c.get("/dashboard/");
        REQUIRE_STATUS(index, 200);
        CHECK(index.header("content-type") == "text/html; charset=utf-8");
        CHECK(index.body.find("订单") != std::string::npos);
        CHECK(index.header("cache-control") == "no-cache");
        CHECK(index.header("content-security-policy").find("default-src 'self'") !=
              std::string::npos);
        CHECK(index.header("content-security-policy").find("connect-src 'self' ws: wss:") !=
              std::string::npos);
        CHECK(index.header("x-frame-options") == "DENY");
        CHECK(index.header("x-content-type-options") == "nosniff");

        const auto js = c.get("/dashboard/assets/app-3f9a1c.js");
        REQUIRE_STATUS(js, 200);
        CHECK(js.header("content-type") == "text/javascript; charset=utf-8");
        CHECK(js.header("cache-control") == "public, max-age=31536000, immutable");
        CHECK(c.get("/dashboard/assets/app-3f9a1c.css").header("content-type") ==
              "text/css; charset=utf-8");
        const auto svg = c.get("/dashboard/favicon.svg");
        CHECK(svg.header("content-type") == "image/svg+xml");
        CHECK(svg.header("cache-control") == "public, max-age=300");

        // revalidation
        const auto again = c.request("GET", "/dashboard/assets/app-3f9a1c.js", "",
                                     {{"If-None-Match", js.header("etag")}});
        CHECK(again.status == 304);
        CHECK(again.body.empty());

        // the app's own routes get the page; missing files are 404 problems
        const auto route = c.get("/dashboard/orders/ord_123");
        REQUIRE_STATUS(route, 200);
        CHECK(route.body.find("订单") != std::string::npos);
        CHECK_PROBLEM(c.get("/dashboard/assets/missing.js"), 404, "not_found");

        // no way out
        CHECK_PROBLEM(c.get("/dashboard/..%2fsecret.txt"), 404, "not_found");
        CHECK_PROBLEM(c.get("/dashboard/%2e%2e/secret.txt"), 404, "not_found");
        CHECK_PROBLEM(c.get("/dashboard/.hidden"), 404, "not_found");
        CHECK(c.get("/dashboard/../secret.txt").body.find("outside") == std::string::npos);

        // /dashboard redirects to the directory; writes are refused
        const auto bare = c.get("/dashboard");
        CHECK(bare.status == 308);
        CHECK(bare.header("location") == "/dashboard/");
        const auto post = c.post("/dashboard/", "{}");
        CHECK_PROBLEM(post, 405, "method_not_allowed");
        CHECK(post.header("allow") == "GET, HEAD");
    }

    TEST_CASE("an unbuilt dashboard says so") {
        ServerOptions o;
        o.extra_args = {"--dashboard-dir", "/nonexistent/dist"};
        ServerProcess server(o);
        HttpClient c(server.port());
        const auto r = c.get("/dashboard/");
        CHECK_PROBLEM(r, 404, "not_found");
        CHECK(r.body.find("not built") != std::string::npos);
    }
}
