#include "handler_util.hpp"

#include <boost/json.hpp>

#include <charconv>

namespace redloop::api {

using engine::ErrorCode;
using engine::fail;

Response json_response(int status, const boost::json::value& v) {
    Response r;
    r.status = status;
    r.body = boost::json::serialize(v);
    return r;
}

bool is_replayed(const Response& r) {
    for (const auto& [k, v] : r.headers) {
        if (k == kReplayedHeader) return true;
    }
    return false;
}

// Cursors are "c" followed by the insertion sequence in base 36: opaque to clients, cheap here.
std::string encode_cursor(std::int64_t seq) {
    char buf[32];
    auto res = std::to_chars(buf, buf + sizeof buf, seq, 36);
    return "c" + std::string(buf, res.ptr);
}

engine::Result<PageParams> page_params(const Request& req) {
    PageParams p;
    if (auto limit = req.query_param("limit")) {
        int n = 0;
        auto res = std::from_chars(limit->data(), limit->data() + limit->size(), n);
        if (res.ec != std::errc{} || res.ptr != limit->data() + limit->size() || n < 1 || n > 100) {
            return fail(ErrorCode::invalid_request, "limit must be an integer from 1 to 100");
        }
        p.limit = n;
    }
    if (auto cursor = req.query_param("cursor")) {
        std::int64_t seq = 0;
        const char* begin = cursor->data() + 1;
        const char* end = cursor->data() + cursor->size();
        if (cursor->size() < 2 || cursor->size() > 16 || (*cursor)[0] != 'c') {
            return fail(ErrorCode::invalid_request, "cursor is not one this server issued");
        }
        auto res = std::from_chars(begin, end, seq, 36);
        if (res.ec != std::errc{} || res.ptr != end || seq <= 0) {
            return fail(ErrorCode::invalid_request, "cursor is not one this server issued");
        }
        p.before = seq;
    }
    return p;
}

}  // namespace redloop::api
