// The commission ledger (migration 0010): entries, and each line's running commission.
#include <soci/soci.h>

#include <cassert>
#include <limits>
#include <map>

#include "redloop/db/repos.hpp"
#include "soci_util.hpp"

namespace redloop::db {

using namespace redloop::engine;

std::optional<ActorId> note_author(Tx& tx, const NoteId& note) {
    std::string author;
    Query q(tx, "SELECT author_id FROM notes WHERE id = :n");
    q.into(author).use(note.str());
    q.execute();
    if (!q.fetch()) return std::nullopt;
    return ActorId::trusted(author);
}

int commission_rate_of_sku(Tx& tx, const SkuId& sku) {
    int rate = 0;
    Query q(tx,
            "SELECT p.commission_rate_bps FROM skus s JOIN products p ON p.id = s.product_id "
            "WHERE s.id = :s");
    q.into(rate).use(sku.str());
    q.execute();
    if (!q.fetch()) return 0;
    return rate;
}

std::vector<CommissionLine> commission_lines(Tx& tx, const OrderId& order) {
    std::vector<CommissionLine> out;
    {
        int position = 0;
        std::string note, creator;
        soci::indicator note_i = soci::i_null, settled_i = soci::i_null;
        long long settled_at = 0;
        Query q(tx,
                "SELECT position, note_id, creator_id, commission_settled_at FROM order_lines "
                "WHERE order_id = :o AND creator_id IS NOT NULL ORDER BY position");
        q.into(position).into(note, note_i).into(creator).into(settled_at, settled_i);
        q.use(order.str());
        q.execute();
        while (q.fetch()) {
            if (note_i != soci::i_ok) continue;  // a creator is fixed only for a note's line
            CommissionLine l;
            l.position = position;
            l.note_id = NoteId::trusted(note);
            l.creator = UserId::trusted(creator);
            l.settled_once = settled_i == soci::i_ok;
            out.push_back(std::move(l));
        }
    }
    if (out.empty()) return out;
    int position = 0;
    std::string kind;
    long long amount = 0;
    Query q(tx,
            "SELECT position, kind, SUM(amount_minor) FROM commission_entries WHERE order_id = :o "
            "GROUP BY position, kind");
    q.into(position).into(kind).into(amount).use(order.str());
    q.execute();
    while (q.fetch()) {
        for (auto& l : out) {
            if (l.position != position) continue;
            switch (parse_commission_kind(kind).value_or(CommissionKind::accrue)) {
                case CommissionKind::accrue:
                    l.accrued += amount;
                    break;
                case CommissionKind::reverse:
                    l.reversed += amount;
                    break;
                case CommissionKind::settle:
                    l.settled += amount;
                    break;
            }
        }
    }
    return out;
}

void insert_commission_entries(Tx& tx, const std::vector<CommissionEntry>& entries) {
    for (const auto& e : entries) {
        assert(e.amount.minor > 0);
        const std::string kind(to_string(e.kind)), currency(e.amount.currency.code());
        const long long amount = e.amount.minor, at = e.at.unix_ms;
        const int position = e.position;
        Query q(tx,
                "INSERT INTO commission_entries (order_id, position, note_id, creator_id, "
                "merchant_id, kind, ref, amount_minor, currency, at) VALUES (:o, :p, :n, :c, :m, "
                ":k, :r, :a, :cur, :at)");
        q.use(e.order_id.str())
            .use(position)
            .use(e.note_id.str())
            .use(e.creator.str())
            .use(e.merchant_id.str())
            .use(kind)
            .use(e.ref)
            .use(amount)
            .use(currency)
            .use(at);
        q.run();
        {
            // The entry's seq names it to the event publisher (the earnings topic).
            long long seq = 0;
            Query k(tx,
                    "SELECT seq FROM commission_entries WHERE order_id = :o AND position = :p AND "
                    "kind = :k AND ref = :r");
            k.into(seq).use(e.order_id.str()).use(position).use(kind).use(e.ref);
            k.execute();
            if (k.fetch()) {
                tx.changes().note(TxChanges::Entity::commission, std::to_string(seq),
                                  std::string(commission_event_type(e.kind)));
            }
        }
        long long delta = 0;
        switch (e.kind) {
            case CommissionKind::accrue:
                delta = amount;
                break;
            case CommissionKind::reverse:
                delta = -amount;
                break;
            case CommissionKind::settle:
                break;  // settling pays what was earned; the line earned as much as before
        }
        if (delta != 0) {
            Query u(tx,
                    "UPDATE order_lines SET commission_minor = commission_minor + :d "
                    "WHERE order_id = :o AND position = :p");
            u.use(delta).use(e.order_id.str()).use(position);
            u.run();
        }
    }
}

void mark_commission_settled(Tx& tx, const OrderId& order, Timestamp at) {
    const long long t = at.unix_ms;
    Query q(tx,
            "UPDATE order_lines SET commission_settled_at = :t WHERE order_id = :o AND "
            "creator_id IS NOT NULL AND commission_settled_at IS NULL");
    q.use(t).use(order.str());
    q.run();
}

std::vector<OrderId> orders_to_settle(Tx& tx, Timestamp now, int limit) {
    const long long t = now.unix_ms, day = kDayMs;
    std::string id;
    long long done = 0;
    // The engine decides again (settlement_due); this only narrows the candidates down, through
    // the partial index of the lines not settled yet.
    Query q(tx,
            "SELECT o.id, MAX(h.at) FROM orders o JOIN merchants m ON m.id = o.merchant_id "
            "JOIN order_history h ON h.order_id = o.id AND h.status = 'completed' "
            "WHERE o.status = 'completed' AND o.id IN (SELECT l.order_id FROM order_lines l "
            "WHERE l.creator_id IS NOT NULL AND l.commission_settled_at IS NULL) "
            "GROUP BY o.id, m.return_window_days "
            "HAVING MAX(h.at) + m.return_window_days * :day <= :t ORDER BY MAX(h.at), " +
                bytewise(tx.dialect(), "o.id") + " LIMIT :l");
    q.into(id).into(done).use(day).use(t).use(limit);
    q.execute();
    std::vector<OrderId> out;
    while (q.fetch()) out.push_back(OrderId::trusted(id));
    return out;
}

namespace {

const char* filter_column(const CommissionFilter& f) {
    assert(f.creator.has_value() != f.merchant.has_value());
    return f.creator ? "creator_id" : "merchant_id";
}

std::string filter_value(const CommissionFilter& f) {
    return f.creator ? f.creator->str() : f.merchant->str();
}

}  // namespace

namespace {

// One row of commission_entries, as the single read and the page read both take it.
constexpr const char* kEntryColumns =
    "seq, order_id, position, note_id, creator_id, merchant_id, kind, ref, amount_minor, currency, "
    "at FROM commission_entries ";

struct EntryRow {
    std::string order, note, creator, merchant, kind, ref, currency;
    int position = 0;
    long long amount = 0, at = 0, seq = 0;

