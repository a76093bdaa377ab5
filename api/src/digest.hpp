#pragma once
// SHA-256 as lower-case hex (idempotency request hashes, journal response hashes).
#include <string>
#include <string_view>

namespace redloop::api {

std::string sha256_hex(std::string_view data);

}  // namespace redloop::api
