// Payments: confirm with the (sandbox) provider, the provider's signed webhooks, refunds.
// Money moves only when a verified webhook says so.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <algorithm>

#include "codec.hpp"
#include "handler_util.hpp"
#include "id_generator.hpp"
#include "json_reader.hpp"
#include "problem.hpp"
#include "redloop/db/journal.hpp"
#include "redloop/db/locks.hpp"
#include "redloop/db/repos.hpp"
#include "redloop/engine/settlement.hpp"
#include "webhook_signature.hpp"

namespace redloop::api {

using namespace redloop::engine;

namespace {

constexpr std::int64_t kSignatureToleranceS = 300;
constexpr std::int64_t kPendingEventLifetimeMs = 24LL * 3600 * 1000;

// Tells the provider after the transaction committed; a failure here is logged, the stored
// state stays as it is (a real provider integration would reconcile from its side).
void tell_provider(App& app, const Refund& refund) {
    if (!app.provider()) return;
    if (auto s = app.provider()->refund(refund); !s) {
        spdlog::error("provider refused refund {}: {}", refund.id.str(), s.error().detail);
    }
}

// ---------------------------------------------------------------- confirm

Result<Response> confirm(Context& ctx) {
    auto p = ctx.require({Role::user});
    if (!p) return fail(p.error());
    auto id = path_id<PaymentId>(ctx, 0);
    if (!id) return fail(id.error());
    auto body = ctx.json_body();
    if (!body) return fail(body.error());
    auto card = decode_confirm(*body);
    if (!card) return fail(card.error());
    if (auto known = sandbox_card_outcome(*card); !known) return fail(known.error());
    std::optional<Payment> confirmed;
    auto resp = ctx.app.write(ctx, [&](db::Tx& tx) -> Result<Response> {
        auto payment = db::find_payment(tx, *id);
        if (!payment || payment->user_id.str() != p->sub.str()) {
            return fail(ErrorCode::not_found, fmt::format("no payment {}", id->str()));
        }
        auto checkout = db::find_checkout(tx, payment->checkout_id);
        if (!checkout) return fail(ErrorCode::internal, "checkout missing for " + id->str());
        auto moved = decide_confirm(*payment, *checkout, ctx.now);
        if (!moved) return fail(moved.error());
        if (!db::update_payment(tx, *moved, payment->status)) {
            return fail(ErrorCode::conflict, "the payment changed while confirming; reload it");
        }
        confirmed = *moved;
        return json_response(200, encode_payment(*moved));
    });
    if (resp && confirmed && !is_replayed(*resp) && ctx.app.provider()) {
        if (auto s = ctx.app.provider()->confirm(*confirmed, *card); !s) {
            spdlog::error("provider refused payment {}: {}", id->str(), s.error().detail);
        }
    }
    return resp;
}

// ---------------------------------------------------------------- webhook processing

enum class Disposition { processed, pending, rejected };

struct EventResult {
    Disposition disposition = Disposition::processed;
    std::string detail;
    std::optional<Refund> refund_to_send;
};

// Writes a payment outcome: payment, checkout, moved orders and their stock.
Status store_outcome(db::Tx& tx, const Payment& before, const Checkout& checkout_before,
                     const std::vector<Order>& orders_before, const PaymentOutcome& out,
                     bool sale) {
    if (!db::update_payment(tx, out.payment, before.status)) {
        return fail(ErrorCode::conflict, "payment changed concurrently");
    }
    if (out.checkout.status != checkout_before.status &&
        !db::update_checkout_status(tx, out.checkout, checkout_before.status)) {
        return fail(ErrorCode::conflict, "checkout changed concurrently");
    }
    for (const auto& o : out.orders) {
        std::vector<StockMovement> mine;
        for (const auto& m : out.movements) {
            if (m.ref == o.id.str()) mine.push_back(m);
        }
        OrderStatus from = OrderStatus::awaiting_payment;
        for (const auto& b : orders_before) {
            if (b.id == o.id) from = b.status;
        }
        const bool stock_ok =
            sale ? db::sell_reservations(tx, o.id, mine) : db::release_reservations(tx, o.id, mine);
        if (!db::update_order(tx, o, from) || !stock_ok) {
            return fail(ErrorCode::conflict, "order " + o.id.str() + " changed concurrently");
        }
        if (sale && from == OrderStatus::awaiting_payment && o.status == OrderStatus::paid) {
            accrue_commissions(tx, o, o.updated_at);
        }
    }
    if (out.automatic_refund) db::insert_refund(tx, *out.automatic_refund);
    return {};
}

// Applies one verified event inside the caller's transaction. An error result is a fault of
// the event itself (400: nothing is recorded); a refusal by state is `rejected`.
Result<EventResult> apply_event_in_tx(db::Tx& tx, const ProviderEvent& e, Timestamp now) {
    auto payment = db::find_payment(tx, e.payment_id);
    if (e.type == "refund.succeeded") {
        std::optional<Refund> refund;
        if (e.refund_id) {
            refund = db::find_refund(tx, *e.refund_id);
            if (refund && !(refund->payment_id == e.payment_id)) {
                return fail(ErrorCode::invalid_request,
                            fmt::format("data.payment_id {} is not the payment of refund {}",
                                        e.payment_id.str(), refund->id.str()));
            }
            if (!refund || !payment) {
                return EventResult{Disposition::pending,
                                   fmt::format("refund {} of payment {} is not known yet",
                                               e.refund_id->str(), e.payment_id.str()),
                                   std::nullopt};
            }
        } else {
            // The contract's shape, {payment_id, amount}: the payment's oldest pending refund of
            // that amount. Refunds are stored before the provider is asked, so one the provider
            // reports is pending here already.
            if (!payment) {
                return EventResult{Disposition::pending,
                                   fmt::format("payment {} is not known yet", e.payment_id.str()),
                                   std::nullopt};
            }
            const auto pending = db::pending_refunds_of_payment(tx, e.payment_id);
            if (pending.empty()) {
                return EventResult{
                    Disposition::rejected,
                    fmt::format("payment {} has no pending refund", e.payment_id.str()),
                    std::nullopt};
            }
            const auto same = std::find_if(pending.begin(), pending.end(),
                                           [&](const Refund& r) { return r.amount == e.amount; });
            if (same == pending.end()) {
                return fail(ErrorCode::invalid_request,
                            fmt::format("data.amount {} is not the amount of a pending refund "
                                        "of payment {}",
                                        to_display(e.amount), e.payment_id.str()));
            }
            refund = *same;
        }
        std::optional<Order> order;
        if (refund->order_id) order = db::find_order(tx, *refund->order_id);
        auto out = decide_refund_succeeded(*refund, order, *payment, e.amount, now);
        if (!out) {
            if (out.error().code == ErrorCode::invalid_request) return fail(out.error());
            return EventResult{Disposition::rejected, out.error().detail, std::nullopt};
        }
        if (!db::mark_refund_succeeded(tx, out->refund) ||
            !db::update_payment(tx, out->payment, payment->status) ||
            (out->order && !db::update_order(tx, *out->order, order->status))) {
            return fail(ErrorCode::conflict, "refund target changed concurrently; retry");
        }
        for (const auto& m : out->restocks) {
            if (!db::apply_stock_movement(tx, m)) {
                return fail(ErrorCode::conflict, "restock of " + m.sku_id.str() + " failed");
            }
        }
        if (out->order) reverse_commissions(tx, *out->order, refund->id, now);
        return EventResult{Disposition::processed, "refund " + refund->id.str() + " succeeded",
                           std::nullopt};
    }
    if (!payment) {
        return EventResult{Disposition::pending,
                           fmt::format("payment {} is not known yet", e.payment_id.str()),
                           std::nullopt};
    }
    auto checkout = db::find_checkout(tx, payment->checkout_id);
    if (!checkout) return fail(ErrorCode::internal, "checkout missing for " + payment->id.str());
    const auto orders = db::orders_of_checkout(tx, checkout->id);
    const bool success = e.type == "payment.succeeded";
    auto out = success ? decide_payment_succeeded(*payment, *checkout, orders, e.amount,
                                                  new_id<RefundId>(), now)
                       : decide_payment_failed(*payment, *checkout, orders, e.amount, now);
    if (!out) {
        if (out.error().code == ErrorCode::invalid_request) return fail(out.error());
        return EventResult{Disposition::rejected, out.error().detail, std::nullopt};
    }
    if (auto s = store_outcome(tx, *payment, *checkout, orders, *out, success); !s) {
        return fail(s.error());
    }
    std::string detail =
        fmt::format("payment {} {}", payment->id.str(), to_string(out->payment.status));
    if (out->automatic_refund) {
        // The late case keeps the words older journals' stored events have (in the state hash).
        const std::string why = checkout->status != CheckoutStatus::awaiting_payment
                                    ? "checkout was " + std::string(to_string(checkout->status))
                                    : out->automatic_refund->reason;
        detail +=
            fmt::format("; {}, refunding {} automatically ({})", why,
                        to_display(out->automatic_refund->amount), out->automatic_refund->id.str());
    }
    return EventResult{Disposition::processed, detail, out->automatic_refund};
}

std::string_view to_string(Disposition d) {
    switch (d) {
        case Disposition::processed:
            return "processed";
        case Disposition::pending:
            return "pending";
        case Disposition::rejected:
            return "rejected";
    }
    return "rejected";
}

Result<Response> webhook(Context& ctx) {
    const auto header = [&]() -> std::string {
        for (const auto& [k, v] : ctx.req.headers) {
            if (k == "payment-signature") return v;
        }
        return "";
    }();
    // A journal replay applies events that were verified when they arrived.
    if (auto s = ctx.replaying ? Status{}
                               : verify_webhook_signature(ctx.app.config().webhook_secret, header,
                                                          ctx.req.body, ctx.now.unix_seconds(),
                                                          kSignatureToleranceS);
        !s) {
        spdlog::warn("webhook {} refused: {}", ctx.req.request_id, s.error().detail);
        return fail(ErrorCode::invalid_request, "Payment-Signature: " + s.error().detail);
    }
    auto body = ctx.json_body();
    if (!body) return fail(body.error());
    auto event = decode_provider_event(*body);
    if (!event) return fail(event.error());
    std::optional<Refund> to_send;
    const std::size_t ids_before = ctx.ids_created.size();
    auto resp = ctx.app.db().write([&](db::Tx& tx) -> Result<Response> {
        ctx.ids_created.resize(ids_before);  // an attempt run again makes its ids again
        to_send.reset();
        // The provider may deliver one event to two nodes at once: the second waits here and
        // then finds the first one's record (a duplicate), instead of applying it again.
        db::lock_key(tx, db::LockSpace::webhook_event, event->id.str());
        if (auto seen = db::find_webhook_event(tx, event->id.str())) {
            return json_response(
                200, boost::json::object{
                         {"id", seen->id}, {"status", seen->status}, {"duplicate", true}});
        }
        auto result = apply_event_in_tx(tx, *event, ctx.now);
        if (!result) return fail(result.error());
        db::save_webhook_event(tx, db::WebhookEvent{event->id.str(), event->type, ctx.req.body,
                                                    std::string(to_string(result->disposition)), 1,
                                                    result->detail, ctx.now, ctx.now});
        to_send = result->refund_to_send;
        spdlog::info("webhook {} {}: {} ({})", event->id.str(), event->type,
                     to_string(result->disposition), result->detail);
        Response answer;
        switch (result->disposition) {
            case Disposition::processed:
                answer = json_response(
                    200, boost::json::object{{"id", event->id.str()}, {"status", "processed"}});
                break;
            case Disposition::pending:
                answer = json_response(202, boost::json::object{{"id", event->id.str()},
                                                                {"status", "pending"},
                                                                {"detail", result->detail}});
                break;
            case Disposition::rejected:
                return fail(ErrorCode::conflict, result->detail);
        }
        ctx.app.journal_write(tx, ctx, answer);
        return answer;
    });
    if (!resp && resp.error().code == ErrorCode::conflict) {
        // A refusal by state: keep the record so a repeat is recognised, then answer 409.
        auto kept = ctx.app.db().write([&](db::Tx& tx) -> Result<bool> {
            db::lock_key(tx, db::LockSpace::webhook_event, event->id.str());
            if (!db::find_webhook_event(tx, event->id.str())) {
                db::save_webhook_event(
                    tx, db::WebhookEvent{event->id.str(), event->type, ctx.req.body, "rejected", 1,
                                         resp.error().detail, ctx.now, ctx.now});
                ctx.app.journal_write(tx, ctx, problem_response(resp.error(), ctx.req.request_id));
            }
            return true;
        });
        if (!kept)
            spdlog::warn("could not record rejected webhook {}: {}", event->id.str(),
                         kept.error().detail);
    }
    if (to_send) tell_provider(ctx.app, *to_send);
    return resp;
}

// ---------------------------------------------------------------- refunds

Result<Response> create_refund(Context& ctx) {
    auto p = ctx.require({Role::merchant, Role::admin});
    if (!p) return fail(p.error());
    auto id = path_id<OrderId>(ctx, 0);
    if (!id) return fail(id.error());
    if (!ctx.req.has_idempotency_key) {
        return fail(ErrorCode::invalid_request,
                    "the Idempotency-Key header is required: reuse the same key when retrying");
    }
    auto body = ctx.json_body();
    if (!body) return fail(body.error());
    auto cmd = decode_create_refund(*body);
    if (!cmd) return fail(cmd.error());
    std::optional<Refund> created;
    auto resp = ctx.app.write(ctx, [&](db::Tx& tx) -> Result<Response> {
        auto order = db::find_order(tx, *id);
        if (!order || (p->role != Role::admin && !is_seller(*p, *order))) {
            return fail(ErrorCode::not_found, fmt::format("no order {}", id->str()));
        }
        auto checkout = db::find_checkout(tx, order->checkout_id);
        if (!checkout) return fail(ErrorCode::internal, "checkout missing for " + id->str());
        auto payment = db::find_payment(tx, checkout->payment_id);
        if (!payment) return fail(ErrorCode::internal, "payment missing for " + id->str());
        auto refund = decide_refund(*order, *payment, db::refunds_of_order(tx, order->id), *cmd,
                                    new_id<RefundId>(), ctx.now);
        if (!refund) return fail(refund.error());
        db::insert_refund(tx, *refund);
        created = *refund;
        return json_response(201, encode_refund(*refund));
    });
    if (resp && created && !is_replayed(*resp)) tell_provider(ctx.app, *created);
    return resp;
}

Result<Response> list_refunds(Context& ctx) {
    auto p = ctx.require({Role::user, Role::merchant, Role::admin});
    if (!p) return fail(p.error());
    auto id = path_id<OrderId>(ctx, 0);
    if (!id) return fail(id.error());
    auto page = page_params(ctx.req);  // oldest first: the cursor continues after its refund
    if (!page) return fail(page.error());
    return ctx.app.db().read([&](db::Tx& tx) -> Result<Response> {
        auto order = db::find_order(tx, *id);
        const bool visible =
            order && (p->role == Role::admin || is_seller(*p, *order) ||
                      (p->role == Role::user && p->sub.str() == order->user_id.str()));
        if (!visible) return fail(ErrorCode::not_found, fmt::format("no order {}", id->str()));
        auto refunds = db::refunds_page(tx, *id, page->before, page->limit);
        boost::json::array data;
        for (const auto& r : refunds.items) data.push_back(encode_refund(r));
        std::optional<std::string> cursor;
        if (refunds.next_before) cursor = encode_cursor(*refunds.next_before);
        return json_response(200, encode_list(std::move(data), cursor));
    });
}

}  // namespace

// Cancelling a paid order (handlers_orders.cpp): cancelled now, refunded in full with a
// restock when the provider confirms.
Result<Order> cancel_paid_order(db::Tx& tx, const Order& order, const ActorId& actor, Timestamp now,
                                std::optional<Refund>& refund_out) {
    auto checkout = db::find_checkout(tx, order.checkout_id);
    if (!checkout) return fail(ErrorCode::internal, "checkout missing for " + order.id.str());
    auto plan = decide_cancel_paid(order, db::refunds_of_order(tx, order.id), checkout->payment_id,
                                   new_id<RefundId>(), actor, now);
    if (!plan) return fail(plan.error());
    if (!db::update_order(tx, plan->order, order.status)) {
        return fail(ErrorCode::conflict, "order changed while cancelling; reload it");
    }
    if (plan->refund.amount.minor > 0) {
        db::insert_refund(tx, plan->refund);
        refund_out = plan->refund;
    }
    return plan->order;
}

void notify_provider_of_refund(App& app, const Refund& refund) {
    tell_provider(app, refund);
}

// Retries events that named objects not known yet; after 24 h they are rejected with an
// error in the log (never silently dropped).
void retry_pending_webhooks(App& app, Timestamp now) {
    auto pending = app.db().read([&](db::Tx& tx) -> Result<std::vector<db::WebhookEvent>> {
        return db::pending_webhook_events(tx, 100);
    });
    if (!pending) return;
    for (const auto& stored : *pending) retry_webhook(app, stored.id, now, nullptr);
}

bool retry_webhook(App& app, const std::string& event_id, Timestamp now,
                   const std::vector<std::string>* replay_ids) {
    auto found = app.db().read([&](db::Tx& tx) -> Result<std::optional<db::WebhookEvent>> {
        return db::find_webhook_event(tx, event_id);
    });
    if (!found || !*found || (*found)->status != "pending") return false;
    const db::WebhookEvent stored = **found;
    std::vector<std::string> ids;
    // Replayed, the entry's ids are made again, and recorded for the entry written again.
    IdRecording recording(ids);
    std::optional<IdReplay> replaying;
    if (replay_ids) replaying.emplace(*replay_ids);
    {
        auto parsed = parse_json_object(stored.payload);
        auto event =
            parsed ? decode_provider_event(*parsed) : Result<ProviderEvent>(fail(parsed.error()));
        std::optional<Refund> to_send;
        auto done = app.db().write([&](db::Tx& tx) -> Result<bool> {
            tx.changes().at_ms = now.unix_ms;
            ids.clear();  // an attempt run again (a deadlock on PostgreSQL) makes them again
            to_send.reset();
            // Another node may be retrying the same event: take turns, then go on only if it
            // is still pending.
            db::lock_key(tx, db::LockSpace::webhook_event, stored.id);
            if (auto current = db::find_webhook_event(tx, stored.id);
                !current || current->status != "pending" || current->attempts != stored.attempts) {
                return false;
            }
            db::WebhookEvent record = stored;
            record.attempts += 1;
            record.updated_at = now;
            if (!event) {
                record.status = "rejected";
                record.detail = event.error().detail;
            } else {
                auto result = apply_event_in_tx(tx, *event, now);
                if (!result) {
                    record.status = "rejected";
                    record.detail = result.error().detail;
                } else {
                    record.status = std::string(to_string(result->disposition));
                    record.detail = result->detail;
                    to_send = result->refund_to_send;
                }
            }
            if (record.status == "pending" &&
                now.unix_ms - record.received_at.unix_ms > kPendingEventLifetimeMs) {
                record.status = "rejected";
                record.detail = "gave up after 24 h: " + record.detail;
            }
            db::save_webhook_event(tx, record);
            db::JournalEntry e;
            e.at = now;
            e.kind = "webhook_retry";
            e.actor = "system";
            e.role = "system";
            e.target = record.id;
            e.ids = ids;
            e.status = 200;
            e.response_sha256 = record.status + " " + std::to_string(record.attempts);
            db::append_journal(tx, e);
            if (record.status == "rejected") {
                spdlog::error("webhook {} {} rejected after {} attempts: {}", record.id,
                              record.type, record.attempts, record.detail);
            } else if (record.status == "processed") {
                spdlog::info("webhook {} {} processed on attempt {}: {}", record.id, record.type,
                             record.attempts, record.detail);
            }
            return true;
        });
        if (!done) spdlog::warn("retrying webhook {} failed: {}", stored.id, done.error().detail);
        if (to_send && !replay_ids) tell_provider(app, *to_send);
        return done.has_value();
    }
}

void add_payment_routes(Router& r) {
    r.add("POST", "/v1/payments/{id}/confirm", confirm);
    r.add("POST", "/v1/webhooks/payments", webhook);
    r.add("POST", "/v1/orders/{id}/refunds", create_refund);
    r.add("GET", "/v1/orders/{id}/refunds", list_refunds);
}

}  // namespace redloop::api
