#pragma once
// Orders, their status machine, and the shapes a checkout produces.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "redloop/engine/ids.hpp"
#include "redloop/engine/money.hpp"
#include "redloop/engine/state_machine.hpp"
#include "redloop/engine/time.hpp"

namespace redloop::engine {

enum class OrderStatus {
    awaiting_payment,
    paid,
    shipped,
    delivered,
    completed,
    cancelled,
    expired,
    refunded,
};
std::string_view to_string(OrderStatus s);
std::optional<OrderStatus> parse_order_status(std::string_view s);

enum class OrderEvent { pay, ship, deliver, complete, cancel, expire, refund };
std::string_view to_string(OrderEvent e);

using OrderTransition = Transition<OrderStatus, OrderEvent>;

// Every legal move of an order; anything else is invalid_transition.
inline constexpr std::array<OrderTransition, 11> kOrderTransitions = {{
    {OrderStatus::awaiting_payment, OrderEvent::pay, OrderStatus::paid},
    {OrderStatus::awaiting_payment, OrderEvent::cancel, OrderStatus::cancelled},
    {OrderStatus::awaiting_payment, OrderEvent::expire, OrderStatus::expired},
    {OrderStatus::paid, OrderEvent::ship, OrderStatus::shipped},
    {OrderStatus::paid, OrderEvent::cancel, OrderStatus::cancelled},
    {OrderStatus::shipped, OrderEvent::deliver, OrderStatus::delivered},
    {OrderStatus::delivered, OrderEvent::complete, OrderStatus::completed},
    {OrderStatus::paid, OrderEvent::refund, OrderStatus::refunded},
    {OrderStatus::shipped, OrderEvent::refund, OrderStatus::refunded},
    {OrderStatus::delivered, OrderEvent::refund, OrderStatus::refunded},
    {OrderStatus::completed, OrderEvent::refund, OrderStatus::refunded},
}};

constexpr std::optional<OrderStatus> order_transition(OrderStatus from, OrderEvent event) {
    return find_transition(kOrderTransitions, from, event);
}

// The next status, or invalid_transition naming the order, its status and the event.
Result<OrderStatus> next_status(const OrderId& id, OrderStatus from, OrderEvent event);

inline constexpr std::size_t kAddressFieldMax = 200;

struct ShippingAddress {
    std::string name;
    std::string phone;
    std::string line1;
    std::string city;
    std::string postal_code;
    std::string country;  // ISO 3166-1 alpha-2, upper case

    friend bool operator==(const ShippingAddress&, const ShippingAddress&) = default;
};
// `field` is the JSON name ("shipping_address").
Status validate(std::string_view field, const ShippingAddress& a);

struct OrderLine {
    SkuId sku_id;
    std::string title;
    std::int64_t quantity = 0;
    Money unit_price;
    Money line_total;
    std::optional<NoteId> note_id;
    Money discount;  // this line's part of the order's discount (coupons)
    // Who earns commission on the line and at what rate, fixed at checkout (commission.hpp);
    // nullopt when nobody does.
    std::optional<UserId> creator{};
    int commission_rate_bps = 0;
};

struct HistoryEntry {
    OrderStatus status = OrderStatus::awaiting_payment;
    Timestamp at;
};

inline constexpr std::size_t kCarrierMax = 100;
inline constexpr std::size_t kTrackingMax = 100;

struct Shipment {
    std::string carrier;
    std::string tracking_number;
};
Status validate(const Shipment& s);

// One coupon's part of an order's discount.
struct OrderDiscount {
    std::string code;
    Money amount;

    friend bool operator==(const OrderDiscount&, const OrderDiscount&) = default;
};

struct Order {
    OrderId id;
    CheckoutId checkout_id;
    UserId user_id;
    MerchantId merchant_id;
    OrderStatus status = OrderStatus::awaiting_payment;
    std::vector<OrderLine> lines;
    Money subtotal;
    Money shipping_fee;
    Money discount;                        // the sum of `discounts`
    std::vector<OrderDiscount> discounts;  // in the order the coupons were applied
    Money total;                           // subtotal + shipping_fee - discount
    Money refunded;
    std::optional<ShippingAddress> address;  // nullopt once erased for privacy
    std::optional<Shipment> shipment;
    bool restocked = false;  // its units went back into stock with a refund
    std::vector<HistoryEntry> history;
    Timestamp created_at;
    Timestamp updated_at;
};

// Moves the order and records the move in its history.
Result<Order> apply_event(const Order& order, OrderEvent event, Timestamp now);

}  // namespace redloop::engine
