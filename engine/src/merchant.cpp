#include "redloop/engine/merchant.hpp"

#include <fmt/format.h>

#include "redloop/engine/text.hpp"

namespace redloop::engine {

Merchant new_merchant(const MerchantId& id, Timestamp now) {
    Merchant m;
    m.id = id;
    m.name = id.str();
    m.currency = Currency::cny();
    m.shipping_fee = Money{0, m.currency};
    m.return_window_days = kReturnWindowDaysDefault;
    m.created_at = now;
    m.updated_at = now;
    return m;
}

namespace {
Status check_amount(std::string_view field, const Money& m) {
    if (m.minor < 0 || m.minor > kMoneyMinorMax) {
        return fail(ErrorCode::invalid_request,
                    fmt::format("{}.amount must be between 0 and {}", field, kMoneyMinorMax));
    }
    return {};
}
Status check_currency(std::string_view field, const Merchant& merchant, const Money& m) {
    if (!(m.currency == merchant.currency)) {
        return fail(ErrorCode::invalid_request,
                    fmt::format("{}.currency {} does not match the shop's currency {}", field,
                                m.currency.code(), merchant.currency.code()));
    }
    return {};
}
}  // namespace

Status validate(const MerchantPatch& p) {
    if (p.name) {
        if (auto s = check_text("name", *p.name, 1, kMerchantNameMax, Lines::single); !s) return s;
    }
    if (p.shipping_fee) {
        if (auto s = check_amount("shipping_fee", *p.shipping_fee); !s) return s;
    }
    if (p.free_shipping_over) {
        if (auto s = check_amount("free_shipping_over", *p.free_shipping_over); !s) return s;
    }
    if (p.return_window_days &&
        (*p.return_window_days < 0 || *p.return_window_days > kReturnWindowDaysMax)) {
        return fail(
            ErrorCode::invalid_request,
            fmt::format("return_window_days must be between 0 and {}", kReturnWindowDaysMax));
    }
    return {};
}

Result<Merchant> apply_patch(const Merchant& merchant, const MerchantPatch& p, Timestamp now) {
    Merchant m = merchant;
    if (p.name) m.name = *p.name;
    if (p.shipping_fee) {
        if (auto s = check_currency("shipping_fee", m, *p.shipping_fee); !s) return fail(s.error());
        m.shipping_fee = *p.shipping_fee;
    }
    if (p.set_free_shipping_over) {
        if (p.free_shipping_over) {
            if (auto s = check_currency("free_shipping_over", m, *p.free_shipping_over); !s) {
                return fail(s.error());
            }
        }
        m.free_shipping_over = p.free_shipping_over;
    }
    if (p.return_window_days) m.return_window_days = *p.return_window_days;
    m.updated_at = now;
    return m;
}

Money shipping_fee_for(const Merchant& merchant, const Money& subtotal) {
    if (merchant.free_shipping_over && subtotal.minor >= merchant.free_shipping_over->minor) {
        return Money{0, merchant.currency};
    }
    return merchant.shipping_fee;
}

}  // namespace redloop::engine
