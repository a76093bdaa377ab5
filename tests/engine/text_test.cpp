#include <doctest/doctest.h>

#include "redloop/engine/text.hpp"

using namespace redloop::engine;

TEST_CASE("lengths are counted in characters, not bytes") {
    CHECK(count_chars("abc") == 3);
    CHECK(count_chars("小红书") == 3);
    CHECK(check_text("title", "小红书", 1, 3, Lines::single));
    CHECK_FALSE(check_text("title", "小红书!", 1, 3, Lines::single));
}

TEST_CASE("text checks name the field and the limit") {
    auto empty = check_text("skus[0].title", "", 1, 10, Lines::single);
    REQUIRE_FALSE(empty);
    CHECK(empty.error().detail == "skus[0].title must not be empty");
    auto longer = check_text("title", "abcdef", 1, 5, Lines::single);
    REQUIRE_FALSE(longer);
    CHECK(longer.error().detail == "title is too long: 6 characters, at most 5");
    CHECK_FALSE(check_text("title", "a\nb", 1, 5, Lines::single));
    CHECK(check_text("body", "a\nb\tc", 0, 10, Lines::multi));
    CHECK_FALSE(check_text("body", std::string("a\0b", 3), 0, 10, Lines::multi));
}

TEST_CASE("media URLs are absolute http(s)") {
    CHECK(check_media_url("media[0].url", "https://cdn.example/a.jpg"));
    CHECK(check_media_url("media[0].url", "http://cdn.example/a.jpg"));
    CHECK_FALSE(check_media_url("media[0].url", "javascript:alert(1)"));
    CHECK_FALSE(check_media_url("media[0].url", "ftp://x/a.jpg"));
    CHECK_FALSE(check_media_url("media[0].url", "https:///a.jpg"));
    CHECK_FALSE(check_media_url("media[0].url", "https://a b"));
    CHECK_FALSE(check_media_url("media[0].url", "https://x/" + std::string(2050, 'a')));
}
