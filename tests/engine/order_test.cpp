#include <doctest/doctest.h>

#include <set>

#include "redloop/engine/order.hpp"

using namespace redloop::engine;

namespace {
const Timestamp kNow{1'800'000'000'000};
constexpr OrderStatus kAllStatuses[] = {OrderStatus::awaiting_payment, OrderStatus::paid,
                                        OrderStatus::shipped,          OrderStatus::delivered,
                                        OrderStatus::completed,        OrderStatus::cancelled,
                                        OrderStatus::expired,          OrderStatus::refunded};
constexpr OrderEvent kAllEvents[] = {OrderEvent::pay,      OrderEvent::ship,   OrderEvent::deliver,
                                     OrderEvent::complete, OrderEvent::cancel, OrderEvent::expire,
                                     OrderEvent::refund};

Order order_in(OrderStatus s) {
    Order o;
    o.id = *OrderId::parse("ord_1");
    o.status = s;
    o.history = {HistoryEntry{s, kNow}};
    return o;
}
}  // namespace

TEST_CASE("every row of the order transition table moves and is recorded") {
    for (const auto& t : kOrderTransitions) {
        CAPTURE(to_string(t.from));
        CAPTURE(to_string(t.event));
        auto moved = apply_event(order_in(t.from), t.event, kNow + 5);
        REQUIRE(moved);
        CHECK(moved->status == t.to);
        REQUIRE(moved->history.size() == 2);
        CHECK(moved->history.back().status == t.to);
        CHECK(moved->history.back().at == kNow + 5);
        CHECK(moved->updated_at == kNow + 5);
    }
}

TEST_CASE("every move not in the table is invalid_transition naming order, state and event") {
    std::set<std::pair<int, int>> legal;
    for (const auto& t : kOrderTransitions) legal.emplace(int(t.from), int(t.event));
    int refused = 0;
    for (auto s : kAllStatuses) {
        for (auto e : kAllEvents) {
            if (legal.contains({int(s), int(e)})) continue;
            auto r = apply_event(order_in(s), e, kNow);
            REQUIRE_FALSE(r);
            CHECK(r.error().code == ErrorCode::invalid_transition);
            CHECK(r.error().detail == "order ord_1 is " + std::string(to_string(s)) +
                                          ": it cannot " + std::string(to_string(e)));
            ++refused;
        }
    }
    CHECK(refused == 8 * 7 - static_cast<int>(kOrderTransitions.size()));
}

TEST_CASE("the contract's moves are all in the table") {
    CHECK(order_transition(OrderStatus::awaiting_payment, OrderEvent::pay) == OrderStatus::paid);
    CHECK(order_transition(OrderStatus::paid, OrderEvent::ship) == OrderStatus::shipped);
    CHECK(order_transition(OrderStatus::shipped, OrderEvent::deliver) == OrderStatus::delivered);
    CHECK(order_transition(OrderStatus::delivered, OrderEvent::complete) == OrderStatus::completed);
    CHECK(order_transition(OrderStatus::awaiting_payment, OrderEvent::cancel) ==
          OrderStatus::cancelled);
    CHECK(order_transition(OrderStatus::awaiting_payment, OrderEvent::expire) ==
          OrderStatus::expired);
    CHECK(order_transition(OrderStatus::paid, OrderEvent::cancel) == OrderStatus::cancelled);
    for (auto s : {OrderStatus::paid, OrderStatus::shipped, OrderStatus::delivered,
                   OrderStatus::completed}) {
        CHECK(order_transition(s, OrderEvent::refund) == OrderStatus::refunded);
    }
    CHECK_FALSE(order_transition(OrderStatus::shipped, OrderEvent::cancel));
    CHECK_FALSE(order_transition(OrderStatus::expired, OrderEvent::pay));
    static_assert(order_transition(OrderStatus::paid, OrderEvent::ship) == OrderStatus::shipped);
}

TEST_CASE("status names round-trip") {
    for (auto s : kAllStatuses) CHECK(parse_order_status(to_string(s)) == s);
    CHECK_FALSE(parse_order_status("lost"));
}

TEST_CASE("shipping addresses and shipments are validated") {
    ShippingAddress a{"Lin", "+86 138 0000 0000", "1 West Lake Rd", "Hangzhou", "310000", "CN"};
    CHECK(validate("shipping_address", a));
    auto bad_country = a;
    bad_country.country = "cn";
    CHECK(validate("shipping_address", bad_country).error().detail ==
          "shipping_address.country must be an ISO 3166-1 alpha-2 code such as CN");
    auto bad_phone = a;
    bad_phone.phone = "call me";
    CHECK_FALSE(validate("shipping_address", bad_phone));
    auto empty_name = a;
    empty_name.name = "";
    CHECK(validate("shipping_address", empty_name).error().detail ==
          "shipping_address.name must not be empty");
    CHECK(validate(Shipment{"SF Express", "SF123"}));
    CHECK_FALSE(validate(Shipment{"", "SF123"}));
    CHECK_FALSE(validate(Shipment{"SF", std::string(101, '1')}));
}
