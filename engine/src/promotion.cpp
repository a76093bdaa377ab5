#include "redloop/engine/promotion.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <numeric>
#include <set>

namespace redloop::engine {

namespace {
// Products of two amounts up to kMoneyMinorMax (10^12) need more than 64 bits.
__extension__ typedef __int128 Wide;
}  // namespace

std::string_view to_string(CouponKind k) {
    switch (k) {
        case CouponKind::percent:
            return "percent";
        case CouponKind::amount:
            return "amount";
    }
    return "amount";
}

std::optional<CouponKind> parse_coupon_kind(std::string_view s) {
    for (auto k : {CouponKind::percent, CouponKind::amount}) {
        if (to_string(k) == s) return k;
    }
    return std::nullopt;
}

std::string_view to_string(CouponStatus s) {
    switch (s) {
        case CouponStatus::active:
            return "active";
        case CouponStatus::disabled:
            return "disabled";
    }
    return "disabled";
}

std::optional<CouponStatus> parse_coupon_status(std::string_view s) {
    for (auto st : {CouponStatus::active, CouponStatus::disabled}) {
        if (to_string(st) == s) return st;
    }
    return std::nullopt;
}

std::string_view to_string(RedemptionState s) {
    switch (s) {
        case RedemptionState::held:
            return "held";
        case RedemptionState::redeemed:
            return "redeemed";
        case RedemptionState::returned:
            return "returned";
    }
    return "returned";
}

RedemptionState redemption_state_for(OrderStatus s) {
    switch (s) {
        case OrderStatus::awaiting_payment:
            return RedemptionState::held;
        case OrderStatus::paid:
        case OrderStatus::shipped:
        case OrderStatus::delivered:
        case OrderStatus::completed:
        case OrderStatus::refunded:
            return RedemptionState::redeemed;
        case OrderStatus::cancelled:
        case OrderStatus::expired:
            return RedemptionState::returned;
    }
    return RedemptionState::returned;
}

Result<std::string> normalize_coupon_code(std::string_view code) {
    if (code.size() < kCouponCodeMin || code.size() > kCouponCodeMax) {
        return fail(ErrorCode::invalid_request, fmt::format("code must be {} to {} characters",
                                                            kCouponCodeMin, kCouponCodeMax));
    }
    std::string out;
    out.reserve(code.size());
    for (char c : code) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!ok) {
            return fail(ErrorCode::invalid_request,
                        "code may hold only letters, digits, '-' and '_'");
        }
        out.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
    }
    return out;
}

namespace {

Status check_limits(std::optional<std::int64_t> max_redemptions,
                    std::optional<std::int64_t> per_user_limit) {
    if (max_redemptions && (*max_redemptions < 1 || *max_redemptions > kCouponLimitMax)) {
        return fail(ErrorCode::invalid_request,
                    fmt::format("max_redemptions must be between 1 and {}", kCouponLimitMax));
    }
    if (per_user_limit && (*per_user_limit < 1 || *per_user_limit > kCouponLimitMax)) {
        return fail(ErrorCode::invalid_request,
                    fmt::format("per_user_limit must be between 1 and {}", kCouponLimitMax));
    }
    return {};
}

Status check_window(std::optional<Timestamp> starts_at, std::optional<Timestamp> ends_at) {
    if (starts_at && ends_at && !(*starts_at < *ends_at)) {
        return fail(ErrorCode::invalid_request, "ends_at must be after starts_at");
    }
    return {};
}

}  // namespace

