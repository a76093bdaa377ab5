#include <numeric>

#include "db_fixture.hpp"

using namespace redloop;
using namespace redloop::engine;
using redloop::test::DbFixture;

namespace {
const Timestamp kNow{1'800'000'000'000};
Money cny(std::int64_t minor) {
    return Money{minor, Currency::cny()};
}

ProductCreated make_tea(const Merchant& m) {
    CreateProduct c;
    c.title = "Longjing";
    c.media = {Media{MediaType::image, "https://cdn.example/1.jpg"},
               Media{MediaType::video, "https://cdn.example/2.mp4"}};
    c.skus = {NewSku{"50 g", cny(6800), 10}, NewSku{"100 g", cny(12800), 3}};
    c.commission_rate_bps = 300;
    auto out = decide_create_product(m, c, *ProductId::parse("prd_tea"),
                                     {*SkuId::parse("sku_s"), *SkuId::parse("sku_l")}, kNow);
    REQUIRE(out);
    return *out;
}

// The inventory invariants of every SKU: available >= 0 and on_hand = SUM(ledger on_hand).
void check_invariants(DbFixture& f, const SkuId& id) {
    f.write([&](db::Tx& tx) {
        auto sku = db::find_sku(tx, id);
        REQUIRE(sku);
        const auto ledger = db::ledger_of_sku(tx, id);
        const auto on_hand = std::accumulate(
            ledger.begin(), ledger.end(), std::int64_t{0},
            [](std::int64_t a, const StockMovement& m) { return a + m.on_hand_delta; });
        const auto reserved = std::accumulate(
            ledger.begin(), ledger.end(), std::int64_t{0},
            [](std::int64_t a, const StockMovement& m) { return a + m.reserved_delta; });
        CHECK(sku->available() >= 0);
        CHECK(sku->on_hand == on_hand);
        CHECK(sku->reserved == reserved);
        return 0;
    });
}

struct Shop : DbFixture {
    Merchant merchant = new_merchant(*MerchantId::parse("mer_tea"), kNow);
    ProductCreated tea = make_tea(merchant);
    Shop() {
        write([&](db::Tx& tx) {
            db::insert_merchant_if_absent(tx, merchant);
            db::insert_product(tx, tea);
            return 0;
        });
    }
};
}  // namespace

TEST_CASE("merchants round-trip and insert-if-absent keeps the first") {
    DbFixture f;
    auto m = new_merchant(*MerchantId::parse("mer_tea"), kNow);
    m.free_shipping_over = cny(9900);
    m.shipping_fee = cny(800);
    CHECK(f.write([&](db::Tx& tx) { return db::insert_merchant_if_absent(tx, m); }));
    auto other = m;
    other.name = "changed";
    CHECK_FALSE(f.write([&](db::Tx& tx) { return db::insert_merchant_if_absent(tx, other); }));
    auto found = f.write([&](db::Tx& tx) { return db::find_merchant(tx, m.id); });
    REQUIRE(found);
    CHECK(found->name == "mer_tea");
    CHECK(found->shipping_fee == cny(800));
    CHECK(found->free_shipping_over == cny(9900));
    CHECK(found->return_window_days == 7);

    found->free_shipping_over.reset();
    found->name = "West Lake";
    f.write([&](db::Tx& tx) {
        db::update_merchant(tx, *found);
        return 0;
    });
    auto updated = f.write([&](db::Tx& tx) { return db::find_merchant(tx, m.id); });
    CHECK(updated->name == "West Lake");
    CHECK_FALSE(updated->free_shipping_over);
}

TEST_CASE("a product round-trips with media, SKUs and its initial stock ledger") {
    Shop f;
    auto p = f.write([&](db::Tx& tx) { return db::find_product(tx, f.tea.product.id); });
    REQUIRE(p);
    CHECK(p->title == "Longjing");
    CHECK(p->media == f.tea.product.media);
    CHECK(p->commission_rate_bps == 300);
    auto skus = f.write([&](db::Tx& tx) { return db::skus_of_product(tx, f.tea.product.id); });
    REQUIRE(skus.size() == 2);
    CHECK(skus[0].id.str() == "sku_s");
    CHECK(skus[0].on_hand == 10);
    CHECK(skus[1].on_hand == 3);
    CHECK(skus[1].price == cny(12800));
    check_invariants(f, skus[0].id);
    check_invariants(f, skus[1].id);
}

TEST_CASE("archiving a product shows on its SKUs") {
    Shop f;
    ProductPatch patch;
    patch.status = ProductStatus::archived;
    f.write([&](db::Tx& tx) {
        db::update_product(tx, apply_patch(f.tea.product, patch, kNow + 1));
        return 0;
    });
    auto sku = f.write([&](db::Tx& tx) { return db::find_sku(tx, *SkuId::parse("sku_s")); });
    REQUIRE(sku);
    CHECK(sku->status == ProductStatus::archived);
    CHECK_FALSE(purchasable(*sku));
}

TEST_CASE("stock movements are guarded and ledgered") {
    Shop f;
    const auto id = *SkuId::parse("sku_s");
    const auto actor = ActorId::of(f.merchant.id);
    auto move = [&](MovementKind kind, std::int64_t on_hand, std::int64_t reserved) {
        return f.write([&](db::Tx& tx) {
            return db::apply_stock_movement(
                tx, StockMovement{id, kind, on_hand, reserved, "test", "ord_1", actor, kNow});
        });
    };
    CHECK(move(MovementKind::reservation, 0, 8));  // 10 on hand, 8 reserved
    check_invariants(f, id);
    CHECK_FALSE(move(MovementKind::reservation, 0, 3));  // only 2 available
    CHECK_FALSE(move(MovementKind::adjustment, -3, 0));  // would leave 7 < 8 reserved
    CHECK(move(MovementKind::adjustment, -2, 0));
    CHECK(move(MovementKind::sale, -8, -8));
    CHECK_FALSE(move(MovementKind::release, 0, -1));  // nothing reserved any more
    check_invariants(f, id);
    auto sku = f.write([&](db::Tx& tx) { return db::find_sku(tx, id); });
    CHECK(sku->on_hand == 0);
    CHECK(sku->reserved == 0);
    auto ledger = f.write([&](db::Tx& tx) { return db::ledger_of_sku(tx, id); });
    REQUIRE(ledger.size() == 4);  // initial stock + 3 accepted movements
    CHECK(ledger[1].kind == MovementKind::reservation);
    CHECK(ledger[1].ref == "ord_1");
    CHECK(ledger[3].kind == MovementKind::sale);
}

TEST_CASE("sku updates write title and price, not stock") {
    Shop f;
    auto sku = f.write([&](db::Tx& tx) { return db::find_sku(tx, *SkuId::parse("sku_l")); });
    REQUIRE(sku);
    sku->price = cny(9900);
    sku->title = "100 g tin";
    sku->on_hand = 999;  // ignored: stock moves only through the ledger
    f.write([&](db::Tx& tx) {
        db::update_sku(tx, *sku);
        return 0;
    });
    auto after = f.write([&](db::Tx& tx) { return db::find_sku(tx, sku->id); });
    CHECK(after->price == cny(9900));
    CHECK(after->title == "100 g tin");
    CHECK(after->on_hand == 3);
}
