#include "db_fixture.hpp"

using namespace redloop;
using namespace redloop::engine;
using redloop::test::DbFixture;

namespace {
const Timestamp kNow{1'800'000'000'000};
Money cny(std::int64_t minor) {
    return Money{minor, Currency::cny()};
}
const UserId kUser = *UserId::parse("usr_lin");

// A shop with one SKU (10 units) and one checkout of 3 units, awaiting payment.
struct Paying : DbFixture {
    Merchant shop = new_merchant(*MerchantId::parse("mer_tea"), kNow);
    CheckoutPlan plan;
    Paying() {
        CreateProduct c;
        c.title = "Tea";
        c.skus = {NewSku{"tin", cny(5000), 10}};
        auto p = decide_create_product(shop, c, *ProductId::parse("prd_tea"),
                                       {*SkuId::parse("sku_tea")}, kNow);
        REQUIRE(p);
        write([&](db::Tx& tx) {
            db::insert_merchant_if_absent(tx, shop);
            db::insert_product(tx, *p);
            return 0;
        });
        auto priced = price_cart({CartLine{*SkuId::parse("sku_tea"), 3, std::nullopt, kNow, kNow}},
                                 {p->skus[0]}, {"Tea"});
        REQUIRE(priced);
        auto planned = decide_checkout(kUser, *priced, {{shop.id, shop}},
                                       ShippingAddress{"Lin", "1", "a", "b", "1", "CN"},
                                       CheckoutIds{*CheckoutId::parse("chk_1"),
                                                   *PaymentId::parse("pay_1"),
                                                   {*OrderId::parse("ord_1")}},
                                       kNow, 60'000);
        REQUIRE(planned);
        plan = *planned;
        CHECK(write([&](db::Tx& tx) { return db::insert_checkout(tx, plan); }).empty());
    }
};
}  // namespace

TEST_CASE("payment moves are guarded and their history kept") {
    Paying f;
    auto confirmed = apply_event(f.plan.payment, PaymentEvent::confirm, kNow + 1);
    REQUIRE(confirmed);
    CHECK(f.write([&](db::Tx& tx) {
        return db::update_payment(tx, *confirmed, PaymentStatus::requires_confirmation);
    }));
    CHECK_FALSE(f.write([&](db::Tx& tx) {
        return db::update_payment(tx, *confirmed, PaymentStatus::requires_confirmation);
    }));
    auto stored = f.write([&](db::Tx& tx) { return db::find_payment(tx, f.plan.payment.id); });
    REQUIRE(stored);
    CHECK(stored->status == PaymentStatus::processing);
    REQUIRE(stored->history.size() == 2);
    CHECK(stored->history[0].status == PaymentStatus::requires_confirmation);
    CHECK(stored->history[1].status == PaymentStatus::processing);
    CHECK(stored->history[1].at == kNow + 1);
    CHECK(stored->refunded == cny(0));
}

TEST_CASE("a sale turns held reservations into sold ones, once") {
    Paying f;
    const auto& order = f.plan.orders.at(0);
    const std::vector<StockMovement> sales = {
        StockMovement{*SkuId::parse("sku_tea"), MovementKind::sale, -3, -3, "paid", order.id.str(),
                      ActorId::of(kUser), kNow}};
    CHECK(f.write([&](db::Tx& tx) { return db::sell_reservations(tx, order.id, sales); }));
    auto sku = f.write([&](db::Tx& tx) { return db::find_sku(tx, *SkuId::parse("sku_tea")); });
    CHECK(sku->on_hand == 7);
    CHECK(sku->reserved == 0);
    CHECK(f.write([&](db::Tx& tx) { return db::held_quantity(tx, sku->id); }) == 0);
    CHECK_FALSE(f.write([&](db::Tx& tx) { return db::sell_reservations(tx, order.id, sales); }));
}

TEST_CASE("refunds round-trip and succeed once") {
    Paying f;
    const auto order = f.plan.orders.at(0).id;
    Refund r{*RefundId::parse("ref_1"),
             order,
             f.plan.payment.id,
             cny(2000),
             "scratched",
             true,
             RefundStatus::pending,
             kNow,
             kNow};
    Refund late{*RefundId::parse("ref_2"),
                std::nullopt,
                f.plan.payment.id,
                cny(15000),
                "late",
                false,
                RefundStatus::pending,
                kNow,
                kNow};
    f.write([&](db::Tx& tx) {
        db::insert_refund(tx, r);
        db::insert_refund(tx, late);
        return 0;
    });
    auto found = f.write([&](db::Tx& tx) { return db::find_refund(tx, r.id); });
    REQUIRE(found);
    CHECK(found->amount == cny(2000));
    CHECK(found->restock);
    CHECK(found->order_id == order);
    auto no_order = f.write([&](db::Tx& tx) { return db::find_refund(tx, late.id); });
    CHECK_FALSE(no_order->order_id);
    auto of_order = f.write([&](db::Tx& tx) { return db::refunds_of_order(tx, order); });
    REQUIRE(of_order.size() == 1);
    CHECK(of_order[0].id == r.id);
    CHECK(f.write([&](db::Tx& tx) { return db::mark_refund_succeeded(tx, r); }));
    CHECK_FALSE(f.write([&](db::Tx& tx) { return db::mark_refund_succeeded(tx, r); }));
    CHECK(f.write([&](db::Tx& tx) { return db::find_refund(tx, r.id); })->status ==
          RefundStatus::succeeded);
}

TEST_CASE("webhook events are kept by id; pending ones are listed oldest first") {
    DbFixture f;
    db::WebhookEvent a{"evt_a", "refund.succeeded", "{}", "pending",
                       1,       "unknown refund",   kNow, kNow};
    db::WebhookEvent b{"evt_b", "payment.succeeded", "{}", "processed", 1, "ok", kNow + 1,
                       kNow + 1};
    db::WebhookEvent c{"evt_c", "payment.failed",  "{}",     "pending",
                       1,       "unknown payment", kNow + 2, kNow + 2};
    f.write([&](db::Tx& tx) {
        db::save_webhook_event(tx, a);
        db::save_webhook_event(tx, b);
        db::save_webhook_event(tx, c);
        return 0;
    });
    auto pending = f.write([&](db::Tx& tx) { return db::pending_webhook_events(tx, 10); });
    REQUIRE(pending.size() == 2);
    CHECK(pending[0].id == "evt_a");
    CHECK(pending[1].id == "evt_c");
    a.status = "processed";
    a.attempts = 2;
    a.updated_at = kNow + 10;
    f.write([&](db::Tx& tx) {
        db::save_webhook_event(tx, a);
        return 0;
    });
    auto again = f.write([&](db::Tx& tx) { return db::find_webhook_event(tx, "evt_a"); });
    REQUIRE(again);
    CHECK(again->status == "processed");
    CHECK(again->attempts == 2);
    CHECK(again->received_at == kNow);
    CHECK(f.write([&](db::Tx& tx) { return db::pending_webhook_events(tx, 10); }).size() == 1);
    CHECK_FALSE(f.write([&](db::Tx& tx) { return db::find_webhook_event(tx, "evt_zzz"); }));
}
