#pragma once
// The boundary to a payment provider, in the engine's terms. A provider answers later, through
// the signed webhook endpoint (payment.succeeded / payment.failed / refund.succeeded), never by
// calling the engine directly; these calls only start the work.
#include <string_view>

#include "redloop/engine/payment.hpp"

namespace redloop::engine {

class PaymentProvider {
  public:
    virtual ~PaymentProvider() = default;
    // Starts taking `payment.amount` with the card.
    virtual Status confirm(const Payment& payment, std::string_view card_number) = 0;
    // Starts giving back `refund.amount` of its payment.
    virtual Status refund(const Refund& refund) = 0;
};

}  // namespace redloop::engine
