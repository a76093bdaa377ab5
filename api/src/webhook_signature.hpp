#pragma once
// Payment-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + raw body)>
// (the scheme Stripe uses for Stripe-Signature).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "redloop/engine/result.hpp"

namespace redloop::api {

struct SignatureHeader {
    std::int64_t timestamp = 0;
    std::vector<std::string> v1;  // candidate signatures, lower-case hex
};

// Elements "key=value" separated by ','; unknown keys (v0, ...) are ignored.
engine::Result<SignatureHeader> parse_signature_header(std::string_view header);

// Lower-case hex HMAC-SHA256.
std::string hmac_sha256_hex(std::string_view key, std::string_view message);

// OK when some v1 equals HMAC-SHA256(secret, t + "." + raw_body), compared in constant time,
// and |now_unix - t| <= tolerance_s; otherwise invalid_request saying which check failed.
engine::Status verify_webhook_signature(std::string_view secret, std::string_view header,
                                        std::string_view raw_body, std::int64_t now_unix,
                                        std::int64_t tolerance_s = 300);

// "t=<t>,v1=<hex>" for a body.
std::string sign_webhook(std::string_view secret, std::int64_t t, std::string_view raw_body);

}  // namespace redloop::api
