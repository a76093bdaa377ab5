#include <doctest/doctest.h>

#include "redloop/engine/time.hpp"

using namespace redloop::engine;

TEST_CASE("RFC 3339 formatting is UTC with milliseconds") {
    CHECK(to_rfc3339(Timestamp{0}) == "1970-01-01T00:00:00.000Z");
    CHECK(to_rfc3339(Timestamp{1795861802431}) == "2026-11-28T10:30:02.431Z");
    CHECK(to_rfc3339(Timestamp{-1}) == "1969-12-31T23:59:59.999Z");
    CHECK(to_rfc3339(Timestamp{951782400000}) == "2000-02-29T00:00:00.000Z");
}

TEST_CASE("RFC 3339 parsing round-trips and honours offsets") {
    CHECK(parse_rfc3339("2026-11-28T10:30:02.431Z")->unix_ms == 1795861802431);
    CHECK(parse_rfc3339("2026-11-28T10:30:02Z")->unix_ms == 1795861802000);
    CHECK(parse_rfc3339("2026-11-28T18:30:02+08:00")->unix_ms == 1795861802000);
    CHECK(parse_rfc3339("2026-11-28T02:30:02.5-08:00")->unix_ms == 1795861802500);
    CHECK_FALSE(parse_rfc3339("2026-11-28 10:30:02Z"));
    CHECK_FALSE(parse_rfc3339("2026-02-30T00:00:00Z"));
    CHECK_FALSE(parse_rfc3339("2026-11-28T24:00:00Z"));
    CHECK_FALSE(parse_rfc3339("2026-11-28T10:30:02"));
    CHECK_FALSE(parse_rfc3339("2026-11-28T10:30:02Zjunk"));
    CHECK_FALSE(parse_rfc3339(""));
}
