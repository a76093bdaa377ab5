#include <doctest/doctest.h>

#include <numeric>

#include "redloop/engine/promotion.hpp"

using namespace redloop::engine;

namespace {
const Timestamp kNow{1'800'000'000'000};
Money cny(std::int64_t minor) {
    return Money{minor, Currency::cny()};
}
const UserId kUser = *UserId::parse("usr_lin");
const MerchantId kTea = *MerchantId::parse("mer_tea");
const MerchantId kGlow = *MerchantId::parse("mer_glow");

Sku sku(const char* id, const MerchantId& merchant, std::int64_t price) {
    Sku s;
    s.id = *SkuId::parse(id);
    s.product_id = *ProductId::parse("prd_p");
    s.merchant_id = merchant;
    s.title = "one";
    s.price = cny(price);
    s.on_hand = 100;
    return s;
}

// Tea: 2 x 11.11 + 1 x 11.12 = 33.34, no shipping fee; glow: 66.66 with 5.00 shipping.
CheckoutPlan plan() {
    auto cart =
        price_cart({CartLine{*SkuId::parse("sku_a"), 2, std::nullopt, kNow, kNow},
                    CartLine{*SkuId::parse("sku_b"), 1, std::nullopt, kNow, kNow},
                    CartLine{*SkuId::parse("sku_c"), 1, std::nullopt, kNow, kNow}},
                   {sku("sku_a", kTea, 1111), sku("sku_b", kTea, 1112), sku("sku_c", kGlow, 6666)},
                   {"A", "B", "C"});
    REQUIRE(cart);
    auto tea = new_merchant(kTea, kNow);
    auto glow = new_merchant(kGlow, kNow);
    glow.shipping_fee = cny(500);
    CheckoutIds ids{*CheckoutId::parse("chk_1"),
                    *PaymentId::parse("pay_1"),
                    {*OrderId::parse("ord_1"), *OrderId::parse("ord_2")}};
    const ShippingAddress address{"Lin", "13800000000", "1 Rd", "Hangzhou", "310000", "CN"};
    auto p = decide_checkout(kUser, *cart, {{tea.id, tea}, {glow.id, glow}}, address, ids, kNow,
                             900'000);
    REQUIRE(p);
    return *p;
}

Coupon coupon(const char* code, std::optional<MerchantId> shop, CouponKind kind,
              std::int64_t value) {
    CreateCoupon cmd;
    cmd.code = code;
    cmd.kind = kind;
    cmd.value = value;
    auto c = decide_create_coupon(cmd, shop, Currency::cny(), ActorId::system(), kNow);
    REQUIRE(c);
    return *c;
}

const Order& order_of(const CheckoutPlan& p, const MerchantId& m) {
    for (const auto& o : p.orders) {
        if (o.merchant_id == m) return o;
    }
    FAIL("no order");
    return p.orders.front();
}

std::int64_t sum(const std::vector<std::int64_t>& v) {
    return std::accumulate(v.begin(), v.end(), std::int64_t{0});
}
}  // namespace

TEST_CASE("proportional splits add up exactly; leftovers go to the largest remainders") {
    const struct {
        std::int64_t amount;
        std::vector<std::int64_t> weights, parts;
    } rows[] = {
        {1000, {3333, 6667}, {333, 667}},
        {1000, {3000, 6667}, {310, 690}},
        {100, {1, 1, 1}, {34, 33, 33}},  // ties: the first
        {2, {1, 1, 1}, {1, 1, 0}},
        {0, {5, 5}, {0, 0}},
        {7, {0, 10}, {0, 7}},
        {1, {0, 0}, {0, 0}},                                            // nothing to split over
        {999'999'999'999, {999'999'999'999, 1}, {999'999'999'998, 1}},  // no 64-bit overflow
    };
    for (const auto& r : rows) {
        CAPTURE(r.amount);
        const auto parts = split_proportionally(r.amount, r.weights);
        CHECK(parts == r.parts);
        if (r.weights != std::vector<std::int64_t>{0, 0}) CHECK(sum(parts) == r.amount);
    }
}

TEST_CASE("a shop coupon, then the platform's over what is left, to the fen") {
    auto p = plan();
    const std::vector<CouponRequest> coupons{
        {coupon("tea10", kTea, CouponKind::percent, 10), 0},
        {coupon("plat", std::nullopt, CouponKind::amount, 1000), 0}};
    auto shares = apply_coupons(p, coupons, kNow);
    REQUIRE(shares);
    const auto& tea = order_of(p, kTea);
    const auto& glow = order_of(p, kGlow);
    // 10 % of 33.34 = 3.334 -> 3.33. The platform's 10.00 over 30.01 and 66.66 (shipping is not
    // discounted): 3.1044... and 6.8956... -> 3.10 and 6.89 + the leftover fen -> 6.90.
    CHECK(tea.discount == cny(333 + 310));
    REQUIRE(tea.discounts.size() == 2);
    CHECK(tea.discounts[0] == OrderDiscount{"TEA10", cny(333)});
    CHECK(tea.discounts[1] == OrderDiscount{"PLAT", cny(310)});
    CHECK(glow.discounts == std::vector<OrderDiscount>{{"PLAT", cny(690)}});
    CHECK(tea.total == cny(3334 - 643));
    CHECK(glow.total == cny(6666 + 500 - 690));
    CHECK(p.payment.amount == cny(3334 - 643 + 6666 + 500 - 690));
    // Each order's discount is spread over its lines in proportion, to the fen.
    CHECK(tea.lines[0].discount.minor + tea.lines[1].discount.minor == 643);
    CHECK(tea.lines[0].discount == cny(429));  // 643 * 2222 / 3334 = 428.53 -> 428 + the fen
    CHECK(tea.lines[1].discount == cny(214));  // 643 * 1112 / 3334 = 214.47 -> 214
    CHECK(glow.lines[0].discount == cny(690));
    CHECK(shares->size() == 3);
}

TEST_CASE("a coupon never takes more than the goods; the shipping fee stays") {
    auto p = plan();
    auto shares =
        apply_coupons(p, {{coupon("huge", kGlow, CouponKind::amount, 1'000'000), 0}}, kNow);
    REQUIRE(shares);
    const auto& glow = order_of(p, kGlow);
    CHECK(glow.discount == cny(6666));
    CHECK(glow.total == cny(500));
    auto q = plan();
    REQUIRE(apply_coupons(q, {{coupon("all", std::nullopt, CouponKind::percent, 100), 0}}, kNow));
    CHECK(q.payment.amount == cny(500));
}

TEST_CASE("coupons that do not apply are conflicts naming the code; the plan is unchanged") {
    auto expired = coupon("old", kTea, CouponKind::amount, 100);
    expired.ends_at = kNow;
    auto early = coupon("early", kTea, CouponKind::amount, 100);
    early.starts_at = kNow + 1;
    auto spend = coupon("spend", std::nullopt, CouponKind::amount, 100);
    spend.min_spend = cny(100'01);
    auto shop_spend = coupon("shopspend", kTea, CouponKind::amount, 100);
    shop_spend.min_spend = cny(3335);
    auto used_up = coupon("usedup", kTea, CouponKind::amount, 100);
    used_up.max_redemptions = 3;
    used_up.in_use = 3;
    auto per_user = coupon("peruser", kTea, CouponKind::amount, 100);
    per_user.per_user_limit = 2;
    auto off = coupon("off", kTea, CouponKind::amount, 100);
    off.status = CouponStatus::disabled;
    auto usd = coupon("usd", kTea, CouponKind::amount, 100);
    usd.currency = *Currency::parse("USD");
    const struct {
        std::vector<CouponRequest> coupons;
        const char* expect;
    } rows[] = {
        {{{expired, 0}}, "coupon OLD does not apply: it ended"},
        {{{early, 0}}, "coupon EARLY does not apply: it is valid from"},
        {{{spend, 0}}, "coupon SPEND does not apply: the goods come to 100.00 CNY"},
        {{{shop_spend, 0}}, "coupon SHOPSPEND does not apply: the shop's goods come to 33.34 CNY"},
        {{{used_up, 0}}, "coupon USEDUP does not apply: it has been fully redeemed"},
        {{{per_user, 2}}, "coupon PERUSER does not apply: you have used it 2 times"},
        {{{off, 0}}, "coupon OFF does not apply: it has been withdrawn"},
        {{{usd, 0}}, "coupon USD does not apply: it is in USD"},
        {{{coupon("elsewhere", *MerchantId::parse("mer_x"), CouponKind::amount, 1), 0}},
         "nothing in the cart is from it"},
        {{{coupon("tt1", kTea, CouponKind::amount, 1), 0},
          {coupon("tt2", kTea, CouponKind::amount, 1), 0}},
         "coupon TT2 does not apply: only one coupon per shop"},
        {{{coupon("pp1", std::nullopt, CouponKind::amount, 1), 0},
          {coupon("pp2", std::nullopt, CouponKind::amount, 1), 0}},
         "coupon PP2 does not apply: only one platform coupon"},
    };
    for (const auto& r : rows) {
        CAPTURE(r.expect);
        auto p = plan();
        const auto before = p.payment.amount;
        auto shares = apply_coupons(p, r.coupons, kNow);
        REQUIRE_FALSE(shares);
        CHECK(shares.error().code == ErrorCode::conflict);
        CHECK(shares.error().detail.find(r.expect) != std::string::npos);
        CHECK(p.payment.amount == before);
        CHECK(order_of(p, kTea).discounts.empty());
    }
    // Just within the per-user limit, and a minimum spend met exactly, apply.
    auto p = plan();
    auto ok_spend = coupon("okspend", kTea, CouponKind::amount, 100);
    ok_spend.min_spend = cny(3334);
    REQUIRE(apply_coupons(p, {{ok_spend, 0}}, kNow));
    CHECK(order_of(p, kTea).discount == cny(100));
    auto q = plan();
    REQUIRE(apply_coupons(q, {{per_user, 1}}, kNow));
}

TEST_CASE("coupon creation checks its fields") {
    CreateCoupon ok;
    ok.code = "Spring-Sale_2026";
    ok.kind = CouponKind::percent;
    ok.value = 15;
    auto c = decide_create_coupon(ok, kTea, Currency::cny(), ActorId::system(), kNow);
    REQUIRE(c);
    CHECK(c->code == "SPRING-SALE_2026");
    CHECK(c->min_spend == cny(0));
    const struct {
        void (*change)(CreateCoupon&);
        const char* expect;
    } rows[] = {
        {[](CreateCoupon& x) { x.code = "ab"; }, "code must be 3 to 32"},
        {[](CreateCoupon& x) { x.code = "no spaces"; }, "letters, digits"},
        {[](CreateCoupon& x) { x.value = 0; }, "between 1 and 100"},
        {[](CreateCoupon& x) { x.value = 101; }, "between 1 and 100"},
        {[](CreateCoupon& x) {
             x.min_spend = Money{1, *Currency::parse("USD")};
         },
         "min_spend"},
        {[](CreateCoupon& x) { x.min_spend = cny(-1); }, "min_spend"},
        {[](CreateCoupon& x) {
             x.starts_at = kNow + 10;
             x.ends_at = kNow + 5;
         },
         "ends_at must be after starts_at"},
        {[](CreateCoupon& x) { x.ends_at = kNow; }, "already past"},
        {[](CreateCoupon& x) { x.max_redemptions = 0; }, "max_redemptions"},
        {[](CreateCoupon& x) { x.per_user_limit = 0; }, "per_user_limit"},
        {[](CreateCoupon& x) { x.value_currency = Currency::cny(); }, "not money"},
        {[](CreateCoupon& x) {
             x.kind = CouponKind::amount;
             x.value = 500;
             x.value_currency = *Currency::parse("USD");
         },
         "value must be in CNY"},
    };
    for (const auto& r : rows) {
        CAPTURE(r.expect);
        auto cmd = ok;
        r.change(cmd);
        auto bad = decide_create_coupon(cmd, kTea, Currency::cny(), ActorId::system(), kNow);
        REQUIRE_FALSE(bad);
        CHECK(bad.error().code == ErrorCode::invalid_request);
        CHECK(bad.error().detail.find(r.expect) != std::string::npos);
    }
}

TEST_CASE("an amount coupon's value may come as money in the coupon's currency") {
    CreateCoupon cmd;
    cmd.code = "FIVE-OFF";
    cmd.kind = CouponKind::amount;
    cmd.value = 500;
    cmd.value_currency = Currency::cny();
    auto c = decide_create_coupon(cmd, kTea, Currency::cny(), ActorId::system(), kNow);
    REQUIRE(c);
    CHECK(c->value == 500);
    CHECK(c->currency == Currency::cny());
}

TEST_CASE("a redemption follows its order: held, redeemed, returned") {
    const struct {
        OrderStatus status;
        RedemptionState state;
    } rows[] = {
        {OrderStatus::awaiting_payment, RedemptionState::held},
        {OrderStatus::paid, RedemptionState::redeemed},
        {OrderStatus::shipped, RedemptionState::redeemed},
        {OrderStatus::delivered, RedemptionState::redeemed},
        {OrderStatus::completed, RedemptionState::redeemed},
        {OrderStatus::refunded, RedemptionState::redeemed},
        {OrderStatus::cancelled, RedemptionState::returned},
        {OrderStatus::expired, RedemptionState::returned},
    };
    for (const auto& r : rows) {
        CAPTURE(to_string(r.status));
        CHECK(redemption_state_for(r.status) == r.state);
    }
}
