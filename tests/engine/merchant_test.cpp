#include <doctest/doctest.h>

#include "redloop/engine/merchant.hpp"

using namespace redloop::engine;

namespace {
const Timestamp kNow{1'800'000'000'000};
Money cny(std::int64_t minor) {
    return Money{minor, Currency::cny()};
}
}  // namespace

TEST_CASE("a new merchant has no shipping fee and a 7-day return window") {
    const auto m = new_merchant(*MerchantId::parse("mer_tea"), kNow);
    CHECK(m.shipping_fee == cny(0));
    CHECK_FALSE(m.free_shipping_over);
    CHECK(m.return_window_days == 7);
    CHECK(m.currency == Currency::cny());
}

TEST_CASE("merchant patches are validated and applied") {
    const auto m = new_merchant(*MerchantId::parse("mer_tea"), kNow);
    MerchantPatch p;
    p.name = "West Lake Tea";
    p.shipping_fee = cny(1000);
    p.set_free_shipping_over = true;
    p.free_shipping_over = cny(9900);
    p.return_window_days = 14;
    REQUIRE(validate(p));
    auto out = apply_patch(m, p, Timestamp{kNow.unix_ms + 5});
    REQUIRE(out);
    CHECK(out->name == "West Lake Tea");
    CHECK(out->shipping_fee == cny(1000));
    CHECK(out->free_shipping_over == cny(9900));
    CHECK(out->return_window_days == 14);
    CHECK(out->updated_at.unix_ms == kNow.unix_ms + 5);

    MerchantPatch clear;
    clear.set_free_shipping_over = true;
    CHECK_FALSE(apply_patch(*out, clear, kNow)->free_shipping_over);
}

TEST_CASE("merchant patch rejections") {
    const auto m = new_merchant(*MerchantId::parse("mer_tea"), kNow);
    MerchantPatch neg;
    neg.shipping_fee = cny(-1);
    CHECK_FALSE(validate(neg));
    MerchantPatch days;
    days.return_window_days = 366;
    CHECK_FALSE(validate(days));
    MerchantPatch name;
    name.name = "";
    CHECK_FALSE(validate(name));
    MerchantPatch usd;
    usd.shipping_fee = Money{100, *Currency::parse("USD")};
    REQUIRE(validate(usd));
    auto r = apply_patch(m, usd, kNow);
    REQUIRE_FALSE(r);
    CHECK(r.error().detail == "shipping_fee.currency USD does not match the shop's currency CNY");
}

TEST_CASE("shipping is free from the threshold on") {
    auto m = new_merchant(*MerchantId::parse("mer_tea"), kNow);
    m.shipping_fee = cny(800);
    CHECK(shipping_fee_for(m, cny(10000)) == cny(800));
    m.free_shipping_over = cny(9900);
    CHECK(shipping_fee_for(m, cny(9899)) == cny(800));
    CHECK(shipping_fee_for(m, cny(9900)) == cny(0));
}
