#pragma once
// The payment of a checkout (one per checkout, for all its orders).
#include <optional>
#include <string_view>

#include "redloop/engine/ids.hpp"
#include "redloop/engine/money.hpp"
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

struct Payment {
    PaymentId id;
    CheckoutId checkout_id;
    UserId user_id;
    PaymentStatus status = PaymentStatus::requires_confirmation;
    Money amount;
    Timestamp created_at;
    Timestamp updated_at;
};

}  // namespace redloop::engine
