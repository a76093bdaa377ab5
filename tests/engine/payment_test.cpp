#include <doctest/doctest.h>

#include <set>

#include "redloop/engine/settlement.hpp"

using namespace redloop::engine;

namespace {
const Timestamp kNow{1'800'000'000'000};
Money cny(std::int64_t minor) {
    return Money{minor, Currency::cny()};
}
const UserId kUser = *UserId::parse("usr_lin");

constexpr PaymentStatus kAllStatuses[] = {PaymentStatus::requires_confirmation,
                                          PaymentStatus::processing,
                                          PaymentStatus::succeeded,
                                          PaymentStatus::failed,
                                          PaymentStatus::cancelled,
                                          PaymentStatus::partially_refunded,
                                          PaymentStatus::refunded};
constexpr PaymentEvent kAllEvents[] = {PaymentEvent::confirm,     PaymentEvent::succeed,
                                       PaymentEvent::fail,        PaymentEvent::cancel,
                                       PaymentEvent::refund_part, PaymentEvent::refund_all};

Payment payment_in(PaymentStatus s, std::int64_t amount = 10000) {
    Payment p;
    p.id = *PaymentId::parse("pay_1");
    p.checkout_id = *CheckoutId::parse("chk_1");
    p.user_id = kUser;
    p.status = s;
    p.amount = cny(amount);
    p.refunded = cny(0);
    return p;
}

Checkout checkout_in(CheckoutStatus s) {
    return Checkout{*CheckoutId::parse("chk_1"),
                    kUser,
                    s,
                    *PaymentId::parse("pay_1"),
                    kNow,
                    kNow + 60'000,
                    kNow};
}

Order order(const char* id, OrderStatus s, std::int64_t total) {
    Order o;
    o.id = *OrderId::parse(id);
    o.checkout_id = *CheckoutId::parse("chk_1");
    o.user_id = kUser;
    o.merchant_id = *MerchantId::parse("mer_tea");
    o.status = s;
    o.lines = {OrderLine{*SkuId::parse("sku_a"), "A", 2, cny(total / 2), cny(total), std::nullopt,
                         cny(0)}};
    o.subtotal = cny(total);
    o.shipping_fee = cny(0);
    o.total = cny(total);
    o.refunded = cny(0);
    o.history = {HistoryEntry{s, kNow}};
    return o;
}
}  // namespace

TEST_CASE("every row of the payment table moves and is recorded") {
    for (const auto& t : kPaymentTransitions) {
        CAPTURE(to_string(t.from));
        CAPTURE(to_string(t.event));
        auto moved = apply_event(payment_in(t.from), t.event, kNow + 1);
        REQUIRE(moved);
        CHECK(moved->status == t.to);
        CHECK(moved->updated_at == kNow + 1);
        if (t.to != t.from) CHECK(moved->history.back().status == t.to);
    }
}

TEST_CASE("every payment move not in the table is invalid_transition") {
    std::set<std::pair<int, int>> legal;
    for (const auto& t : kPaymentTransitions) legal.emplace(int(t.from), int(t.event));
    for (auto s : kAllStatuses) {
        for (auto e : kAllEvents) {
            if (legal.contains({int(s), int(e)})) continue;
            auto r = apply_event(payment_in(s), e, kNow);
            REQUIRE_FALSE(r);
            CHECK(r.error().code == ErrorCode::invalid_transition);
            CHECK(r.error().detail.starts_with("payment pay_1 is " + std::string(to_string(s))));
        }
    }
}

TEST_CASE("sandbox cards") {
    CHECK(*sandbox_card_outcome("4242424242424242") == CardOutcome::succeed);
    CHECK(*sandbox_card_outcome("4000000000000002") == CardOutcome::decline);
    CHECK(sandbox_card_outcome("4111111111111111").error().code == ErrorCode::invalid_request);
}

