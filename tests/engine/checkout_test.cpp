#include <doctest/doctest.h>

#include "redloop/engine/checkout.hpp"

using namespace redloop::engine;

namespace {
const Timestamp kNow{1'800'000'000'000};
Money cny(std::int64_t minor) {
    return Money{minor, Currency::cny()};
}
const UserId kUser = *UserId::parse("usr_lin");
const ShippingAddress kAddress{"Lin", "13800000000", "1 West Lake Rd", "Hangzhou", "310000", "CN"};

Sku sku(const char* id, const char* merchant, std::int64_t price, std::int64_t on_hand) {
    Sku s;
    s.id = *SkuId::parse(id);
    s.product_id = *ProductId::parse("prd_p");
    s.merchant_id = *MerchantId::parse(merchant);
    s.title = "one";
    s.price = cny(price);
    s.on_hand = on_hand;
    return s;
}

CartLine line(const char* sku_id, std::int64_t quantity, const char* note = nullptr) {
    CartLine l;
    l.sku_id = *SkuId::parse(sku_id);
    l.quantity = quantity;
    if (note) l.note_id = *NoteId::parse(note);
    return l;
}

std::map<MerchantId, Merchant> shops() {
    auto tea = new_merchant(*MerchantId::parse("mer_tea"), kNow);
    tea.shipping_fee = cny(800);
    tea.free_shipping_over = cny(20000);
    auto glow = new_merchant(*MerchantId::parse("mer_glow"), kNow);
    glow.shipping_fee = cny(500);
    return {{tea.id, tea}, {glow.id, glow}};
}

CheckoutIds ids(std::size_t orders) {
    CheckoutIds out{*CheckoutId::parse("chk_1"), *PaymentId::parse("pay_1"), {}};
    for (std::size_t i = 0; i < orders; ++i)
        out.orders.push_back(*OrderId::parse("ord_" + std::to_string(i)));
    return out;
}

PricedCart two_merchant_cart() {
    auto cart =
        price_cart({line("sku_tea", 2, "nte_1"), line("sku_cream", 1), line("sku_cup", 1)},
                   {sku("sku_tea", "mer_tea", 6800, 10), sku("sku_cream", "mer_glow", 15900, 5),
                    sku("sku_cup", "mer_tea", 12800, 1)},
                   {"Tea", "Cream", "Cup"});
    REQUIRE(cart);
    return *cart;
}
}  // namespace

TEST_CASE("a cart is priced at current prices and flags problem lines") {
    auto archived = sku("sku_b", "mer_tea", 100, 10);
    archived.status = ProductStatus::archived;
    auto cart =
        price_cart({line("sku_a", 3), line("sku_b", 1), line("sku_c", 5)},
                   {sku("sku_a", "mer_tea", 250, 10), archived, sku("sku_c", "mer_tea", 100, 4)},
                   {"A", "B", "C"});
    REQUIRE(cart);
    CHECK(cart->subtotal == cny(750 + 100 + 500));
    CHECK(cart->lines[0].line_total == cny(750));
    CHECK(cart->lines[0].problem == LineProblem::none);
    CHECK(cart->lines[1].problem == LineProblem::archived);
    CHECK(cart->lines[2].problem == LineProblem::insufficient_stock);
}

