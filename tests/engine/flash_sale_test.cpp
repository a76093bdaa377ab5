// Flash-sale protection: the per-buyer limit of a SKU and the one-time checkout extension.
#include <doctest/doctest.h>

#include "redloop/engine/flash_sale.hpp"

using namespace redloop::engine;

namespace {
const Timestamp kNow{1'800'000'000'000};
constexpr std::int64_t kTtl = 900'000;

Sku limited(const char* id, std::optional<std::int64_t> limit, std::int64_t on_hand = 100) {
    Sku s;
    s.id = *SkuId::parse(id);
    s.product_id = *ProductId::parse("prd_drop");
    s.merchant_id = *MerchantId::parse("mer_drop");
    s.title = "one";
    s.price = Money{9900, Currency::cny()};
    s.on_hand = on_hand;
    s.per_user_limit = limit;
    return s;
}

PricedCart cart_of(const std::vector<std::pair<Sku, std::int64_t>>& lines) {
    std::vector<CartLine> cart;
    std::vector<Sku> skus;
    std::vector<std::string> titles;
    for (const auto& [sku, quantity] : lines) {
        CartLine l;
        l.sku_id = sku.id;
        l.quantity = quantity;
        cart.push_back(l);
        skus.push_back(sku);
        titles.push_back("Drop");
    }
    auto priced = price_cart(cart, skus, titles);
    REQUIRE(priced);
    return *priced;
}

Checkout open_checkout() {
    return Checkout{*CheckoutId::parse("chk_1"),
                    *UserId::parse("usr_lin"),
                    CheckoutStatus::awaiting_payment,
                    *PaymentId::parse("pay_1"),
                    kNow,
                    kNow + kTtl,
                    kNow};
}

Payment payment_in(PaymentStatus s) {
    Payment p;
    p.id = *PaymentId::parse("pay_1");
    p.checkout_id = *CheckoutId::parse("chk_1");
    p.status = s;
    p.amount = Money{9900, Currency::cny()};
    return p;
}
}  // namespace

TEST_CASE("orders that count against the limit: held or sold, not given back") {
    CHECK(counts_toward_limit(OrderStatus::awaiting_payment));
    CHECK(counts_toward_limit(OrderStatus::paid));
    CHECK(counts_toward_limit(OrderStatus::shipped));
    CHECK(counts_toward_limit(OrderStatus::delivered));
    CHECK(counts_toward_limit(OrderStatus::completed));
    CHECK_FALSE(counts_toward_limit(OrderStatus::cancelled));
    CHECK_FALSE(counts_toward_limit(OrderStatus::expired));
    CHECK_FALSE(counts_toward_limit(OrderStatus::refunded));
}

TEST_CASE("per-user limit of one SKU: up to the limit passes, one more is a conflict") {
    const auto drop = limited("sku_drop", 2);
    CHECK(check_purchase_limit(drop, 0, 1));
    CHECK(check_purchase_limit(drop, 0, 2));
    CHECK(check_purchase_limit(drop, 1, 1));

    const auto over = check_purchase_limit(drop, 1, 2);
    REQUIRE_FALSE(over);
    CHECK(over.error().code == ErrorCode::conflict);
    const auto& detail = over.error().detail;
    CHECK(detail.find("sku_drop") != std::string::npos);
    CHECK(detail.find("limited to 2 per buyer") != std::string::npos);
    CHECK(detail.find("may buy 1 more") != std::string::npos);

    // everything already bought: nothing left, never a negative allowance
    const auto none_left = check_purchase_limit(drop, 2, 1);
    REQUIRE_FALSE(none_left);
    CHECK(none_left.error().detail.find("may buy 0 more") != std::string::npos);
    const auto past = check_purchase_limit(drop, 5, 1);  // the limit was lowered later
    REQUIRE_FALSE(past);
    CHECK(past.error().detail.find("may buy 0 more") != std::string::npos);

    // no limit: anything goes (stock is checked elsewhere)
    CHECK(check_purchase_limit(limited("sku_free", std::nullopt), 500, 999));
}

TEST_CASE("per-user limits of a cart: every offending line is named, others pass") {
    const auto a = limited("sku_a", 1);
    const auto b = limited("sku_b", 3);
    const auto c = limited("sku_c", std::nullopt);
    CHECK(check_purchase_limits(cart_of({{a, 1}, {b, 3}, {c, 50}}), {}));
    CHECK(check_purchase_limits(cart_of({{a, 1}, {b, 1}}), {{b.id, 2}, {c.id, 100}}));

    const auto both =
        check_purchase_limits(cart_of({{a, 1}, {b, 2}, {c, 5}}), {{a.id, 1}, {b.id, 2}});
    REQUIRE_FALSE(both);
    CHECK(both.error().code == ErrorCode::conflict);
    const auto& detail = both.error().detail;
    CHECK(detail.find("sku_a is limited to 1") != std::string::npos);
    CHECK(detail.find("sku_b is limited to 3") != std::string::npos);
    CHECK(detail.find("may buy 1 more, not 2") != std::string::npos);
    CHECK(detail.find("sku_c") == std::string::npos);
    CHECK(detail.find("nothing was reserved") != std::string::npos);
}

