#include "webhook_signature.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cctype>
#include <charconv>
#include <limits>

namespace redloop::api {

using engine::ErrorCode;
using engine::fail;

namespace {

constexpr std::size_t kHeaderMax = 4096;

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool is_hex64(std::string_view s) {
    if (s.size() != 64) return false;
    for (char c : s) {
        const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (!hex) return false;
    }
    return true;
}

}  // namespace

engine::Result<SignatureHeader> parse_signature_header(std::string_view header) {
    if (header.empty()) return fail(ErrorCode::invalid_request, "the header is missing");
    if (header.size() > kHeaderMax) {
        return fail(ErrorCode::invalid_request, "the header is too long");
    }
    SignatureHeader out;
    bool has_t = false;
    while (!header.empty()) {
        const auto comma = header.find(',');
        const auto element = trim(header.substr(0, comma));
        header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
        if (element.empty()) continue;
        const auto eq = element.find('=');
        if (eq == std::string_view::npos) {
            return fail(ErrorCode::invalid_request, "elements must be key=value");
        }
        const auto key = element.substr(0, eq);
        const auto value = element.substr(eq + 1);
        if (key == "t") {
            std::int64_t t = 0;
            const auto r = std::from_chars(value.data(), value.data() + value.size(), t);
            if (value.empty() || r.ec != std::errc{} || r.ptr != value.data() + value.size() ||
                t < 0) {
                return fail(ErrorCode::invalid_request, "t must be unix seconds");
            }
            out.timestamp = t;
            has_t = true;
        } else if (key == "v1") {
            if (is_hex64(value)) {
                std::string v(value);
                for (auto& c : v)
                    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                out.v1.push_back(std::move(v));
            }
        }
    }
    if (!has_t) return fail(ErrorCode::invalid_request, "no timestamp t");
    if (out.v1.empty()) return fail(ErrorCode::invalid_request, "no v1 signature");
    return out;
}

std::string hmac_sha256_hex(std::string_view key, std::string_view message) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    // An empty result (OpenSSL failure, or a key too long for its int length) never verifies.
    if (key.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) return {};
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest,
             &len) == nullptr) {
        return {};
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(len * 2);
    for (unsigned i = 0; i < len; ++i) {
        out.push_back(kHex[digest[i] >> 4]);
        out.push_back(kHex[digest[i] & 15]);
    }
    return out;
}

engine::Status verify_webhook_signature(std::string_view secret, std::string_view header,
                                        std::string_view raw_body, std::int64_t now_unix,
                                        std::int64_t tolerance_s) {
    auto parsed = parse_signature_header(header);
    if (!parsed) return fail(parsed.error());
    const std::string expected =
        hmac_sha256_hex(secret, std::to_string(parsed->timestamp) + "." + std::string(raw_body));
    // Fail closed: every candidate is exactly 64 characters (the parser keeps no others).
    if (expected.size() != 64) {
        return fail(ErrorCode::invalid_request, "the signature could not be computed");
    }
    bool match = false;
    for (const auto& candidate : parsed->v1) {
        // Constant time over the fixed 64 characters; every candidate is compared.
        match |= CRYPTO_memcmp(candidate.data(), expected.data(), expected.size()) == 0;
    }
    if (!match) return fail(ErrorCode::invalid_request, "no v1 signature matches the body");
    // |now - t| in unsigned arithmetic: exact for any two int64 values, never overflows.
    const std::int64_t t = parsed->timestamp;
    const bool future = t > now_unix;
    const std::uint64_t distance =
        future ? static_cast<std::uint64_t>(t) - static_cast<std::uint64_t>(now_unix)
               : static_cast<std::uint64_t>(now_unix) - static_cast<std::uint64_t>(t);
    const std::uint64_t tolerance = tolerance_s > 0 ? static_cast<std::uint64_t>(tolerance_s) : 0;
    if (distance > tolerance) {
        return fail(ErrorCode::invalid_request,
                    fmt::format("timestamp {} is {} {} s {}; at most {} s is accepted", t,
                                future ? "in the future," : "stale,", distance,
                                future ? "ahead" : "old", tolerance));
    }
    return {};
}

std::string sign_webhook(std::string_view secret, std::int64_t t, std::string_view raw_body) {
    return fmt::format("t={},v1={}", t,
                       hmac_sha256_hex(secret, std::to_string(t) + "." + std::string(raw_body)));
}

}  // namespace redloop::api