TEST_CASE("confirm needs an unexpired checkout and a payment awaiting confirmation") {
    const auto c = checkout_in(CheckoutStatus::awaiting_payment);
    auto ok = decide_confirm(payment_in(PaymentStatus::requires_confirmation), c, kNow);
    REQUIRE(ok);
    CHECK(ok->status == PaymentStatus::processing);
    CHECK(decide_confirm(payment_in(PaymentStatus::requires_confirmation), c, kNow + 60'000)
              .error()
              .code == ErrorCode::conflict);
    CHECK(decide_confirm(payment_in(PaymentStatus::processing), c, kNow).error().code ==
          ErrorCode::invalid_transition);
}

TEST_CASE("success pays the unpaid orders and turns reservations into sales") {
    const std::vector<Order> orders = {order("ord_a", OrderStatus::awaiting_payment, 6000),
                                       order("ord_b", OrderStatus::cancelled, 4000)};
    auto p = payment_in(PaymentStatus::processing, 6000);
    auto out = decide_payment_succeeded(p, checkout_in(CheckoutStatus::awaiting_payment), orders,
                                        cny(6000), *RefundId::parse("ref_1"), kNow);
    REQUIRE(out);
    CHECK(out->payment.status == PaymentStatus::succeeded);
    CHECK(out->checkout.status == CheckoutStatus::paid);
    REQUIRE(out->orders.size() == 1);
    CHECK(out->orders[0].status == OrderStatus::paid);
    REQUIRE(out->movements.size() == 1);
    CHECK(out->movements[0].kind == MovementKind::sale);
    CHECK(out->movements[0].on_hand_delta == -2);
    CHECK(out->movements[0].reserved_delta == -2);
    CHECK_FALSE(out->automatic_refund);

    auto wrong = decide_payment_succeeded(p, checkout_in(CheckoutStatus::awaiting_payment), orders,
                                          cny(5999), *RefundId::parse("ref_1"), kNow);
    REQUIRE_FALSE(wrong);
    CHECK(wrong.error().code == ErrorCode::invalid_request);
}

TEST_CASE("a success after one order was cancelled during the charge refunds that share") {
    const std::vector<Order> orders = {order("ord_a", OrderStatus::awaiting_payment, 6000),
                                       order("ord_b", OrderStatus::cancelled, 4000)};
    auto out = decide_payment_succeeded(payment_in(PaymentStatus::processing, 10000),
                                        checkout_in(CheckoutStatus::awaiting_payment), orders,
                                        cny(10000), *RefundId::parse("ref_1"), kNow);
    REQUIRE(out);
    CHECK(out->payment.status == PaymentStatus::succeeded);
    CHECK(out->payment.amount == cny(10000));
    REQUIRE(out->orders.size() == 1);
    CHECK(out->orders[0].status == OrderStatus::paid);
    REQUIRE(out->automatic_refund);
    CHECK(out->automatic_refund->amount == cny(4000));
    CHECK(out->automatic_refund->payment_id == out->payment.id);
    CHECK_FALSE(out->automatic_refund->order_id);
    CHECK(out->automatic_refund->reason.find("ord_b") != std::string::npos);

    // One order cancelled before the confirmation (its share already off the amount), one
    // after: the refund is the second's share, and names only it.
    auto p = payment_in(PaymentStatus::processing, 9000);
    p.history = {PaymentHistoryEntry{PaymentStatus::requires_confirmation, kNow},
                 PaymentHistoryEntry{PaymentStatus::processing, kNow + 10}};
    auto before = order("ord_before", OrderStatus::cancelled, 4000);
    before.history.push_back(HistoryEntry{OrderStatus::cancelled, kNow + 5});
    auto after = order("ord_after", OrderStatus::cancelled, 3000);
    after.history.push_back(HistoryEntry{OrderStatus::cancelled, kNow + 20});
    auto mixed = decide_payment_succeeded(
        p, checkout_in(CheckoutStatus::awaiting_payment),
        {order("ord_kept", OrderStatus::awaiting_payment, 6000), before, after}, cny(9000),
        *RefundId::parse("ref_2"), kNow + 30);
    REQUIRE(mixed);
    REQUIRE(mixed->automatic_refund);
    CHECK(mixed->automatic_refund->amount == cny(3000));
    CHECK(mixed->automatic_refund->reason.find("ord_after") != std::string::npos);
    CHECK(mixed->automatic_refund->reason.find("ord_before") == std::string::npos);
}

TEST_CASE("a success after the checkout expired is refunded, never paid") {
    const std::vector<Order> orders = {order("ord_a", OrderStatus::expired, 6000)};
    auto out = decide_payment_succeeded(payment_in(PaymentStatus::cancelled, 6000),
                                        checkout_in(CheckoutStatus::expired), orders, cny(6000),
                                        *RefundId::parse("ref_1"), kNow);
    REQUIRE(out);
    CHECK(out->payment.status == PaymentStatus::succeeded);
    CHECK(out->checkout.status == CheckoutStatus::expired);
    CHECK(out->orders.empty());
    CHECK(out->movements.empty());
    REQUIRE(out->automatic_refund);
    CHECK(out->automatic_refund->amount == cny(6000));
    CHECK_FALSE(out->automatic_refund->order_id);
}

TEST_CASE("a decline cancels the unpaid orders and releases their stock") {
    const std::vector<Order> orders = {order("ord_a", OrderStatus::awaiting_payment, 6000)};
    auto out = decide_payment_failed(payment_in(PaymentStatus::processing, 6000),
                                     checkout_in(CheckoutStatus::awaiting_payment), orders,
                                     cny(6000), kNow);
    REQUIRE(out);
    CHECK(out->payment.status == PaymentStatus::failed);
    CHECK(out->checkout.status == CheckoutStatus::cancelled);
    CHECK(out->orders.at(0).status == OrderStatus::cancelled);
    CHECK(out->movements.at(0).kind == MovementKind::release);
    CHECK(out->movements.at(0).reserved_delta == -2);
    CHECK_FALSE(decide_payment_failed(payment_in(PaymentStatus::succeeded, 6000),
                                      checkout_in(CheckoutStatus::paid), orders, cny(6000), kNow));
}

TEST_CASE("refunds: partial, then the rest; never past the total; restock once") {
    auto o = order("ord_a", OrderStatus::delivered, 10000);
    auto p = payment_in(PaymentStatus::succeeded, 10000);
    auto r1 = decide_refund(o, p, {}, CreateRefund{cny(3000), "scratched", false},
                            *RefundId::parse("ref_1"), kNow);
    REQUIRE(r1);
    CHECK(r1->status == RefundStatus::pending);
    // 3000 pending: at most 7000 more
    auto over = decide_refund(o, p, {*r1}, CreateRefund{cny(7001), "more", false},
                              *RefundId::parse("ref_2"), kNow);
    REQUIRE_FALSE(over);
    CHECK(over.error().code == ErrorCode::conflict);
    CHECK_FALSE(decide_refund(o, p, {}, CreateRefund{cny(0), "zero", false},
                              *RefundId::parse("ref_2"), kNow));
    CHECK_FALSE(
        decide_refund(o, p, {}, CreateRefund{cny(1), "", false}, *RefundId::parse("ref_2"), kNow));
    CHECK(decide_refund(order("ord_x", OrderStatus::awaiting_payment, 10000), p, {},
                        CreateRefund{cny(1), "x", false}, *RefundId::parse("ref_2"), kNow)
              .error()
              .code == ErrorCode::invalid_transition);

    auto partial_restock =
        decide_refund(o, p, {*r1}, CreateRefund{cny(1000), "one unit back", true},
                      *RefundId::parse("ref_2"), kNow);
    REQUIRE_FALSE(partial_restock);
    CHECK(partial_restock.error().code == ErrorCode::conflict);
    CHECK(partial_restock.error().detail.find("refund of all that is left") != std::string::npos);

    auto done1 = decide_refund_succeeded(*r1, o, p, cny(3000), kNow + 1);
    REQUIRE(done1);
    CHECK(done1->payment.status == PaymentStatus::partially_refunded);
    CHECK(done1->payment.refunded == cny(3000));
    CHECK(done1->order->refunded == cny(3000));
    CHECK(done1->order->status == OrderStatus::delivered);
    CHECK(done1->restocks.empty());
    CHECK(decide_refund_succeeded(done1->refund, o, p, cny(3000), kNow).error().code ==
          ErrorCode::invalid_transition);

    auto r2 =
        decide_refund(*done1->order, done1->payment, {done1->refund},
                      CreateRefund{cny(7000), "returned", true}, *RefundId::parse("ref_2"), kNow);
    REQUIRE(r2);
    auto done2 = decide_refund_succeeded(*r2, done1->order, done1->payment, cny(7000), kNow + 2);
    REQUIRE(done2);
    CHECK(done2->payment.status == PaymentStatus::refunded);
    CHECK(done2->order->status == OrderStatus::refunded);
    CHECK(done2->order->refunded == cny(10000));
    CHECK(done2->order->restocked);
    REQUIRE(done2->restocks.size() == 1);
    CHECK(done2->restocks[0].kind == MovementKind::restock);
    CHECK(done2->restocks[0].on_hand_delta == 2);
    CHECK(decide_refund(*done2->order, done2->payment, {}, CreateRefund{cny(1), "again", false},
                        *RefundId::parse("ref_3"), kNow)
              .error()
              .code == ErrorCode::invalid_transition);
    CHECK(
        decide_refund_succeeded(*r2, done1->order, done1->payment, cny(6999), kNow).error().code ==
        ErrorCode::invalid_request);
}

TEST_CASE("cancelling a paid order refunds what is left and restocks") {
    auto o = order("ord_a", OrderStatus::paid, 10000);
    auto plan = decide_cancel_paid(o, {}, *PaymentId::parse("pay_1"), *RefundId::parse("ref_1"),
                                   ActorId::of(kUser), kNow);
    REQUIRE(plan);
    CHECK(plan->order.status == OrderStatus::cancelled);
    CHECK(plan->refund.amount == cny(10000));
    CHECK(plan->refund.restock);
    auto shipped = order("ord_b", OrderStatus::shipped, 10000);
    CHECK(decide_cancel_paid(shipped, {}, *PaymentId::parse("pay_1"), *RefundId::parse("ref_1"),
                             ActorId::of(kUser), kNow)
              .error()
              .code == ErrorCode::invalid_transition);
    // the refund's success keeps the order cancelled and fills refunded_amount
    auto done =
        decide_refund_succeeded(plan->refund, plan->order,
                                payment_in(PaymentStatus::succeeded, 10000), cny(10000), kNow + 1);
    REQUIRE(done);
    CHECK(done->order->status == OrderStatus::cancelled);
    CHECK(done->order->refunded == cny(10000));
    CHECK(done->payment.status == PaymentStatus::refunded);
    CHECK(done->restocks.size() == 1);
}
