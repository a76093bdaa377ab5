// The order listing reads a page's lines and history with one query each (list_orders), while
// find_order reads one order; both must give the same orders, field for field.
#include <set>
#include <string>
#include <vector>

#include "db_fixture.hpp"

using namespace redloop;
using namespace redloop::engine;
using redloop::test::DbFixture;

namespace {
const Timestamp kNow{1'800'000'000'000};
const UserId kLin = *UserId::parse("usr_lin");
const UserId kMei = *UserId::parse("usr_mei");
const MerchantId kTea = *MerchantId::parse("mer_tea");
const ShippingAddress kAddress{"Lin", "13800000000", "1 West Lake Rd", "Hangzhou", "310000", "CN"};
constexpr int kCheckouts = 64;

Money cny(std::int64_t minor) {
    return Money{minor, Currency::cny()};
}

// Two shops (tea with two SKUs, glow with one) and kCheckouts checkouts by two buyers, moved
// through every kind of status, some lines naming notes, some addresses erased: more than one
// chunk of ids (50) in a page of 100, orders of one line and of two, histories of one to five.
struct Orders : DbFixture {
    Merchant tea = new_merchant(kTea, kNow);
    Merchant glow = new_merchant(*MerchantId::parse("mer_glow"), kNow);
    std::size_t total = 0;

    Orders() {
        add_product(tea, "prd_tea", {"sku_tea", "sku_teagift"}, 6800);
        add_product(glow, "prd_cream", {"sku_cream"}, 15900);
        for (int i = 0; i < kCheckouts; ++i) checkout(i);
        write([&](db::Tx& tx) { return db::erase_personal_data(tx, kMei, kNow + 10'000'000); });
    }

