#pragma once
// New ids: the type prefix and 20 characters of base32 from OpenSSL's CSPRNG (100 bits).
#include <string>
#include <string_view>

#include "redloop/engine/ids.hpp"

namespace redloop::api {

std::string random_id_body();

template <typename IdT>
IdT new_id() {
    return IdT::trusted(std::string(IdT::prefix()) + random_id_body());
}

// 16 hex characters, for request ids.
std::string random_hex(std::size_t bytes);

}  // namespace redloop::api
