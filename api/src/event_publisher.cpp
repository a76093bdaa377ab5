#include "event_publisher.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <set>
#include <utility>

#include "codec.hpp"
#include "redloop/db/events.hpp"
#include "redloop/db/repos.hpp"

namespace redloop::api {

namespace json = boost::json;
using db::TxChanges;

namespace {

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

db::EventRow event_row(const char* scope, const std::string& type, std::int64_t at) {
    db::EventRow e;
    e.at_ms = at;
    e.scope = scope;
    e.type = type;
    return e;
}

void order_event(db::Tx& tx, const engine::Order& o, const std::string& type, std::int64_t at) {
    auto e = event_row("orders", type, at);
    e.user_id = o.user_id.str();
    e.merchant_id = o.merchant_id.str();
    e.data = json::serialize(encode_order(o));
    db::insert_event(tx, e);
}

}  // namespace

engine::Status publish_changes(db::Tx& tx) {
    auto& changes = tx.changes();
    // The stream reads the log in seq order and takes a seq it has passed as delivered, so seq
    // order must be commit order. SQLite's writers already take turns through COMMIT; on
    // PostgreSQL this lock (held to the end of the transaction, the journal's too) does the same
    // for every transaction that writes events.
    db::lock_event_log(tx);
    const std::int64_t at = changes.at_ms ? changes.at_ms : wall_ms();
    // One event per object and type, in the order they first happened, with the final state.
    std::set<std::pair<std::string, std::string>> seen;
    std::vector<TxChanges::Change> todo;
    for (auto& c : changes.changes) {
        if (seen.emplace(c.id, c.type).second) todo.push_back(std::move(c));
    }
    changes.changes.clear();
    // Other nodes' stream hubs hear of the events when this transaction commits (PostgreSQL).
    if (!todo.empty()) db::notify_event_log(tx);
    for (const auto& c : todo) {
        switch (c.entity) {
            case TxChanges::Entity::sku: {
                auto id = engine::SkuId::parse(c.id);
                auto sku = id ? db::find_sku(tx, *id) : std::nullopt;
                if (!sku) break;
                auto e = event_row("sku", c.type, at);
                e.merchant_id = sku->merchant_id.str();
                e.sku_id = sku->id.str();
                e.data = json::serialize(json::object{{"sku_id", sku->id.str()},
                                                      {"product_id", sku->product_id.str()},
                                                      {"price", encode_money(sku->price)},
                                                      {"available", sku->available()},
                                                      {"updated_at", to_rfc3339(sku->updated_at)}});
                db::insert_event(tx, e);
                break;
            }
            case TxChanges::Entity::order: {
                auto id = engine::OrderId::parse(c.id);
                auto order = id ? db::find_order(tx, *id) : std::nullopt;
                if (order) order_event(tx, *order, c.type, at);
                break;
            }
            case TxChanges::Entity::payment: {
                auto id = engine::PaymentId::parse(c.id);
                auto p = id ? db::find_payment(tx, *id) : std::nullopt;
                if (!p) break;
                auto e = event_row("orders", c.type, at);
                e.user_id = p->user_id.str();  // the buyer's; the shop hears of it as order.paid
                e.data = json::serialize(encode_payment(*p));
                db::insert_event(tx, e);
                break;
            }
            case TxChanges::Entity::commission: {
                auto entry = db::find_commission_entry(tx, std::stoll(c.id));
                if (!entry) break;
                auto e = event_row("earnings", c.type, at);
                e.user_id = entry->creator.str();
                e.merchant_id = entry->merchant_id.str();
                e.data = json::serialize(encode_commission_entry(*entry, true));
                db::insert_event(tx, e);
                break;
            }
            case TxChanges::Entity::refund: {
                auto id = engine::RefundId::parse(c.id);
                auto r = id ? db::find_refund(tx, *id) : std::nullopt;
                if (!r) break;
                auto e = event_row("orders", c.type, at);
                if (r->order_id) {
                    if (auto o = db::find_order(tx, *r->order_id)) {
                        e.user_id = o->user_id.str();
                        e.merchant_id = o->merchant_id.str();
                    }
                }
                if (!e.user_id) {
                    if (auto p = db::find_payment(tx, r->payment_id)) e.user_id = p->user_id.str();
                }
                e.data = json::serialize(encode_refund(*r));
                db::insert_event(tx, e);
                break;
            }
        }
    }
    return {};
}

}  // namespace redloop::api
