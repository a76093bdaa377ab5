#include <doctest/doctest.h>

#include "redloop/engine/notes.hpp"

using namespace redloop::engine;

namespace {
const Timestamp kNow{1'800'000'000'000};

Sku sku(const char* id, const char* merchant, ProductStatus status = ProductStatus::active) {
    Sku s;
    s.id = *SkuId::parse(id);
    s.product_id = *ProductId::parse("prd_p");
    s.merchant_id = *MerchantId::parse(merchant);
    s.on_hand = 3;
    s.status = status;
    return s;
}

CreateNote note_tagging(std::vector<const char*> ids) {
    CreateNote c;
    c.title = "Morning tea";
    c.body = "Best with spring water.\nTry it.";
    for (auto id : ids) c.skus.push_back(*SkuId::parse(id));
    return c;
}
}  // namespace

TEST_CASE("a note tags existing, active SKUs") {
    const auto author = *ActorId::parse("usr_lin");
    auto cmd = note_tagging({"sku_a", "sku_b"});
    auto n = decide_create_note(author, cmd, {sku("sku_a", "mer_x"), sku("sku_b", "mer_y")},
                                *NoteId::parse("nte_1"), kNow);
    REQUIRE(n);
    CHECK(n->skus.size() == 2);
    CHECK(n->author_id == author);
    CHECK(n->created_at == kNow);

    auto missing = decide_create_note(author, cmd, {sku("sku_a", "mer_x"), std::nullopt},
                                      *NoteId::parse("nte_1"), kNow);
    REQUIRE_FALSE(missing);
    CHECK(missing.error().detail == "products[1].sku_id sku_b does not exist");

    auto archived = decide_create_note(
        author, cmd, {sku("sku_a", "mer_x"), sku("sku_b", "mer_y", ProductStatus::archived)},
        *NoteId::parse("nte_1"), kNow);
    REQUIRE_FALSE(archived);
    CHECK(archived.error().detail.find("archived") != std::string::npos);
}

TEST_CASE("note validation") {
    CHECK_FALSE(validate(note_tagging({"sku_a", "sku_a"})));
    auto many = note_tagging({});
    for (int i = 0; i < 21; ++i) many.skus.push_back(*SkuId::parse("sku_" + std::to_string(i)));
    CHECK_FALSE(validate(many));
    auto untitled = note_tagging({});
    untitled.title = "";
    CHECK_FALSE(validate(untitled));
    auto long_body = note_tagging({});
    long_body.body = std::string(kNoteBodyMax + 1, 'x');
    CHECK_FALSE(validate(long_body));
    CHECK(validate(note_tagging({})));
}

TEST_CASE("disclosure is derived, never chosen by the author") {
    const std::vector<TaggedListing> listings = {{sku("sku_a", "mer_x"), "Tea", 0},
                                                 {sku("sku_b", "mer_y"), "Cup", 500}};
    CHECK(disclosure_of(*ActorId::parse("mer_y"), listings) == Disclosure::brand);
    CHECK(disclosure_of(*ActorId::parse("mer_z"), listings) == Disclosure::none);
    CHECK(disclosure_of(*ActorId::parse("usr_lin"), listings) == Disclosure::affiliate);
    CHECK(disclosure_of(*ActorId::parse("usr_lin"), {listings[0]}) == Disclosure::none);
    CHECK(disclosure_of(*ActorId::parse("usr_lin"), {}) == Disclosure::none);
    CHECK(to_string(Disclosure::brand) == "brand");
    CHECK_FALSE(to_string(Disclosure::none));
}
