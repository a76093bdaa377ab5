#include <doctest/doctest.h>
#include <boost/json.hpp>

#include "problem.hpp"

using namespace redloop;
using namespace redloop::api;

TEST_CASE("valid_utf8 keeps UTF-8 and replaces each byte that starts no valid sequence") {
    CHECK(valid_utf8("plain ASCII") == "plain ASCII");
    CHECK(valid_utf8("西湖 😀") == "西湖 😀");
    CHECK(valid_utf8("\xff") == "\xEF\xBF\xBD");
    CHECK(valid_utf8("a\xe8\xa5") == "a\xEF\xBF\xBD\xEF\xBF\xBD");  // cut in the middle
    CHECK(valid_utf8("\xc0\xaf") == "\xEF\xBF\xBD\xEF\xBF\xBD");    // overlong '/'
    CHECK(valid_utf8("\xed\xa0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
    CHECK(valid_utf8("\xf4\x90\x80\x80").find("\xf4") == std::string::npos);      // > U+10FFFF
}

// Found by fuzz_router: a method (or a Content-Type, a path segment) that is not UTF-8, quoted
// in the detail, made the problem+json body invalid JSON text.
TEST_CASE("a problem body is valid JSON whatever bytes its detail quotes") {
    const std::string sent =
        "/r\xff\xff\xde"
        "I\xff is not allowed here; allowed: POST";
    const auto r =
        problem_response(engine::Error{engine::ErrorCode::method_not_allowed, sent}, "req_1");
    CHECK(r.status == 405);
    boost::system::error_code ec;
    const auto v = boost::json::parse(r.body, ec);  // rejects invalid UTF-8
    REQUIRE_FALSE(ec);
    CHECK(v.at("detail").as_string() ==
          "/r\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDI\xEF\xBF\xBD is not allowed here; allowed: POST");
    CHECK(v.at("code").as_string() == "method_not_allowed");
}
