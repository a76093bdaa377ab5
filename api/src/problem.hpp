#pragma once
// RFC 9457 problem+json responses. http_status() is the one place that maps an error code to
// an HTTP status.
#include <string_view>

#include "http_types.hpp"
#include "redloop/engine/error.hpp"

namespace redloop::api {

int http_status(engine::ErrorCode code);

// The response for an error; internal errors get a generic detail (the real one is logged).
Response problem_response(const engine::Error& error, std::string_view request_id);

}  // namespace redloop::api
