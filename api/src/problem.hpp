#pragma once
// RFC 9457 problem+json responses. http_status() is the one place that maps an error code to
// an HTTP status.
#include <string>
#include <string_view>

#include "http_types.hpp"
#include "redloop/engine/error.hpp"

namespace redloop::api {

int http_status(engine::ErrorCode code);

// The text with every byte that starts no valid UTF-8 sequence replaced by U+FFFD, uncut
// (display_text without a limit): for the request id a problem body echoes.
std::string valid_utf8(std::string_view text);
// The response for an error; internal errors get a generic detail (the real one is logged).
// Details may quote what the client sent (a path, a header, a coupon code): they go out as
// display_text() of it, so a problem body is always valid UTF-8 JSON of bounded size (32 KiB of
// detail: well above the longest one the API makes, a checkout naming 100 SKUs).
Response problem_response(const engine::Error& error, std::string_view request_id);

// `text` as valid UTF-8 (each byte of an invalid or truncated sequence becomes U+FFFD), cut at
// a character boundary to at most `max_bytes` bytes plus a trailing "...".
std::string display_text(std::string_view text, std::size_t max_bytes = 32 * 1024);

}  // namespace redloop::api
