#include "redloop/engine/flash_sale.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string>

namespace redloop::engine {

bool counts_toward_limit(OrderStatus s) {
    return std::find(kLimitCountedStatuses.begin(), kLimitCountedStatuses.end(), s) !=
           kLimitCountedStatuses.end();
}

namespace {

// The one wording of a refusal, for the cart and the checkout alike.
std::string over_limit(const Sku& sku, std::int64_t bought, std::int64_t quantity) {
    const std::int64_t left = std::max<std::int64_t>(0, *sku.per_user_limit - bought);
    return fmt::format(
        "sku {} is limited to {} per buyer: you have {} in your orders and may buy {} more, "
        "not {}",
        sku.id.str(), *sku.per_user_limit, bought, left, quantity);
}

bool within_limit(const Sku& sku, std::int64_t bought, std::int64_t quantity) {
    return !sku.per_user_limit || bought + quantity <= *sku.per_user_limit;
}

}  // namespace

Status check_purchase_limit(const Sku& sku, std::int64_t bought, std::int64_t quantity) {
    if (within_limit(sku, bought, quantity)) return {};
    return fail(ErrorCode::conflict, over_limit(sku, bought, quantity));
}

Status check_purchase_limits(const PricedCart& cart, const std::map<SkuId, std::int64_t>& bought) {
    std::string details;
    for (const auto& l : cart.lines) {
        const auto it = bought.find(l.sku.id);
        const std::int64_t already = it == bought.end() ? 0 : it->second;
        if (within_limit(l.sku, already, l.line.quantity)) continue;
        details += (details.empty() ? "" : "; ") + over_limit(l.sku, already, l.line.quantity);
    }
    if (details.empty()) return {};
    return fail(ErrorCode::conflict, details + "; nothing was reserved");
}

Result<Checkout> decide_extend_checkout(const Checkout& checkout, const Payment& payment,
                                        Timestamp now, std::int64_t ttl_ms) {
    const auto id = checkout.id.str();
    if (checkout.status != CheckoutStatus::awaiting_payment) {
        return fail(ErrorCode::invalid_transition,
                    fmt::format("checkout {} is {}: only a checkout awaiting payment can be "
                                "extended",
                                id, to_string(checkout.status)));
    }
    if (checkout.expires_at <= now) {
        return fail(ErrorCode::conflict,
                    fmt::format("checkout {} expired at {}: its reservation can no longer be "
                                "extended",
                                id, to_rfc3339(checkout.expires_at)));
    }
    if (checkout.extended_at) {
        return fail(ErrorCode::conflict,
                    fmt::format("checkout {} was already extended at {}: a checkout can be "
                                "extended once",
                                id, to_rfc3339(*checkout.extended_at)));
    }
    if (payment.status != PaymentStatus::requires_confirmation &&
        payment.status != PaymentStatus::processing) {
        return fail(ErrorCode::invalid_transition,
                    fmt::format("payment {} of checkout {} is {}: only a checkout whose payment "
                                "is under way can be extended",
                                payment.id.str(), id, to_string(payment.status)));
    }
    Checkout out = checkout;
    out.expires_at = std::max(checkout.expires_at, now + ttl_ms);
    out.extended_at = now;
    out.updated_at = now;
    return out;
}

}  // namespace redloop::engine
