#include <doctest/doctest.h>
#include <jwt.h>

#include <cstdlib>
#include <string>

#include "auth.hpp"

using namespace redloop;
using namespace redloop::api;

namespace {
const std::string kSecret = "0123456789abcdef0123456789abcdef";
const engine::Timestamp kNow{1'800'000'000'000};

// A token signed by libjwt with any algorithm and claims (`more`: further claims as JSON).
std::string libjwt_token(jwt_alg_t alg, const std::string& key, const char* sub, const char* role,
                         long exp, const std::string& more = "") {
    jwt_t* j = nullptr;
    REQUIRE(jwt_new(&j) == 0);
    if (sub) jwt_add_grant(j, "sub", sub);
    if (role) jwt_add_grant(j, "role", role);
    if (exp) jwt_add_grant_int(j, "exp", exp);
    if (!more.empty()) REQUIRE(jwt_add_grants_json(j, more.c_str()) == 0);
    REQUIRE(jwt_set_alg(j, alg, reinterpret_cast<const unsigned char*>(key.data()),
                        static_cast<int>(key.size())) == 0);
    char* s = jwt_encode_str(j);
    std::string out(s);
    std::free(s);
    jwt_free(j);
    return out;
}

engine::Result<Principal> verify(const std::string& token) {
    return verify_bearer("Bearer " + token, kSecret, kNow);
}

void check_rejected(const std::string& token) {
    auto r = verify(token);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == engine::ErrorCode::unauthenticated);
}

const long kFuture = static_cast<long>(kNow.unix_seconds() + 600);
}  // namespace

TEST_CASE("a minted token verifies with its role and sub") {
    auto t = mint_token(Principal{*engine::ActorId::parse("mer_tea"), Role::merchant}, kSecret,
                        kNow, 60);
    REQUIRE(t);
    auto p = verify(*t);
    REQUIRE(p);
    CHECK(p->sub.str() == "mer_tea");
    CHECK(p->role == Role::merchant);
    auto admin =
        mint_token(Principal{*engine::ActorId::parse("usr_ops"), Role::admin}, kSecret, kNow, 60);
    REQUIRE(admin);
    CHECK(verify(*admin)->role == Role::admin);
}

TEST_CASE("tokens that must be refused") {
    SUBCASE("alg none") {
        const auto header = api::base64url_encode(R"({"alg":"none","typ":"JWT"})");
        const auto payload = api::base64url_encode(R"({"sub":"mer_tea","role":"merchant","exp":)" +
                                                   std::to_string(kFuture) + "}");
        check_rejected(header + "." + payload + ".");
    }
    SUBCASE("HS384 and HS512 with the right secret") {
        check_rejected(libjwt_token(JWT_ALG_HS384, kSecret, "mer_tea", "merchant", kFuture));
        check_rejected(libjwt_token(JWT_ALG_HS512, kSecret, "mer_tea", "merchant", kFuture));
    }
    SUBCASE("wrong secret") {
        check_rejected(libjwt_token(JWT_ALG_HS256, kSecret + "x", "mer_tea", "merchant", kFuture));
    }
    SUBCASE("expired, or no exp") {
        check_rejected(libjwt_token(JWT_ALG_HS256, kSecret, "mer_tea", "merchant",
                                    static_cast<long>(kNow.unix_seconds())));
        check_rejected(libjwt_token(JWT_ALG_HS256, kSecret, "mer_tea", "merchant", 0));
    }
    SUBCASE("not valid yet (nbf in the future), or an nbf that is not a number") {
        auto signed_with = [&](const std::string& nbf) {
            return libjwt_token(JWT_ALG_HS256, kSecret, "mer_tea", "merchant", kFuture,
                                R"({"nbf":)" + nbf + "}");
        };
        check_rejected(signed_with(std::to_string(kNow.unix_seconds() + 31)));
        check_rejected(signed_with(std::to_string(kNow.unix_seconds() + 3600)));
        check_rejected(signed_with(R"("soon")"));
        check_rejected(signed_with("true"));
        check_rejected(signed_with("null"));
        check_rejected(signed_with("[1]"));
        // an nbf that has passed, or is now, is fine
        CHECK(verify(signed_with(std::to_string(kNow.unix_seconds()))));
        // an issuer's clock up to 30 s ahead of ours is tolerated
        CHECK(verify(signed_with(std::to_string(kNow.unix_seconds() + 30))));
        CHECK(verify(signed_with(std::to_string(kNow.unix_seconds() - 60))));
    }
    SUBCASE("sub that does not fit the role, or is malformed") {
        check_rejected(libjwt_token(JWT_ALG_HS256, kSecret, "usr_lin", "merchant", kFuture));
        check_rejected(libjwt_token(JWT_ALG_HS256, kSecret, "mer_tea", "user", kFuture));
        check_rejected(libjwt_token(JWT_ALG_HS256, kSecret, "mer_!!", "merchant", kFuture));
        check_rejected(libjwt_token(JWT_ALG_HS256, kSecret, nullptr, "merchant", kFuture));
    }
    SUBCASE("unknown role") {
        check_rejected(libjwt_token(JWT_ALG_HS256, kSecret, "usr_lin", "root", kFuture));
    }
    SUBCASE("garbage") {
        check_rejected("not-a-token");
        check_rejected("a.b.c");
        check_rejected("");
        auto no_scheme = verify_bearer("Basic abc", kSecret, kNow);
        CHECK_FALSE(no_scheme);
    }
    SUBCASE("a valid signature over a tampered payload") {
        auto t = *mint_token(Principal{*engine::ActorId::parse("usr_lin"), Role::user}, kSecret,
                             kNow, 60);
        const auto first = t.find('.');
        const auto second = t.find('.', first + 1);
        const auto forged = api::base64url_encode(R"({"sub":"usr_lin","role":"admin","exp":)" +
                                                  std::to_string(kFuture) + "}");
        check_rejected(t.substr(0, first + 1) + forged + t.substr(second));
    }
}

TEST_CASE("minting refuses a sub that does not fit the role") {
    auto t = mint_token(Principal{*engine::ActorId::parse("usr_lin"), Role::merchant}, kSecret,
                        kNow, 60);
    CHECK_FALSE(t);
}
