#include <set>

#include "db_fixture.hpp"

using namespace redloop;
using namespace redloop::engine;
using redloop::test::DbFixture;

namespace {
const Timestamp kNow{1'800'000'000'000};

struct Catalog : DbFixture {
    Merchant merchant = new_merchant(*MerchantId::parse("mer_tea"), kNow);
    Catalog() {
        CreateProduct c;
        c.title = "Longjing";
        c.skus = {NewSku{"50 g", Money{6800, Currency::cny()}, 5}};
        c.commission_rate_bps = 250;
        auto p = decide_create_product(merchant, c, *ProductId::parse("prd_tea"),
                                       {*SkuId::parse("sku_s")}, kNow);
        REQUIRE(p);
        write([&](db::Tx& tx) {
            db::insert_merchant_if_absent(tx, merchant);
            db::insert_product(tx, *p);
            return 0;
        });
    }
    Note add_note(int i, std::vector<SkuId> skus) {
        Note n{*NoteId::parse("nte_" + std::to_string(i)),
               *ActorId::parse("usr_lin"),
               "note " + std::to_string(i),
               "body",
               {Media{MediaType::image, "https://x.example/a.jpg"}},
               std::move(skus),
               Timestamp{kNow.unix_ms + i}};
        write([&](db::Tx& tx) {
            db::insert_note(tx, n);
            return 0;
        });
        return n;
    }
};
}  // namespace

TEST_CASE("a note round-trips with media and tags") {
    Catalog f;
    const auto n = f.add_note(1, {*SkuId::parse("sku_s")});
    auto found = f.write([&](db::Tx& tx) { return db::find_note(tx, n.id); });
    REQUIRE(found);
    CHECK(found->title == "note 1");
    CHECK(found->media == n.media);
    REQUIRE(found->skus.size() == 1);
    CHECK(found->skus[0].str() == "sku_s");
    CHECK(found->created_at == n.created_at);
    auto listings = f.write([&](db::Tx& tx) { return db::tagged_listings(tx, *found); });
    REQUIRE(listings.size() == 1);
    CHECK(listings[0].product_title == "Longjing");
    CHECK(listings[0].commission_rate_bps == 250);
    CHECK(listings[0].sku.available() == 5);
    CHECK_FALSE(f.write([&](db::Tx& tx) { return db::find_note(tx, *NoteId::parse("nte_none")); }));
}

TEST_CASE("notes by sku page newest first without gaps or repeats") {
    Catalog f;
    const auto sku = *SkuId::parse("sku_s");
    for (int i = 1; i <= 7; ++i)
        f.add_note(i, i == 4 ? std::vector<SkuId>{} : std::vector<SkuId>{sku});
    std::vector<std::string> seen;
    std::optional<std::int64_t> before;
    int pages = 0;
    do {
        auto page = f.write([&](db::Tx& tx) { return db::notes_by_sku(tx, sku, before, 2); });
        for (const auto& n : page.items) seen.push_back(n.id.str());
        before = page.next_before;
        ++pages;
    } while (before && pages < 10);
    CHECK(pages == 3);
    CHECK(seen == std::vector<std::string>{"nte_7", "nte_6", "nte_5", "nte_3", "nte_2", "nte_1"});
}

TEST_CASE("note views add up across batches") {
    Catalog f;
    const auto n = f.add_note(1, {});
    CHECK(f.write([&](db::Tx& tx) { return db::note_views(tx, n.id); }) == 0);
    f.write([&](db::Tx& tx) {
        db::add_note_views(tx, {{n.id, 3}});
        db::add_note_views(tx, {{n.id, 4}});
        return 0;
    });
    CHECK(f.write([&](db::Tx& tx) { return db::note_views(tx, n.id); }) == 7);
}
