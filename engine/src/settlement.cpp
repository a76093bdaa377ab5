#include "redloop/engine/settlement.hpp"

#include <fmt/format.h>

#include "redloop/engine/text.hpp"

namespace redloop::engine {

namespace {

Status check_reported(const Payment& payment, const Money& reported) {
    if (!(reported == payment.amount)) {
        return fail(
            ErrorCode::invalid_request,
            fmt::format("data.amount {} does not match payment {} of {}", to_display(reported),
                        payment.id.str(), to_display(payment.amount)));
    }
    return {};
}

// What is left to refund on an order: total - refunded - pending refunds.
Money refundable(const Order& order, const std::vector<Refund>& refunds) {
    Money left = order.total;
    left.minor -= order.refunded.minor;
    for (const auto& r : refunds) {
        if (r.status == RefundStatus::pending) left.minor -= r.amount.minor;
    }
    return left;
}

bool was_paid(OrderStatus s) {
    return s == OrderStatus::paid || s == OrderStatus::shipped || s == OrderStatus::delivered ||
           s == OrderStatus::completed;
}

}  // namespace

Result<Payment> decide_confirm(const Payment& payment, const Checkout& checkout, Timestamp now) {
    if (checkout.status == CheckoutStatus::awaiting_payment && now >= checkout.expires_at) {
        return fail(ErrorCode::conflict,
                    fmt::format("checkout {} expired at {}; its stock is being released",
                                checkout.id.str(), to_rfc3339(checkout.expires_at)));
    }
    return apply_event(payment, PaymentEvent::confirm, now);
}

namespace {
// A refund of no order: money the provider took that no paid order accounts for.
Refund refund_of_payment(const RefundId& id, const Payment& payment, Money amount,
                         std::string reason, Timestamp now) {
    return Refund{id,    std::nullopt,          payment.id, amount, std::move(reason),
                  false, RefundStatus::pending, now,        now};
}
}  // namespace

Result<PaymentOutcome> decide_payment_succeeded(const Payment& payment, const Checkout& checkout,
                                                const std::vector<Order>& orders,
                                                const Money& reported, const RefundId& refund_id,
                                                Timestamp now) {
    if (auto s = check_reported(payment, reported); !s) return fail(s.error());
    const bool late = payment.status == PaymentStatus::cancelled;
    auto paid = apply_event(payment, PaymentEvent::succeed, now);
    if (!paid) return fail(paid.error());
    PaymentOutcome out{*paid, checkout, {}, {}, std::nullopt};
    if (late) {
        // The checkout expired or was cancelled while the provider worked: keep the money's
        // record and give it all back; no order becomes paid.
        out.automatic_refund = refund_of_payment(
            refund_id, payment, payment.amount,
            "payment succeeded after the checkout was " + std::string(to_string(checkout.status)),
            now);
        return out;
    }
    out.checkout.status = CheckoutStatus::paid;
    out.checkout.updated_at = now;
    std::int64_t paid_minor = 0;
    // The orders cancelled while the provider charged: since the confirmation (the payment's
    // last move to processing). Those cancelled before it were taken off the amount already.
    std::optional<Timestamp> confirmed_at;
    for (const auto& h : payment.history) {
        if (h.status == PaymentStatus::processing) confirmed_at = h.at;
    }
    std::string gone;
    for (const auto& o : orders) {
        if (o.status != OrderStatus::awaiting_payment) {  // cancelled before or during it
            const bool during =
                !confirmed_at || o.history.empty() || o.history.back().at >= *confirmed_at;
            if (during) gone += (gone.empty() ? "" : ", ") + o.id.str();
            continue;
        }
        auto moved = apply_event(o, OrderEvent::pay, now);
        if (!moved) return fail(moved.error());
        paid_minor += o.total.minor;
        for (const auto& l : o.lines) {
            out.movements.push_back(StockMovement{l.sku_id, MovementKind::sale, -l.quantity,
                                                  -l.quantity, "payment succeeded", o.id.str(),
                                                  ActorId::of(payment.user_id), now});
        }
        out.orders.push_back(*moved);
    }
    if (paid_minor < payment.amount.minor) {
        // An order was cancelled after the buyer confirmed: the provider charged its share too.
        out.automatic_refund = refund_of_payment(
            refund_id, payment, Money{payment.amount.minor - paid_minor, payment.amount.currency},
            "payment succeeded after the cancellation of " + gone, now);
    }
    return out;
}

Result<PaymentOutcome> decide_payment_failed(const Payment& payment, const Checkout& checkout,
                                             const std::vector<Order>& orders,
                                             const Money& reported, Timestamp now) {
    if (auto s = check_reported(payment, reported); !s) return fail(s.error());
    auto failed = apply_event(payment, PaymentEvent::fail, now);
    if (!failed) return fail(failed.error());
    PaymentOutcome out{*failed, checkout, {}, {}, std::nullopt};
    out.checkout.status = CheckoutStatus::cancelled;
    out.checkout.updated_at = now;
    for (const auto& o : orders) {
        if (o.status != OrderStatus::awaiting_payment) continue;
        auto released = decide_release(o, OrderEvent::cancel, ActorId::system(), now);
        if (!released) return fail(released.error());
        for (auto& m : released->releases) {
            m.reason = "payment declined";
            out.movements.push_back(std::move(m));
        }
        out.orders.push_back(released->order);
    }
    return out;
}

Status validate(const CreateRefund& cmd) {
    if (cmd.amount.minor <= 0) {
        return fail(ErrorCode::invalid_request, "amount.amount must be greater than 0");
    }
    return check_text("reason", cmd.reason, 1, kRefundReasonMax, Lines::single);
}

Result<Refund> decide_refund(const Order& order, const Payment& payment,
                             const std::vector<Refund>& refunds_of_order, const CreateRefund& cmd,
                             const RefundId& id, Timestamp now) {
    if (auto s = validate(cmd); !s) return fail(s.error());
    if (!was_paid(order.status)) {
        return fail(ErrorCode::invalid_transition,
                    fmt::format("order {} is {}: only a paid order can be refunded", order.id.str(),
                                to_string(order.status)));
    }
    if (!(cmd.amount.currency == order.total.currency)) {
        return fail(ErrorCode::invalid_request,
                    fmt::format("amount.currency must be {}", order.total.currency.code()));
    }
    const Money left = refundable(order, refunds_of_order);
    if (cmd.amount.minor > left.minor) {
        return fail(
            ErrorCode::conflict,
            fmt::format("order {} has {} left to refund (total {}, refunded {}, pending "
                        "{}); {} asked",
                        order.id.str(), to_display(left), to_display(order.total),
                        to_display(order.refunded),
                        to_display(Money{order.total.minor - order.refunded.minor - left.minor,
                                         left.currency}),
                        to_display(cmd.amount)));
    }
    if (cmd.restock && cmd.amount.minor != left.minor) {
        return fail(ErrorCode::conflict,
                    fmt::format("restock returns all of order {}'s units, so it goes with the "
                                "refund of all that is left ({}); refund {} without restock",
                                order.id.str(), to_display(left), to_display(cmd.amount)));
    }
    bool restock_pending = order.restocked;
    for (const auto& r : refunds_of_order) restock_pending = restock_pending || r.restock;
    if (cmd.restock && restock_pending) {
        return fail(ErrorCode::conflict,
                    fmt::format("order {} is already restocked (or a refund restocking it is "
                                "pending)",
                                order.id.str()));
    }
    return Refund{
        id,  order.id, payment.id, cmd.amount, cmd.reason, cmd.restock, RefundStatus::pending,
        now, now};
}

Result<PaidCancellation> decide_cancel_paid(const Order& order,
                                            const std::vector<Refund>& refunds_of_order,
                                            const PaymentId& payment_id, const RefundId& id,
                                            const ActorId& actor, Timestamp now) {
    auto moved = apply_event(order, OrderEvent::cancel, now);
    if (!moved) return fail(moved.error());
    if (order.status != OrderStatus::paid) {
        return fail(ErrorCode::invalid_transition,
                    fmt::format("order {} is {}: it cannot cancel", order.id.str(),
                                to_string(order.status)));
    }
    const Money left = refundable(order, refunds_of_order);
    bool restock = !order.restocked;
    for (const auto& r : refunds_of_order) restock = restock && !r.restock;
    PaidCancellation out{
        *moved, Refund{id, order.id, payment_id, left, "order cancelled by " + actor.str(), restock,
                       RefundStatus::pending, now, now}};
    return out;
}

Result<RefundOutcome> decide_refund_succeeded(const Refund& refund,
                                              const std::optional<Order>& order,
                                              const Payment& payment, const Money& reported,
                                              Timestamp now) {
    if (!(reported == refund.amount)) {
        return fail(ErrorCode::invalid_request,
                    fmt::format("data.amount {} does not match refund {} of {}",
                                to_display(reported), refund.id.str(), to_display(refund.amount)));
    }
    if (refund.status != RefundStatus::pending) {
        return fail(ErrorCode::invalid_transition,
                    fmt::format("refund {} has already succeeded", refund.id.str()));
    }
    RefundOutcome out{refund, order, payment, {}};
    out.refund.status = RefundStatus::succeeded;
    out.refund.updated_at = now;

    Money refunded = payment.refunded;
    refunded.minor += refund.amount.minor;
    if (refunded.minor > payment.amount.minor) {
        return fail(ErrorCode::conflict,
                    fmt::format("refund {} would take payment {} past its amount", refund.id.str(),
                                payment.id.str()));
    }
    auto moved = apply_event(payment,
                             refunded.minor == payment.amount.minor ? PaymentEvent::refund_all
                                                                    : PaymentEvent::refund_part,
                             now);
    if (!moved) return fail(moved.error());
    out.payment = *moved;
    out.payment.refunded = refunded;

    if (order) {
        Order o = *order;
        o.refunded.minor += refund.amount.minor;
        o.updated_at = now;
        if (o.refunded.minor > o.total.minor) {
            return fail(ErrorCode::conflict,
                        fmt::format("refund {} would take order {} past its total", refund.id.str(),
                                    o.id.str()));
        }
        if (o.refunded.minor == o.total.minor && was_paid(o.status)) {
            auto r = apply_event(o, OrderEvent::refund, now);
            if (!r) return fail(r.error());
            o = *r;
            o.refunded = order->refunded;
            o.refunded.minor += refund.amount.minor;
        }
        if (refund.restock && !o.restocked) {
            o.restocked = true;
            for (const auto& l : o.lines) {
                out.restocks.push_back(StockMovement{l.sku_id, MovementKind::restock, l.quantity, 0,
                                                     "refund " + refund.id.str(), o.id.str(),
                                                     ActorId::system(), now});
            }
        }
        out.order = o;
    }
    return out;
}

}  // namespace redloop::engine
