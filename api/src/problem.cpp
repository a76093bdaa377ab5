#include "problem.hpp"

#include <boost/json.hpp>

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

Response problem_response(const engine::Error& error, std::string_view request_id) {
    const int status = http_status(error.code);
    const std::string_view code = engine::to_string(error.code);
    boost::json::object o;
    o["type"] = "https://redloop.dev/problems/" + std::string(code);
    o["title"] = title_of(error.code);
    o["status"] = status;
    o["detail"] = error.code == ErrorCode::internal
                      ? "an internal error occurred; quote the request id when reporting it"
                      : error.detail;
    o["code"] = code;
    o["request_id"] = request_id;
    Response r;
    r.status = status;
    r.content_type = "application/problem+json";
    r.body = boost::json::serialize(o);
    // A passing condition: the same request may succeed in a moment.
    if (error.code == ErrorCode::unavailable) r.headers.emplace_back("Retry-After", "1");
    return r;
}

}  // namespace redloop::api
