#include <doctest/doctest.h>

#include "redloop/engine/ids.hpp"

using namespace redloop::engine;

TEST_CASE("ids need their own prefix and a short alphanumeric body") {
    CHECK(SkuId::parse("sku_abc123"));
    CHECK(SkuId::parse("sku_abc123")->str() == "sku_abc123");
    CHECK_FALSE(SkuId::parse("prd_abc123"));
    CHECK_FALSE(SkuId::parse("sku_"));
    CHECK_FALSE(SkuId::parse("sku_a-b"));
    CHECK_FALSE(SkuId::parse("sku_a b"));
    CHECK_FALSE(SkuId::parse("SKU_abc"));
    CHECK_FALSE(SkuId::parse(std::string("sku_") + std::string(65, 'a')));
    CHECK(SkuId::parse(std::string("sku_") + std::string(64, 'a')));
    auto bad = NoteId::parse("sku_x");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == ErrorCode::invalid_request);
    CHECK(bad.error().detail.find("note id") != std::string::npos);
}

TEST_CASE("every id type has the contract's prefix") {
    CHECK(UserId::prefix() == "usr_");
    CHECK(MerchantId::prefix() == "mer_");
    CHECK(ProductId::prefix() == "prd_");
    CHECK(SkuId::prefix() == "sku_");
    CHECK(NoteId::prefix() == "nte_");
    CHECK(CheckoutId::prefix() == "chk_");
    CHECK(OrderId::prefix() == "ord_");
    CHECK(PaymentId::prefix() == "pay_");
    CHECK(RefundId::prefix() == "ref_");
    CHECK(EventId::prefix() == "evt_");
}

TEST_CASE("actors are users or merchants") {
    auto u = ActorId::parse("usr_lin");
    REQUIRE(u);
    CHECK(u->is_user());
    CHECK_FALSE(u->is_merchant());
    auto m = ActorId::parse("mer_tea");
    REQUIRE(m);
    CHECK(m->is_merchant());
    CHECK_FALSE(ActorId::parse("prd_x"));
    CHECK_FALSE(ActorId::parse("usr_"));
}
