#pragma once
// RFC 9457 problem+json responses. http_status() is the one place that maps an error code to
// an HTTP status.
#include <string_view>

#include "http_types.hpp"
#include "redloop/engine/error.hpp"

namespace redloop::api {

int http_status(engine::ErrorCode code);

// The text with every byte that starts no valid UTF-8 sequence replaced by U+FFFD: details
// quote what a client sent (a method, a Content-Type, a path segment), and a problem+json body
// must stay valid JSON text whatever those bytes were.
std::string valid_utf8(std::string_view text);
// The response for an error; internal errors get a generic detail (the real one is logged).
Response problem_response(const engine::Error& error, std::string_view request_id);

}  // namespace redloop::api
