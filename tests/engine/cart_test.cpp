#include <doctest/doctest.h>

#include "redloop/engine/cart.hpp"

using namespace redloop::engine;

namespace {
const Timestamp kNow{1'800'000'000'000};

Sku tea(std::int64_t on_hand = 10) {
    Sku s;
    s.id = *SkuId::parse("sku_tea");
    s.product_id = *ProductId::parse("prd_tea");
    s.merchant_id = *MerchantId::parse("mer_tea");
    s.price = Money{6800, Currency::cny()};
    s.on_hand = on_hand;
    return s;
}

SetCartLine set(std::int64_t quantity, const char* note = nullptr) {
    SetCartLine c{*SkuId::parse("sku_tea"), quantity, std::nullopt};
    if (note) c.note_id = *NoteId::parse(note);
    return c;
}

CartLineContext found(std::int64_t on_hand = 10) {
    return CartLineContext{tea(on_hand), std::nullopt, {}};
}
}  // namespace

TEST_CASE("set, update and remove a cart line") {
    auto added = decide_set_line({}, set(2), found(), kNow);
    REQUIRE(added);
    REQUIRE(*added);
    CHECK((*added)->quantity == 2);
    CHECK((*added)->added_at == kNow);
    CHECK_FALSE((*added)->note_id);

    auto updated = decide_set_line({**added}, set(5), found(), kNow + 10);
    REQUIRE(updated);
    CHECK((*updated)->quantity == 5);
    CHECK((*updated)->added_at == kNow);
    CHECK((*updated)->updated_at == kNow + 10);

    auto removed = decide_set_line({**updated}, set(0), found(), kNow + 20);
    REQUIRE(removed);
    CHECK_FALSE(*removed);
}

TEST_CASE("the note a line came from is kept and checked") {
    Note note;
    note.id = *NoteId::parse("nte_1");
    CartLineContext ctx = found();
    ctx.note = note;
    ctx.note_products = {*ProductId::parse("prd_tea")};
    auto with_note = decide_set_line({}, set(1, "nte_1"), ctx, kNow);
    REQUIRE(with_note);
    CHECK((*with_note)->note_id->str() == "nte_1");
    // a later update without note_id keeps the attribution
    auto kept = decide_set_line({**with_note}, set(3), found(), kNow);
    CHECK((*kept)->note_id->str() == "nte_1");

    CartLineContext missing = found();
    auto no_note = decide_set_line({}, set(1, "nte_2"), missing, kNow);
    REQUIRE_FALSE(no_note);
    CHECK(no_note.error().detail == "note_id: no note nte_2");

    CartLineContext other = found();
    other.note = note;
    other.note_products = {*ProductId::parse("prd_other")};
    auto wrong = decide_set_line({}, set(1, "nte_1"), other, kNow);
    REQUIRE_FALSE(wrong);
    CHECK(wrong.error().code == ErrorCode::invalid_request);
}

TEST_CASE("cart line refusals") {
    CHECK(decide_set_line({}, set(1), CartLineContext{}, kNow).error().code ==
          ErrorCode::not_found);
    auto archived = found();
    archived.sku->status = ProductStatus::archived;
    CHECK(decide_set_line({}, set(1), archived, kNow).error().code == ErrorCode::conflict);
    auto short_stock = decide_set_line({}, set(11), found(10), kNow);
    REQUIRE_FALSE(short_stock);
    CHECK(short_stock.error().code == ErrorCode::out_of_stock);
    CHECK(short_stock.error().detail == "sku sku_tea has 10 available; 11 requested");
    CHECK(decide_set_line({}, set(1000), found(2000), kNow).error().code ==
          ErrorCode::invalid_request);
    CHECK(decide_set_line({}, set(-1), found(), kNow).error().code == ErrorCode::invalid_request);

    std::vector<CartLine> full;
    for (std::size_t i = 0; i < kCartLinesMax; ++i) {
        full.push_back(
            CartLine{*SkuId::parse("sku_x" + std::to_string(i)), 1, std::nullopt, kNow, kNow});
    }
    auto over = decide_set_line(full, set(1), found(), kNow);
    REQUIRE_FALSE(over);
    CHECK(over.error().detail == "the cart is full: at most 100 lines");
    full.back().sku_id = *SkuId::parse("sku_tea");  // updating an existing line is fine
    CHECK(decide_set_line(full, set(2), found(), kNow));
}
