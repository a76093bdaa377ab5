// POST /v1/checkouts, GET /v1/checkouts/{id}, GET /v1/payments/{id}, and the expiry sweeper.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include "codec.hpp"
#include "handler_util.hpp"
#include "id_generator.hpp"
#include "problem.hpp"
#include "rate_limiter.hpp"
#include "redloop/db/journal.hpp"
#include "redloop/db/locks.hpp"
#include "redloop/db/repos.hpp"
#include "redloop/engine/flash_sale.hpp"

namespace redloop::api {

using namespace redloop::engine;

Result<PricedCart> load_priced_cart(db::Tx& tx, const UserId& user);  // handlers_cart.cpp
Result<std::vector<CouponRequest>> load_coupons(db::Tx& tx, const std::vector<std::string>& codes,
                                                const UserId& user);  // handlers_promotions.cpp

namespace {

// Fixes who earns commission on each line bought from a note, and at what rate, so that later
// changes of the product's rate leave this sale as it was (engine::commission_terms).
void fix_commission_terms(db::Tx& tx, CheckoutPlan& plan, const UserId& buyer) {
    for (auto& o : plan.orders) {
        for (auto& l : o.lines) {
            if (!l.note_id) continue;
            const auto terms = commission_terms(db::note_author(tx, *l.note_id), buyer,
                                                db::commission_rate_of_sku(tx, l.sku_id));
            if (!terms) continue;
            l.creator = terms->creator;
            l.commission_rate_bps = terms->rate_bps;
        }
    }
}

// A user sees its own checkouts and payments, an admin all; anyone else gets 404.
bool may_see(const Principal& p, const UserId& owner) {
    return p.role == Role::admin || (p.role == Role::user && p.sub.str() == owner.str());
}

// The /metrics label of a checkout attempt: created, replayed, or the refusal's code (also
// when the refusal is a stored answer given again).
std::string checkout_outcome(const Result<Response>& result) {
    if (!result) return std::string(to_string(result.error().code));
    if (result->status == 201) return is_replayed(*result) ? "replayed" : "created";
    boost::system::error_code ec;
    const auto body = boost::json::parse(result->body, ec);
    const auto* code = (!ec && body.is_object()) ? body.as_object().if_contains("code") : nullptr;
    return code && code->is_string() ? std::string(code->as_string()) : "refused";
}

// Per-user limits of the cart's SKUs against what the user already has in orders. Inside the
// checkout's write transaction, under the buyer's lock (on SQLite writers take turns anyway),
// so two checkouts of one user can't both pass on the same count.
Status check_purchase_limits(db::Tx& tx, const UserId& user, const PricedCart& cart) {
    std::map<SkuId, std::int64_t> bought;
    for (const auto& l : cart.lines) {
        if (l.sku.per_user_limit) bought[l.sku.id] = db::units_bought(tx, user, l.sku.id);
    }
    if (bought.empty()) return {};
    return engine::check_purchase_limits(cart, bought);
}

// 429 with Retry-After: a response rather than an error value, since it carries a header.
Response rate_limited(const Context& ctx, std::int64_t retry_after_s) {
    const auto& limiter = ctx.app.checkout_limiter();
    auto r = problem_response(
        Error{ErrorCode::rate_limited,
              fmt::format("too many checkout attempts: at most {} a minute per user (bursts of "
                          "{}); retry in {} s",
                          limiter.per_minute(), limiter.burst(), retry_after_s)},
        ctx.req.request_id);
    r.headers.emplace_back("Retry-After", std::to_string(retry_after_s));
    return r;
}

Result<Response> create_checkout(Context& ctx) {
    auto p = ctx.require({Role::user});
    if (!p) return fail(p.error());
    if (!ctx.req.has_idempotency_key) {
        return fail(ErrorCode::invalid_request,
                    "the Idempotency-Key header is required: reuse the same key when retrying");
    }
    auto body = ctx.json_body();
    if (!body) return fail(body.error());
    auto request = decode_checkout(*body);
    if (!request) return fail(request.error());
    const auto user = UserId::trusted(p->sub.str());
    if (!ctx.replaying) {
        // Before any database write: a refused attempt changes nothing, is not journaled and is
        // not stored under its Idempotency-Key (a retry after Retry-After runs normally). A
        // retry of an attempt already answered (the same key and body) is not refused: it gets
        // its stored answer, so a client whose response was lost can always learn what happened.
        const auto d = ctx.app.checkout_limiter().take(user.str(), RateLimiter::Clock::now());
        if (!d.allowed) {
            if (auto stored = ctx.app.stored_response(ctx)) {
                Result<Response> replay = std::move(*stored);
                ctx.app.count_checkout(checkout_outcome(replay));
                return replay;
            }
            ctx.app.count_checkout("rate_limited");
            return rate_limited(ctx, d.retry_after_s);
        }
    }
    auto result = ctx.app.write(ctx, [&](db::Tx& tx) -> Result<Response> {
        // One checkout of a user at a time, on every node: per-user limits (SKUs, coupons) are
        // counted and then written, and the cart is read and then cleared.
        db::lock_key(tx, db::LockSpace::buyer, user.str());
        auto cart = load_priced_cart(tx, user);
        if (!cart) return fail(cart.error());
        if (auto s = check_purchase_limits(tx, user, *cart); !s) return fail(s.error());
        std::map<MerchantId, Merchant> merchants;
        for (const auto& l : cart->lines) {
            if (merchants.contains(l.sku.merchant_id)) continue;
            auto m = db::find_merchant(tx, l.sku.merchant_id);
            if (!m) return fail(ErrorCode::internal, "merchant missing for " + l.sku.id.str());
            merchants.emplace(m->id, *m);
        }
        CheckoutIds ids{new_id<CheckoutId>(), new_id<PaymentId>(), {}};
        for (std::size_t i = 0; i < merchants_in(*cart); ++i)
            ids.orders.push_back(new_id<OrderId>());
        auto plan = decide_checkout(user, *cart, merchants, request->address, ids, ctx.now,
                                    ctx.app.config().checkout_ttl_ms);
        if (!plan) return fail(plan.error());
        auto coupons = load_coupons(tx, request->coupon_codes, user);
        if (!coupons) return fail(coupons.error());
        auto shares = apply_coupons(*plan, *coupons, ctx.now);
        if (!shares) return fail(shares.error());
        fix_commission_terms(tx, *plan, user);
        const auto short_skus = db::insert_checkout(tx, *plan);
        if (!short_skus.empty()) return fail(out_of_stock_error(short_skus));
        if (auto refused = db::hold_coupons(tx, *plan, *shares, *coupons)) {
            return fail(ErrorCode::conflict, fmt::format("coupon {} does not apply: {}",
                                                         refused->code, refused->reason));
        }
        db::clear_cart(tx, user);
        return json_response(201, encode_checkout(plan->checkout, plan->orders, plan->payment));
    });
    ctx.app.count_checkout(checkout_outcome(result));
    return result;
}

Result<Response> get_checkout(Context& ctx) {
    auto p = ctx.require({Role::user, Role::admin});
    if (!p) return fail(p.error());
    auto id = path_id<CheckoutId>(ctx, 0);
    if (!id) return fail(id.error());
    return ctx.app.db().read([&](db::Tx& tx) -> Result<Response> {
        auto c = db::find_checkout(tx, *id);
        if (!c || !may_see(*p, c->user_id)) {
            return fail(ErrorCode::not_found, fmt::format("no checkout {}", id->str()));
        }
        auto payment = db::find_payment(tx, c->payment_id);
        if (!payment) return fail(ErrorCode::internal, "payment missing for " + id->str());
        return json_response(200, encode_checkout(*c, db::orders_of_checkout(tx, *id), *payment));
    });
}

// POST /v1/checkouts/{id}/extend: the reservation countdown starts again once (owner only).
Result<Response> extend_checkout(Context& ctx) {
    auto p = ctx.require({Role::user});
    if (!p) return fail(p.error());
    auto id = path_id<CheckoutId>(ctx, 0);
    if (!id) return fail(id.error());
    if (auto s = decode_empty(ctx.req.body); !s) return fail(s.error());
    return ctx.app.write(ctx, [&](db::Tx& tx) -> Result<Response> {
        auto c = db::find_checkout(tx, *id);
        if (!c || !may_see(*p, c->user_id)) {
            return fail(ErrorCode::not_found, fmt::format("no checkout {}", id->str()));
        }
        auto payment = db::find_payment(tx, c->payment_id);
        if (!payment) return fail(ErrorCode::internal, "payment missing for " + id->str());
        auto extended =
            decide_extend_checkout(*c, *payment, ctx.now, ctx.app.config().checkout_ttl_ms);
        if (!extended) return fail(extended.error());
        if (!db::extend_checkout(tx, *extended)) {
            return fail(
                ErrorCode::conflict,
                fmt::format("checkout {} changed while it was being extended; retry", id->str()));
        }
        return json_response(200,
                             encode_checkout(*extended, db::orders_of_checkout(tx, *id), *payment));
    });
}

Result<Response> get_payment(Context& ctx) {
    auto p = ctx.require({Role::user, Role::admin});
    if (!p) return fail(p.error());
    auto id = path_id<PaymentId>(ctx, 0);
    if (!id) return fail(id.error());
    return ctx.app.db().read([&](db::Tx& tx) -> Result<Response> {
        auto payment = db::find_payment(tx, *id);
        if (!payment || !may_see(*p, payment->user_id)) {
            return fail(ErrorCode::not_found, fmt::format("no payment {}", id->str()));
        }
        return json_response(200, encode_payment(*payment));
    });
}

}  // namespace

// Releases `order` (cancel or expire) inside the caller's transaction: the order moves and its
// reservations are released. The caller then settles the checkout once.
Result<Order> release_order(db::Tx& tx, const Order& order, OrderEvent event, const ActorId& actor,
                            Timestamp now) {
    auto plan = decide_release(order, event, actor, now);
    if (!plan) return fail(plan.error());
    if (!db::update_order(tx, plan->order, order.status) ||
        !db::release_reservations(tx, order.id, plan->releases)) {
        return fail(
            ErrorCode::conflict,
            fmt::format("order {} changed while it was being released; retry", order.id.str()));
    }
    return plan->order;
}

// After releases: the payment covers what is still awaiting payment, and a checkout with
// nothing left to pay is cancelled (or expired) with its payment.
Status settle_checkout(db::Tx& tx, const CheckoutId& id, OrderEvent event, Timestamp now) {
    auto checkout = db::find_checkout(tx, id);
    if (!checkout) return fail(ErrorCode::internal, "checkout missing: " + id.str());
    auto payment = db::find_payment(tx, checkout->payment_id);
    if (!payment) return fail(ErrorCode::internal, "payment missing for " + id.str());
    const auto settled =
        engine::settle_checkout(*checkout, *payment, db::orders_of_checkout(tx, id), event, now);
    if (settled.checkout.status != checkout->status &&
        !db::update_checkout_status(tx, settled.checkout, checkout->status)) {
        return fail(ErrorCode::conflict, "checkout changed while it was being settled; retry");
    }
    if ((settled.payment.status != payment->status ||
         !(settled.payment.amount == payment->amount)) &&
        !db::update_payment(tx, settled.payment, payment->status)) {
        return fail(ErrorCode::conflict, "payment changed while the checkout was settled; retry");
    }
    return {};
}

// The sweeper: expires unpaid checkouts whose reservation time is over. Each checkout moves in
// its own transaction guarded on its status, so two sweeps (or a sweep racing a cancel) expire
// it exactly once.
int expire_due_checkouts(db::Database& db, Timestamp now) {
    auto due = db.read([&](db::Tx& tx) -> Result<std::vector<CheckoutId>> {
        return db::due_checkouts(tx, now, 200);
    });
    if (!due) {
        spdlog::warn("expiry sweep could not list due checkouts: {}", due.error().detail);
        return 0;
    }
    int expired = 0;
    for (const auto& id : *due) expired += expire_checkout(db, id, now) ? 1 : 0;
    return expired;
}

bool expire_checkout(db::Database& db, const CheckoutId& id, Timestamp now) {
    auto done = db.write([&](db::Tx& tx) -> Result<bool> {
        tx.changes().at_ms = now.unix_ms;
        // Several nodes sweep the same database (PostgreSQL): one that finds the checkout's row
        // locked leaves it to the node holding it; the status read after the lock is current.
        if (!db::try_lock_checkout(tx, id.str())) return false;
        auto c = db::find_checkout(tx, id);
        if (!c || c->status != CheckoutStatus::awaiting_payment || c->expires_at > now) {
            return false;
        }
        for (const auto& o : db::orders_of_checkout(tx, id)) {
            if (o.status != OrderStatus::awaiting_payment) continue;
            auto r = release_order(tx, o, OrderEvent::expire, ActorId::system(), now);
            if (!r) return fail(r.error());
        }
        if (auto s = settle_checkout(tx, id, OrderEvent::expire, now); !s) return fail(s.error());
        db::JournalEntry e;
        e.at = now;
        e.kind = "expire";
        e.actor = "system";
        e.role = "system";
        e.target = id.str();
        e.status = 200;
        e.response_sha256 = "expired";
        db::append_journal(tx, e);
        return true;
    });
    if (!done) {
        spdlog::warn("could not expire checkout {}: {}", id.str(), done.error().detail);
        return false;
    }
    if (*done) spdlog::info("checkout {} expired; its stock was released", id.str());
    return *done;
}

void add_checkout_routes(Router& r) {
    r.add("POST", "/v1/checkouts", create_checkout);
    r.add("GET", "/v1/checkouts/{id}", get_checkout);
    r.add("POST", "/v1/checkouts/{id}/extend", extend_checkout);
    r.add("GET", "/v1/payments/{id}", get_payment);
}

}  // namespace redloop::api
