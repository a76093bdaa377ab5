#include "rate_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

namespace redloop::api {

RateLimiter::RateLimiter(std::int64_t per_minute, std::int64_t burst)
    : per_minute_(std::max<std::int64_t>(0, per_minute)),
      burst_(std::max<std::int64_t>(1, burst)),
      per_second_(static_cast<double>(per_minute_) / 60.0) {}

double RateLimiter::refill(const Bucket& b, Clock::time_point now) const {
    const double elapsed_s = std::chrono::duration<double>(now - b.at).count();
    return std::min(static_cast<double>(burst_), b.tokens + std::max(0.0, elapsed_s) * per_second_);
}

RateLimiter::Decision RateLimiter::take(const std::string& key, Clock::time_point now) {
    if (!enabled()) return {};
    auto& shard = shards_[std::hash<std::string>{}(key) % shards_.size()];
    std::lock_guard lock(shard.mutex);
    auto it = shard.buckets.find(key);
    if (it == shard.buckets.end()) {
        if (shard.buckets.size() >= kBucketsPerShardMax) {
            std::erase_if(shard.buckets, [&](const auto& kv) {
                return refill(kv.second, now) >= static_cast<double>(burst_);
            });
            // Every bucket in use (a flood of callers): start over rather than grow without
            // bound; callers get a fresh burst, which is lenient, never wrongly strict.
            if (shard.buckets.size() >= kBucketsPerShardMax) shard.buckets.clear();
        }
        it = shard.buckets.emplace(key, Bucket{static_cast<double>(burst_), now}).first;
    }
    Bucket& b = it->second;
    b.tokens = refill(b, now);
    b.at = now;
    if (b.tokens >= 1.0) {
        b.tokens -= 1.0;
        return {};
    }
    const double wait_s = (1.0 - b.tokens) / per_second_;
    return Decision{false, std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(wait_s)))};
}

std::size_t RateLimiter::size() {
    std::size_t n = 0;
    for (auto& shard : shards_) {
        std::lock_guard lock(shard.mutex);
        n += shard.buckets.size();
    }
    return n;
}

}  // namespace redloop::api
