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

std::string valid_utf8(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        std::size_t len = 0;
        unsigned min = 0;
        unsigned cp = 0;
        if (c < 0x80) {
            out.push_back(static_cast<char>(c));
            ++i;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            min = 0x80;
            cp = c & 0x1Fu;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            min = 0x800;
            cp = c & 0x0Fu;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            min = 0x10000;
            cp = c & 0x07u;
        }
        bool ok = len != 0 && i + len <= text.size();
        for (std::size_t k = 1; ok && k < len; ++k) {
            const auto cc = static_cast<unsigned char>(text[i + k]);
            ok = (cc & 0xC0u) == 0x80u;
            cp = (cp << 6) | (cc & 0x3Fu);
        }
        // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8 either.
        ok = ok && cp >= min && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
        if (ok) {
            out.append(text.substr(i, len));
            i += len;
        } else {
            out += "\xEF\xBF\xBD";  // U+FFFD for the byte that starts no valid sequence
            ++i;
        }
    }
    return out;
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
                      : valid_utf8(error.detail);
    o["code"] = code;
    o["request_id"] = valid_utf8(request_id);
    Response r;
    r.status = status;
    r.content_type = "application/problem+json";
    r.body = boost::json::serialize(o);
    // A passing condition: the same request may succeed in a moment.
    if (error.code == ErrorCode::unavailable) r.headers.emplace_back("Retry-After", "1");
    return r;
}

}  // namespace redloop::api
