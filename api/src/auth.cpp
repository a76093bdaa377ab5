#include "auth.hpp"

#include <fmt/format.h>
#include <jwt.h>
#include <boost/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <memory>

namespace redloop::api {

using engine::ErrorCode;
using engine::fail;

std::string_view to_string(Role r) {
    switch (r) {
        case Role::user:
            return "user";
        case Role::merchant:
            return "merchant";
        case Role::admin:
            return "admin";
    }
    return "user";
}

std::optional<Role> parse_role(std::string_view s) {
    if (s == "user") return Role::user;
    if (s == "merchant") return Role::merchant;
    if (s == "admin") return Role::admin;
    return std::nullopt;
}

engine::Status check_sub_for_role(const engine::ActorId& sub, Role role) {
    const bool fits = role == Role::merchant ? sub.is_merchant() : sub.is_user();
    if (!fits) {
        return fail(ErrorCode::unauthenticated,
                    fmt::format("a {} token needs a sub starting with '{}'", to_string(role),
                                role == Role::merchant ? "mer_" : "usr_"));
    }
    return {};
}

namespace {

struct JwtDeleter {
    void operator()(jwt_t* j) const { jwt_free(j); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtDeleter>;

engine::Unexpected unauthenticated(std::string detail) {
    return fail(ErrorCode::unauthenticated, std::move(detail));
}

std::optional<std::string> base64url_decode(std::string_view in) {
    std::string out;
    unsigned buffer = 0;
    int bits = 0;
    for (char c : in) {
        int v = -1;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '-')
            v = 62;
        else if (c == '_')
            v = 63;
        else
            return std::nullopt;
        buffer = (buffer << 6) | static_cast<unsigned>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
        }
    }
    return out;
}

// The header must say {"alg":"HS256"} (and typ JWT if present) before libjwt sees the token.
engine::Status check_header(std::string_view token) {
    const auto dot = token.find('.');
    if (dot == std::string_view::npos) return unauthenticated("malformed bearer token");
    const auto header = base64url_decode(token.substr(0, dot));
    if (!header) return unauthenticated("malformed bearer token");
    boost::system::error_code ec;
    const auto v = boost::json::parse(*header, ec);
    if (ec || !v.is_object()) return unauthenticated("malformed bearer token header");
    const auto* alg = v.get_object().if_contains("alg");
    if (!alg || !alg->is_string() || alg->get_string() != "HS256") {
        return unauthenticated("token algorithm must be HS256");
    }
    if (const auto* typ = v.get_object().if_contains("typ");
        typ && !(typ->is_string() && typ->get_string() == "JWT")) {
        return unauthenticated("token type must be JWT");
    }
    return {};
}

}  // namespace

namespace {

// Seconds a token's nbf may be ahead of this server's clock (the issuer's may run ahead).
constexpr double kNotBeforeLeewayS = 30;

struct Verified {
    Principal principal;
    std::int64_t exp = 0;  // unix seconds
};

engine::Result<Verified> verify_token(std::string_view authorization, std::string_view secret,
                                      engine::Timestamp now) {
    constexpr std::string_view kScheme = "Bearer ";
    if (authorization.size() <= kScheme.size() ||
        !(authorization.substr(0, kScheme.size()) == kScheme ||
          authorization.substr(0, kScheme.size()) == "bearer ")) {
        return unauthenticated("expected 'Authorization: Bearer <token>'");
    }
    const std::string token(authorization.substr(kScheme.size()));
    if (token.size() > 4096 || std::count(token.begin(), token.end(), '.') != 2) {
        return unauthenticated("malformed bearer token");
    }
    if (auto s = check_header(token); !s) return fail(s.error());

    jwt_t* raw = nullptr;
    const int rc =
        jwt_decode(&raw, token.c_str(), reinterpret_cast<const unsigned char*>(secret.data()),
                   static_cast<int>(secret.size()));
    JwtPtr jwt(raw);
    if (rc != 0 || !jwt) return unauthenticated("token signature is not valid");
    if (jwt_get_alg(jwt.get()) != JWT_ALG_HS256) {
        return unauthenticated("token algorithm must be HS256");
    }

    errno = 0;
    const long exp = jwt_get_grant_int(jwt.get(), "exp");
    if (errno != 0) return unauthenticated("token has no numeric exp claim");
    if (exp <= now.unix_seconds()) return unauthenticated("token has expired");
    // "Not before" (RFC 7519 4.1.5), when the issuer set one: a token is not good early either,
    // give or take kNotBeforeLeewayS of clock difference with the issuer. Read as JSON text:
    // libjwt reads a string or a boolean as the number 0.
    errno = 0;
    jwt_get_grant_int(jwt.get(), "nbf");  // only whether the claim is there: ENOENT when not
    if (errno != ENOENT) {
        std::unique_ptr<char, decltype(&std::free)> nbf_json(jwt_get_grants_json(jwt.get(), "nbf"),
                                                             &std::free);
        if (!nbf_json) return unauthenticated("token nbf claim could not be read");
        char* end = nullptr;
        const double nbf = std::strtod(nbf_json.get(), &end);
        if (end == nbf_json.get() || *end != '\0' || !std::isfinite(nbf)) {
            return unauthenticated("token nbf claim is not a number of seconds");
        }
        if (nbf > static_cast<double>(now.unix_ms) / 1000.0 + kNotBeforeLeewayS) {
            return unauthenticated("token is not valid yet (nbf)");
        }
    }

    const char* role_c = jwt_get_grant(jwt.get(), "role");
    const char* sub_c = jwt_get_grant(jwt.get(), "sub");
    if (!role_c || !sub_c) return unauthenticated("token lacks the sub or role claim");
    const auto role = parse_role(role_c);
    if (!role) return unauthenticated("token role must be user, merchant or admin");
    auto sub = engine::ActorId::parse(sub_c);
    if (!sub) return unauthenticated("token sub is not a usr_ or mer_ id");
    if (auto s = check_sub_for_role(*sub, *role); !s) return fail(s.error());
    return Verified{Principal{*sub, *role}, static_cast<std::int64_t>(exp)};
}

}  // namespace

engine::Result<Principal> verify_bearer(std::string_view authorization, std::string_view secret,
                                        engine::Timestamp now) {
    auto v = verify_token(authorization, secret, now);
    if (!v) return fail(v.error());
    return v->principal;
}

engine::Result<Principal> TokenCache::verify(std::string_view authorization,
                                             std::string_view secret, engine::Timestamp now) {
    const std::string key(authorization);
    {
        std::lock_guard lock(mutex_);
        if (auto it = verified_.find(key); it != verified_.end()) {
            if (it->second.exp > now.unix_seconds()) return it->second.principal;
            verified_.erase(it);
        }
    }
    auto v = verify_token(authorization, secret, now);
    if (!v) return fail(v.error());
    std::lock_guard lock(mutex_);
    if (verified_.size() >= capacity_) verified_.clear();  // rare: start over, stay bounded
    verified_.insert_or_assign(key, Entry{v->principal, v->exp});
    return v->principal;
}

std::string base64url_encode(std::string_view in) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    unsigned buffer = 0;
    int bits = 0;
    for (unsigned char c : in) {
        buffer = (buffer << 8) | c;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out.push_back(kAlphabet[(buffer >> bits) & 63]);
        }
    }
    if (bits > 0) out.push_back(kAlphabet[(buffer << (6 - bits)) & 63]);
    return out;
}

