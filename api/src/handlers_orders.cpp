// Orders: list, read, and the moves of the status machine (cancel, ship, deliver, complete).
#include <fmt/format.h>
#include <boost/json.hpp>

#include "codec.hpp"
#include "handler_util.hpp"
#include "redloop/db/repos.hpp"

namespace redloop::api {

using namespace redloop::engine;

// handlers_checkout.cpp
Result<Order> release_order(db::Tx& tx, const Order& order, OrderEvent event, const ActorId& actor,
                            Timestamp now);
Status settle_checkout(db::Tx& tx, const CheckoutId& id, OrderEvent event, Timestamp now);
// handlers_payments.cpp
Result<Order> cancel_paid_order(db::Tx& tx, const Order& order, const ActorId& actor, Timestamp now,
                                std::optional<Refund>& refund_out);
void notify_provider_of_refund(App& app, const Refund& refund);

namespace {

// A user sees its own orders, a merchant its shop's, an admin all.
bool may_see(const Principal& p, const Order& o) {
    return p.role == Role::admin || is_buyer(p, o) || is_seller(p, o);
}

Unexpected no_such(const OrderId& id) {
    return fail(ErrorCode::not_found, fmt::format("no order {}", id.str()));
}

Result<Response> list(Context& ctx) {
    auto p = ctx.require({Role::user, Role::merchant, Role::admin});
    if (!p) return fail(p.error());
    auto page = page_params(ctx.req);
    if (!page) return fail(page.error());
    db::OrderFilter filter;
    if (auto status = ctx.req.query_param("status")) {
        filter.status = parse_order_status(*status);
        if (!filter.status) {
            return fail(ErrorCode::invalid_request,
                        "status must be one of awaiting_payment, paid, shipped, delivered, "
                        "completed, cancelled, expired, refunded");
        }
    }
    if (p->role == Role::user) filter.user = UserId::trusted(p->sub.str());
    if (p->role == Role::merchant) filter.merchant = MerchantId::trusted(p->sub.str());
    return ctx.app.db().read([&](db::Tx& tx) -> Result<Response> {
        auto orders = db::list_orders(tx, filter, page->before, page->limit);
        boost::json::array data;
        data.reserve(orders.items.size());
        for (const auto& o : orders.items) data.push_back(encode_order(o));
        std::optional<std::string> cursor;
        if (orders.next_before) cursor = encode_cursor(*orders.next_before);
        return json_response(200, encode_list(std::move(data), cursor));
    });
}

Result<Response> get(Context& ctx) {
    auto p = ctx.require({Role::user, Role::merchant, Role::admin});
    if (!p) return fail(p.error());
    auto id = path_id<OrderId>(ctx, 0);
    if (!id) return fail(id.error());
    return ctx.app.db().read([&](db::Tx& tx) -> Result<Response> {
        auto o = db::find_order(tx, *id);
        if (!o || !may_see(*p, *o)) return no_such(*id);
        return json_response(200, encode_order(*o));
    });
}

// Loads the order for a move: 404 unless `allowed(principal, order)`.
template <typename Allowed>
Result<Order> load_for_move(db::Tx& tx, const Principal& p, const OrderId& id, Allowed allowed) {
    auto o = db::find_order(tx, id);
    if (!o || !may_see(p, *o)) return no_such(id);
    if (!allowed(p, *o)) {
        return fail(ErrorCode::forbidden,
                    fmt::format("you may see order {} but not make this move", id.str()));
    }
    return *o;
}

Result<Response> store_move(db::Tx& tx, const Order& before, const Order& after) {
    if (!db::update_order(tx, after, before.status)) {
        return fail(
            ErrorCode::conflict,
            fmt::format("order {} changed while this request ran; reload it", before.id.str()));
    }
    return json_response(200, encode_order(after));
}

Result<Response> cancel(Context& ctx) {
    auto p = ctx.require({Role::user, Role::merchant});
    if (!p) return fail(p.error());
    auto id = path_id<OrderId>(ctx, 0);
    if (!id) return fail(id.error());
    if (auto s = decode_empty(ctx.req.body); !s) return fail(s.error());
    std::optional<Refund> refund;
    auto resp = ctx.app.write(ctx, [&](db::Tx& tx) -> Result<Response> {
        refund.reset();
        auto o = load_for_move(tx, *p, *id, [](const Principal& pr, const Order& ord) {
            return is_buyer(pr, ord) || is_seller(pr, ord);
        });
        if (!o) return fail(o.error());
        if (o->status == OrderStatus::paid) {
            // Paid, not shipped: cancelled now, refunded in full and restocked.
            auto cancelled = cancel_paid_order(tx, *o, p->sub, ctx.now, refund);
            if (!cancelled) return fail(cancelled.error());
            return json_response(200, encode_order(*cancelled));
        }
        auto released = release_order(tx, *o, OrderEvent::cancel, p->sub, ctx.now);
        if (!released) return fail(released.error());
        if (auto s = settle_checkout(tx, o->checkout_id, OrderEvent::cancel, ctx.now); !s) {
            return fail(s.error());
        }
        return json_response(200, encode_order(*released));
    });
    if (resp && refund) notify_provider_of_refund(ctx.app, *refund);
    return resp;
}

Result<Response> ship(Context& ctx) {
    auto p = ctx.require({Role::merchant});
    if (!p) return fail(p.error());
    auto id = path_id<OrderId>(ctx, 0);
    if (!id) return fail(id.error());
    auto body = ctx.json_body();
    if (!body) return fail(body.error());
    auto shipment = decode_shipment(*body);
    if (!shipment) return fail(shipment.error());
    return ctx.app.write(ctx, [&](db::Tx& tx) -> Result<Response> {
        auto o = load_for_move(tx, *p, *id, is_seller);
        if (!o) return fail(o.error());
        auto moved = apply_event(*o, OrderEvent::ship, ctx.now);
        if (!moved) return fail(moved.error());
        moved->shipment = *shipment;
        return store_move(tx, *o, *moved);
    });
}

// deliver (merchant) and complete (buyer): a move with no parameters.
template <typename Allowed>
Result<Response> simple_move(Context& ctx, std::initializer_list<Role> roles, OrderEvent event,
                             Allowed allowed) {
    auto p = ctx.require(roles);
    if (!p) return fail(p.error());
    auto id = path_id<OrderId>(ctx, 0);
    if (!id) return fail(id.error());
    if (auto s = decode_empty(ctx.req.body); !s) return fail(s.error());
    return ctx.app.write(ctx, [&](db::Tx& tx) -> Result<Response> {
        auto o = load_for_move(tx, *p, *id, allowed);
        if (!o) return fail(o.error());
        auto moved = apply_event(*o, event, ctx.now);
        if (!moved) return fail(moved.error());
        return store_move(tx, *o, *moved);
    });
}

// DELETE /v1/users/me/personal-data: the user's name, phone and address leave its finished
// orders; orders still under way keep them until they finish (they are needed to deliver).
Result<Response> erase_personal_data(Context& ctx) {
    auto p = ctx.require({Role::user});
    if (!p) return fail(p.error());
    if (auto s = decode_empty(ctx.req.body); !s) return fail(s.error());
    return ctx.app.write(ctx, [&](db::Tx& tx) -> Result<Response> {
        const auto erased = db::erase_personal_data(tx, UserId::trusted(p->sub.str()), ctx.now);
        return json_response(200, boost::json::object{{"erased_orders", erased}});
    });
}

}  // namespace

void add_order_routes(Router& r) {
    r.add("DELETE", "/v1/users/me/personal-data", erase_personal_data);
    r.add("GET", "/v1/orders", list);
    r.add("GET", "/v1/orders/{id}", get);
    r.add("POST", "/v1/orders/{id}/cancel", cancel);
    r.add("POST", "/v1/orders/{id}/ship", ship);
    r.add("POST", "/v1/orders/{id}/deliver", [](Context& ctx) {
        return simple_move(ctx, {Role::merchant}, OrderEvent::deliver, is_seller);
    });
    r.add("POST", "/v1/orders/{id}/complete", [](Context& ctx) {
        return simple_move(ctx, {Role::user}, OrderEvent::complete, is_buyer);
    });
}

}  // namespace redloop::api
