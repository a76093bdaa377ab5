#pragma once
// Checkout: a priced cart becomes one order per merchant, one payment, and reservations.
#include <cstdint>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include "redloop/engine/cart.hpp"
#include "redloop/engine/merchant.hpp"
#include "redloop/engine/order.hpp"
#include "redloop/engine/payment.hpp"

namespace redloop::engine {

enum class CheckoutStatus { awaiting_payment, paid, expired, cancelled };
std::string_view to_string(CheckoutStatus s);
std::optional<CheckoutStatus> parse_checkout_status(std::string_view s);

struct Checkout {
    CheckoutId id;
    UserId user_id;
    CheckoutStatus status = CheckoutStatus::awaiting_payment;
    PaymentId payment_id;
    Timestamp created_at;
    Timestamp expires_at;
    Timestamp updated_at;
    std::optional<Timestamp> extended_at =
        std::nullopt;  // when its reservation was extended (once at most)
};

struct CheckoutIds {
    CheckoutId checkout;
    PaymentId payment;
    std::vector<OrderId> orders;  // at least one per merchant in the cart
};

struct CheckoutPlan {
    Checkout checkout;
    std::vector<Order> orders;  // by merchant id
    Payment payment;
    std::vector<StockMovement> reservations;  // one per order line, ref = order id
};

// Number of orders a cart splits into.
std::size_t merchants_in(const PricedCart& cart);

// All or nothing: an empty cart or an archived SKU is a conflict; SKUs short of stock are
// out_of_stock, all named. Storage reserves with guarded updates and reports races the same way.
Result<CheckoutPlan> decide_checkout(const UserId& user, const PricedCart& cart,
                                     const std::map<MerchantId, Merchant>& merchants,
                                     const ShippingAddress& address, const CheckoutIds& ids,
                                     Timestamp now, std::int64_t ttl_ms);

// The out_of_stock error naming the SKUs (storage uses it when a guarded reservation fails).
Error out_of_stock_error(const std::vector<SkuId>& skus);

}  // namespace redloop::engine

namespace redloop::engine {

// Cancelling or expiring an unpaid order: the order moves, its reservations are released.
struct ReleasePlan {
    Order order;
    std::vector<StockMovement> releases;
};
Result<ReleasePlan> decide_release(const Order& order, OrderEvent event, const ActorId& actor,
                                   Timestamp now);

// After some orders of a checkout were released: the payment covers the orders still awaiting
// payment; with none left the checkout is cancelled (or expired) and the payment cancelled.
struct CheckoutAfterRelease {
    Checkout checkout;
    Payment payment;
};
CheckoutAfterRelease settle_checkout(const Checkout& checkout, const Payment& payment,
                                     const std::vector<Order>& orders, OrderEvent event,
                                     Timestamp now);

}  // namespace redloop::engine
