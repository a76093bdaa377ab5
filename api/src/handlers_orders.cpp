// Orders: list, read, and the moves of the status machine (cancel, ship, deliver, complete).
#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <memory>
#include <optional>
#include <set>
#include <string_view>
#include <unordered_map>

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

// The shipping address (name, phone, address) is personal data: only the order's buyer and
// its shop see it. Anyone else allowed to see the order (an admin) gets it without.
Order for_viewer(const Principal& p, Order o) {
    if (!is_buyer(p, o) && !is_seller(p, o)) o.address.reset();
    return o;
}

// Everything encode_order shows of the order's own row, for OrderJsonCache: equal fingerprints,
// equal JSON (its lines and discounts are fixed, its history grows only with its status).
std::string row_fingerprint(const Order& o, bool with_address) {
    std::string f;
    auto add = [&](std::string_view part) {
        f += part;
        f += '\x1f';
    };
    auto money = [&](const Money& m) { add(fmt::format("{} {}", m.minor, m.currency.code())); };
    add(o.id.str());
    add(o.checkout_id.str());
    add(o.user_id.str());
    add(o.merchant_id.str());
    add(to_string(o.status));
    money(o.subtotal);
    money(o.shipping_fee);
    money(o.discount);
    money(o.total);
    money(o.refunded);
    if (with_address && o.address) {
        add(o.address->name);
        add(o.address->phone);
        add(o.address->line1);
        add(o.address->city);
        add(o.address->postal_code);
        add(o.address->country);
    } else {
        add(o.address ? "hidden" : "none");
    }
    if (o.shipment) {
        add(o.shipment->carrier);
        add(o.shipment->tracking_number);
    } else {
        add("none");
    }
    add(o.restocked ? "restocked" : "");
    add(std::to_string(o.created_at.unix_ms));
    add(std::to_string(o.updated_at.unix_ms));
    return f;
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
    // Orders whose row is as when their JSON was cached are served from OrderJsonCache without
    // reading their lines and history; the others are read and encoded (in one arena) and cached.
    auto& cache = ctx.app.order_cache();
    auto shows_address = [&](const Order& o) { return is_buyer(*p, o) || is_seller(*p, o); };
    auto key_of = [&](const Order& o) { return o.id.str() + (shows_address(o) ? "" : "#admin"); };
    return ctx.app.db().read([&](db::Tx& tx) -> Result<Response> {
        // Per order of the page, by id: its cached JSON (a hit), or its key and fingerprint to
        // store the JSON under once encoded (a miss).
        struct Lookup {
            std::shared_ptr<const std::string> json;
            std::string key, fingerprint;
        };
        std::unordered_map<std::string, Lookup> lookups;
        auto orders = db::list_orders(tx, filter, page->before, page->limit, [&](const Order& o) {
            Lookup l{nullptr, key_of(o), row_fingerprint(o, shows_address(o))};
            l.json = cache.get(l.key, l.fingerprint);
            const bool miss = !l.json;
            lookups.insert_or_assign(o.id.str(), std::move(l));
            return miss;
        });
        boost::json::monotonic_resource arena;
        const boost::json::storage_ptr sp(&arena);
        std::vector<std::string_view> items;
        items.reserve(orders.items.size());
        for (auto& o : orders.items) {
            Lookup& l = lookups.at(o.id.str());
            if (!l.json) {
                l.json = std::make_shared<const std::string>(
                    boost::json::serialize(encode_order(for_viewer(*p, std::move(o)), sp)));
                cache.put(std::move(l.key), std::move(l.fingerprint), l.json);
            }
            items.push_back(*l.json);
        }
        std::optional<std::string> cursor;
        if (orders.next_before) cursor = encode_cursor(*orders.next_before);
        Response r;
        r.status = 200;
        r.body = encode_list_text(items, cursor);
        return r;
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
        return json_response(200, encode_order(for_viewer(*p, std::move(*o))));
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

// Sets "shipping_address" to null in every object of `v` whose "id" is one of `ids` (an order,
// alone or in a checkout); true when it changed something.
bool scrub_addresses(boost::json::value& v, const std::set<std::string>& ids) {
    bool changed = false;
    if (auto* o = v.if_object()) {
        const auto* id = o->if_contains("id");
        auto* address = o->if_contains("shipping_address");
        if (id && id->is_string() && address && !address->is_null() &&
            ids.count(std::string(id->as_string()))) {
            *address = nullptr;
            changed = true;
        }
        for (auto& [key, child] : *o) changed = scrub_addresses(child, ids) || changed;
    } else if (auto* a = v.if_array()) {
        for (auto& child : *a) changed = scrub_addresses(child, ids) || changed;
    }
    return changed;
}

std::optional<boost::json::value> parse_json(const std::string& text) {
    boost::system::error_code ec;
    auto v = boost::json::parse(text, ec);
    if (ec) return std::nullopt;
    return v;
}

// What stands in a checkout request's shipping address once the person is erased: valid (a
// replay runs the request again) and nobody's.
boost::json::object erased_address() {
    return boost::json::object{{"name", "erased"}, {"phone", "0"},       {"line1", "erased"},
                               {"city", "erased"}, {"postal_code", "0"}, {"country", "ZZ"}};
}

// The copies of the erased orders' personal data beside the orders themselves: the stored
// idempotent responses (the buyer's and the shops'), the order events of the live stream's
// log, and the journal's checkout requests whose orders are all erased now (a checkout with an
// order still under way keeps its request: the address is still needed). Such a request's body
// gets erased_address() and its response hash the word "erased": a replay checks its status
// only (see docs/reliability.md).
void erase_copies(db::Tx& tx, const UserId& user, const std::vector<db::ErasableOrder>& orders,
                  const std::vector<db::JournalCheckout>& requests) {
    std::set<std::string> ids, callers{user.str()}, checkouts;
    for (const auto& o : orders) {
        ids.insert(o.order_id);
        callers.insert(o.merchant_id);
        checkouts.insert(o.checkout_id);
    }
    for (const auto& caller : callers) {
        for (const auto& [key, body] : db::idempotent_responses_of(tx, caller)) {
            auto v = parse_json(body);
            if (v && scrub_addresses(*v, ids)) {
                db::replace_idempotent_body(tx, caller, key, boost::json::serialize(*v));
            }
        }
    }
    for (const auto& [seq, data] : db::order_events_of_user(tx, user.str())) {
        auto v = parse_json(data);
        if (v && scrub_addresses(*v, ids))
            db::replace_event_data(tx, seq, boost::json::serialize(*v));
    }
    for (const auto& entry : requests) {
        auto chk = std::find_if(entry.ids.begin(), entry.ids.end(),
                                [](const std::string& id) { return id.rfind("chk_", 0) == 0; });
        if (chk == entry.ids.end() || !checkouts.count(*chk)) continue;
        if (!db::checkout_fully_erased(tx, CheckoutId::trusted(*chk))) continue;
        auto v = parse_json(entry.body);
        auto* o = v ? v->if_object() : nullptr;
        if (!o || !o->contains("shipping_address")) continue;
        (*o)["shipping_address"] = erased_address();
        db::redact_journal_entry(tx, entry.seq, boost::json::serialize(*v), "erased");
    }
}

// DELETE /v1/users/me/personal-data: the user's name, phone and address leave its finished
// orders, and the copies of them kept beside the orders (erase_copies); orders still under way
// keep them until they finish (they are needed to deliver).
Result<Response> erase_personal_data(Context& ctx) {
    auto p = ctx.require({Role::user});
    if (!p) return fail(p.error());
    if (auto s = decode_empty(ctx.req.body); !s) return fail(s.error());
    const UserId user = UserId::trusted(p->sub.str());
    // The journal has no index by actor: its checkout requests by this user are looked up
    // before the write, by a read that holds up no writer. One made meanwhile belongs to an
    // order under way, which this erasure leaves alone anyway.
    auto requests = ctx.app.db().read([&](db::Tx& tx) -> Result<std::vector<db::JournalCheckout>> {
        return db::journal_checkouts_of(tx, user.str());
    });
    if (!requests) return fail(requests.error());
    return ctx.app.write(ctx, [&](db::Tx& tx) -> Result<Response> {
        const auto orders = db::erasable_orders(tx, user);
        const auto erased = db::erase_personal_data(tx, user, ctx.now);
        if (!orders.empty()) erase_copies(tx, user, orders, *requests);
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
