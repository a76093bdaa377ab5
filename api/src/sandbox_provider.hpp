#pragma once
// The built-in sandbox payment provider: it decides like a card network would (by test card)
// and answers the way a real provider does, with a signed webhook delivered to the engine's own
// POST /v1/webhooks/payments a moment later.
#include <chrono>
#include <string>

#include "redloop/engine/provider.hpp"
#include "webhook_sender.hpp"

namespace redloop::api {

class SandboxProvider : public engine::PaymentProvider {
  public:
    // `senders`: webhooks in flight at once (each waits for the engine's commit).
    SandboxProvider(std::string webhook_secret,
                    std::chrono::milliseconds delay = std::chrono::milliseconds(20),
                    int senders = 32);
    // Where the engine listens (set once the server has bound its port).
    void set_target(const std::string& host, unsigned short port);

    engine::Status confirm(const engine::Payment& payment, std::string_view card_number) override;
    engine::Status refund(const engine::Refund& refund) override;

    WebhookSender& sender() { return sender_; }

  private:
    WebhookSender sender_;
    std::chrono::milliseconds delay_;
};

}  // namespace redloop::api
