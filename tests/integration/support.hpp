#pragma once
// Helpers shared by the integration test files: JSON access, problem+json assertions,
// hand-built JWTs, a peek into the server's SQLite file, request bodies.
#include <doctest/doctest.h>
#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "http_client.hpp"
#include "server_process.hpp"

namespace redloop::it {

namespace json = boost::json;

// ---- JSON ----
// Values at a JSON pointer ("/skus/0/price/amount"); throw (failing the test) when absent or
// of another type.
std::string jstr(const json::value& v, std::string_view pointer);
std::int64_t jint(const json::value& v, std::string_view pointer);
bool jbool(const json::value& v, std::string_view pointer);
bool jnull(const json::value& v, std::string_view pointer);
bool jhas(const json::value& v, std::string_view pointer);
std::string to_json(const json::value& v);

// ---- problem+json ----
// True when the Content-Type is application/problem+json.
bool is_problem_json(const HttpResponse& r);
// The "code" field of a problem body, or "<not a problem body>".
std::string problem_code(const HttpResponse& r);
// All the fields RFC 9457 + the contract ask for, consistent with the status.
bool problem_is_complete(const HttpResponse& r);

// Every error: status, problem+json content type, code, and a complete body.
#define CHECK_PROBLEM(resp, expected_status, expected_code)                   \
    do {                                                                      \
        const ::redloop::it::HttpResponse& problem_resp_ = (resp);            \
        INFO("response: ", problem_resp_.status, " ", problem_resp_.body);    \
        CHECK(problem_resp_.status == (expected_status));                     \
        CHECK(::redloop::it::is_problem_json(problem_resp_));                 \
        CHECK(::redloop::it::problem_code(problem_resp_) == (expected_code)); \
        CHECK(::redloop::it::problem_is_complete(problem_resp_));             \
    } while (false)

// A successful JSON response with this status.
#define REQUIRE_STATUS(resp, expected_status)                            \
    do {                                                                 \
        const ::redloop::it::HttpResponse& status_resp_ = (resp);        \
        INFO("response: ", status_resp_.status, " ", status_resp_.body); \
        REQUIRE(status_resp_.status == (expected_status));               \
    } while (false)

// ---- ids ----
// A well-formed id no other test uses: prefix + "t" + pid + counter ("mer_t4711n3").
std::string unique_id(const std::string& prefix);

// A fresh merchant or user of the server, with its "Bearer ..." header value.
struct Actor {
    std::string id;
    std::string auth;
};
Actor new_merchant(const ServerProcess& s);
Actor new_user(const ServerProcess& s);

// ---- JWTs built by hand (base64url + HMAC from OpenSSL) ----
inline std::string base64url(std::string_view bytes) {
    return api::base64url_encode(bytes);
}
// header.payload.signature with `alg` one of HS256, HS384, HS512 (signed with `secret`) or
// "none" (empty signature). The header and payload are used as given.
std::string hand_jwt(const std::string& header_json, const std::string& payload_json,
                     const std::string& alg, const std::string& secret);
std::int64_t unix_now();

// ---- the server's database ----
// Runs a query that returns one integer against a database: a SQLite file, or a PostgreSQL URL
// (ServerProcess::db_path(), TempDir::db()), while the server keeps running. Params bind to
// ?1, ?2, ... as text (read as $1, $2, ... on PostgreSQL). No row, or NULL, gives 0.
std::int64_t db_int(const std::string& db, const std::string& sql,
                    const std::vector<std::string>& params = {});
inline std::int64_t db_int(const ServerProcess& s, const std::string& sql,
                           const std::vector<std::string>& params = {}) {
    return db_int(s.db_path(), sql, params);
}

// ---- journal ----
// The hash in the last "state-hash: <hex>" line of a CLI's output (`replay`, `state-hash`), or "".
std::string hash_line(const std::string& out);
// Whether `redloop journal export --db <db>` gives exactly `expected`; if not, the first line
// that differs is shown as a doctest MESSAGE (journals are too long to print whole).
bool journal_is(const std::string& db, const std::string& expected);

// ---- time ----
// Polls `pred` every 20 ms until it holds or `timeout` passes; returns the last result.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout);

// ---- races ----
// Runs fn(i, client) on n threads, each with its own client already connected (a /healthz
// first), and releases them all at once, so that the requests race, not the connections.
// Returns when every thread is done.
void race(const ServerProcess& s, int n, const std::function<void(int, HttpClient&)>& fn);

// ---- checkout bodies ----
inline const std::string kAddressBody =
    R"({"shipping_address":{"name":"Lin","phone":"13800000000","line1":"1 West Lake Rd",)"
    R"("city":"Hangzhou","postal_code":"310000","country":"CN"}})";
// The sandbox's test cards, as confirm bodies.
inline const std::string kGoodCard = R"({"card_number":"4242424242424242"})";
inline const std::string kDeclinedCard = R"({"card_number":"4000000000000002"})";

// ---- cart and checkout ----
// PUT /v1/cart/items/{sku} {"quantity": quantity} as `u`.
HttpResponse put_cart_line(HttpClient& c, const Actor& u, const std::string& sku,
                           std::int64_t quantity);
// POST /v1/checkouts with kAddressBody and the Idempotency-Key `key`.
HttpResponse post_checkout(HttpClient& c, const Actor& u, const std::string& key);
// Confirms the checkout's payment with the good card as `buyer` and waits (up to 8 s) for the
// webhook to mark it succeeded; REQUIREs both.
void pay_checkout(HttpClient& c, const Actor& buyer, const json::value& chk);
// The inventory invariants of a SKU, read from the database: reserved >= 0, available >= 0,
// reserved = SUM(held reservations) = SUM(ledger reserved deltas), on_hand = SUM(ledger).
void check_stock_invariants(const ServerProcess& s, const std::string& sku);

// ---- catalog bodies ----
struct SkuSpec {
    std::string title;
    std::int64_t amount = 1000;
    std::int64_t stock = 10;
    std::string currency = "CNY";
};
json::object product_json(const std::string& title, const std::vector<SkuSpec>& skus,
                          int commission_rate_bps = 0);

// Creates a product as `merchant` (a "Bearer ..." value) and returns its JSON; REQUIREs 201.
json::value create_product(HttpClient& c, const std::string& merchant, const std::string& title,
                           const std::vector<SkuSpec>& skus, int commission_rate_bps = 0);

// Creates a note as `author` tagging the skus; returns the response (not checked).
HttpResponse post_note(HttpClient& c, const std::string& author, const std::string& title,
                       const std::vector<std::string>& sku_ids);

// The value of a Prometheus sample line that starts with `series` ("name{labels}"), if any.
std::optional<double> metric_value(const std::string& text, const std::string& series);

}  // namespace redloop::it
