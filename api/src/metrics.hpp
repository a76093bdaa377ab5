#pragma once
// Prometheus counters and histograms for the HTTP server, rendered as text.
#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

namespace redloop::api {

class Metrics {
  public:
    // `route` is a registered pattern or a fixed label; a method other than HTTP's own is
    // counted as "other" (labels stay bounded whatever clients send).
    void record_request(const std::string& route, const std::string& method, int status,
                        double seconds);
    void connection_opened() { ++open_connections_; }
    void connection_closed() { --open_connections_; }
    // Appends a gauge computed at scrape time (orders by status, ...).
    std::string render(const std::string& extra_gauges) const;

  private:
    static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                        0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
    struct Histogram {
        std::array<std::uint64_t, kBuckets.size()> counts{};
        std::uint64_t count = 0;
        double sum = 0;
    };
    // (route, method, status) keys, looked up by string_views without building strings. The
    // order is the tuple's; spelled out because libstdc++'s mixed tuple comparison (through
    // operator<=>) does not compile with clang 14.
    struct RequestKeyLess {
        using is_transparent = void;
        template <typename A, typename B>
        bool operator()(const A& a, const B& b) const {
            const std::string_view a0 = std::get<0>(a), b0 = std::get<0>(b);
            if (a0 != b0) return a0 < b0;
            const std::string_view a1 = std::get<1>(a), b1 = std::get<1>(b);
            if (a1 != b1) return a1 < b1;
            return std::get<2>(a) < std::get<2>(b);
        }
    };
    // Counted in shards, one picked by the recording thread, so the I/O threads don't contend
    // for one lock on every request; a scrape adds them up.
    struct Shard {
        std::mutex mutex;
        std::map<std::tuple<std::string, std::string, int>, std::uint64_t, RequestKeyLess> requests;
        std::map<std::string, Histogram, std::less<>> latency;
    };
    static constexpr std::size_t kShards = 16;
    mutable std::array<Shard, kShards> shards_;
    std::atomic<std::int64_t> open_connections_{0};
};

}  // namespace redloop::api
