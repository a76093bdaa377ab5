#pragma once
// Per-caller token buckets, in memory only: not persisted, not journaled, forgotten at restart.
// Used for POST /v1/checkouts (flash-sale protection). A bucket holds up to `burst` tokens and
// refills at `per_minute` tokens a minute; each request takes one. The clock is passed in.
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace redloop::api {

class RateLimiter {
  public:
    using Clock = std::chrono::steady_clock;

    // per_minute 0 turns the limiter off (every request passes).
    RateLimiter(std::int64_t per_minute, std::int64_t burst);

    struct Decision {
        bool allowed = true;
        std::int64_t retry_after_s = 0;  // when refused: whole seconds until a token, >= 1
    };
    // Takes a token of `key`'s bucket at `now`.
    Decision take(const std::string& key, Clock::time_point now);

    bool enabled() const { return per_minute_ > 0; }
    std::int64_t per_minute() const { return per_minute_; }
    std::int64_t burst() const { return burst_; }
    // Buckets held in memory (for tests and bounds).
    std::size_t size();

    // Most buckets kept per shard: past it, full buckets (the same as a new one) are dropped.
    static constexpr std::size_t kBucketsPerShardMax = 8192;

  private:
    struct Bucket {
        double tokens = 0;
        Clock::time_point at;
    };
    struct Shard {
        std::mutex mutex;
        std::unordered_map<std::string, Bucket> buckets;
    };
    double refill(const Bucket& b, Clock::time_point now) const;

    std::int64_t per_minute_;
    std::int64_t burst_;
    double per_second_;
    std::array<Shard, 16> shards_;
};

}  // namespace redloop::api
