#include "redloop/engine/payment.hpp"

#include <fmt/format.h>

namespace redloop::engine {

std::string_view to_string(PaymentStatus s) {
    switch (s) {
        case PaymentStatus::requires_confirmation:
            return "requires_confirmation";
        case PaymentStatus::processing:
            return "processing";
        case PaymentStatus::succeeded:
            return "succeeded";
        case PaymentStatus::failed:
            return "failed";
        case PaymentStatus::cancelled:
            return "cancelled";
        case PaymentStatus::partially_refunded:
            return "partially_refunded";
        case PaymentStatus::refunded:
            return "refunded";
    }
    return "requires_confirmation";
}

std::optional<PaymentStatus> parse_payment_status(std::string_view s) {
    for (auto st : {PaymentStatus::requires_confirmation, PaymentStatus::processing,
                    PaymentStatus::succeeded, PaymentStatus::failed, PaymentStatus::cancelled,
                    PaymentStatus::partially_refunded, PaymentStatus::refunded}) {
        if (to_string(st) == s) return st;
    }
    return std::nullopt;
}

std::string_view to_string(PaymentEvent e) {
    switch (e) {
        case PaymentEvent::confirm:
            return "confirm";
        case PaymentEvent::succeed:
            return "succeed";
        case PaymentEvent::fail:
            return "fail";
        case PaymentEvent::cancel:
            return "cancel";
        case PaymentEvent::refund_part:
            return "refund_part";
        case PaymentEvent::refund_all:
            return "refund_all";
    }
    return "confirm";
}

Result<Payment> apply_event(const Payment& payment, PaymentEvent event, Timestamp now) {
    const auto to = payment_transition(payment.status, event);
    if (!to) {
        return fail(ErrorCode::invalid_transition,
                    fmt::format("payment {} is {}: it cannot {}", payment.id.str(),
                                to_string(payment.status), to_string(event)));
    }
    Payment out = payment;
    out.status = *to;
    out.updated_at = now;
    if (*to != payment.status) out.history.push_back(PaymentHistoryEntry{*to, now});
    return out;
}

Result<CardOutcome> sandbox_card_outcome(std::string_view card) {
    if (card == "4242424242424242") return CardOutcome::succeed;
    if (card == "4000000000000002") return CardOutcome::decline;
    return fail(ErrorCode::invalid_request,
                "card_number: the sandbox knows the test cards 4242424242424242 (succeeds) and "
                "4000000000000002 (declined)");
}

std::string_view to_string(RefundStatus s) {
    switch (s) {
        case RefundStatus::pending:
            return "pending";
        case RefundStatus::succeeded:
            return "succeeded";
    }
    return "pending";
}

std::optional<RefundStatus> parse_refund_status(std::string_view s) {
    if (s == "pending") return RefundStatus::pending;
    if (s == "succeeded") return RefundStatus::succeeded;
    return std::nullopt;
}

}  // namespace redloop::engine