    void bind(Query& q) {
        q.into(seq)
            .into(order)
            .into(position)
            .into(note)
            .into(creator)
            .into(merchant)
            .into(kind)
            .into(ref)
            .into(amount)
            .into(currency)
            .into(at);
    }
    CommissionEntry take() const {
        return CommissionEntry{OrderId::trusted(order),
                               position,
                               NoteId::trusted(note),
                               UserId::trusted(creator),
                               MerchantId::trusted(merchant),
                               parse_commission_kind(kind).value_or(CommissionKind::accrue),
                               ref,
                               money_from(amount, currency),
                               Timestamp{at}};
    }
};

}  // namespace

std::optional<CommissionEntry> find_commission_entry(Tx& tx, std::int64_t seq) {
    const long long s = seq;
    EntryRow row;
    Query q(tx, std::string("SELECT ") + kEntryColumns + "WHERE seq = :s");
    row.bind(q);
    q.use(s);
    q.execute();
    if (!q.fetch()) return std::nullopt;
    return row.take();
}

Page<CommissionEntry> commission_entries(Tx& tx, const CommissionFilter& f,
                                         std::optional<std::int64_t> before_seq, int limit) {
    const long long before = before_seq ? *before_seq : std::numeric_limits<long long>::max();
    const std::string who = filter_value(f);
    const int fetch_n = limit + 1;
    EntryRow row;
    Query q(tx, std::string("SELECT ") + kEntryColumns + "WHERE " + filter_column(f) +
                    " = :w AND seq < :b ORDER BY seq DESC LIMIT :l");
    row.bind(q);
    q.use(who).use(before).use(fetch_n);
    q.execute();
    return fetch_page<CommissionEntry>(q, row, limit);
}

CommissionTotals commission_totals(Tx& tx, const CommissionFilter& f) {
    const std::string who = filter_value(f);
    std::string kind;
    long long amount = 0;
    Query q(tx, std::string("SELECT kind, SUM(amount_minor) FROM commission_entries WHERE ") +
                    filter_column(f) + " = :w GROUP BY kind");
    q.into(kind).into(amount).use(who);
    q.execute();
    CommissionTotals t;
    while (q.fetch()) {
        switch (parse_commission_kind(kind).value_or(CommissionKind::accrue)) {
            case CommissionKind::accrue:
                t.accrued = amount;
                break;
            case CommissionKind::reverse:
                t.reversed = amount;
                break;
            case CommissionKind::settle:
                t.settled = amount;
                break;
        }
    }
    return t;
}

}  // namespace redloop::db
