#include "redloop/engine/money.hpp"

#include <fmt/format.h>

#include <cstdlib>

namespace redloop::engine {

namespace {
struct KnownCurrency {
    std::string_view code;
    int digits;
};
// The currencies the engine accepts; extend with care (every amount is in minor units).
constexpr KnownCurrency kKnown[] = {
    {"CNY", 2}, {"HKD", 2}, {"TWD", 2}, {"USD", 2}, {"EUR", 2}, {"GBP", 2},
    {"JPY", 0}, {"KRW", 0}, {"SGD", 2}, {"AUD", 2}, {"CAD", 2}, {"MYR", 2},
};
}  // namespace

Currency::Currency(std::string_view code, int digits) : minor_digits_(digits) {
    for (std::size_t i = 0; i < 3; ++i) code_[i] = code[i];
}

Result<Currency> Currency::parse(std::string_view code) {
    for (const auto& k : kKnown) {
        if (k.code == code) return Currency(k.code, k.digits);
    }
    return fail(ErrorCode::invalid_request,
                fmt::format("unsupported currency '{}': expected an upper-case ISO 4217 code such "
                            "as CNY",
                            code.substr(0, 16)));
}

namespace {
Result<Money> checked(std::int64_t minor, const Currency& c) {
    if (minor > kMoneyMinorMax || minor < -kMoneyMinorMax) {
        return fail(ErrorCode::invalid_request, "amount out of range");
    }
    return Money{minor, c};
}
Status same_currency(const Money& a, const Money& b) {
    if (!(a.currency == b.currency)) {
        return fail(ErrorCode::invalid_request, fmt::format("cannot mix currencies {} and {}",
                                                            a.currency.code(), b.currency.code()));
    }
    return {};
}
}  // namespace

Result<Money> add(const Money& a, const Money& b) {
    if (auto s = same_currency(a, b); !s) return fail(s.error());
    return checked(a.minor + b.minor, a.currency);  // both within 1e12: no overflow
}

Result<Money> subtract(const Money& a, const Money& b) {
    if (auto s = same_currency(a, b); !s) return fail(s.error());
    return checked(a.minor - b.minor, a.currency);
}

Result<Money> multiply(const Money& a, std::int64_t quantity) {
    if (quantity != 0 && std::llabs(a.minor) > kMoneyMinorMax / std::llabs(quantity)) {
        return fail(ErrorCode::invalid_request, "amount out of range");
    }
    return checked(a.minor * quantity, a.currency);
}

std::string to_display(const Money& m) {
    const int digits = m.currency.minor_digits();
    if (digits == 0) return fmt::format("{} {}", m.minor, m.currency.code());
    std::int64_t scale = 1;
    for (int i = 0; i < digits; ++i) scale *= 10;
    const std::int64_t abs = std::llabs(m.minor);
    return fmt::format("{}{}.{:0{}} {}", m.minor < 0 ? "-" : "", abs / scale, abs % scale, digits,
                       m.currency.code());
}

}  // namespace redloop::engine