TEST_CASE("a cart line above the per-user limit is refused before stock is looked at") {
    CartLineContext ctx{limited("sku_drop", 2, 1), std::nullopt, {}};
    SetCartLine three{*SkuId::parse("sku_drop"), 3, std::nullopt};
    auto refused = decide_set_line({}, three, ctx, kNow);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == ErrorCode::conflict);
    CHECK(refused.error().detail.find("limited to 2 per buyer") != std::string::npos);

    // units in earlier orders count too
    ctx.sku->on_hand = 10;
    ctx.units_bought = 2;
    SetCartLine one{*SkuId::parse("sku_drop"), 1, std::nullopt};
    auto none_left = decide_set_line({}, one, ctx, kNow);
    REQUIRE_FALSE(none_left);
    CHECK(none_left.error().detail.find("may buy 0 more") != std::string::npos);
    ctx.units_bought = 1;
    CHECK(decide_set_line({}, one, ctx, kNow));
    // removing a line is always allowed
    SetCartLine zero{*SkuId::parse("sku_drop"), 0, std::nullopt};
    ctx.units_bought = 7;
    CHECK(decide_set_line({}, zero, ctx, kNow));
}

TEST_CASE("a checkout is extended once, by the TTL from now, never shortened") {
    const auto c = open_checkout();
    for (auto s : {PaymentStatus::requires_confirmation, PaymentStatus::processing}) {
        auto later = kNow + 600'000;  // 5 min left of 15
        auto ext = decide_extend_checkout(c, payment_in(s), later, kTtl);
        REQUIRE(ext);
        CHECK(ext->expires_at == later + kTtl);
        CHECK(ext->extended_at == later);
        CHECK(ext->updated_at == later);
        CHECK(ext->status == CheckoutStatus::awaiting_payment);
    }
    // a shorter TTL than what is left keeps the current expiry (still counts as the extension)
    auto early = decide_extend_checkout(c, payment_in(PaymentStatus::requires_confirmation),
                                        kNow + 1000, 60'000);
    REQUIRE(early);
    CHECK(early->expires_at == c.expires_at);
    CHECK(early->extended_at == kNow + 1000);

    auto twice =
        decide_extend_checkout(*early, payment_in(PaymentStatus::processing), kNow + 2000, kTtl);
    REQUIRE_FALSE(twice);
    CHECK(twice.error().code == ErrorCode::conflict);
    CHECK(twice.error().detail.find("already extended") != std::string::npos);
}

TEST_CASE("extension refusals: not awaiting payment, past expiry, payment not under way") {
    auto c = open_checkout();
    const auto pending = payment_in(PaymentStatus::requires_confirmation);

    auto at_expiry = decide_extend_checkout(c, pending, c.expires_at, kTtl);
    REQUIRE_FALSE(at_expiry);
    CHECK(at_expiry.error().code == ErrorCode::conflict);
    CHECK(at_expiry.error().detail.find("expired") != std::string::npos);

    for (auto s : {CheckoutStatus::paid, CheckoutStatus::expired, CheckoutStatus::cancelled}) {
        c.status = s;
        auto moved = decide_extend_checkout(c, pending, kNow + 1, kTtl);
        REQUIRE_FALSE(moved);
        CHECK(moved.error().code == ErrorCode::invalid_transition);
        CHECK(moved.error().detail.find(std::string(to_string(s))) != std::string::npos);
    }

    c.status = CheckoutStatus::awaiting_payment;
    for (auto s : {PaymentStatus::succeeded, PaymentStatus::failed, PaymentStatus::cancelled}) {
        auto done = decide_extend_checkout(c, payment_in(s), kNow + 1, kTtl);
        REQUIRE_FALSE(done);
        CHECK(done.error().code == ErrorCode::invalid_transition);
        CHECK(done.error().detail.find("pay_1") != std::string::npos);
    }
}

TEST_CASE("per_user_limit at product create and SKU patch: 1..999 or none") {
    const auto merchant = new_merchant(*MerchantId::parse("mer_drop"), kNow);
    CreateProduct cmd;
    cmd.title = "Drop";
    cmd.skus.push_back(NewSku{"one", Money{9900, Currency::cny()}, 5, 2});
    cmd.skus.push_back(NewSku{"two", Money{9900, Currency::cny()}, 5, std::nullopt});
    auto created = decide_create_product(merchant, cmd, *ProductId::parse("prd_drop"),
                                         {*SkuId::parse("sku_a"), *SkuId::parse("sku_b")}, kNow);
    REQUIRE(created);
    CHECK(created->skus[0].per_user_limit == 2);
    CHECK_FALSE(created->skus[1].per_user_limit);

    for (const std::int64_t bad :
         std::initializer_list<std::int64_t>{0, -1, kPerUserLimitMax + 1}) {
        cmd.skus[1].per_user_limit = bad;
        auto refused = validate(cmd);
        REQUIRE_FALSE(refused);
        CHECK(refused.error().code == ErrorCode::invalid_request);
        CHECK(refused.error().detail.find("skus[1].per_user_limit") != std::string::npos);
    }
    cmd.skus[1].per_user_limit = kPerUserLimitMax;
    CHECK(validate(cmd));

    const auto sku = created->skus[0];
    SkuPatch set;
    set.set_per_user_limit = true;
    set.per_user_limit = 5;
    REQUIRE(validate(set));
    auto raised = apply_patch(merchant, sku, set, kNow + 1);
    REQUIRE(raised);
    CHECK(raised->per_user_limit == 5);

    SkuPatch clear;
    clear.set_per_user_limit = true;
    auto cleared = apply_patch(merchant, *raised, clear, kNow + 2);
    REQUIRE(cleared);
    CHECK_FALSE(cleared->per_user_limit);

    SkuPatch untouched;
    untouched.title = "renamed";
    auto kept = apply_patch(merchant, *raised, untouched, kNow + 3);
    REQUIRE(kept);
    CHECK(kept->per_user_limit == 5);

    SkuPatch zero;
    zero.set_per_user_limit = true;
    zero.per_user_limit = 0;
    CHECK_FALSE(validate(zero));
}
