#pragma once
// The payment of a checkout (one per checkout, for all its orders).
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "redloop/engine/ids.hpp"
#include "redloop/engine/money.hpp"
#include "redloop/engine/state_machine.hpp"
#include "redloop/engine/time.hpp"

namespace redloop::engine {

enum class PaymentStatus {
    requires_confirmation,
    processing,
    succeeded,
    failed,
    cancelled,
    partially_refunded,
    refunded,
};
std::string_view to_string(PaymentStatus s);
std::optional<PaymentStatus> parse_payment_status(std::string_view s);

enum class PaymentEvent { confirm, succeed, fail, cancel, refund_part, refund_all };
std::string_view to_string(PaymentEvent e);

using PaymentTransition = Transition<PaymentStatus, PaymentEvent>;

// Every legal move of a payment. A checkout that expires while its payment is processing
// cancels it; a success that arrives after that is kept (the money was taken) and refunded
// in full automatically, so `cancelled -> succeeded` exists only for that late success.
inline constexpr std::array<PaymentTransition, 10> kPaymentTransitions = {{
    {PaymentStatus::requires_confirmation, PaymentEvent::confirm, PaymentStatus::processing},
    {PaymentStatus::requires_confirmation, PaymentEvent::cancel, PaymentStatus::cancelled},
    {PaymentStatus::processing, PaymentEvent::succeed, PaymentStatus::succeeded},
    {PaymentStatus::processing, PaymentEvent::fail, PaymentStatus::failed},
    {PaymentStatus::processing, PaymentEvent::cancel, PaymentStatus::cancelled},
    {PaymentStatus::cancelled, PaymentEvent::succeed, PaymentStatus::succeeded},
    {PaymentStatus::succeeded, PaymentEvent::refund_part, PaymentStatus::partially_refunded},
    {PaymentStatus::succeeded, PaymentEvent::refund_all, PaymentStatus::refunded},
    {PaymentStatus::partially_refunded, PaymentEvent::refund_part,
     PaymentStatus::partially_refunded},
    {PaymentStatus::partially_refunded, PaymentEvent::refund_all, PaymentStatus::refunded},
}};

constexpr std::optional<PaymentStatus> payment_transition(PaymentStatus from, PaymentEvent event) {
    return find_transition(kPaymentTransitions, from, event);
}

struct PaymentHistoryEntry {
    PaymentStatus status = PaymentStatus::requires_confirmation;
    Timestamp at;
};

struct Payment {
    PaymentId id;
    CheckoutId checkout_id;
    UserId user_id;
    PaymentStatus status = PaymentStatus::requires_confirmation;
    Money amount;
    Money refunded;  // sum of succeeded refunds
    Timestamp created_at;
    Timestamp updated_at;
    std::vector<PaymentHistoryEntry> history;
};

// Moves the payment (recording the move) or refuses with invalid_transition.
Result<Payment> apply_event(const Payment& payment, PaymentEvent event, Timestamp now);

// ---- the sandbox provider's test cards ----
enum class CardOutcome { succeed, decline };
// 4242424242424242 succeeds, 4000000000000002 is declined; anything else is invalid_request.
Result<CardOutcome> sandbox_card_outcome(std::string_view card_number);

// ---- refunds ----
enum class RefundStatus { pending, succeeded };
std::string_view to_string(RefundStatus s);
std::optional<RefundStatus> parse_refund_status(std::string_view s);

inline constexpr std::size_t kRefundReasonMax = 200;

struct Refund {
    RefundId id;
    std::optional<OrderId> order_id;  // nullopt: the automatic refund of a late payment
    PaymentId payment_id;
    Money amount;
    std::string reason;
    bool restock = false;
    RefundStatus status = RefundStatus::pending;
    Timestamp created_at;
    Timestamp updated_at;
};

}  // namespace redloop::engine