Result<Coupon> decide_create_coupon(const CreateCoupon& cmd, std::optional<MerchantId> merchant,
                                    Currency currency, const ActorId& creator, Timestamp now) {
    auto code = normalize_coupon_code(cmd.code);
    if (!code) return fail(code.error());
    switch (cmd.kind) {
        case CouponKind::percent:
            if (cmd.value_currency) {
                return fail(ErrorCode::invalid_request,
                            "value of a percent coupon is a number between 1 and 100, not money");
            }
            if (cmd.value < 1 || cmd.value > 100) {
                return fail(ErrorCode::invalid_request,
                            "value of a percent coupon must be between 1 and 100");
            }
            break;
        case CouponKind::amount:
            if (cmd.value_currency && !(*cmd.value_currency == currency)) {
                return fail(
                    ErrorCode::invalid_request,
                    fmt::format("value must be in {}, the coupon's currency", currency.code()));
            }
            if (cmd.value < 1 || cmd.value > kMoneyMinorMax) {
                return fail(ErrorCode::invalid_request,
                            fmt::format("value of an amount coupon is in minor units of {}, "
                                        "between 1 and {}",
                                        currency.code(), kMoneyMinorMax));
            }
            break;
    }
    Money min_spend{0, currency};
    if (cmd.min_spend) {
        if (!(cmd.min_spend->currency == currency)) {
            return fail(ErrorCode::invalid_request,
                        fmt::format("min_spend must be in {}", currency.code()));
        }
        if (cmd.min_spend->minor < 0) {
            return fail(ErrorCode::invalid_request, "min_spend must not be negative");
        }
        min_spend = *cmd.min_spend;
    }
    if (auto s = check_window(cmd.starts_at, cmd.ends_at); !s) return fail(s.error());
    if (cmd.ends_at && !(now < *cmd.ends_at)) {
        return fail(ErrorCode::invalid_request, "ends_at is already past");
    }
    if (auto s = check_limits(cmd.max_redemptions, cmd.per_user_limit); !s) {
        return fail(s.error());
    }
    Coupon c;
    c.code = *code;
    c.merchant_id = std::move(merchant);
    c.kind = cmd.kind;
    c.value = cmd.value;
    c.currency = currency;
    c.min_spend = min_spend;
    c.starts_at = cmd.starts_at;
    c.ends_at = cmd.ends_at;
    c.max_redemptions = cmd.max_redemptions;
    c.per_user_limit = cmd.per_user_limit;
    c.status = CouponStatus::active;
    c.created_by = creator;
    c.created_at = now;
    c.updated_at = now;
    return c;
}

Result<Coupon> decide_update_coupon(const Coupon& c, const CouponPatch& p, Timestamp now) {
    Coupon out = c;
    if (p.status) out.status = *p.status;
    if (p.ends_at) {
        if (auto s = check_window(out.starts_at, p.ends_at); !s) return fail(s.error());
        out.ends_at = p.ends_at;
    }
    if (p.max_redemptions) {
        if (auto s = check_limits(p.max_redemptions, std::nullopt); !s) return fail(s.error());
        out.max_redemptions = p.max_redemptions;
    }
    out.updated_at = now;
    return out;
}