TEST_CASE("checkout splits per merchant with shipping and one payment") {
    auto plan =
        decide_checkout(kUser, two_merchant_cart(), shops(), kAddress, ids(2), kNow, 900'000);
    REQUIRE(plan);
    REQUIRE(plan->orders.size() == 2);
    // merchants in id order: mer_glow, then mer_tea
    const auto& glow = plan->orders[0];
    const auto& tea = plan->orders[1];
    CHECK(glow.merchant_id.str() == "mer_glow");
    CHECK(glow.subtotal == cny(15900));
    CHECK(glow.shipping_fee == cny(500));
    CHECK(glow.total == cny(16400));
    CHECK(tea.merchant_id.str() == "mer_tea");
    CHECK(tea.subtotal == cny(2 * 6800 + 12800));
    CHECK(tea.shipping_fee == cny(0));  // 264.00 is over the 200.00 threshold
    CHECK(tea.total == cny(26400));
    REQUIRE(tea.lines.size() == 2);
    CHECK(tea.lines[0].note_id->str() == "nte_1");
    CHECK(tea.lines[0].title == "Tea · one");
    CHECK(plan->payment.amount == cny(16400 + 26400));
    CHECK(plan->payment.status == PaymentStatus::requires_confirmation);
    CHECK(plan->checkout.expires_at == kNow + 900'000);
    CHECK(plan->checkout.status == CheckoutStatus::awaiting_payment);
    REQUIRE(plan->reservations.size() == 3);
    for (const auto& r : plan->reservations) {
        CHECK(r.kind == MovementKind::reservation);
        CHECK(r.on_hand_delta == 0);
        CHECK(r.reserved_delta > 0);
    }
    CHECK(plan->reservations[0].ref == "ord_0");
    CHECK(glow.history.size() == 1);
    CHECK(glow.address == kAddress);
}

TEST_CASE("checkout refusals") {
    SUBCASE("empty cart") {
        auto r =
            decide_checkout(kUser, PricedCart{{}, cny(0)}, shops(), kAddress, ids(1), kNow, 1000);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == ErrorCode::conflict);
    }
    SUBCASE("short of stock names every short sku") {
        auto cart = price_cart({line("sku_a", 3), line("sku_b", 2), line("sku_c", 9)},
                               {sku("sku_a", "mer_tea", 1, 2), sku("sku_b", "mer_tea", 1, 5),
                                sku("sku_c", "mer_glow", 1, 1)},
                               {"A", "B", "C"});
        auto r = decide_checkout(kUser, *cart, shops(), kAddress, ids(2), kNow, 1000);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == ErrorCode::out_of_stock);
        CHECK(r.error().detail == "not enough stock for sku_a, sku_c; nothing was reserved");
    }
    SUBCASE("archived") {
        auto s = sku("sku_a", "mer_tea", 1, 2);
        s.status = ProductStatus::archived;
        auto cart = price_cart({line("sku_a", 1)}, {s}, {"A"});
        auto r = decide_checkout(kUser, *cart, shops(), kAddress, ids(1), kNow, 1000);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == ErrorCode::conflict);
    }
    SUBCASE("bad address") {
        auto a = kAddress;
        a.postal_code = "";
        auto r = decide_checkout(kUser, two_merchant_cart(), shops(), a, ids(2), kNow, 1000);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == ErrorCode::invalid_request);
    }
}

TEST_CASE("cancel and expire release each line; settlement follows what is left") {
    auto plan = decide_checkout(kUser, two_merchant_cart(), shops(), kAddress, ids(2), kNow, 1000);
    REQUIRE(plan);
    auto released =
        decide_release(plan->orders[1], OrderEvent::cancel, ActorId::of(kUser), kNow + 1);
    REQUIRE(released);
    CHECK(released->order.status == OrderStatus::cancelled);
    REQUIRE(released->releases.size() == 2);
    CHECK(released->releases[0].kind == MovementKind::release);
    CHECK(released->releases[0].reserved_delta == -2);
    CHECK(released->releases[0].ref == plan->orders[1].id.str());

    std::vector<Order> after = {plan->orders[0], released->order};
    auto partly =
        settle_checkout(plan->checkout, plan->payment, after, OrderEvent::cancel, kNow + 1);
    CHECK(partly.checkout.status == CheckoutStatus::awaiting_payment);
    CHECK(partly.payment.amount == cny(16400));
    CHECK(partly.payment.status == PaymentStatus::requires_confirmation);

    auto expired = decide_release(plan->orders[0], OrderEvent::expire, ActorId::system(), kNow + 2);
    REQUIRE(expired);
    after[0] = expired->order;
    auto done =
        settle_checkout(partly.checkout, partly.payment, after, OrderEvent::expire, kNow + 2);
    CHECK(done.checkout.status == CheckoutStatus::expired);
    CHECK(done.payment.status == PaymentStatus::cancelled);

    // Once the buyer confirmed, the provider charges the whole sum: the amount stays.
    auto confirmed = plan->payment;
    confirmed.status = PaymentStatus::processing;
    auto kept = settle_checkout(plan->checkout, confirmed, {plan->orders[0], released->order},
                                OrderEvent::cancel, kNow + 1);
    CHECK(kept.checkout.status == CheckoutStatus::awaiting_payment);
    CHECK(kept.payment.amount == plan->payment.amount);
    CHECK(kept.payment.status == PaymentStatus::processing);

    auto twice = decide_release(expired->order, OrderEvent::expire, ActorId::system(), kNow + 3);
    REQUIRE_FALSE(twice);
    CHECK(twice.error().code == ErrorCode::invalid_transition);
    auto ship_instead = decide_release(plan->orders[0], OrderEvent::ship, ActorId::system(), kNow);
    CHECK_FALSE(ship_instead);
}
