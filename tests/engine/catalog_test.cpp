#include <doctest/doctest.h>

#include "redloop/engine/catalog.hpp"

using namespace redloop::engine;

namespace {
const Timestamp kNow{1'800'000'000'000};
Money cny(std::int64_t minor) {
    return Money{minor, Currency::cny()};
}
Merchant shop() {
    return new_merchant(*MerchantId::parse("mer_tea"), kNow);
}

CreateProduct tea() {
    CreateProduct c;
    c.title = "Longjing";
    c.description = "Spring harvest";
    c.media = {Media{MediaType::image, "https://cdn.example/l.jpg"}};
    c.skus = {NewSku{"50 g", cny(6800), 10}, NewSku{"100 g", cny(12800), 0}};
    c.commission_rate_bps = 500;
    return c;
}
std::vector<SkuId> two_ids() {
    return {*SkuId::parse("sku_a"), *SkuId::parse("sku_b")};
}
}  // namespace

TEST_CASE("creating a product makes its SKUs and records initial stock in the ledger") {
    auto out = decide_create_product(shop(), tea(), *ProductId::parse("prd_l"), two_ids(), kNow);
    REQUIRE(out);
    CHECK(out->product.status == ProductStatus::active);
    CHECK(out->product.merchant_id.str() == "mer_tea");
    REQUIRE(out->skus.size() == 2);
    CHECK(out->skus[0].on_hand == 10);
    CHECK(out->skus[0].available() == 10);
    CHECK(out->skus[1].position == 1);
    REQUIRE(out->movements.size() == 1);  // no movement for zero stock
    CHECK(out->movements[0].kind == MovementKind::adjustment);
    CHECK(out->movements[0].on_hand_delta == 10);
    CHECK(out->movements[0].sku_id.str() == "sku_a");
}

TEST_CASE("product validation rejects each bad field") {
    struct Case {
        const char* name;
        void (*mutate)(CreateProduct&);
        const char* detail_part;
    };
    const Case cases[] = {
        {"empty title", [](CreateProduct& c) { c.title = ""; }, "title must not be empty"},
        {"long title", [](CreateProduct& c) { c.title = std::string(201, 'x'); },
         "title is too long"},
        {"no skus", [](CreateProduct& c) { c.skus.clear(); }, "skus must have 1 to 100"},
        {"negative price", [](CreateProduct& c) { c.skus[0].price = cny(-1); },
         "skus[0].price.amount"},
        {"absurd price", [](CreateProduct& c) { c.skus[0].price = cny(kPriceMinorMax + 1); },
         "skus[0].price.amount"},
        {"negative stock", [](CreateProduct& c) { c.skus[1].stock = -1; }, "skus[1].stock"},
        {"absurd stock", [](CreateProduct& c) { c.skus[1].stock = kStockMax + 1; },
         "skus[1].stock"},
        {"duplicate sku title", [](CreateProduct& c) { c.skus[1].title = "50 g"; }, "repeats"},
        {"commission", [](CreateProduct& c) { c.commission_rate_bps = 8001; },
         "commission_rate_bps"},
        {"media url", [](CreateProduct& c) { c.media[0].url = "file:///etc/passwd"; },
         "media[0].url"},
        {"too much media", [](CreateProduct& c) { c.media.resize(21, c.media[0]); },
         "media has 21"},
    };
    for (const auto& tc : cases) {
        CAPTURE(tc.name);
        auto cmd = tea();
        tc.mutate(cmd);
        auto s = validate(cmd);
        REQUIRE_FALSE(s);
        CHECK(s.error().code == ErrorCode::invalid_request);
        CHECK(s.error().detail.find(tc.detail_part) != std::string::npos);
    }
}

TEST_CASE("prices must be in the shop's currency") {
    auto cmd = tea();
    cmd.skus[1].price = Money{100, *Currency::parse("USD")};
    auto out = decide_create_product(shop(), cmd, *ProductId::parse("prd_l"), two_ids(), kNow);
    REQUIRE_FALSE(out);
    CHECK(out.error().detail ==
          "skus[1].price.currency USD does not match the shop's currency CNY");
}

TEST_CASE("product and sku patches") {
    auto created =
        decide_create_product(shop(), tea(), *ProductId::parse("prd_l"), two_ids(), kNow);
    REQUIRE(created);
    ProductPatch pp;
    pp.status = ProductStatus::archived;
    pp.commission_rate_bps = 0;
    REQUIRE(validate(pp));
    const auto p = apply_patch(created->product, pp, kNow + 1);
    CHECK(p.status == ProductStatus::archived);
    CHECK(p.commission_rate_bps == 0);
    CHECK(p.title == "Longjing");

    SkuPatch sp;
    sp.price = cny(5900);
    auto s = apply_patch(shop(), created->skus[0], sp, kNow + 1);
    REQUIRE(s);
    CHECK(s->price == cny(5900));
    sp.price = cny(-1);
    CHECK_FALSE(validate(sp));
    ProductPatch bad;
    bad.title = "";
    CHECK_FALSE(validate(bad));
}

TEST_CASE("stock adjustments never take on_hand below reserved") {
    Sku sku;
    sku.id = *SkuId::parse("sku_a");
    sku.on_hand = 10;
    sku.reserved = 4;
    const auto actor = *ActorId::parse("mer_tea");
    auto ok = decide_adjust_stock(sku, StockAdjustment{-6, "damaged"}, actor, kNow);
    REQUIRE(ok);
    CHECK(ok->on_hand_delta == -6);
    CHECK(ok->reason == "damaged");
    auto too_far = decide_adjust_stock(sku, StockAdjustment{-7, "damaged"}, actor, kNow);
    REQUIRE_FALSE(too_far);
    CHECK(too_far.error().code == ErrorCode::conflict);
    CHECK_FALSE(decide_adjust_stock(sku, StockAdjustment{0, "nothing"}, actor, kNow));
    CHECK_FALSE(decide_adjust_stock(sku, StockAdjustment{5, ""}, actor, kNow));
    CHECK(decide_adjust_stock(sku, StockAdjustment{5, ""}, actor, kNow).error().code ==
          ErrorCode::invalid_request);
    sku.on_hand = kStockMax;
    sku.reserved = 0;
    CHECK_FALSE(decide_adjust_stock(sku, StockAdjustment{1, "too many"}, actor, kNow));
}

TEST_CASE("purchasable needs an active product and a unit available") {
    Sku sku;
    sku.on_hand = 1;
    CHECK(purchasable(sku));
    sku.reserved = 1;
    CHECK_FALSE(purchasable(sku));
    sku.reserved = 0;
    sku.status = ProductStatus::archived;
    CHECK_FALSE(purchasable(sku));
}

TEST_CASE("enum names round-trip") {
    for (auto k : {MovementKind::adjustment, MovementKind::reservation, MovementKind::release,
                   MovementKind::sale, MovementKind::restock}) {
        CHECK(parse_movement_kind(to_string(k)) == k);
    }
    CHECK(parse_media_type("video") == MediaType::video);
    CHECK_FALSE(parse_media_type("gif"));
    CHECK(parse_product_status("archived") == ProductStatus::archived);
    CHECK_FALSE(parse_product_status("deleted"));
}
