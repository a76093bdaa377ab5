#include <doctest/doctest.h>

#include <boost/json.hpp>

#include "codec.hpp"
#include "json_reader.hpp"
#include "problem.hpp"

using namespace redloop;
using namespace redloop::api;

namespace {
boost::json::value body(std::string_view text) {
    auto v = parse_json_object(text);
    REQUIRE_MESSAGE(v, (v ? "" : v.error().detail));
    return *v;
}
std::string product_error(std::string_view text) {
    auto r = decode_create_product(body(text));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == engine::ErrorCode::invalid_request);
    return r.error().detail;
}
}  // namespace

TEST_CASE("bodies must be JSON objects") {
    CHECK_FALSE(parse_json_object("[1]"));
    CHECK_FALSE(parse_json_object("{\"a\":1,}"));
    CHECK_FALSE(parse_json_object("{\"a\": /*c*/ 1}"));
    CHECK_FALSE(parse_json_object("\"x\""));
    CHECK_FALSE(parse_json_object(std::string("{\"a\":\"\xff\"}")));
    std::string deep(40, '[');
    CHECK_FALSE(parse_json_object("{\"a\":" + deep + std::string(40, ']') + "}"));
}

TEST_CASE("a product body decodes into a command") {
    auto cmd = decode_create_product(body(R"({"title":"Tea","description":"d",
        "media":[{"type":"video","url":"https://x.example/v.mp4"}],"commission_rate_bps":100,
        "skus":[{"title":"50 g","price":{"amount":6800,"currency":"CNY"},"stock":3}]})"));
    REQUIRE(cmd);
    CHECK(cmd->title == "Tea");
    CHECK(cmd->media.at(0).type == engine::MediaType::video);
    CHECK(cmd->skus.at(0).price.minor == 6800);
    CHECK(cmd->skus.at(0).stock == 3);
    CHECK(cmd->commission_rate_bps == 100);
}

