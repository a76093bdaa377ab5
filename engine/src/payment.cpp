#include "redloop/engine/payment.hpp"

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

}  // namespace redloop::engine
