#pragma once
// Standard base64 (RFC 4648, padded) for bytes kept as text: sealed values, recorded effects.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace redloop::db {

std::string base64_encode(const unsigned char* data, std::size_t n);
// Strict: padded, no whitespace, canonical; nullopt for anything else.
std::optional<std::string> base64_decode(std::string_view in);

}  // namespace redloop::db
