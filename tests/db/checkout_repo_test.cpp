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
const ShippingAddress kAddress{"Lin", "13800000000", "1 West Lake Rd", "Hangzhou", "310000", "CN"};

// Two merchants, one SKU each (tea: 10 units, cream: 3 units).
struct Store : DbFixture {
    Merchant tea = new_merchant(*MerchantId::parse("mer_tea"), kNow);
    Merchant glow = new_merchant(*MerchantId::parse("mer_glow"), kNow);
    Store() {
        add_product(tea, "prd_tea", "sku_tea", 6800, 10);
        add_product(glow, "prd_cream", "sku_cream", 15900, 3);
    }
    void add_product(const Merchant& m, const char* pid, const char* sid, std::int64_t price,
                     std::int64_t stock) {
        CreateProduct c;
        c.title = pid;
        c.skus = {NewSku{"one", cny(price), stock}};
        auto p = decide_create_product(m, c, *ProductId::parse(pid), {*SkuId::parse(sid)}, kNow);
        REQUIRE(p);
        write([&](db::Tx& tx) {
            db::insert_merchant_if_absent(tx, m);
            db::insert_product(tx, *p);
            return 0;
        });
    }

    // Plans a checkout of the given lines at the stored prices.
    CheckoutPlan plan(const UserId& user, std::vector<std::pair<const char*, std::int64_t>> lines,
                      const char* checkout_id) {
        return write([&](db::Tx& tx) {
            std::vector<CartLine> cart;
            std::vector<Sku> skus;
            std::vector<std::string> titles;
            for (const auto& [sku, qty] : lines) {
                cart.push_back(CartLine{*SkuId::parse(sku), qty, std::nullopt, kNow, kNow});
                skus.push_back(*db::find_sku(tx, *SkuId::parse(sku)));
                titles.push_back("T");
            }
            auto priced = price_cart(cart, skus, titles);
            REQUIRE(priced);
            const std::string suffix = std::string(checkout_id).substr(4);
            CheckoutIds ids{
                *CheckoutId::parse(checkout_id),
                *PaymentId::parse("pay_" + suffix),
                {*OrderId::parse("ord_" + suffix + "a"), *OrderId::parse("ord_" + suffix + "b")}};
            // Plan against generous stock: the guarded reservation is what must hold the line.
            for (auto& l : priced->lines) l.problem = LineProblem::none;
            auto p = decide_checkout(user, *priced, {{tea.id, tea}, {glow.id, glow}}, kAddress, ids,
                                     kNow, 60'000);
            REQUIRE(p);
            return *p;
        });
    }

    // available >= 0 and reserved = SUM(held reservations) = SUM(ledger reserved deltas).
    void check_invariants() {
        write([&](db::Tx& tx) {
            for (const char* id : {"sku_tea", "sku_cream"}) {
                const auto sku = *db::find_sku(tx, *SkuId::parse(id));
                std::int64_t ledger_on_hand = 0, ledger_reserved = 0;
                for (const auto& m : db::ledger_of_sku(tx, sku.id)) {
                    ledger_on_hand += m.on_hand_delta;
                    ledger_reserved += m.reserved_delta;
                }
                CAPTURE(id);
                CHECK(sku.available() >= 0);
                CHECK(sku.reserved == db::held_quantity(tx, sku.id));
                CHECK(sku.reserved == ledger_reserved);
                CHECK(sku.on_hand == ledger_on_hand);
            }
            return 0;
        });
    }
};
}  // namespace

TEST_CASE("a checkout is stored with orders, payment and held reservations") {
    Store s;
    const auto p = s.plan(kUser, {{"sku_tea", 2}, {"sku_cream", 1}}, "chk_1");
    auto failed = s.write([&](db::Tx& tx) { return db::insert_checkout(tx, p); });
    CHECK(failed.empty());
    s.check_invariants();
    auto orders = s.write([&](db::Tx& tx) { return db::orders_of_checkout(tx, p.checkout.id); });
    REQUIRE(orders.size() == 2);
    CHECK(orders[0].merchant_id.str() == "mer_glow");
    CHECK(orders[0].address == kAddress);
    CHECK(orders[1].lines.at(0).quantity == 2);
    CHECK(orders[1].history.size() == 1);
    auto payment = s.write([&](db::Tx& tx) { return db::find_payment(tx, p.payment.id); });
    REQUIRE(payment);
    CHECK(payment->amount == p.payment.amount);
    auto checkout = s.write([&](db::Tx& tx) { return db::find_checkout(tx, p.checkout.id); });
    REQUIRE(checkout);
    CHECK(checkout->expires_at == kNow + 60'000);
    auto tea = s.write([&](db::Tx& tx) { return db::find_sku(tx, *SkuId::parse("sku_tea")); });
    CHECK(tea->reserved == 2);
    CHECK(tea->available() == 8);
}

TEST_CASE("a reservation past the available stock fails and names the sku") {
    Store s;
    const auto p = s.plan(kUser, {{"sku_tea", 1}, {"sku_cream", 4}}, "chk_1");
    auto r = s.db->write([&](db::Tx& tx) -> Result<int> {
        auto failed = db::insert_checkout(tx, p);
        if (!failed.empty()) return fail(out_of_stock_error(failed));
        return 0;
    });
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::out_of_stock);
    CHECK(r.error().detail == "not enough stock for sku_cream; nothing was reserved");
    s.check_invariants();
    auto tea = s.write([&](db::Tx& tx) { return db::find_sku(tx, *SkuId::parse("sku_tea")); });
    CHECK(tea->reserved == 0);  // rolled back: all or nothing
    CHECK_FALSE(s.write([&](db::Tx& tx) { return db::find_checkout(tx, p.checkout.id); }));
}

