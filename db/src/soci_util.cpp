#include "soci_util.hpp"

#include <fmt/format.h>

namespace redloop::db {

engine::Error classify_exception(const std::exception& e) {
    const std::string what = e.what();
    const bool constraint = what.find("UNIQUE constraint") != std::string::npos ||
                            what.find("duplicate key") != std::string::npos ||
                            what.find("CHECK constraint") != std::string::npos ||
                            what.find("violates check constraint") != std::string::npos;
    if (constraint) {
        return engine::Error{engine::ErrorCode::conflict,
                             fmt::format("the change conflicts with stored data: {}", what)};
    }
    return engine::Error{engine::ErrorCode::internal, fmt::format("database error: {}", what)};
}

engine::Money money_from(long long minor, const std::string& currency) {
    auto c = engine::Currency::parse(currency);
    return engine::Money{static_cast<std::int64_t>(minor), c ? *c : engine::Currency::cny()};
}

}  // namespace redloop::db
