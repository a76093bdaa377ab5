#pragma once
// Time as the engine sees it: milliseconds since the Unix epoch, UTC, always passed in.
// The engine never reads a clock.
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "redloop/engine/result.hpp"

namespace redloop::engine {

struct Timestamp {
    std::int64_t unix_ms = 0;

    static Timestamp from_unix_seconds(std::int64_t s) { return Timestamp{s * 1000}; }
    std::int64_t unix_seconds() const { return unix_ms / 1000; }

    friend auto operator<=>(const Timestamp&, const Timestamp&) = default;
};

inline Timestamp operator+(Timestamp t, std::int64_t ms) {
    return Timestamp{t.unix_ms + ms};
}

// RFC 3339 UTC with milliseconds: "2026-11-28T10:16:17.123Z".
std::string to_rfc3339(Timestamp t);
// Parses RFC 3339 with a "Z" or numeric offset, optional fraction (milliseconds kept).
Result<Timestamp> parse_rfc3339(std::string_view text);

}  // namespace redloop::engine
