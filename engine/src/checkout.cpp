#include "redloop/engine/checkout.hpp"

#include <fmt/format.h>

#include <set>

namespace redloop::engine {

std::string_view to_string(CheckoutStatus s) {
    switch (s) {
        case CheckoutStatus::awaiting_payment:
            return "awaiting_payment";
        case CheckoutStatus::paid:
            return "paid";
        case CheckoutStatus::expired:
            return "expired";
        case CheckoutStatus::cancelled:
            return "cancelled";
    }
    return "awaiting_payment";
}

std::optional<CheckoutStatus> parse_checkout_status(std::string_view s) {
    for (auto st : {CheckoutStatus::awaiting_payment, CheckoutStatus::paid, CheckoutStatus::expired,
                    CheckoutStatus::cancelled}) {
        if (to_string(st) == s) return st;
    }
    return std::nullopt;
}

std::size_t merchants_in(const PricedCart& cart) {
    std::set<MerchantId> merchants;
    for (const auto& l : cart.lines) merchants.insert(l.sku.merchant_id);
    return merchants.size();
}

Error out_of_stock_error(const std::vector<SkuId>& skus) {
    std::string names;
    for (const auto& s : skus) names += (names.empty() ? "" : ", ") + s.str();
    return Error{ErrorCode::out_of_stock,
                 fmt::format("not enough stock for {}; nothing was reserved", names)};
}

Result<CheckoutPlan> decide_checkout(const UserId& user, const PricedCart& cart,
                                     const std::map<MerchantId, Merchant>& merchants,
                                     const ShippingAddress& address, const CheckoutIds& ids,
                                     Timestamp now, std::int64_t ttl_ms) {
    if (cart.lines.empty()) return fail(ErrorCode::conflict, "the cart is empty");
    if (auto s = validate("shipping_address", address); !s) return fail(s.error());
    std::vector<SkuId> archived, short_of_stock;
    for (const auto& l : cart.lines) {
        if (l.problem == LineProblem::archived) archived.push_back(l.sku.id);
        if (l.problem == LineProblem::insufficient_stock) short_of_stock.push_back(l.sku.id);
    }
    if (!archived.empty()) {
        std::string names;
        for (const auto& s : archived) names += (names.empty() ? "" : ", ") + s.str();
        return fail(ErrorCode::conflict,
                    fmt::format("no longer sold (archived): {}; remove them from the cart", names));
    }
    if (!short_of_stock.empty()) return fail(out_of_stock_error(short_of_stock));

    // One order per merchant, merchants in id order so the split is deterministic.
    std::map<MerchantId, std::vector<const PricedLine*>> by_merchant;
    for (const auto& l : cart.lines) by_merchant[l.sku.merchant_id].push_back(&l);
    if (ids.orders.size() < by_merchant.size()) {
        return fail(ErrorCode::internal, "not enough order ids for the merchants in the cart");
    }

    CheckoutPlan plan;
    plan.checkout = Checkout{ids.checkout, user, CheckoutStatus::awaiting_payment, ids.payment, now,
                             now + ttl_ms, now};
    Money amount{0, cart.subtotal.currency};
    std::size_t i = 0;
    for (const auto& [merchant_id, lines] : by_merchant) {
        const auto m = merchants.find(merchant_id);
        if (m == merchants.end()) {
            return fail(ErrorCode::internal, "merchant " + merchant_id.str() + " not loaded");
        }
        Order o;
        o.id = ids.orders[i++];
        o.checkout_id = ids.checkout;
        o.user_id = user;
        o.merchant_id = merchant_id;
        o.status = OrderStatus::awaiting_payment;
        o.subtotal = Money{0, m->second.currency};
        for (const PricedLine* l : lines) {
            o.lines.push_back(OrderLine{l->sku.id, l->title + " · " + l->sku.title,
                                        l->line.quantity, l->sku.price, l->line_total,
                                        l->line.note_id, Money{0, l->line_total.currency}});
            auto sum = add(o.subtotal, l->line_total);
            if (!sum) return fail(sum.error());
            o.subtotal = *sum;
            plan.reservations.push_back(StockMovement{l->sku.id, MovementKind::reservation, 0,
                                                      l->line.quantity, "checkout", o.id.str(),
                                                      ActorId::of(user), now});
        }
        o.shipping_fee = shipping_fee_for(m->second, o.subtotal);
        auto total = add(o.subtotal, o.shipping_fee);
        if (!total) return fail(total.error());
        o.total = *total;
        o.discount = Money{0, o.total.currency};
        o.refunded = Money{0, o.total.currency};
        o.address = address;
        o.history.push_back(HistoryEntry{OrderStatus::awaiting_payment, now});
        o.created_at = now;
        o.updated_at = now;
        auto a = add(amount, o.total);
        if (!a) return fail(a.error());
        amount = *a;
        plan.orders.push_back(std::move(o));
    }
    plan.payment.id = ids.payment;
    plan.payment.checkout_id = ids.checkout;
    plan.payment.user_id = user;
    plan.payment.status = PaymentStatus::requires_confirmation;
    plan.payment.amount = amount;
    plan.payment.refunded = Money{0, amount.currency};
    plan.payment.created_at = now;
    plan.payment.updated_at = now;
    plan.payment.history.push_back(PaymentHistoryEntry{PaymentStatus::requires_confirmation, now});
    return plan;
}

Result<ReleasePlan> decide_release(const Order& order, OrderEvent event, const ActorId& actor,
                                   Timestamp now) {
    if (order.status != OrderStatus::awaiting_payment ||
        (event != OrderEvent::cancel && event != OrderEvent::expire)) {
        // Cancelling a paid order refunds it: that belongs to the payment flow.
        auto to = next_status(order.id, order.status, event);
        if (!to) return fail(to.error());
        return fail(ErrorCode::invalid_transition,
                    fmt::format("order {} is {}: releasing stock applies only to unpaid orders",
                                order.id.str(), to_string(order.status)));
    }
    auto moved = apply_event(order, event, now);
    if (!moved) return fail(moved.error());
    ReleasePlan plan{*moved, {}};
    const char* reason = event == OrderEvent::cancel ? "order cancelled" : "checkout expired";
    for (const auto& l : order.lines) {
        plan.releases.push_back(StockMovement{l.sku_id, MovementKind::release, 0, -l.quantity,
                                              reason, order.id.str(), actor, now});
    }
    return plan;
}

CheckoutAfterRelease settle_checkout(const Checkout& checkout, const Payment& payment,
                                     const std::vector<Order>& orders, OrderEvent event,
                                     Timestamp now) {
    CheckoutAfterRelease out{checkout, payment};
    Money still_due{0, payment.amount.currency};
    bool any_awaiting = false;
    for (const auto& o : orders) {
        if (o.status == OrderStatus::awaiting_payment) {
            any_awaiting = true;
            still_due.minor += o.total.minor;
        }
    }
    // Lowered only while the buyer has not confirmed: once confirmed the provider is charging
    // the whole sum, so the amount stays what it charges, and the success refunds the share of
    // the orders gone meanwhile (decide_payment_succeeded).
    if (payment.status == PaymentStatus::requires_confirmation &&
        still_due.minor != payment.amount.minor) {
        out.payment.amount = still_due;
        out.payment.updated_at = now;
    }
    if (!any_awaiting && checkout.status == CheckoutStatus::awaiting_payment) {
        out.checkout.status =
            event == OrderEvent::expire ? CheckoutStatus::expired : CheckoutStatus::cancelled;
        out.checkout.updated_at = now;
        out.payment.amount = payment.amount;  // what was asked stays on record
        if (auto cancelled = apply_event(out.payment, PaymentEvent::cancel, now)) {
            out.payment = *cancelled;
        }
    }
    return out;
}

}  // namespace redloop::engine
