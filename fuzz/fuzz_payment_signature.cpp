// The Payment-Signature header of provider webhooks: parse_signature_header and
// verify_webhook_signature with a fixed secret and clock. The first byte picks the mode:
//   0: header and body as given (almost never signed: the parser and the refusals);
//   1: a header signed correctly for the body at a timestamp from the input, then the verdict
//      must follow the timestamp alone (the tolerance is 300 s);
//   2: a correctly signed header with input bytes around it (extra elements, spacing, case).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.hpp"
#include "webhook_signature.hpp"

using namespace redloop;

namespace {
constexpr std::string_view kSecret = "whsec_fuzz_0123456789abcdef0123456789abcdef";
constexpr std::int64_t kNow = 1'780'000'000;  // unix seconds, fixed
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    const int mode = in.ConsumeIntegralInRange<int>(0, 2);
    if (mode == 0) {
        const std::string header = in.ConsumeRandomLengthString(8192);
        const std::string body = in.ConsumeRemainingBytesAsString();
        const auto parsed = api::parse_signature_header(header);
        const auto verdict = api::verify_webhook_signature(kSecret, header, body, kNow);
        if (!parsed) {
            FUZZ_CHECK(parsed.error().code == engine::ErrorCode::invalid_request,
                       parsed.error().detail);
            FUZZ_CHECK(!verdict, "a header that does not parse verified");
        } else {
            FUZZ_CHECK(!parsed->v1.empty(), "parsed without a v1 signature");
            for (const auto& v : parsed->v1) FUZZ_CHECK(v.size() == 64, v);
        }
        if (verdict) {
            // Only the real signature can pass.
            const auto expected =
                api::hmac_sha256_hex(kSecret, std::to_string(parsed->timestamp) + "." + body);
            bool found = false;
            for (const auto& v : parsed->v1) found |= v == expected;
            FUZZ_CHECK(found, "verified without the body's signature: " + header);
        } else {
            FUZZ_CHECK(verdict.error().code == engine::ErrorCode::invalid_request,
                       verdict.error().detail);
            FUZZ_CHECK(!verdict.error().detail.empty(), "a refusal without a reason");
        }
        return 0;
    }
    const std::int64_t t = in.ConsumeIntegral<std::int64_t>();
    const std::string before = mode == 2 ? in.ConsumeRandomLengthString(256) : "";
    const std::string after = mode == 2 ? in.ConsumeRandomLengthString(256) : "";
    const std::string body = in.ConsumeRemainingBytesAsString();
    const std::string signed_header = api::sign_webhook(kSecret, t, body);
    if (mode == 1) {
        const auto verdict = api::verify_webhook_signature(kSecret, signed_header, body, kNow);
        const bool in_window = t >= 0 && t >= kNow - 300 && t <= kNow + 300;
        FUZZ_CHECK(static_cast<bool>(verdict) == in_window,
                   signed_header + (verdict ? " passed" : " refused: " + verdict.error().detail));
        if (t >= 0) {
            const auto parsed = api::parse_signature_header(signed_header);
            FUZZ_CHECK(parsed && parsed->timestamp == t && parsed->v1.size() == 1, signed_header);
        }
        // Any other body under the same signature is refused.
        const auto other = api::verify_webhook_signature(kSecret, signed_header, body + " ", kNow);
        FUZZ_CHECK(!other, "a signature verified another body");
        return 0;
    }
    const std::string header = before + "," + signed_header + "," + after;
    const auto verdict = api::verify_webhook_signature(kSecret, header, body, kNow);
    if (!verdict) {
        FUZZ_CHECK(verdict.error().code == engine::ErrorCode::invalid_request,
                   verdict.error().detail);
    }
    return 0;
}
