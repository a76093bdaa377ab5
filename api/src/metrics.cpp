#include "metrics.hpp"

#include <fmt/format.h>

namespace redloop::api {

void Metrics::record_request(const std::string& route, const std::string& method, int status,
                             double seconds) {
    std::lock_guard lock(mutex_);
    ++requests_[{route, method, status}];
    auto& h = latency_[route];
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
        if (seconds <= kBuckets[i]) ++h.counts[i];
    }
    ++h.count;
    h.sum += seconds;
}

std::string Metrics::render(const std::string& extra_gauges) const {
    std::string out;
    out += "# HELP redloop_http_requests_total HTTP requests by route, method and status.\n";
    out += "# TYPE redloop_http_requests_total counter\n";
    std::lock_guard lock(mutex_);
    for (const auto& [key, n] : requests_) {
        const auto& [route, method, status] = key;
        out += fmt::format(
            "redloop_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{}\"}} {}\n", route,
            method, status, n);
    }
    out +=
        "# HELP redloop_http_request_duration_seconds Time from request read to response ready.\n";
    out += "# TYPE redloop_http_request_duration_seconds histogram\n";
    for (const auto& [route, h] : latency_) {
        for (std::size_t i = 0; i < kBuckets.size(); ++i) {
            out += fmt::format(
                "redloop_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n",
                route, kBuckets[i], h.counts[i]);
        }
        out += fmt::format(
            "redloop_http_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n", route,
            h.count);
        out += fmt::format("redloop_http_request_duration_seconds_sum{{route=\"{}\"}} {}\n", route,
                           h.sum);
        out += fmt::format("redloop_http_request_duration_seconds_count{{route=\"{}\"}} {}\n",
                           route, h.count);
    }
    out += "# HELP redloop_http_connections_open Open HTTP connections.\n";
    out += "# TYPE redloop_http_connections_open gauge\n";
    out += fmt::format("redloop_http_connections_open {}\n", open_connections_.load());
    out += extra_gauges;
    return out;
}

}  // namespace redloop::api
