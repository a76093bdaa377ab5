#include "redloop/engine/ids.hpp"

namespace redloop::engine {

namespace {
bool is_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool has_prefix(std::string_view text, std::string_view prefix) {
    return text.substr(0, prefix.size()) == prefix;
}
}  // namespace

bool is_valid_id(std::string_view text, std::string_view prefix) {
    if (!has_prefix(text, prefix)) return false;
    const auto body = text.substr(prefix.size());
    if (body.empty() || body.size() > kIdBodyMax) return false;
    for (char c : body) {
        if (!is_alnum(c)) return false;
    }
    return true;
}

Result<ActorId> ActorId::parse(std::string_view text) {
    if (is_valid_id(text, UserTag::kPrefix) || is_valid_id(text, MerchantTag::kPrefix)) {
        return ActorId(std::string(text));
    }
    return fail(ErrorCode::invalid_request, "not a valid actor id: expected a 'usr_' or 'mer_' id");
}

bool ActorId::is_user() const {
    return has_prefix(value_, UserTag::kPrefix);
}
bool ActorId::is_merchant() const {
    return has_prefix(value_, MerchantTag::kPrefix);
}

}  // namespace redloop::engine
