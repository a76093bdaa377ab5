// The bearer-token check (verify_bearer, and the TokenCache in front of it that App uses) with a
// fixed secret and clock. The first byte picks the mode:
//   0: an Authorization header as given (the scheme, the shape, the header check, libjwt's
//      decoding, refusals of bad signatures);
//   1: a token whose header and claims JSON come from the input, correctly signed with the
//      secret, so the claim checks behind the signature (alg, typ, exp, role, sub) are reached;
//   2: a token minted by mint_token for a sub, role and lifetime from the input: it must verify
//      exactly when the sub fits the role and it has not expired.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "auth.hpp"
#include "fuzz_check.hpp"
#include "webhook_signature.hpp"

using namespace redloop;

namespace {

constexpr std::string_view kSecret = "jwt_fuzz_secret_0123456789abcdef0123456789";
const engine::Timestamp kNow{1'780'000'000'000};

std::string hex_to_bytes(const std::string& hex) {
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    }
    return out;
}

// Whatever verifies must name a consistent caller.
void check_principal(const engine::Result<api::Principal>& p) {
    if (!p) {
        FUZZ_CHECK(p.error().code == engine::ErrorCode::unauthenticated, p.error().detail);
        FUZZ_CHECK(!p.error().detail.empty(), "a refusal without a reason");
        return;
    }
    FUZZ_CHECK(api::check_sub_for_role(p->sub, p->role).has_value(), p->sub.str());
    FUZZ_CHECK(engine::ActorId::parse(p->sub.str()).has_value(), p->sub.str());
}

api::TokenCache& cache() {
    static api::TokenCache c(1000);
    return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    const int mode = in.ConsumeIntegralInRange<int>(0, 2);
    if (mode == 0) {
        const std::string authorization = in.ConsumeRemainingBytesAsString();
        const auto direct = api::verify_bearer(authorization, kSecret, kNow);
        check_principal(direct);
        const auto cached = cache().verify(authorization, kSecret, kNow);
        check_principal(cached);
        FUZZ_CHECK(direct.has_value() == cached.has_value(), "the cache disagrees");
        return 0;
    }
    if (mode == 1) {
        const std::string header = in.ConsumeRandomLengthString(1024);
        const std::string claims = in.ConsumeRemainingBytesAsString();
        const std::string signing_input =
            api::base64url_encode(header) + "." + api::base64url_encode(claims);
        const std::string signature =
            api::base64url_encode(hex_to_bytes(api::hmac_sha256_hex(kSecret, signing_input)));
        const std::string authorization = "Bearer " + signing_input + "." + signature;
        const auto p = api::verify_bearer(authorization, kSecret, kNow);
        check_principal(p);
        // The same token with another secret never verifies.
        FUZZ_CHECK(
            !api::verify_bearer(authorization, "another_secret_0123456789abcdef0123456", kNow),
            "verified with the wrong secret: " + authorization);
        return 0;
    }
    const auto role = static_cast<api::Role>(in.ConsumeIntegralInRange<int>(0, 2));
    const std::int64_t ttl = in.ConsumeIntegralInRange<std::int64_t>(-1'000'000, 1'000'000'000);
    const std::string sub_text = in.ConsumeRemainingBytesAsString();
    auto sub = engine::ActorId::parse(sub_text);
    if (!sub) return 0;
    const api::Principal who{*sub, role};
    const auto token = api::mint_token(who, kSecret, kNow, ttl);
    const bool fits = api::check_sub_for_role(*sub, role).has_value();
    FUZZ_CHECK(token.has_value() == fits, sub_text);
    if (!token) return 0;
    const auto p = api::verify_bearer("Bearer " + *token, kSecret, kNow);
    check_principal(p);
    FUZZ_CHECK(p.has_value() == (ttl > 0), *token);
    if (p) FUZZ_CHECK(p->sub.str() == sub_text && p->role == role, *token);
    return 0;
}
