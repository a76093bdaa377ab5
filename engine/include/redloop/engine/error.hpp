#pragma once
// Expected failures of the engine, as values. The HTTP status of each code is decided in one
// place (api/src/problem.cpp); the engine only names the kind of failure.
#include <string>
#include <string_view>

namespace redloop::engine {

enum class ErrorCode {
    invalid_request,
    unauthenticated,
    forbidden,
    not_found,
    method_not_allowed,
    conflict,
    out_of_stock,
    invalid_transition,
    idempotency_key_reused,
    payload_too_large,
    unsupported_media_type,
    rate_limited,
    payment_declined,
    // A passing condition on our side (every database connection busy, a serialization failure
    // that persisted through its retries, the database unreachable): retry the same request.
    // An addition to the contract's codes (503).
    unavailable,
    internal,
};

// The contract's snake_case name of a code ("out_of_stock").
std::string_view to_string(ErrorCode code);

struct Error {
    ErrorCode code = ErrorCode::internal;
    std::string detail;

    friend bool operator==(const Error&, const Error&) = default;
};

inline Error make_error(ErrorCode code, std::string detail) {
    return Error{code, std::move(detail)};
}

}  // namespace redloop::engine
