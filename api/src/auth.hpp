#pragma once
// Bearer tokens: HS256 JWTs with claims sub (usr_/mer_ id), role and exp.
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "redloop/engine/ids.hpp"
#include "redloop/engine/result.hpp"
#include "redloop/engine/time.hpp"

namespace redloop::api {

enum class Role { user, merchant, admin };
std::string_view to_string(Role r);
std::optional<Role> parse_role(std::string_view s);

struct Principal {
    engine::ActorId sub;
    Role role = Role::user;
};

// Verifies an "Authorization" header value ("Bearer <jwt>"). The algorithm is insisted on
// here (HS256 only), not taken from the token; alg none, other algorithms, a bad signature,
// a missing or past exp, an unknown role or a sub that doesn't fit the role -> unauthenticated.
engine::Result<Principal> verify_bearer(std::string_view authorization, std::string_view secret,
                                        engine::Timestamp now);

// Tokens already verified, by their exact text, until their exp: the HMAC and the decoding are
// done once per token, not on every request. Only successes are kept; bounded; thread-safe.
class TokenCache {
  public:
    explicit TokenCache(std::size_t capacity = 100'000) : capacity_(capacity) {}
    // verify_bearer, remembered.
    engine::Result<Principal> verify(std::string_view authorization, std::string_view secret,
                                     engine::Timestamp now);

  private:
    struct Entry {
        Principal principal;
        std::int64_t exp = 0;
    };
    std::size_t capacity_;
    std::mutex mutex_;
    std::unordered_map<std::string, Entry> verified_;
};

// Mints a token for development and tests.
// Base64url without padding (RFC 4648 section 5), as JWT segments are written; for tests and
// tools that build tokens by hand.
std::string base64url_encode(std::string_view in);

engine::Result<std::string> mint_token(const Principal& p, std::string_view secret,
                                       engine::Timestamp now, std::int64_t ttl_seconds);

// Checks that the role may carry this sub: user -> usr_, merchant -> mer_, admin -> usr_.
engine::Status check_sub_for_role(const engine::ActorId& sub, Role role);

}  // namespace redloop::api