engine::Result<std::string> mint_token(const Principal& p, std::string_view secret,
                                       engine::Timestamp now, std::int64_t ttl_seconds) {
    if (auto s = check_sub_for_role(p.sub, p.role); !s) {
        return fail(ErrorCode::invalid_request, s.error().detail);
    }
    jwt_t* raw = nullptr;
    if (jwt_new(&raw) != 0) return fail(ErrorCode::internal, "jwt_new failed");
    JwtPtr jwt(raw);
    const std::string role(to_string(p.role));
    int rc = jwt_add_grant(jwt.get(), "sub", p.sub.str().c_str());
    rc |= jwt_add_grant(jwt.get(), "role", role.c_str());
    rc |= jwt_add_grant_int(jwt.get(), "iat", static_cast<long>(now.unix_seconds()));
    rc |= jwt_add_grant_int(jwt.get(), "exp", static_cast<long>(now.unix_seconds() + ttl_seconds));
    rc |=
        jwt_set_alg(jwt.get(), JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(secret.data()),
                    static_cast<int>(secret.size()));
    if (rc != 0) return fail(ErrorCode::internal, "could not build the token");
    char* encoded = jwt_encode_str(jwt.get());
    if (!encoded) return fail(ErrorCode::internal, "could not sign the token");
    std::string out(encoded);
    std::free(encoded);
    return out;
}

}  // namespace redloop::api
