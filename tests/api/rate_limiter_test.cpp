// The per-user token bucket of POST /v1/checkouts, with the clock passed in.
#include <doctest/doctest.h>

#include <string>

#include "rate_limiter.hpp"

using redloop::api::RateLimiter;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_CASE("a burst passes, the next attempt waits for a token, other users are not affected") {
    RateLimiter limiter(30, 5);  // a token every 2 s
    const auto t0 = RateLimiter::Clock::time_point{} + seconds(1000);
    for (int i = 0; i < 5; ++i) CHECK(limiter.take("usr_a", t0).allowed);
    const auto refused = limiter.take("usr_a", t0);
    CHECK_FALSE(refused.allowed);
    CHECK(refused.retry_after_s == 2);
    CHECK(limiter.take("usr_b", t0).allowed);

    // half a token later: still refused, Retry-After rounds the second up
    const auto half = limiter.take("usr_a", t0 + seconds(1));
    CHECK_FALSE(half.allowed);
    CHECK(half.retry_after_s == 1);
    // a refused attempt takes nothing: one token after 2 s in all
    CHECK(limiter.take("usr_a", t0 + seconds(2)).allowed);
    CHECK_FALSE(limiter.take("usr_a", t0 + seconds(2)).allowed);
    // the bucket never holds more than the burst
    const auto later = t0 + seconds(3600);
    for (int i = 0; i < 5; ++i) CHECK(limiter.take("usr_a", later).allowed);
    CHECK_FALSE(limiter.take("usr_a", later).allowed);
}

TEST_CASE("Retry-After is whole seconds and at least 1") {
    RateLimiter fast(6000, 1);  // a token every 10 ms
    const auto t0 = RateLimiter::Clock::time_point{} + seconds(5);
    CHECK(fast.take("u", t0).allowed);
    const auto r = fast.take("u", t0 + milliseconds(1));
    CHECK_FALSE(r.allowed);
    CHECK(r.retry_after_s == 1);

    RateLimiter slow(1, 1);  // a token a minute
    CHECK(slow.take("u", t0).allowed);
    CHECK(slow.take("u", t0).retry_after_s == 60);
    CHECK(slow.take("u", t0 + milliseconds(59'500)).retry_after_s == 1);
    CHECK(slow.take("u", t0 + seconds(60)).allowed);
}

TEST_CASE("rate 0 turns the limiter off") {
    RateLimiter off(0, 1);
    CHECK_FALSE(off.enabled());
    const auto t0 = RateLimiter::Clock::time_point{};
    for (int i = 0; i < 1000; ++i) CHECK(off.take("u", t0).allowed);
    CHECK(off.size() == 0);
}

TEST_CASE("buckets are bounded: full ones are dropped when a shard fills up") {
    RateLimiter limiter(60, 2);
    const auto t0 = RateLimiter::Clock::time_point{} + seconds(1);
    const std::size_t callers = RateLimiter::kBucketsPerShardMax * 16 * 2;
    for (std::size_t i = 0; i < callers; ++i) {
        // each caller's bucket is full again a few seconds later, so it may be dropped
        (void)limiter.take("usr_" + std::to_string(i), t0 + seconds(static_cast<long>(i / 1000)));
    }
    CHECK(limiter.size() <= RateLimiter::kBucketsPerShardMax * 16);
    // a caller still within its window keeps its bucket
    const auto now = t0 + seconds(static_cast<long>(callers / 1000));
    CHECK(limiter.take("usr_busy", now).allowed);
    CHECK(limiter.take("usr_busy", now).allowed);
    CHECK_FALSE(limiter.take("usr_busy", now).allowed);
}
