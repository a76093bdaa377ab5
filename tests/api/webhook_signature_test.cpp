#include <doctest/doctest.h>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "webhook_signature.hpp"

using namespace redloop::api;

namespace {

std::string read_raw(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    REQUIRE_MESSAGE(in.good(), "cannot read ", p.string());
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::filesystem::path vectors_dir() {
    const std::filesystem::path dir =
        std::filesystem::path(REDLOOP_VECTORS_DIR) / "webhook-signature";
    REQUIRE_MESSAGE(std::filesystem::is_directory(dir),
                    "the shared test vectors are missing: ", dir.string(),
                    " (../shared/vectors must sit beside the repository)");
    return dir;
}

}  // namespace

TEST_CASE("HMAC-SHA256 matches RFC 4231 test case 2") {
    const auto doc = boost::json::parse(read_raw(vectors_dir() / "cases.json")).as_object();
    const auto& rfc = doc.at("hmac_check_rfc4231_case2").as_object();
    CHECK(hmac_sha256_hex(std::string(rfc.at("key").as_string()),
                          std::string(rfc.at("message").as_string())) ==
          std::string(rfc.at("hmac_sha256").as_string()));
}

TEST_CASE("every published and computed vector gets its verdict") {
    const auto dir = vectors_dir();
    const auto doc = boost::json::parse(read_raw(dir / "cases.json")).as_object();
    const auto& cases = doc.at("cases").as_array();
    REQUIRE(cases.size() >= 10);
    int valid = 0;
    for (const auto& v : cases) {
        const auto& c = v.as_object();
        CAPTURE(std::string(c.at("name").as_string()));
        const std::string payload =
            c.contains("payload_file")
                ? read_raw(dir / std::string(c.at("payload_file").as_string()))
                : std::string(c.at("payload").as_string());
        const auto result = verify_webhook_signature(
            std::string(c.at("secret").as_string()), std::string(c.at("header").as_string()),
            payload, c.at("now").as_int64(), c.at("tolerance_s").as_int64());
        CHECK(static_cast<bool>(result) == c.at("valid").as_bool());
        if (!result) CHECK(result.error().code == redloop::engine::ErrorCode::invalid_request);
        valid += c.at("valid").as_bool() ? 1 : 0;
    }
    CHECK(valid >= 3);
    // the published payload is 484 bytes, LF line endings, final LF
    CHECK(read_raw(dir / "event_payload.json").size() == 484);
}

TEST_CASE("signing round-trips and any change is caught") {
    const std::string secret = "0123456789abcdef0123456789abcdef";
    const std::string body = R"({"id":"evt_1","type":"payment.succeeded"})";
    const auto header = sign_webhook(secret, 1'800'000'000, body);
    CHECK(verify_webhook_signature(secret, header, body, 1'800'000'000));
    CHECK(verify_webhook_signature(secret, header, body, 1'800'000'300));
    CHECK_FALSE(verify_webhook_signature(secret, header, body, 1'800'000'301));
    CHECK_FALSE(verify_webhook_signature(secret, header, body, 1'799'999'699));
    CHECK_FALSE(verify_webhook_signature(secret, header, body + " ", 1'800'000'000));
    CHECK_FALSE(verify_webhook_signature(secret + "x", header, body, 1'800'000'000));
    // several v1: any may match; spaces around elements are tolerated
    const auto good = header.substr(header.find("v1="));
    CHECK(verify_webhook_signature(
        secret, "t=1800000000, v1=" + std::string(64, 'a') + " , " + good + ",v0=zz", body,
        1'800'000'000));
}

TEST_CASE("malformed headers are refused, never crash") {
    for (const std::string& h :
         {std::string(""), std::string("t=abc,v1=" + std::string(64, 'a')),
          std::string("t=1800000000"), std::string("v1=" + std::string(64, 'a')),
          std::string("t=-5,v1=" + std::string(64, 'a')), std::string("t=1800000000,v1=xyz"),
          std::string("t=1800000000,,,"), std::string(5000, 't'),
          std::string("t=18000000000000000000000,v1=" + std::string(64, 'a')),
          std::string("==,=")}) {
        CAPTURE(h.substr(0, 80));
        auto parsed = parse_signature_header(h);
        CHECK_FALSE(parsed);
        CHECK_FALSE(verify_webhook_signature("secret", h, "{}", 1'800'000'000));
    }
    auto ok =
        parse_signature_header("t=5,v1=" + std::string(64, 'A') + ",v0=" + std::string(64, 'b'));
    REQUIRE(ok);
    CHECK(ok->timestamp == 5);
    REQUIRE(ok->v1.size() == 1);
    CHECK(ok->v1[0] == std::string(64, 'a'));
}

TEST_CASE("a refusal says which check failed") {
    const std::string secret = "whsec_detail";
    const std::string body = R"({"id":"evt_d"})";
    const std::int64_t t = 1'800'000'000;
    const auto detail = [&](const std::string& header, std::int64_t now) {
        const auto s = verify_webhook_signature(secret, header, body, now);
        REQUIRE_FALSE(s);
        CHECK(s.error().code == redloop::engine::ErrorCode::invalid_request);
        return s.error().detail;
    };
    const auto good = sign_webhook(secret, t, body);
    CHECK(detail("", t).find("missing") != std::string::npos);
    CHECK(detail("bad_header", t).find("key=value") != std::string::npos);
    CHECK(detail("t=abc,v1=" + std::string(64, 'a'), t).find("unix seconds") != std::string::npos);
    CHECK(detail("v1=" + std::string(64, 'a'), t).find("no timestamp") != std::string::npos);
    CHECK(detail("t=1800000000,v1=bad_signature", t).find("no v1") != std::string::npos);
    CHECK(detail(good, t + 301).find("stale") != std::string::npos);
    CHECK(detail(good, t - 301).find("future") != std::string::npos);
    CHECK(detail(sign_webhook(secret, t, body + "x"), t).find("matches") != std::string::npos);
    // a correctly signed header padded past the cap is refused on its length alone
    CHECK(detail(good + "," + std::string(4100, ' '), t).find("too long") != std::string::npos);
    CHECK(verify_webhook_signature(secret, good + "," + std::string(1000, ' '), body, t));
}

TEST_CASE("extreme clocks and tolerances never overflow") {
    const std::string body = "{}";
    const auto max = std::numeric_limits<std::int64_t>::max();
    const auto min = std::numeric_limits<std::int64_t>::min();
    const auto far = sign_webhook("k", max, body);
    CHECK_FALSE(verify_webhook_signature("k", far, body, min));
    CHECK_FALSE(verify_webhook_signature("k", far, body, 0));
    CHECK(verify_webhook_signature("k", far, body, max));
    const auto zero = sign_webhook("k", 0, body);
    CHECK_FALSE(verify_webhook_signature("k", zero, body, max));
    CHECK_FALSE(verify_webhook_signature("k", zero, body, min));
    CHECK(verify_webhook_signature("k", zero, body, 0, 0));
    CHECK_FALSE(verify_webhook_signature("k", zero, body, 1, 0));
    // a negative tolerance counts as 0
    CHECK(verify_webhook_signature("k", zero, body, 0, -5));
    CHECK_FALSE(verify_webhook_signature("k", zero, body, 1, -5));
    CHECK(verify_webhook_signature("k", zero, body, max, max));
    // an empty secret still yields a real HMAC (RFC 2104 pads the key), so it round-trips
    CHECK(hmac_sha256_hex("", "").size() == 64);
    CHECK(verify_webhook_signature("", sign_webhook("", 7, body), body, 7));
    CHECK_FALSE(verify_webhook_signature("", sign_webhook("x", 7, body), body, 7));
}
