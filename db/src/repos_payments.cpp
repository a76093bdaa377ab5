#include <soci/soci.h>

#include "redloop/db/repos.hpp"
#include "soci_util.hpp"

namespace redloop::db {

using namespace redloop::engine;

// ---------------------------------------------------------------- refunds

void insert_refund(Tx& tx, const Refund& r) {
    tx.changes().note(TxChanges::Entity::refund, r.id.str(), "refund.created");
    NullableText order = nullable(r.order_id);
    const long long amount = r.amount.minor, created = r.created_at.unix_ms,
                    updated = r.updated_at.unix_ms;
    const std::string currency(r.amount.currency.code()), status(to_string(r.status));
    const int restock = r.restock ? 1 : 0;
    Query q(tx,
            "INSERT INTO refunds (id, order_id, payment_id, amount_minor, currency, reason, "
            "restock, status, created_at, updated_at) VALUES (:id, :o, :p, :a, :c, :r, :rs, :s, "
            ":ca, :ua)");
    q.use(r.id.str())
        .use(order.value, order.ind)
        .use(r.payment_id.str())
        .use(amount)
        .use(currency)
        .use(r.reason)
        .use(restock)
        .use(status)
        .use(created)
        .use(updated);
    q.run();
}

namespace {

struct RefundRow {
    std::string id, order, payment, currency, reason, status;
    soci::indicator order_ind = soci::i_null;
    long long amount = 0, created = 0, updated = 0;
    int restock = 0;

