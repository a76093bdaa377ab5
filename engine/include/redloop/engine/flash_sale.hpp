#pragma once
// Flash-sale protection: a per-buyer limit on the units of one SKU, and the reservation
// countdown (a checkout's hold on its stock may be extended once while its payment is under way).
#include <array>
#include <cstdint>
#include <map>

#include "redloop/engine/cart.hpp"
#include "redloop/engine/checkout.hpp"
#include "redloop/engine/order.hpp"
#include "redloop/engine/payment.hpp"

namespace redloop::engine {

// Orders whose units count against a buyer's per-SKU limit: those holding stock or sold and not
// given back. Cancelled, expired and refunded orders free their units again.
inline constexpr std::array<OrderStatus, 5> kLimitCountedStatuses = {
    OrderStatus::awaiting_payment, OrderStatus::paid, OrderStatus::shipped, OrderStatus::delivered,
    OrderStatus::completed};
bool counts_toward_limit(OrderStatus s);

// `bought`: units of the SKU the buyer already has in counted orders. A SKU without a limit
// passes; otherwise bought + quantity must not exceed the limit, else 409 conflict naming the
// SKU, the limit and how many the buyer may still buy.
Status check_purchase_limit(const Sku& sku, std::int64_t bought, std::int64_t quantity);

// Every cart line of a limited SKU at once (all offenders named). `bought` maps SKU ids to the
// units already in counted orders; a missing SKU counts as 0.
Status check_purchase_limits(const PricedCart& cart, const std::map<SkuId, std::int64_t>& bought);

// POST /v1/checkouts/{id}/extend: allowed once, while the checkout awaits payment, has not
// reached expires_at and its payment is requires_confirmation or processing. The new
// expires_at is now + ttl_ms, never earlier than the current one.
Result<Checkout> decide_extend_checkout(const Checkout& checkout, const Payment& payment,
                                        Timestamp now, std::int64_t ttl_ms);

}  // namespace redloop::engine
