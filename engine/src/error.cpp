#include "redloop/engine/error.hpp"

namespace redloop::engine {

std::string_view to_string(ErrorCode code) {
    switch (code) {
        case ErrorCode::invalid_request:
            return "invalid_request";
        case ErrorCode::unauthenticated:
            return "unauthenticated";
        case ErrorCode::forbidden:
            return "forbidden";
        case ErrorCode::not_found:
            return "not_found";
        case ErrorCode::method_not_allowed:
            return "method_not_allowed";
        case ErrorCode::conflict:
            return "conflict";
        case ErrorCode::out_of_stock:
            return "out_of_stock";
        case ErrorCode::invalid_transition:
            return "invalid_transition";
        case ErrorCode::idempotency_key_reused:
            return "idempotency_key_reused";
        case ErrorCode::payload_too_large:
            return "payload_too_large";
        case ErrorCode::unsupported_media_type:
            return "unsupported_media_type";
        case ErrorCode::rate_limited:
            return "rate_limited";
        case ErrorCode::payment_declined:
            return "payment_declined";
        case ErrorCode::unavailable:
            return "unavailable";
        case ErrorCode::internal:
            return "internal";
    }
    return "internal";
}

}  // namespace redloop::engine