std::vector<std::int64_t> split_proportionally(std::int64_t amount,
                                               const std::vector<std::int64_t>& weights) {
    std::vector<std::int64_t> parts(weights.size(), 0);
    Wide total = 0;
    for (auto w : weights) total += w;
    if (amount <= 0 || total <= 0) return parts;
    std::vector<std::pair<Wide, std::size_t>> remainders;
    std::int64_t given = 0;
    for (std::size_t i = 0; i < weights.size(); ++i) {
        const Wide exact = static_cast<Wide>(amount) * weights[i];
        parts[i] = static_cast<std::int64_t>(exact / total);
        given += parts[i];
        remainders.emplace_back(exact % total, i);
    }
    // Largest remainder first; the earlier part on ties.
    std::stable_sort(remainders.begin(), remainders.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    for (std::size_t k = 0; given < amount; ++k) {
        ++parts[remainders[k % remainders.size()].second];
        ++given;
    }
    return parts;
}

namespace {

Error not_applicable(const Coupon& c, std::string_view why) {
    return Error{ErrorCode::conflict, fmt::format("coupon {} does not apply: {}", c.code, why)};
}

// The discount a coupon gives on `base` (what the goods it covers still cost).
std::int64_t discount_on(const Coupon& c, std::int64_t base) {
    if (base <= 0) return 0;
    switch (c.kind) {
        case CouponKind::percent:
            return static_cast<std::int64_t>(static_cast<Wide>(base) * c.value / 100);
        case CouponKind::amount:
            return std::min(c.value, base);
    }
    return 0;
}

// Why the coupon cannot be used by this user now, whatever the cart holds.
std::optional<std::string> unusable(const CouponRequest& r, Timestamp now) {
    const Coupon& c = r.coupon;
    if (c.status == CouponStatus::disabled) return "it has been withdrawn";
    if (c.starts_at && now < *c.starts_at) {
        return "it is valid from " + to_rfc3339(*c.starts_at);
    }
    if (c.ends_at && !(now < *c.ends_at)) return "it ended at " + to_rfc3339(*c.ends_at);
    if (c.max_redemptions && c.in_use >= *c.max_redemptions) {
        return "it has been fully redeemed";
    }
    if (c.per_user_limit && r.user_in_use >= *c.per_user_limit) {
        return fmt::format("you have used it {} time{} already (limit {} per person)",
                           r.user_in_use, r.user_in_use == 1 ? "" : "s", *c.per_user_limit);
    }
    return std::nullopt;
}

}  // namespace

Result<std::vector<CouponShare>> apply_coupons(CheckoutPlan& plan,
                                               const std::vector<CouponRequest>& coupons,
                                               Timestamp now) {
    std::vector<CouponShare> shares;
    if (coupons.empty()) return shares;
    if (coupons.size() > kCouponsPerCheckoutMax) {
        return fail(ErrorCode::invalid_request,
                    fmt::format("at most {} coupon codes per checkout", kCouponsPerCheckoutMax));
    }
    const CouponRequest* platform = nullptr;
    std::map<MerchantId, const CouponRequest*> by_shop;
    for (const auto& r : coupons) {
        const Coupon& c = r.coupon;
        if (auto why = unusable(r, now)) return fail(not_applicable(c, *why));
        if (c.is_platform()) {
            if (platform) {
                return fail(not_applicable(c, "only one platform coupon per checkout (" +
                                                  platform->coupon.code + " is one)"));
            }
            platform = &r;
            continue;
        }
        const auto shop = std::find_if(plan.orders.begin(), plan.orders.end(), [&](const Order& o) {
            return o.merchant_id == *c.merchant_id;
        });
        if (shop == plan.orders.end()) {
            return fail(not_applicable(c, "it is for shop " + c.merchant_id->str() +
                                              ", and nothing in the cart is from it"));
        }
        if (auto [it, fresh] = by_shop.emplace(*c.merchant_id, &r); !fresh) {
            return fail(not_applicable(c, "only one coupon per shop (" + it->second->coupon.code +
                                              " is for the same shop)"));
        }
    }

    // Shop coupons, each on its shop's order.
    std::vector<std::int64_t> off(plan.orders.size(), 0);
    for (std::size_t i = 0; i < plan.orders.size(); ++i) {
        const Order& o = plan.orders[i];
        auto it = by_shop.find(o.merchant_id);
        if (it == by_shop.end()) continue;
        const Coupon& c = it->second->coupon;
        if (!(c.currency == o.subtotal.currency)) {
            return fail(
                not_applicable(c, fmt::format("it is in {}, the order in {}", c.currency.code(),
                                              o.subtotal.currency.code())));
        }
        if (o.subtotal.minor < c.min_spend.minor) {
            return fail(
                not_applicable(c, fmt::format("the shop's goods come to {}, it needs a spend of {}",
                                              to_display(o.subtotal), to_display(c.min_spend))));
        }
        const std::int64_t d = discount_on(c, o.subtotal.minor);
        off[i] = d;
        if (d > 0) shares.push_back(CouponShare{c.code, o.id, Money{d, o.subtotal.currency}});
    }

    // The platform coupon, split over what the orders still cost.
    if (platform) {
        const Coupon& c = platform->coupon;
        std::int64_t goods = 0;
        std::vector<std::int64_t> weights;
        for (std::size_t i = 0; i < plan.orders.size(); ++i) {
            const Order& o = plan.orders[i];
            if (!(c.currency == o.subtotal.currency)) {
                return fail(
                    not_applicable(c, fmt::format("it is in {}, an order in {}", c.currency.code(),
                                                  o.subtotal.currency.code())));
            }
            goods += o.subtotal.minor;
            weights.push_back(o.subtotal.minor - off[i]);
        }
        if (goods < c.min_spend.minor) {
            return fail(not_applicable(
                c, fmt::format("the goods come to {}, it needs a spend of {}",
                               to_display(Money{goods, c.currency}), to_display(c.min_spend))));
        }
        const std::int64_t base = std::accumulate(weights.begin(), weights.end(), std::int64_t{0});
        const auto parts = split_proportionally(discount_on(c, base), weights);
        for (std::size_t i = 0; i < plan.orders.size(); ++i) {
            off[i] += parts[i];
            if (parts[i] > 0) {
                shares.push_back(
                    CouponShare{c.code, plan.orders[i].id, Money{parts[i], c.currency}});
            }
        }
    }

    // Orders, their lines and the payment after discounts.
    std::int64_t payment = 0;
    for (std::size_t i = 0; i < plan.orders.size(); ++i) {
        Order& o = plan.orders[i];
        const Currency cur = o.subtotal.currency;
        assert(off[i] <= o.subtotal.minor);
        for (const auto& s : shares) {
            if (s.order_id == o.id) o.discounts.push_back(OrderDiscount{s.code, s.amount});
        }
        o.discount = Money{off[i], cur};
        std::vector<std::int64_t> line_weights;
        for (const auto& l : o.lines) line_weights.push_back(l.line_total.minor);
        const auto line_parts = split_proportionally(off[i], line_weights);
        for (std::size_t k = 0; k < o.lines.size(); ++k) {
            o.lines[k].discount = Money{line_parts[k], cur};
        }
        o.total = Money{o.subtotal.minor + o.shipping_fee.minor - off[i], cur};
        o.refunded = Money{0, cur};
        payment += o.total.minor;
    }
    plan.payment.amount = Money{payment, plan.payment.amount.currency};
    plan.payment.refunded = Money{0, plan.payment.amount.currency};
    return shares;
}

}  // namespace redloop::engine
