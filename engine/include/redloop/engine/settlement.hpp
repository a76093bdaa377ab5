#pragma once
// What a payment's outcome does to its checkout, orders, stock and refunds: the decisions
// behind confirm, the provider's webhooks, and merchant refunds.
#include <optional>
#include <string>
#include <vector>

#include "redloop/engine/checkout.hpp"
#include "redloop/engine/order.hpp"
#include "redloop/engine/payment.hpp"

namespace redloop::engine {

// Confirming: the checkout must still be awaiting payment and not past expires_at.
Result<Payment> decide_confirm(const Payment& payment, const Checkout& checkout, Timestamp now);

struct PaymentOutcome {
    Payment payment;
    Checkout checkout;
    std::vector<Order> orders;               // the orders that moved
    std::vector<StockMovement> movements;    // sales (success) or releases (failure)
    std::optional<Refund> automatic_refund;  // a success after the checkout was cancelled
};

// The provider took the money. `reported` must equal the payment's amount. Orders awaiting
// payment become paid and their reservations sales. If the checkout was cancelled or expired
// meanwhile, nothing is sold: the whole amount is refunded automatically.
Result<PaymentOutcome> decide_payment_succeeded(const Payment& payment, const Checkout& checkout,
                                                const std::vector<Order>& orders,
                                                const Money& reported, const RefundId& refund_id,
                                                Timestamp now);

// The provider declined: the payment fails, unpaid orders are cancelled, stock released.
Result<PaymentOutcome> decide_payment_failed(const Payment& payment, const Checkout& checkout,
                                             const std::vector<Order>& orders,
                                             const Money& reported, Timestamp now);

struct CreateRefund {
    Money amount;
    std::string reason;
    bool restock = false;
};
Status validate(const CreateRefund& cmd);

// A merchant's refund of an order that was paid: amount > 0 and never past what is left
// (total - refunded - pending refunds). A restock puts all the order's units back, so it is
// accepted only with the refund of all that is left (the order then ends refunded, and can't
// ship), and once per order.
Result<Refund> decide_refund(const Order& order, const Payment& payment,
                             const std::vector<Refund>& refunds_of_order, const CreateRefund& cmd,
                             const RefundId& id, Timestamp now);

// Cancelling a paid order (before shipping): the order is cancelled now and refunded in full
// with a restock, completed when the provider confirms the refund.
struct PaidCancellation {
    Order order;
    Refund refund;
};
Result<PaidCancellation> decide_cancel_paid(const Order& order,
                                            const std::vector<Refund>& refunds_of_order,
                                            const PaymentId& payment_id, const RefundId& id,
                                            const ActorId& actor, Timestamp now);

struct RefundOutcome {
    Refund refund;
    std::optional<Order> order;  // with refunded_amount (and maybe status) moved
    Payment payment;
    std::vector<StockMovement> restocks;  // when the refund restocks and the order wasn't yet
};

// The provider confirmed a refund: money and (optionally) stock move back.
Result<RefundOutcome> decide_refund_succeeded(const Refund& refund,
                                              const std::optional<Order>& order,
                                              const Payment& payment, const Money& reported,
                                              Timestamp now);

}  // namespace redloop::engine