TEST_CASE("releasing an order's reservations happens once") {
    Store s;
    const auto p = s.plan(kUser, {{"sku_tea", 3}}, "chk_1");
    s.write([&](db::Tx& tx) { return db::insert_checkout(tx, p); });
    const auto& order = p.orders.at(0);
    auto plan = decide_release(order, OrderEvent::cancel, ActorId::of(kUser), kNow + 1);
    REQUIRE(plan);
    CHECK(s.write([&](db::Tx& tx) { return db::update_order(tx, plan->order, order.status); }));
    CHECK(s.write(
        [&](db::Tx& tx) { return db::release_reservations(tx, order.id, plan->releases); }));
    s.check_invariants();
    // A second release finds nothing held and a stale status guard refuses the update.
    CHECK_FALSE(s.write(
        [&](db::Tx& tx) { return db::release_reservations(tx, order.id, plan->releases); }));
    CHECK_FALSE(
        s.write([&](db::Tx& tx) { return db::update_order(tx, plan->order, order.status); }));
    auto stored = s.write([&](db::Tx& tx) { return db::find_order(tx, order.id); });
    CHECK(stored->status == OrderStatus::cancelled);
    CHECK(stored->history.size() == 2);
    s.check_invariants();
}

TEST_CASE("due checkouts and guarded checkout status") {
    Store s;
    const auto p = s.plan(kUser, {{"sku_tea", 1}}, "chk_1");
    s.write([&](db::Tx& tx) { return db::insert_checkout(tx, p); });
    CHECK(s.write([&](db::Tx& tx) { return db::due_checkouts(tx, kNow + 59'999, 10); }).empty());
    auto due = s.write([&](db::Tx& tx) { return db::due_checkouts(tx, kNow + 60'000, 10); });
    REQUIRE(due.size() == 1);
    CHECK(due[0] == p.checkout.id);
    auto expired = p.checkout;
    expired.status = CheckoutStatus::expired;
    CHECK(s.write([&](db::Tx& tx) {
        return db::update_checkout_status(tx, expired, CheckoutStatus::awaiting_payment);
    }));
    CHECK_FALSE(s.write([&](db::Tx& tx) {
        return db::update_checkout_status(tx, expired, CheckoutStatus::awaiting_payment);
    }));
    CHECK(s.write([&](db::Tx& tx) { return db::due_checkouts(tx, kNow + 120'000, 10); }).empty());
}

TEST_CASE("orders list by user, merchant and status, newest first, paged") {
    Store s;
    const auto other = *UserId::parse("usr_mei");
    for (int i = 1; i <= 3; ++i) {
        auto p = s.plan(i == 2 ? other : kUser, {{"sku_tea", 1}, {"sku_cream", 1}},
                        ("chk_" + std::to_string(i)).c_str());
        s.write([&](db::Tx& tx) { return db::insert_checkout(tx, p); });
    }
    auto mine = s.write([&](db::Tx& tx) {
        return db::list_orders(tx, db::OrderFilter{kUser, {}, {}}, {}, 100);
    });
    CHECK(mine.items.size() == 4);
    for (const auto& o : mine.items) CHECK(o.user_id == kUser);
    auto shop = s.write([&](db::Tx& tx) {
        return db::list_orders(tx, db::OrderFilter{{}, *MerchantId::parse("mer_tea"), {}}, {}, 2);
    });
    REQUIRE(shop.items.size() == 2);
    REQUIRE(shop.next_before);
    CHECK(shop.items[0].checkout_id.str() == "chk_3");
    auto rest = s.write([&](db::Tx& tx) {
        return db::list_orders(tx, db::OrderFilter{{}, *MerchantId::parse("mer_tea"), {}},
                               shop.next_before, 2);
    });
    REQUIRE(rest.items.size() == 1);
    CHECK(rest.items[0].checkout_id.str() == "chk_1");
    CHECK_FALSE(rest.next_before);
    auto paid = s.write([&](db::Tx& tx) {
        return db::list_orders(tx, db::OrderFilter{{}, {}, OrderStatus::paid}, {}, 10);
    });
    CHECK(paid.items.empty());
    auto counts = s.write([&](db::Tx& tx) { return db::order_counts_by_status(tx); });
    REQUIRE(counts.size() == 1);
    CHECK(counts[0] == std::pair<std::string, std::int64_t>{"awaiting_payment", 6});
    s.check_invariants();
}

TEST_CASE("cart lines upsert, keep their note and clear") {
    Store s;
    const auto tea = *SkuId::parse("sku_tea");
    s.write([&](db::Tx& tx) {
        db::upsert_cart_line(tx, kUser, CartLine{tea, 2, std::nullopt, kNow, kNow});
        db::upsert_cart_line(
            tx, kUser, CartLine{*SkuId::parse("sku_cream"), 1, std::nullopt, kNow + 1, kNow + 1});
        db::upsert_cart_line(tx, kUser, CartLine{tea, 5, std::nullopt, kNow, kNow + 2});
        return 0;
    });
    auto cart = s.write([&](db::Tx& tx) { return db::cart_of(tx, kUser); });
    REQUIRE(cart.size() == 2);
    CHECK(cart[0].sku_id == tea);
    CHECK(cart[0].quantity == 5);
    CHECK(cart[0].updated_at == kNow + 2);
    CHECK(s.write([&](db::Tx& tx) { return db::delete_cart_line(tx, kUser, tea); }));
    CHECK_FALSE(s.write([&](db::Tx& tx) { return db::delete_cart_line(tx, kUser, tea); }));
    s.write([&](db::Tx& tx) {
        db::clear_cart(tx, kUser);
        return 0;
    });
    CHECK(s.write([&](db::Tx& tx) { return db::cart_of(tx, kUser); }).empty());
}
