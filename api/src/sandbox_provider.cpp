#include "sandbox_provider.hpp"

#include <boost/json.hpp>

#include "codec.hpp"
#include "id_generator.hpp"

namespace redloop::api {

namespace json = boost::json;
using namespace redloop::engine;

SandboxProvider::SandboxProvider(std::string webhook_secret, std::chrono::milliseconds delay,
                                 int senders)
    : sender_(std::move(webhook_secret), "/v1/webhooks/payments", 20, senders), delay_(delay) {}

void SandboxProvider::set_target(const std::string& host, unsigned short port) {
    sender_.set_target(host, port);
}

Status SandboxProvider::confirm(const Payment& payment, std::string_view card_number) {
    auto outcome = sandbox_card_outcome(card_number);
    if (!outcome) return fail(outcome.error());
    const bool ok = *outcome == CardOutcome::succeed;
    const json::object event{{"id", new_id<EventId>().str()},
                             {"type", ok ? "payment.succeeded" : "payment.failed"},
                             {"data", json::object{{"payment_id", payment.id.str()},
                                                   {"amount", encode_money(payment.amount)}}}};
    sender_.send(json::serialize(event), delay_);
    return {};
}

Status SandboxProvider::refund(const Refund& refund) {
    const json::object event{{"id", new_id<EventId>().str()},
                             {"type", "refund.succeeded"},
                             {"data", json::object{{"payment_id", refund.payment_id.str()},
                                                   {"refund_id", refund.id.str()},
                                                   {"amount", encode_money(refund.amount)}}}};
    sender_.send(json::serialize(event), delay_);
    return {};
}

}  // namespace redloop::api
