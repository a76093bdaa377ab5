#include "metrics.hpp"

#include <fmt/format.h>

#include <functional>
#include <string_view>
#include <thread>

namespace redloop::api {

namespace {
// The method label: one of HTTP's methods, else "other". Any token is a valid method to the
// parser, so a client sending made-up ones must not add a series per request.
const std::string& method_label(const std::string& method) {
    static const std::string known[] = {"GET",    "HEAD",    "POST",  "PUT",    "PATCH",
                                        "DELETE", "OPTIONS", "TRACE", "CONNECT"};
    static const std::string other = "other";
    for (const auto& k : known) {
        if (k == method) return k;
    }
    return other;
}
}  // namespace

void Metrics::record_request(const std::string& route, const std::string& method_in, int status,
                             double seconds) {
    const std::string& method = method_label(method_in);
    const auto shard = std::hash<std::thread::id>{}(std::this_thread::get_id()) % kShards;
    auto& sh = shards_[shard];
    std::lock_guard lock(sh.mutex);
    const std::tuple<std::string_view, std::string_view, int> key{route, method, status};
    if (auto it = sh.requests.find(key); it != sh.requests.end()) {
        ++it->second;
    } else {
        sh.requests.emplace(std::tuple<std::string, std::string, int>{route, method, status}, 1);
    }
    auto hit = sh.latency.find(std::string_view(route));
    if (hit == sh.latency.end()) hit = sh.latency.emplace(route, Histogram{}).first;
    auto& h = hit->second;
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
    std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests;
    std::map<std::string, Histogram> latency;
    for (auto& sh : shards_) {
        std::lock_guard lock(sh.mutex);
        for (const auto& [key, n] : sh.requests) requests[key] += n;
        for (const auto& [route, h] : sh.latency) {
            auto& sum = latency[route];
            for (std::size_t i = 0; i < kBuckets.size(); ++i) sum.counts[i] += h.counts[i];
            sum.count += h.count;
            sum.sum += h.sum;
        }
    }
    for (const auto& [key, n] : requests) {
        const auto& [route, method, status] = key;
        out += fmt::format(
            "redloop_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{}\"}} {}\n", route,
            method, status, n);
    }
    out +=
        "# HELP redloop_http_request_duration_seconds Time from request read to response ready.\n";
    out += "# TYPE redloop_http_request_duration_seconds histogram\n";
    for (const auto& [route, h] : latency) {
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
