// The HTTP layer of the real server: health, metrics, routing errors, body limits and media
// types, request ids, keep-alive and graceful shutdown.
#include <csignal>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "support.hpp"

using namespace redloop;
using namespace redloop::it;
using api::Role;

namespace {

constexpr std::size_t kMiB = 1024 * 1024;

std::set<std::string> split_allow(const std::string& allow) {
    std::set<std::string> out;
    std::stringstream ss(allow);
    std::string item;
    while (std::getline(ss, item, ',')) {
        const auto b = item.find_first_not_of(' ');
        const auto e = item.find_last_not_of(' ');
        if (b != std::string::npos) out.insert(item.substr(b, e - b + 1));
    }
    return out;
}

std::string request_head(const std::string& method, const std::string& target,
                         const std::vector<std::string>& headers) {
    std::string out = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (const auto& h : headers) out += h + "\r\n";
    return out + "\r\n";
}

}  // namespace

TEST_SUITE("integration_http") {
    TEST_CASE("healthz and readyz answer with JSON") {
        ServerProcess server;
        HttpClient c(server.port());

        const auto health = c.get("/healthz");
        REQUIRE_STATUS(health, 200);
        CHECK(health.header("content-type").rfind("application/json", 0) == 0);
        CHECK(jstr(health.json(), "/status") == "ok");

        const auto ready = c.get("/readyz");
        REQUIRE_STATUS(ready, 200);
        CHECK(jstr(ready.json(), "/status") == "ready");
        CHECK(jint(ready.json(), "/schema_version") >= 1);
    }

    TEST_CASE("metrics are Prometheus text and count requests") {
        ServerProcess server;
        HttpClient c(server.port());
        for (int i = 0; i < 3; ++i) REQUIRE_STATUS(c.get("/healthz"), 200);
        for (int i = 0; i < 2; ++i) CHECK_PROBLEM(c.get("/v1/no-such-thing"), 404, "not_found");

        const auto m = c.get("/metrics");
        REQUIRE_STATUS(m, 200);
        const auto ct = m.header("content-type");
        CHECK(ct.rfind("text/plain", 0) == 0);
        CHECK(ct.find("version=0.0.4") != std::string::npos);
        REQUIRE(!m.body.empty());
        CHECK(m.body.back() == '\n');

        // Every line is a HELP/TYPE comment or a well-formed sample.
        const std::regex sample(
            R"(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")*\})? [-+]?([0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?|\.[0-9]+([eE][-+]?[0-9]+)?|Inf|NaN)$)");
        const std::regex help(R"(^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .+$)");
        const std::regex type(
            R"(^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped)$)");
        std::istringstream in(m.body);
        std::string line;
        int samples = 0;
        while (std::getline(in, line)) {
            INFO("line: ", line);
            if (line.rfind("# HELP", 0) == 0) {
                CHECK(std::regex_match(line, help));
            } else if (line.rfind("# TYPE", 0) == 0) {
                CHECK(std::regex_match(line, type));
            } else {
                CHECK(std::regex_match(line, sample));
                ++samples;
            }
        }
        CHECK(samples > 0);
        CHECK(m.body.find("# TYPE redloop_http_requests_total counter") != std::string::npos);
        CHECK(m.body.find("# TYPE redloop_http_request_duration_seconds histogram") !=
              std::string::npos);

        const std::string healthz_ok =
            R"(redloop_http_requests_total{route="/healthz",method="GET",status="200"})";
        const std::string unmatched =
            R"(redloop_http_requests_total{route="unmatched",method="GET",status="404"})";
        CHECK(metric_value(m.body, healthz_ok) == 3.0);
        CHECK(metric_value(m.body, unmatched) == 2.0);
        CHECK(metric_value(m.body,
                           R"(redloop_http_request_duration_seconds_count{route="/healthz"})") ==
              3.0);
        CHECK(metric_value(
                  m.body,
                  R"(redloop_http_request_duration_seconds_bucket{route="/healthz",le="+Inf"})") ==
              3.0);

        // The counters move with further requests.
        REQUIRE_STATUS(c.get("/healthz"), 200);
        const auto m2 = c.get("/metrics");
        CHECK(metric_value(m2.body, healthz_ok) == 4.0);
        CHECK(metric_value(
                  m2.body,
                  R"(redloop_http_requests_total{route="/metrics",method="GET",status="200"})") ==
              1.0);
        // One connection is open: ours.
        CHECK(metric_value(m2.body, "redloop_http_connections_open") == 1.0);
    }

    TEST_CASE("an unknown route is 404 not_found") {
        ServerProcess server;
        HttpClient c(server.port());
        CHECK_PROBLEM(c.get("/v1/no-such-thing"), 404, "not_found");
        CHECK_PROBLEM(c.get("/"), 404, "not_found");
        CHECK_PROBLEM(c.get("/v1/products/prd_x/extra/segments"), 404, "not_found");
        CHECK_PROBLEM(c.request("POST", "/v2/products", "{}"), 404, "not_found");
    }

    TEST_CASE("a known path with another method is 405 with Allow") {
        ServerProcess server;
        HttpClient c(server.port());

        const auto del = c.request("DELETE", "/v1/products/prd_abc");
        CHECK_PROBLEM(del, 405, "method_not_allowed");
        CHECK(split_allow(del.header("allow")) == std::set<std::string>{"GET", "PATCH"});

        const auto post = c.request("POST", "/healthz");
        CHECK_PROBLEM(post, 405, "method_not_allowed");
        CHECK(split_allow(post.header("allow")) == std::set<std::string>{"GET"});

        const auto put = c.request("PUT", "/v1/notes", "{}");
        CHECK_PROBLEM(put, 405, "method_not_allowed");
        CHECK(split_allow(put.header("allow")) == std::set<std::string>{"GET", "POST"});

        const auto get = c.get("/v1/products");
        CHECK_PROBLEM(get, 405, "method_not_allowed");
        CHECK(split_allow(get.header("allow")) == std::set<std::string>{"POST"});
    }

    TEST_CASE("a body over 1 MiB announced by Content-Length is 413 payload_too_large") {
        ServerProcess server;
        const std::string user = server.bearer(Role::user, unique_id("usr_"));

        SUBCASE("sent in full") {
            RawConnection raw(server.port());
            const std::string body(kMiB + 1, ' ');
            raw.send(request_head("POST", "/v1/notes",
                                  {"Authorization: " + user, "Content-Type: application/json",
                                   "Content-Length: " + std::to_string(body.size())}) +
                     body);
            const auto r = raw.read_response();
            CHECK_PROBLEM(r, 413, "payload_too_large");
            CHECK(r.header("connection") == "close");
            CHECK(raw.read_until_closed());
        }
        SUBCASE("with Expect: 100-continue, refused before the body is sent") {
            RawConnection raw(server.port());
            raw.send(request_head("POST", "/v1/notes",
                                  {"Authorization: " + user, "Content-Type: application/json",
                                   "Content-Length: 5000000", "Expect: 100-continue"}));
            const auto r = raw.read_response();
            CHECK_PROBLEM(r, 413, "payload_too_large");
        }
        // Nothing was created, and the server still serves.
        HttpClient c(server.port());
        REQUIRE_STATUS(c.get("/healthz"), 200);
        CHECK(db_int(server, "SELECT COUNT(*) FROM notes") == 0);
    }

    TEST_CASE("a chunked body over 1 MiB is 413 payload_too_large") {
        ServerProcess server;
        const std::string user = server.bearer(Role::user, unique_id("usr_"));
        RawConnection raw(server.port());
        raw.send(request_head("POST", "/v1/notes",
                              {"Authorization: " + user, "Content-Type: application/json",
                               "Transfer-Encoding: chunked"}));
        const std::string chunk(64 * 1024, ' ');
        char size_line[32];
        std::snprintf(size_line, sizeof size_line, "%zx\r\n", chunk.size());
        for (int i = 0; i < 18; ++i) {                         // 1.125 MiB
            if (!raw.send(size_line + chunk + "\r\n")) break;  // the server may stop reading
        }
        raw.send("0\r\n\r\n");
        const auto r = raw.read_response();
        CHECK_PROBLEM(r, 413, "payload_too_large");
        CHECK(r.header("connection") == "close");

        HttpClient c(server.port());
        REQUIRE_STATUS(c.get("/healthz"), 200);
        CHECK(db_int(server, "SELECT COUNT(*) FROM notes") == 0);
    }

    TEST_CASE("a body of exactly 1 MiB is accepted") {
        ServerProcess server;
        HttpClient c(server.port());
        const std::string user = server.bearer(Role::user, unique_id("usr_"));
        std::string body = R"({"title":"exactly one mebibyte"})";
        body.resize(kMiB, ' ');  // trailing whitespace is valid JSON
        const auto r = c.post("/v1/notes", body, user);
        REQUIRE_STATUS(r, 201);
        CHECK(jstr(r.json(), "/title") == "exactly one mebibyte");

        // The same body in chunks.
        RawConnection raw(server.port());
        raw.send(request_head("POST", "/v1/notes",
                              {"Authorization: " + user, "Content-Type: application/json",
                               "Transfer-Encoding: chunked"}));
        for (std::size_t off = 0; off < body.size(); off += 100'000) {
            const auto piece = body.substr(off, 100'000);
            char size_line[32];
            std::snprintf(size_line, sizeof size_line, "%zx\r\n", piece.size());
            raw.send(size_line + piece + "\r\n");
        }
        raw.send("0\r\n\r\n");
        const auto chunked = raw.read_response();
        INFO(chunked.body.substr(0, 300));
        CHECK(chunked.status == 201);
    }

    TEST_CASE("a request body that isn't application/json is 415") {
        ServerProcess server;
        HttpClient c(server.port());
        const std::string merchant = server.bearer(Role::merchant, unique_id("mer_"));
        const std::string body = to_json(product_json("Tea", {{"Tin", 1000, 5}}));

        CHECK_PROBLEM(c.post("/v1/products", body, merchant, {{"Content-Type", "text/plain"}}), 415,
                      "unsupported_media_type");
        CHECK_PROBLEM(c.post("/v1/products", body, merchant,
                             {{"Content-Type", "application/x-www-form-urlencoded"}}),
                      415, "unsupported_media_type");
        CHECK_PROBLEM(
            c.post("/v1/products", body, merchant, {{"Content-Type", "application/jsonx"}}), 415,
            "unsupported_media_type");
        CHECK_PROBLEM(c.patch("/v1/merchants/me", R"({"name":"x"})", merchant,
                              {{"Content-Type", "text/plain"}}),
                      415, "unsupported_media_type");
        // A Content-Type that is not UTF-8 (HTTP allows such bytes in a header) is quoted in the
        // detail with U+FFFD: the problem body stays valid JSON (found by fuzz_router).
        const auto odd =
            c.post("/v1/products", body, merchant, {{"Content-Type", "text/\xff\xfe"}});
        CHECK_PROBLEM(odd, 415, "unsupported_media_type");
        CHECK(odd.body.find("text/\xEF\xBF\xBD\xEF\xBF\xBD") != std::string::npos);
        // A body without any Content-Type.
        const auto bare = raw_exchange(
            server.port(), request_head("POST", "/v1/products",
                                        {"Authorization: " + merchant,
                                         "Content-Length: " + std::to_string(body.size())}) +
                               body);
        CHECK_PROBLEM(bare, 415, "unsupported_media_type");
        CHECK(db_int(server, "SELECT COUNT(*) FROM products") == 0);

        // Parameters and case don't matter.
        REQUIRE_STATUS(c.post("/v1/products", body, merchant,
                              {{"Content-Type", "application/json; charset=utf-8"}}),
                       201);
        REQUIRE_STATUS(c.post("/v1/products", to_json(product_json("Tea 2", {{"Tin", 1000, 5}})),
                              merchant, {{"Content-Type", "Application/JSON"}}),
                       201);
    }

    TEST_CASE("a body that isn't one JSON object is 400 invalid_request") {
        ServerProcess server;
        HttpClient c(server.port());
        const std::string user = server.bearer(Role::user, unique_id("usr_"));
        const std::vector<std::string> bad = {
            R"({"title": "x")",                           // truncated
            R"({"title": 'x'})",                          // not JSON quotes
            R"({"title": "x",})",                         // trailing comma
            R"({"title": "x"} /* c */)",                  // comment
            R"({"title": "x"} {"title": "y"})",           // two documents
            R"(["title", "x"])",                          // array
            R"("a string")",                              // scalar
            "42",                                         // number
            "null",                                       // null
            "{\"title\": \"\xff\xfe\"}",                  // invalid UTF-8
            std::string(40, '[') + std::string(40, ']'),  // nested too deep
        };
        for (const auto& body : bad) {
            INFO("body: ", body);
            CHECK_PROBLEM(c.post("/v1/notes", body, user), 400, "invalid_request");
        }
        std::string deep = R"({"title":"deep","body":"x","media":[],"products":[],"x":)";
        for (int i = 0; i < 30; ++i) deep += "{\"a\":";
        deep += "1" + std::string(30, '}') + "}";
        CHECK_PROBLEM(c.post("/v1/notes", deep, user), 400, "invalid_request");
        // An empty body where one is required.
        CHECK_PROBLEM(c.request("POST", "/v1/notes", "", {{"Authorization", user}}), 400,
                      "invalid_request");
        CHECK(db_int(server, "SELECT COUNT(*) FROM notes") == 0);
    }

    TEST_CASE("a malformed HTTP request is 400 and closes the connection") {
        ServerProcess server;
        {
            RawConnection raw(server.port());
            raw.send("THIS IS NOT HTTP\r\n\r\n");
            const auto r = raw.read_response();
            CHECK_PROBLEM(r, 400, "invalid_request");
            CHECK(raw.read_until_closed());
        }
        {
            RawConnection raw(server.port());
            raw.send("GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: banana\r\n\r\n");
            CHECK_PROBLEM(raw.read_response(), 400, "invalid_request");
        }
        {
            // Framing that request smuggling relies on.
            RawConnection raw(server.port());
            raw.send(
                "POST /v1/notes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
            CHECK_PROBLEM(raw.read_response(), 400, "invalid_request");
        }
        {
            RawConnection raw(server.port());
            raw.send(
                "POST /v1/notes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{} ");
            CHECK_PROBLEM(raw.read_response(), 400, "invalid_request");
        }
        {
            RawConnection raw(server.port());
            raw.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20'000, 'a') +
                     "\r\n\r\n");
            CHECK_PROBLEM(raw.read_response(), 400, "invalid_request");
        }
        HttpClient c(server.port());
        REQUIRE_STATUS(c.get("/healthz"), 200);
    }

    TEST_CASE("keep-alive serves several requests on one connection") {
        ServerProcess server;
        HttpClient c(server.port());
        const std::string merchant = server.bearer(Role::merchant, unique_id("mer_"));
        REQUIRE_STATUS(c.get("/healthz"), 200);
        REQUIRE_STATUS(c.get("/v1/merchants/me", merchant), 200);
        CHECK_PROBLEM(c.get("/v1/nope"), 404, "not_found");  // an error keeps the connection too
        REQUIRE_STATUS(c.patch("/v1/merchants/me", R"({"name":"Kept Alive"})", merchant), 200);
        const auto last = c.get("/v1/merchants/me", merchant);
        REQUIRE_STATUS(last, 200);
        CHECK(jstr(last.json(), "/name") == "Kept Alive");
        CHECK(last.header("connection") != "close");
        CHECK(c.connects() == 1);

        // Pipelined: two requests written at once get two responses, in order.
        RawConnection raw(server.port());
        raw.send(
            "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: first\r\n\r\n"
            "GET /readyz HTTP/1.1\r\nHost: x\r\nX-Request-Id: second\r\n\r\n");
        const auto a = raw.read_response();
        const auto b = raw.read_response();
        CHECK(a.status == 200);
        CHECK(a.header("x-request-id") == "first");
        CHECK(b.status == 200);
        CHECK(b.header("x-request-id") == "second");
        CHECK(jstr(b.json(), "/status") == "ready");

        // HTTP/1.0 without keep-alive: the server closes after the response.
        RawConnection old(server.port());
        old.send("GET /healthz HTTP/1.0\r\n\r\n");
        CHECK(old.read_response().status == 200);
        CHECK(old.read_until_closed());
    }

    TEST_CASE("a response to HEAD carries no body, so the connection stays in step") {
        // RFC 9110 9.3.2: the server must not send content in a response to HEAD, whatever the
        // status. A body would be read as the start of the next response.
        ServerProcess server;
        RawConnection raw(server.port());
        raw.send("HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        const auto head = raw.read_until("\r\n\r\n");
        REQUIRE(head.rfind("HTTP/1.1 ", 0) == 0);
        raw.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: after-head\r\n\r\n");
        const auto next = raw.read_response(std::chrono::seconds(2));
        INFO("bytes after the HEAD response's header: ", next.body.substr(0, 300));
        CHECK(next.status == 200);
        CHECK(next.header("x-request-id") == "after-head");
    }

    TEST_CASE("X-Request-Id is echoed, or made up when missing or unusable") {
        ServerProcess server;
        HttpClient c(server.port());

        const auto ok = c.request("GET", "/healthz", "", {{"X-Request-Id", "abc-123_x.y"}});
        CHECK(ok.header("x-request-id") == "abc-123_x.y");

        const auto err = c.request("GET", "/v1/nope", "", {{"X-Request-Id", "trace-404"}});
        CHECK_PROBLEM(err, 404, "not_found");
        CHECK(err.header("x-request-id") == "trace-404");
        CHECK(jstr(err.json(), "/request_id") == "trace-404");

        const std::regex generated("^[0-9a-f]{16}$");
        const auto none = c.get("/healthz");
        CHECK(std::regex_match(none.header("x-request-id"), generated));
        const auto none2 = c.get("/healthz");
        CHECK(none2.header("x-request-id") != none.header("x-request-id"));

        for (const std::string& bad :
             std::vector<std::string>{std::string("has space"), std::string(65, 'a'),
                                      std::string("quote\"d"), std::string("semi;colon")}) {
            INFO("X-Request-Id: ", bad);
            const auto r = c.request("GET", "/healthz", "", {{"X-Request-Id", bad}});
            CHECK(r.header("x-request-id") != bad);
            CHECK(std::regex_match(r.header("x-request-id"), generated));
        }
    }

    TEST_CASE("SIGTERM on an idle server exits 0") {
        ServerProcess server;
        {
            HttpClient c(server.port());
            REQUIRE_STATUS(c.get("/healthz"), 200);
        }
        const auto code = server.terminate(std::chrono::seconds(10));
        INFO(server.log());
        REQUIRE(code.has_value());
        CHECK(*code == 0);
    }

    TEST_CASE("SIGTERM closes idle keep-alive connections and exits promptly") {
        ServerProcess server;
        HttpClient c(server.port());
        REQUIRE_STATUS(c.get("/healthz"), 200);  // the connection stays open and idle
        RawConnection idle(server.port());       // connected, never sent anything
        std::this_thread::sleep_for(std::chrono::milliseconds(100));

        const auto started = std::chrono::steady_clock::now();
        const auto code = server.terminate(std::chrono::seconds(8));
        const auto took = std::chrono::steady_clock::now() - started;
        INFO(server.log());
        REQUIRE(code.has_value());
        CHECK(*code == 0);
        // Well within the 10 s grace period: idle connections don't hold the shutdown up.
        CHECK(took < std::chrono::seconds(5));
        CHECK(idle.read_until_closed(std::chrono::seconds(2)));
    }

    TEST_CASE("SIGTERM lets a request in flight finish, then exits 0") {
        ServerProcess server;
        const std::string user = server.bearer(Role::user, unique_id("usr_"));
        const std::string body = R"({"title":"written during shutdown","products":[]})";
        RawConnection raw(server.port());
        raw.send(request_head(
            "POST", "/v1/notes",
            {"Authorization: " + user, "Content-Type: application/json",
             "Content-Length: " + std::to_string(body.size()), "Expect: 100-continue"}));
        // The interim response proves the server has read the header: the request is in flight.
        const auto interim = raw.read_until("\r\n\r\n");
        REQUIRE(interim.rfind("HTTP/1.1 100", 0) == 0);

        server.signal(SIGTERM);
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        CHECK(server.running());  // waiting for our request
        // New connections are refused once shutdown has begun.
        CHECK_THROWS(RawConnection(server.port()));

        raw.send(body);
        const auto r = raw.read_response();
        INFO(r.body);
        CHECK(r.status == 201);
        CHECK(r.header("connection") == "close");
        raw.close();

        const auto code = server.wait_exit(std::chrono::seconds(10));
        INFO(server.log());
        REQUIRE(code.has_value());
        CHECK(*code == 0);
        CHECK(db_int(server, "SELECT COUNT(*) FROM notes WHERE title = ?1",
                     {"written during shutdown"}) == 1);
    }

}  // TEST_SUITE