    void add_product(const Merchant& m, const char* pid, std::vector<const char*> skus,
                     std::int64_t price) {
        CreateProduct c;
        c.title = pid;
        std::vector<SkuId> ids;
        for (const char* s : skus) {
            c.skus.push_back(NewSku{s, cny(price), 100'000});
            ids.push_back(*SkuId::parse(s));
            price += 1100;
        }
        auto p = decide_create_product(m, c, *ProductId::parse(pid), ids, kNow);
        REQUIRE(p);
        write([&](db::Tx& tx) {
            db::insert_merchant_if_absent(tx, m);
            db::insert_product(tx, *p);
            return 0;
        });
    }

    void checkout(int i) {
        const Timestamp at{kNow.unix_ms + i * 1000};
        std::vector<CartLine> cart;
        cart.push_back(CartLine{*SkuId::parse("sku_tea"), 1 + i % 3,
                                i % 2 ? std::optional(*NoteId::parse("nte_steep")) : std::nullopt,
                                at, at});
        if (i % 3 == 0) {
            cart.push_back(
                CartLine{*SkuId::parse("sku_teagift"), 2, *NoteId::parse("nte_gift"), at, at});
        }
        if (i % 4 != 0) {
            cart.push_back(CartLine{*SkuId::parse("sku_cream"), 1, std::nullopt, at, at});
        }
        const std::string n = std::to_string(i);
        write([&](db::Tx& tx) {
            std::vector<Sku> skus;
            std::vector<std::string> titles;
            for (const auto& l : cart) {
                skus.push_back(*db::find_sku(tx, l.sku_id));
                titles.push_back("Title of " + l.sku_id.str());
            }
            auto priced = price_cart(cart, skus, titles);
            REQUIRE(priced);
            CheckoutIds ids{*CheckoutId::parse("chk_" + n),
                            *PaymentId::parse("pay_" + n),
                            {*OrderId::parse("ord_" + n + "a"), *OrderId::parse("ord_" + n + "b")}};
            auto plan =
                decide_checkout(i % 2 ? kMei : kLin, *priced, {{tea.id, tea}, {glow.id, glow}},
                                kAddress, ids, at, 60'000);
            REQUIRE(plan);
            REQUIRE(db::insert_checkout(tx, *plan).empty());
            for (const auto& o : plan->orders) move(tx, o, i);
            total += plan->orders.size();
            return 0;
        });
    }

    // Moves the order along one of six paths, by i.
    static void move(db::Tx& tx, Order o, int i) {
        static const std::vector<OrderEvent> kPaths[] = {
            {},
            {OrderEvent::pay},
            {OrderEvent::pay, OrderEvent::ship},
            {OrderEvent::pay, OrderEvent::ship, OrderEvent::deliver, OrderEvent::complete},
            {OrderEvent::cancel},
            {OrderEvent::pay, OrderEvent::refund},
        };
        const auto& events = kPaths[i % 6];
        Timestamp at{o.created_at.unix_ms};
        for (auto e : events) {
            at.unix_ms += 17'000;
            auto moved = apply_event(o, e, at);
            REQUIRE(moved);
            if (e == OrderEvent::ship) moved->shipment = Shipment{"SF Express", "SF" + o.id.str()};
            if (e == OrderEvent::refund) {
                moved->refunded = moved->total;
                moved->restocked = true;
            }
            REQUIRE(db::update_order(tx, *moved, o.status));
            o = *moved;
        }
    }
};

void check_same(const Order& listed, const Order& found) {
    CAPTURE(listed.id.str());
    CHECK(listed.id == found.id);
    CHECK(listed.checkout_id == found.checkout_id);
    CHECK(listed.user_id == found.user_id);
    CHECK(listed.merchant_id == found.merchant_id);
    CHECK(listed.status == found.status);
    CHECK(listed.subtotal == found.subtotal);
    CHECK(listed.shipping_fee == found.shipping_fee);
    CHECK(listed.total == found.total);
    CHECK(listed.refunded == found.refunded);
    CHECK(listed.address == found.address);
    REQUIRE(listed.shipment.has_value() == found.shipment.has_value());
    if (listed.shipment) {
        CHECK(listed.shipment->carrier == found.shipment->carrier);
        CHECK(listed.shipment->tracking_number == found.shipment->tracking_number);
    }
    CHECK(listed.restocked == found.restocked);
    CHECK(listed.created_at == found.created_at);
    CHECK(listed.updated_at == found.updated_at);
    REQUIRE(listed.lines.size() == found.lines.size());
    for (std::size_t i = 0; i < listed.lines.size(); ++i) {
        const auto &a = listed.lines[i], &b = found.lines[i];
        CAPTURE(i);
        CHECK(a.sku_id == b.sku_id);
        CHECK(a.title == b.title);
        CHECK(a.quantity == b.quantity);
        CHECK(a.unit_price == b.unit_price);
        CHECK(a.line_total == b.line_total);
        CHECK(a.note_id == b.note_id);
    }
    REQUIRE(listed.history.size() == found.history.size());
    for (std::size_t i = 0; i < listed.history.size(); ++i) {
        CAPTURE(i);
        CHECK(listed.history[i].status == found.history[i].status);
        CHECK(listed.history[i].at == found.history[i].at);
    }
}

// Walks every page of the listing; each order must equal find_order's. Returns the ids seen.
std::vector<std::string> walk(Orders& s, const db::OrderFilter& filter, int limit) {
    std::vector<std::string> ids;
    std::optional<std::int64_t> before;
    do {
        auto page = s.write([&](db::Tx& tx) {
            auto p = db::list_orders(tx, filter, before, limit);
            for (const auto& o : p.items) {
                auto found = db::find_order(tx, o.id);
                REQUIRE(found);
                check_same(o, *found);
            }
            return p;
        });
        CHECK(page.items.size() <= static_cast<std::size_t>(limit));
        for (const auto& o : page.items) ids.push_back(o.id.str());
        before = page.next_before;
    } while (before);
    return ids;
}
}  // namespace

TEST_CASE("a listed order equals the order find_order loads, for every filter and page size") {
    Orders s;
    REQUIRE(s.total > 100);
    struct Case {
        const char* name;
        db::OrderFilter filter;
    };
    const std::vector<Case> cases = {
        {"admin", {}},
        {"merchant", {{}, kTea, {}}},
        {"user", {kMei, {}, {}}},
        {"status", {{}, {}, OrderStatus::refunded}},
        {"merchant and status", {{}, kTea, OrderStatus::paid}},
        {"user and status", {kLin, {}, OrderStatus::cancelled}},
    };
    for (const auto& c : cases) {
        for (int limit : {1, 7, 50, 100}) {
            const std::string name = c.name;
            CAPTURE(name);
            CAPTURE(limit);
            const auto ids = walk(s, c.filter, limit);
            // Every matching order once, newest first, whatever the page size.
            CHECK(ids == walk(s, c.filter, 1000));
            CHECK(std::set<std::string>(ids.begin(), ids.end()).size() == ids.size());
            CHECK_FALSE(ids.empty());
        }
    }
    const auto all = walk(s, {}, 100);
    CHECK(all.size() == s.total);
}

TEST_CASE("the listing reads lines that name notes, erased addresses and several histories") {
    Orders s;
    const auto page = s.write([](db::Tx& tx) { return db::list_orders(tx, {}, {}, 100); });
    REQUIRE(page.items.size() == 100);
    REQUIRE(page.next_before);
    std::size_t with_note = 0, two_lines = 0, erased = 0, shipped = 0, long_history = 0;
    for (const auto& o : page.items) {
        for (const auto& l : o.lines) with_note += l.note_id ? 1 : 0;
        two_lines += o.lines.size() == 2 ? 1 : 0;
        erased += o.address ? 0 : 1;
        shipped += o.shipment ? 1 : 0;
        long_history += o.history.size() >= 3 ? 1 : 0;
        CHECK_FALSE(o.lines.empty());
        CHECK_FALSE(o.history.empty());
    }
    // The cases the comparison above must have met.
    CHECK(with_note > 0);
    CHECK(two_lines > 0);
    CHECK(erased > 0);
    CHECK(shipped > 0);
    CHECK(long_history > 0);
}