TEST_CASE("product decoding errors name the field") {
    const std::string sku =
        R"("skus":[{"title":"a","price":{"amount":1,"currency":"CNY"},"stock":1}])";
    CHECK(product_error(R"({"title":"T",)" + sku + R"(,"merchant_id":"mer_x"})") ==
          "merchant_id: unknown field");
    CHECK(product_error(R"({)" + sku + "}") == "title: is required");
    CHECK(product_error(R"({"title":5,)" + sku + "}") == "title: expected a string");
    CHECK(
        product_error(
            R"({"title":"T","skus":[{"title":"a","price":{"amount":1.5,"currency":"CNY"},"stock":1}]})") ==
        "skus[0].price.amount: expected an integer");
    CHECK(
        product_error(
            R"({"title":"T","skus":[{"title":"a","price":{"amount":"1","currency":"CNY"},"stock":1}]})") ==
        "skus[0].price.amount: expected an integer");
    CHECK(
        product_error(
            R"({"title":"T","skus":[{"title":"a","price":{"amount":1,"currency":"XYZ"},"stock":1}]})")
            .starts_with("skus[0].price.currency: unsupported currency"));
    CHECK(
        product_error(
            R"({"title":"T","skus":[{"title":"a","price":{"amount":1,"currency":"CNY","fx":1},"stock":1}]})") ==
        "skus[0].price.fx: unknown field");
    CHECK(
        product_error(
            R"({"title":"T","skus":[{"title":"a","price":{"amount":1,"currency":"CNY"},"stock":-1}]})") ==
        "skus[0].stock: must be between 0 and 10000000");
    CHECK(
        product_error(
            R"({"title":"T","skus":[{"title":"a","price":{"amount":1,"currency":"CNY"},"stock":18446744073709551615}]})") ==
        "skus[0].stock: must be between 0 and 10000000");
    CHECK(product_error(R"({"title":"T","skus":[]})") == "skus must have 1 to 100 entries");
    CHECK(product_error(R"({"title":"T","skus":{}})") == "skus: expected an array");
    CHECK(product_error(R"({"title":"T",)" + sku +
                        R"(,"media":[{"type":"gif","url":"https://x.example/a"}]})") ==
          "media[0].type: must be \"image\" or \"video\"");
    CHECK(product_error(R"({"title":"T",)" + sku + R"(,"media":["https://x"]})") ==
          "media[0]: expected an object");
}

TEST_CASE("merchant patch: null clears free shipping, absence keeps it") {
    auto clear = decode_merchant_patch(body(R"({"free_shipping_over":null})"));
    REQUIRE(clear);
    CHECK(clear->set_free_shipping_over);
    CHECK_FALSE(clear->free_shipping_over);
    auto keep = decode_merchant_patch(body(R"({"name":"Shop"})"));
    REQUIRE(keep);
    CHECK_FALSE(keep->set_free_shipping_over);
    CHECK_FALSE(decode_merchant_patch(body(R"({"return_window_days":400})")));
    CHECK_FALSE(decode_merchant_patch(body(R"({"shipping_fee":{"amount":-1,"currency":"CNY"}})")));
    CHECK_FALSE(decode_merchant_patch(body(R"({"status":"x"})")));
}

TEST_CASE("note and stock decoding") {
    auto note = decode_create_note(
        body(R"({"title":"N","body":"b","media":[],"products":[{"sku_id":"sku_a"}]})"));
    REQUIRE(note);
    CHECK(note->skus.at(0).str() == "sku_a");
    auto bad_id = decode_create_note(body(R"({"title":"N","products":[{"sku_id":"prd_a"}]})"));
    REQUIRE_FALSE(bad_id);
    CHECK(bad_id.error().detail.starts_with("products[0].sku_id: not a valid sku id"));
    CHECK_FALSE(decode_stock_adjustment(body(R"({"delta":0,"reason":"x"})")));
    CHECK_FALSE(decode_stock_adjustment(body(R"({"delta":5})")));
    CHECK(decode_stock_adjustment(body(R"({"delta":-5,"reason":"damaged"})"))->delta == -5);
}

TEST_CASE("every error code maps to the contract's status") {
    using engine::ErrorCode;
    const std::pair<ErrorCode, int> table[] = {
        {ErrorCode::invalid_request, 400},
        {ErrorCode::unauthenticated, 401},
        {ErrorCode::payment_declined, 402},
        {ErrorCode::forbidden, 403},
        {ErrorCode::not_found, 404},
        {ErrorCode::method_not_allowed, 405},
        {ErrorCode::conflict, 409},
        {ErrorCode::out_of_stock, 409},
        {ErrorCode::invalid_transition, 409},
        {ErrorCode::payload_too_large, 413},
        {ErrorCode::unsupported_media_type, 415},
        {ErrorCode::idempotency_key_reused, 422},
        {ErrorCode::rate_limited, 429},
        {ErrorCode::internal, 500},
    };
    for (const auto& row : table) {
        // Not a structured binding: clang 14 can't capture one in CAPTURE's lambda.
        const ErrorCode code = row.first;
        const int status = row.second;
        CAPTURE(engine::to_string(code));
        CHECK(http_status(code) == status);
        const auto r = problem_response(engine::Error{code, "why"}, "req1");
        CHECK(r.status == status);
        CHECK(r.content_type == "application/problem+json");
        const auto v = boost::json::parse(r.body).as_object();
        CHECK(v.at("code").as_string() == engine::to_string(code));
        CHECK(v.at("status").as_int64() == status);
        CHECK(v.contains("type"));
        CHECK(v.contains("title"));
        CHECK(v.at("detail").as_string() ==
              (code == engine::ErrorCode::internal ? v.at("detail").as_string() : "why"));
    }
    const auto challenge = [](const redloop::api::Response& r) {
        for (const auto& [k, v] : r.headers) {
            if (k == "WWW-Authenticate") return v;
        }
        return std::string();
    };
    CHECK(challenge(problem_response(engine::Error{engine::ErrorCode::unauthenticated, "no"},
                                     "r")) == "Bearer realm=\"redloop\"");
    CHECK(challenge(problem_response(engine::Error{engine::ErrorCode::forbidden, "no"}, "r"))
              .empty());
    // An internal error's detail is not shown to clients.
    const auto internal =
        problem_response(engine::Error{engine::ErrorCode::internal, "db path /secret"}, "r");
    CHECK(internal.body.find("/secret") == std::string::npos);
}

TEST_CASE("problem details quote client input as valid UTF-8, bounded") {
    using redloop::api::display_text;
    CHECK(display_text("plain") == "plain");
    CHECK(display_text("\xe4\xb8\xad\xe6\x96\x87") == "\xe4\xb8\xad\xe6\x96\x87");  // kept
    CHECK(display_text("a\xff b") == "a\xef\xbf\xbd b");
    CHECK(display_text("\xc0\xaf") == "\xef\xbf\xbd\xef\xbf\xbd");                  // overlong
    CHECK(display_text("\xed\xa0\x80") == "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // surrogate
    CHECK(display_text("\xf4\x90\x80\x80").find("\xf4") == std::string::npos);      // > U+10FFFF
    CHECK(display_text("x\xe4\xb8") == "x\xef\xbf\xbd\xef\xbf\xbd");                // cut sequence
    // cut at a character boundary, never inside one
    CHECK(display_text("ab\xe4\xb8\xad", 4) == "ab...");
    CHECK(display_text(std::string(5000, 'k')) == std::string(5000, 'k'));
    CHECK(display_text(std::string(40000, 'k')).size() == 32 * 1024 + 3);
    const auto r = redloop::api::problem_response(
        redloop::engine::Error{redloop::engine::ErrorCode::not_found, "no coupon \xff\xfe"}, "r");
    boost::json::parse_options strict;
    strict.allow_invalid_utf8 = false;
    boost::system::error_code ec;
    (void)boost::json::parse(r.body, ec, {}, strict);
    CHECK(!ec);
}

TEST_CASE("encode_list_text: the envelope of encode_list around items already serialized") {
    const std::vector<std::string> items = {R"({"id":"ord_a","n":1})",
                                            R"({"id":"ord_b","s":"x\"y"})"};
    boost::json::array data;
    for (const auto& i : items) data.push_back(boost::json::parse(i));
    const std::vector<std::string_view> views(items.begin(), items.end());
    for (const std::optional<std::string>& cursor :
         {std::optional<std::string>{}, std::optional<std::string>{"c\"1"}}) {
        CHECK(redloop::api::encode_list_text(views, cursor) ==
              boost::json::serialize(redloop::api::encode_list(data, cursor)));
    }
    CHECK(redloop::api::encode_list_text({}, std::nullopt) == R"({"data":[],"next_cursor":null})");
}
