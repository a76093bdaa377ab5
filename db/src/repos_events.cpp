#include <soci/soci.h>

#include "redloop/db/events.hpp"
#include "redloop/db/locks.hpp"
#include "redloop/db/sealer.hpp"
#include "soci_util.hpp"

namespace redloop::db {

namespace {

const char* kColumns = "seq, at, scope, type, user_id, merchant_id, sku_id, data";

// Reads rows of `sql` (selecting kColumns) bound by `bind`.
template <typename Bind>
std::vector<EventRow> select_events(Tx& tx, const std::string& sql, Bind&& bind) {
    std::vector<EventRow> out;
    long long seq = 0, at = 0;
    std::string scope, type, data;
    NullableText user, merchant, sku;
    Query q(tx, sql);
    q.into(seq)
        .into(at)
        .into(scope)
        .into(type)
        .into(user.value, user.ind)
        .into(merchant.value, merchant.ind)
        .into(sku.value, sku.ind)
        .into(data);
    bind(q);
    q.execute();
    auto opt = [](const NullableText& t) {
        return t.ind == soci::i_ok ? std::optional<std::string>(t.value) : std::nullopt;
    };
    while (q.fetch()) {
        out.push_back(EventRow{seq, at, scope, type, opt(user), opt(merchant), opt(sku),
                               open_value(data, kSealEventData)});
    }
    return out;
}

NullableText text_of(const std::optional<std::string>& s) {
    return s ? NullableText{*s, soci::i_ok} : NullableText{};
}

}  // namespace

void insert_event(Tx& tx, const EventRow& e) {
    const long long at = e.at_ms;
    auto user = text_of(e.user_id), merchant = text_of(e.merchant_id), sku = text_of(e.sku_id);
    // An order's event carries the order, shipping address included: sealed at rest. The public
    // ones (a SKU's price and stock) are not.
    const std::string data = e.scope == "orders" ? seal_value(e.data, kSealEventData) : e.data;
    Query q(tx,
            "INSERT INTO events (at, scope, type, user_id, merchant_id, sku_id, data) "
            "VALUES (:at, :sc, :t, :u, :m, :s, :d)");
    q.use(at)
        .use(e.scope)
        .use(e.type)
        .use(user.value, user.ind)
        .use(merchant.value, merchant.ind)
        .use(sku.value, sku.ind)
        .use(data);
    q.run();
}

void lock_event_log(Tx& tx) {
    lock_commit_order(tx);
}

void notify_event_log(Tx& tx) {
    if (tx.dialect() != Dialect::postgresql) return;
    tx.sql() << std::string("SELECT pg_notify('") + kEventChannel + "', '')";
}

std::int64_t last_event_seq(Tx& tx) {
    long long seq = 0;
    soci::indicator ind = soci::i_null;
    Query q(tx, "SELECT MAX(seq) FROM events");
    q.into(seq, ind);
    q.run();
    long long purged = events_purged_through(tx);
    return std::max(ind == soci::i_ok ? seq : 0LL, purged);
}

std::vector<EventRow> events_between(Tx& tx, std::int64_t after, std::int64_t upto, int limit) {
    const long long a = after, u = upto;
    return select_events(tx,
                         std::string("SELECT ") + kColumns +
                             " FROM events WHERE seq > :a AND seq <= :u ORDER BY seq LIMIT :l",
                         [&](Query& q) { q.use(a).use(u).use(limit); });
}

std::vector<EventRow> events_matching(Tx& tx, const EventFilter& f, std::int64_t after,
                                      std::int64_t upto, int limit) {
    const long long a = after, u = upto;
    std::string where = "scope = :scope";
    std::vector<const std::string*> binds;
    if (!f.everything) {
        if (f.user_id) {
            where += " AND user_id = :u";
            binds.push_back(&*f.user_id);
        } else if (!f.sku_ids.empty()) {
            where += " AND sku_id IN (";
            for (std::size_t i = 0; i < f.sku_ids.size(); ++i) {
                where += (i ? ", :s" : ":s") + std::to_string(i);
                binds.push_back(&f.sku_ids[i]);
            }
            where += ")";
        } else if (f.merchant_id) {
            where += " AND merchant_id = :m";
            binds.push_back(&*f.merchant_id);
        } else {
            return {};
        }
    }
    return select_events(tx,
                         std::string("SELECT ") + kColumns + " FROM events WHERE " + where +
                             " AND seq > :a AND seq <= :up ORDER BY seq LIMIT :l",
                         [&](Query& q) {
                             q.use(f.scope);
                             for (const auto* b : binds) q.use(*b);
                             q.use(a).use(u).use(limit);
                         });
}

std::int64_t purge_events(Tx& tx, std::int64_t cutoff_ms) {
    const long long cutoff = cutoff_ms;
    long long highest = 0;
    soci::indicator ind = soci::i_null;
    Query q(tx, "SELECT MAX(seq) FROM events WHERE at < :c");
    q.into(highest, ind).use(cutoff);
    q.run();
    if (ind != soci::i_ok) return 0;
    Query del(tx, "DELETE FROM events WHERE seq <= :s");
    del.use(highest);
    const auto removed = del.run();
    Query mark(tx,
               "UPDATE event_log_state SET purged_through = :s WHERE id = 1 AND purged_through < "
               ":s2");
    mark.use(highest).use(highest);
    mark.run();
    return removed;
}

std::int64_t events_purged_through(Tx& tx) {
    long long v = 0;
    Query q(tx, "SELECT purged_through FROM event_log_state WHERE id = 1");
    q.into(v);
    q.run();
    return v;
}

}  // namespace redloop::db
