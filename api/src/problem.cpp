#include "problem.hpp"

#include <boost/json.hpp>

#include <algorithm>

namespace redloop::api {

using engine::ErrorCode;

int http_status(ErrorCode code) {
    switch (code) {
        case ErrorCode::invalid_request:
            return 400;
        case ErrorCode::unauthenticated:
            return 401;
        case ErrorCode::payment_declined:
            return 402;
        case ErrorCode::forbidden:
            return 403;
        case ErrorCode::not_found:
            return 404;
        case ErrorCode::method_not_allowed:
            return 405;
        case ErrorCode::conflict:
            return 409;
        case ErrorCode::out_of_stock:
            return 409;
        case ErrorCode::invalid_transition:
            return 409;
        case ErrorCode::payload_too_large:
            return 413;
        case ErrorCode::unsupported_media_type:
            return 415;
        case ErrorCode::idempotency_key_reused:
            return 422;
        case ErrorCode::rate_limited:
            return 429;
        case ErrorCode::unavailable:
            return 503;
        case ErrorCode::internal:
            return 500;
    }
    return 500;
}

namespace {

// The length of the valid UTF-8 sequence at the start of `s` (RFC 3629: no overlong forms, no
// surrogates, nothing past U+10FFFF), or 0 when there is none.
std::size_t utf8_sequence(std::string_view s) {
    const auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    const auto cont = [&](std::size_t i) { return i < s.size() && (b(i) & 0xC0) == 0x80; };
    const unsigned char c = b(0);
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (!cont(1) || !cont(2)) return 0;
        if (c == 0xE0 && b(1) < 0xA0) return 0;   // overlong
        if (c == 0xED && b(1) >= 0xA0) return 0;  // surrogates
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (!cont(1) || !cont(2) || !cont(3)) return 0;
        if (c == 0xF0 && b(1) < 0x90) return 0;   // overlong
        if (c == 0xF4 && b(1) >= 0x90) return 0;  // past U+10FFFF
        return 4;
    }
    return 0;
}

}  // namespace

std::string display_text(std::string_view text, std::size_t max_bytes) {
    std::string out;
    out.reserve(std::min(text.size(), max_bytes) + 3);
    while (!text.empty()) {
        const std::size_t n = utf8_sequence(text);
        const std::string_view piece = n ? text.substr(0, n) : std::string_view("\xEF\xBF\xBD");
        if (out.size() + piece.size() > max_bytes) {
            out += "...";
            break;
        }
        out += piece;
        text.remove_prefix(n ? n : 1);
    }
    return out;
}

namespace {
std::string_view title_of(ErrorCode code) {
    switch (code) {
        case ErrorCode::invalid_request:
            return "Invalid request";
        case ErrorCode::unauthenticated:
            return "Authentication required";
        case ErrorCode::payment_declined:
            return "Payment declined";
        case ErrorCode::forbidden:
            return "Forbidden";
        case ErrorCode::not_found:
            return "Not found";
        case ErrorCode::method_not_allowed:
            return "Method not allowed";
        case ErrorCode::conflict:
            return "Conflict";
        case ErrorCode::out_of_stock:
            return "Out of stock";
        case ErrorCode::invalid_transition:
            return "Invalid state transition";
        case ErrorCode::payload_too_large:
            return "Payload too large";
        case ErrorCode::unsupported_media_type:
            return "Unsupported media type";
        case ErrorCode::idempotency_key_reused:
            return "Idempotency key reused";
        case ErrorCode::rate_limited:
            return "Too many requests";
        case ErrorCode::unavailable:
            return "Service unavailable";
        case ErrorCode::internal:
            return "Internal error";
    }
    return "Internal error";
}
}  // namespace

std::string valid_utf8(std::string_view text) {
    return display_text(text, std::string_view::npos);
}

Response problem_response(const engine::Error& error, std::string_view request_id) {
    const int status = http_status(error.code);
    const std::string_view code = engine::to_string(error.code);
    boost::json::object o;
    o["type"] = "https://redloop.dev/problems/" + std::string(code);
    o["title"] = title_of(error.code);
    o["status"] = status;
    o["detail"] = error.code == ErrorCode::internal
                      ? "an internal error occurred; quote the request id when reporting it"
                      : display_text(error.detail);
    o["code"] = code;
    o["request_id"] = valid_utf8(request_id);
    Response r;
    r.status = status;
    r.content_type = "application/problem+json";
    r.body = boost::json::serialize(o);
    // A passing condition: the same request may succeed in a moment.
    if (error.code == ErrorCode::unavailable) r.headers.emplace_back("Retry-After", "1");
    // RFC 6750 3: a bearer-token resource answers 401 with its challenge.
    if (error.code == ErrorCode::unauthenticated) {
        r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"redloop\"");
    }
    return r;
}

}  // namespace redloop::api