    void bind(Query& q) {
        q.into(id)
            .into(order, order_ind)
            .into(payment)
            .into(amount)
            .into(currency)
            .into(reason)
            .into(restock)
            .into(status)
            .into(created)
            .into(updated);
    }
    Refund to_refund() const {
        Refund r;
        r.id = RefundId::trusted(id);
        if (order_ind == soci::i_ok) r.order_id = OrderId::trusted(order);
        r.payment_id = PaymentId::trusted(payment);
        r.amount = money_from(amount, currency);
        r.reason = reason;
        r.restock = restock != 0;
        r.status = parse_refund_status(status).value_or(RefundStatus::pending);
        r.created_at = Timestamp{created};
        r.updated_at = Timestamp{updated};
        return r;
    }
};

constexpr const char* kRefundSelect =
    "SELECT id, order_id, payment_id, amount_minor, currency, reason, restock, status, "
    "created_at, updated_at FROM refunds ";

}  // namespace

std::optional<Refund> find_refund(Tx& tx, const RefundId& id) {
    RefundRow row;
    Query q(tx, std::string(kRefundSelect) + "WHERE id = :id");
    row.bind(q);
    q.use(id.str());
    q.execute();
    if (!q.fetch()) return std::nullopt;
    return row.to_refund();
}

namespace {
// The refunds a WHERE clause with one parameter selects, oldest first.
std::vector<Refund> refunds_where(Tx& tx, const char* where, const std::string& param) {
    RefundRow row;
    Query q(tx, std::string(kRefundSelect) + where + " ORDER BY seq");
    row.bind(q);
    q.use(param);
    q.execute();
    std::vector<Refund> out;
    while (q.fetch()) out.push_back(row.to_refund());
    return out;
}
}  // namespace

std::vector<Refund> refunds_of_order(Tx& tx, const OrderId& id) {
    return refunds_where(tx, "WHERE order_id = :o", id.str());
}

std::vector<Refund> pending_refunds_of_payment(Tx& tx, const PaymentId& id) {
    return refunds_where(tx, "WHERE payment_id = :p AND status = 'pending'", id.str());
}

Page<Refund> refunds_page(Tx& tx, const OrderId& id, std::optional<std::int64_t> after_seq,
                          int limit) {
    RefundRow row;
    long long seq = 0;
    const long long after = after_seq.value_or(0);
    const int fetch_n = limit + 1;
    Query q(tx,
            "SELECT id, order_id, payment_id, amount_minor, currency, reason, restock, status, "
            "created_at, updated_at, seq FROM refunds WHERE order_id = :o AND seq > :s "
            "ORDER BY seq LIMIT :l");
    row.bind(q);
    q.into(seq);
    q.use(id.str()).use(after).use(fetch_n);
    q.execute();
    Page<Refund> page;
    std::vector<long long> seqs;
    while (q.fetch()) {
        page.items.push_back(row.to_refund());
        seqs.push_back(seq);
    }
    if (static_cast<int>(page.items.size()) > limit) {
        page.items.resize(static_cast<std::size_t>(limit));
        page.next_before = seqs[static_cast<std::size_t>(limit) - 1];
    }
    return page;
}

bool mark_refund_succeeded(Tx& tx, const Refund& r) {
    const long long updated = r.updated_at.unix_ms;
    Query q(tx,
            "UPDATE refunds SET status = 'succeeded', updated_at = :ua "
            "WHERE id = :id AND status = 'pending'");
    q.use(updated).use(r.id.str());
    if (q.run() != 1) return false;
    tx.changes().note(TxChanges::Entity::refund, r.id.str(), "refund.succeeded");
    return true;
}

// ---------------------------------------------------------------- reservations sold

bool sell_reservations(Tx& tx, const OrderId& order, const std::vector<StockMovement>& sales) {
    for (const auto& m : sales) {
        const long long at = m.at.unix_ms;
        Query q(tx,
                "UPDATE reservations SET state = 'sold', updated_at = :ua "
                "WHERE order_id = :o AND sku_id = :s AND state = 'held'");
        q.use(at).use(order.str()).use(m.sku_id.str());
        if (q.run() != 1) return false;
        if (!apply_stock_movement(tx, m)) return false;
    }
    return true;
}

// ---------------------------------------------------------------- webhook events

namespace {
constexpr const char* kEventSelect =
    "SELECT id, type, payload, status, attempts, detail, received_at, updated_at "
    "FROM webhook_events ";

void bind_event(Query& q, WebhookEvent& e, long long& received, long long& updated) {
    q.into(e.id)
        .into(e.type)
        .into(e.payload)
        .into(e.status)
        .into(e.attempts)
        .into(e.detail)
        .into(received)
        .into(updated);
}
}  // namespace

std::optional<WebhookEvent> find_webhook_event(Tx& tx, const std::string& id) {
    WebhookEvent e;
    long long received = 0, updated = 0;
    Query q(tx, std::string(kEventSelect) + "WHERE id = :id");
    bind_event(q, e, received, updated);
    q.use(id);
    q.execute();
    if (!q.fetch()) return std::nullopt;
    e.received_at = Timestamp{received};
    e.updated_at = Timestamp{updated};
    return e;
}

void save_webhook_event(Tx& tx, const WebhookEvent& e) {
    const long long received = e.received_at.unix_ms, updated = e.updated_at.unix_ms;
    Query q(tx,
            "INSERT INTO webhook_events (id, type, payload, status, attempts, detail, "
            "received_at, updated_at) VALUES (:id, :t, :p, :s, :a, :d, :r, :u) "
            "ON CONFLICT (id) DO UPDATE SET status = excluded.status, "
            "attempts = excluded.attempts, detail = excluded.detail, "
            "updated_at = excluded.updated_at");
    q.use(e.id)
        .use(e.type)
        .use(e.payload)
        .use(e.status)
        .use(e.attempts)
        .use(e.detail)
        .use(received)
        .use(updated);
    q.run();
}

std::vector<WebhookEvent> pending_webhook_events(Tx& tx, int limit) {
    WebhookEvent e;
    long long received = 0, updated = 0;
    Query q(tx,
            std::string(kEventSelect) + "WHERE status = 'pending' ORDER BY received_at LIMIT :l");
    bind_event(q, e, received, updated);
    q.use(limit);
    q.execute();
    std::vector<WebhookEvent> out;
    while (q.fetch()) {
        e.received_at = Timestamp{received};
        e.updated_at = Timestamp{updated};
        out.push_back(e);
    }
    return out;
}

}  // namespace redloop::db
