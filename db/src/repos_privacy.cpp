// Finding and rewriting the copies of a person's data when it is erased (the API decides what
// is rewritten: it reads the JSON).
#include <soci/soci.h>

#include <limits>
#include <sstream>

#include "redloop/db/repos.hpp"
#include "redloop/db/sealer.hpp"
#include "soci_util.hpp"

namespace redloop::db {

std::vector<ErasableOrder> erasable_orders(Tx& tx, const engine::UserId& user) {
    ErasableOrder o;
    Query q(tx,
            "SELECT id, checkout_id, merchant_id FROM orders WHERE user_id = :u AND ship_name IS "
            "NOT NULL AND status IN ('completed', 'cancelled', 'expired', 'refunded')");
    q.into(o.order_id).into(o.checkout_id).into(o.merchant_id).use(user.str());
    q.execute();
    std::vector<ErasableOrder> out;
    while (q.fetch()) out.push_back(o);
    return out;
}

bool checkout_fully_erased(Tx& tx, const engine::CheckoutId& id) {
    long long n = 0;
    Query q(tx, "SELECT COUNT(*) FROM orders WHERE checkout_id = :c AND ship_name IS NOT NULL");
    q.into(n).use(id.str());
    q.run();
    return n == 0;
}

std::vector<std::pair<std::string, std::string>> idempotent_responses_of(
    Tx& tx, const std::string& caller) {
    std::string key, body;
    Query q(tx, "SELECT idem_key, response_body FROM idempotency_keys WHERE caller = :c");
    q.into(key).into(body).use(caller);
    q.execute();
    std::vector<std::pair<std::string, std::string>> out;
    while (q.fetch()) out.emplace_back(key, open_value(body, kSealIdempotentResponse));
    return out;
}

void replace_idempotent_body(Tx& tx, const std::string& caller, const std::string& key,
                             const std::string& body) {
    const std::string sealed = seal_value(body, kSealIdempotentResponse);
    Query q(tx,
            "UPDATE idempotency_keys SET response_body = :b WHERE caller = :c AND idem_key = :k");
    q.use(sealed).use(caller).use(key);
    q.run();
}

std::vector<std::pair<std::int64_t, std::string>> order_events_of_user(Tx& tx,
                                                                       const std::string& user) {
    long long seq = 0;
    std::string data;
    Query q(tx,
            "SELECT seq, data FROM events WHERE user_id = :u AND scope = 'orders' ORDER BY seq");
    q.into(seq).into(data).use(user);
    q.execute();
    std::vector<std::pair<std::int64_t, std::string>> out;
    while (q.fetch()) out.emplace_back(seq, open_value(data, kSealEventData));
    return out;
}

void replace_event_data(Tx& tx, std::int64_t seq, const std::string& data) {
    const std::string sealed = seal_value(data, kSealEventData);
    const long long s = seq;
    Query q(tx, "UPDATE events SET data = :d WHERE seq = :s");
    q.use(sealed).use(s);
    q.run();
}

std::vector<JournalCheckout> journal_checkouts_of(Tx& tx, const std::string& actor) {
    long long seq = 0;
    std::string body, ids, hash;
    Query q(tx,
            "SELECT seq, body, ids, response_sha256 FROM journal WHERE kind = 'http' AND method = "
            "'POST' AND target = '/v1/checkouts' AND actor = :a ORDER BY seq");
    q.into(seq).into(body).into(ids).into(hash).use(actor);
    q.execute();
    std::vector<JournalCheckout> out;
    while (q.fetch()) {
        JournalCheckout c;
        c.seq = seq;
        c.body = open_value(body, kSealJournalBody);
        std::istringstream in(ids);
        for (std::string id; in >> id;) c.ids.push_back(id);
        c.response_sha256 = hash;
        out.push_back(std::move(c));
    }
    return out;
}

void redact_journal_entry(Tx& tx, std::int64_t seq, const std::string& body,
                          const std::string& response_sha256) {
    const std::string sealed = seal_value(body, kSealJournalBody);
    const long long s = seq;
    {
        Query q(tx, "UPDATE journal SET body = :b, response_sha256 = :h WHERE seq = :s");
        q.use(sealed).use(response_sha256).use(s);
        q.run();
    }
    // The entry's recorded effects hold the orders' rows as they were inserted, and they are
    // part of its epoch's net changes: the whole epoch's effects are dropped — its entries
    // marked "-<epoch>", so a replay runs them all instead — and the open epoch, if it is this
    // one, is given up.
    std::string effects;
    soci::indicator ind = soci::i_null;
    {
        Query q(tx, "SELECT effects FROM journal WHERE seq = :s");
        q.into(effects, ind).use(s);
        q.execute();
        if (!q.fetch() || ind != soci::i_ok || effects.empty()) return;
    }
    tx.abandon_effects_epoch();
    if (effects[0] == '-') return;  // dropped already
    const bool is_carrier = effects[0] != '+';
    const std::string epoch = is_carrier ? effects.substr(0, effects.find(':')) : effects.substr(1);
    const std::string member = "+" + epoch, dropped = "-" + epoch, carrier = epoch + ":%";
    // The epoch's entries are consecutive, but for entries without effects that another
    // process wrote meanwhile (a `redloop seed` beside the server): walk out from this one over
    // the epoch's entries and those, to the carrier or another epoch's entry.
    long long lo = 1, hi = std::numeric_limits<long long>::max();
    {
        long long before = 0;
        Query q(tx,
                "SELECT seq FROM journal WHERE seq < :s AND effects IS NOT NULL AND effects <> :m "
                "AND effects <> :d AND effects NOT LIKE :c ORDER BY seq DESC LIMIT 1");
        q.into(before).use(s).use(member).use(dropped).use(carrier);
        q.execute();
        if (q.fetch()) lo = before + 1;
    }
    if (is_carrier) {
        hi = s;
    } else {
        long long after = 0;
        std::string next;
        Query q(tx,
                "SELECT seq, effects FROM journal WHERE seq > :s AND effects IS NOT NULL AND "
                "effects <> :m AND effects <> :d ORDER BY seq LIMIT 1");
        q.into(after).into(next).use(s).use(member).use(dropped);
        q.execute();
        if (q.fetch()) hi = next.rfind(epoch + ":", 0) == 0 ? after : after - 1;
    }
    Query q(tx,
            "UPDATE journal SET effects = :d WHERE seq BETWEEN :lo AND :hi AND effects IS NOT "
            "NULL");
    q.use(dropped).use(lo).use(hi);
    q.run();
}

}  // namespace redloop::db
