#include "redloop/db/rekey.hpp"

#include <soci/soci.h>

#include <vector>

#include "redloop/db/sealer.hpp"
#include "soci_util.hpp"

namespace redloop::db {

using engine::ErrorCode;
using engine::fail;

namespace {

constexpr const char* kPlaintext = "plaintext";

struct Column {
    const char* name;
    const char* context;
};

// Where personal data is sealed. `keys` is the row's unique key: one integer column, or one or
// two text columns. `plain_filter` picks the rows whose plaintext values are personal data (the
// rest are public and stay as they are).
struct SealedTable {
    const char* table;
    std::vector<const char*> keys;
    bool integer_key;
    std::vector<Column> columns;
    const char* plain_filter;
};

const std::vector<SealedTable>& sealed_tables() {
    static const std::vector<SealedTable> tables{
        {"orders",
         {"id"},
         false,
         {{"ship_name", kSealShipName},
          {"ship_phone", kSealShipPhone},
          {"ship_line1", kSealShipLine1},
          {"ship_city", kSealShipCity},
          {"ship_postal_code", kSealShipPostal},
          {"ship_country", kSealShipCountry}},
         nullptr},
        {"journal", {"seq"}, true, {{"body", kSealJournalBody}}, nullptr},
        {"idempotency_keys",
         {"caller", "idem_key"},
         false,
         {{"response_body", kSealIdempotentResponse}},
         nullptr},
        {"events", {"seq"}, true, {{"data", kSealEventData}}, "scope = 'orders'"},
    };
    return tables;
}

struct Row {
    long long seq = 0;
    std::string k1, k2;
    std::vector<std::string> values;
    std::vector<soci::indicator> inds;
    bool plain_ok = false;  // its plaintext values are personal data
};

struct Change {
    Row key;
    std::string column;
    std::string old_value, new_value;
};

}  // namespace

engine::Result<RekeyReport> rekey(Database& db, int batch) {
    const KeyRing* ring = installed_key_ring();
    if (!ring) return fail(ErrorCode::invalid_request, "no data key ring (REDLOOP_DATA_KEYS)");
    RekeyReport report;
    for (const auto& t : sealed_tables()) {
        std::string select = "SELECT ";
        for (const auto* k : t.keys) select += std::string(k) + ", ";
        for (const auto& c : t.columns) select += std::string(c.name) + ", ";
        select += t.plain_filter ? std::string("CASE WHEN ") + t.plain_filter + " THEN 1 ELSE 0 END"
                                 : std::string("1");
        select += std::string(" FROM ") + t.table + " WHERE ";
        if (t.keys.size() == 1) {
            select += std::string(t.keys[0]) + " > :a";
        } else {
            select += std::string("(") + t.keys[0] + " > :a OR (" + t.keys[0] + " = :a2 AND " +
                      t.keys[1] + " > :b))";
        }
        select += " ORDER BY ";
        for (std::size_t i = 0; i < t.keys.size(); ++i)
            select += (i ? ", " : "") + std::string(t.keys[i]);
        select += " LIMIT :n";

        Row last;
        bool first = true;
        while (true) {
            auto rows = db.read([&](Tx& tx) -> engine::Result<std::vector<Row>> {
                std::vector<Row> out;
                Row r;
                r.values.resize(t.columns.size());
                r.inds.resize(t.columns.size(), soci::i_null);
                int plain = 0;
                Query q(tx, select);
                if (t.integer_key) {
                    q.into(r.seq);
                } else {
                    q.into(r.k1);
                    if (t.keys.size() > 1) q.into(r.k2);
                }
                for (std::size_t i = 0; i < t.columns.size(); ++i) q.into(r.values[i], r.inds[i]);
                q.into(plain);
                const long long after_seq = first ? -1 : last.seq;
                if (t.integer_key) {
                    q.use(after_seq);
                } else if (t.keys.size() == 1) {
                    q.use(last.k1);
                } else {
                    q.use(last.k1).use(last.k1).use(last.k2);
                }
                q.use(batch);
                q.execute();
                while (q.fetch()) {
                    r.plain_ok = plain != 0;
                    out.push_back(r);
                }
                return out;
            });
            if (!rows) return fail(rows.error());
            if (rows->empty()) break;
            first = false;
            last = rows->back();

            std::vector<Change> changes;
            for (const auto& r : *rows) {
                for (std::size_t i = 0; i < t.columns.size(); ++i) {
                    if (r.inds[i] != soci::i_ok) continue;
                    const std::string& v = r.values[i];
                    const bool sealed = KeyRing::is_sealed(v);
                    if (!sealed && !r.plain_ok) continue;
                    const std::string id = sealed ? KeyRing::key_id_of(v) : kPlaintext;
                    ++report.found[id];
                    if (sealed && id == ring->sealing_key_id()) continue;
                    std::string plain = v;
                    if (sealed) {
                        auto opened = ring->open(v, t.columns[i].context);
                        if (!opened) {
                            return fail(opened.error().code, std::string(t.table) + "." +
                                                                 t.columns[i].name + ": " +
                                                                 opened.error().detail);
                        }
                        plain = std::move(*opened);
                    }
                    changes.push_back(
                        Change{r, t.columns[i].name, v, ring->seal(plain, t.columns[i].context)});
                }
            }
            if (changes.empty()) continue;
            auto written = db.write([&](Tx& tx) -> engine::Result<std::pair<long long, long long>> {
                long long done = 0, changed = 0;
                for (const auto& c : changes) {
                    std::string sql =
                        std::string("UPDATE ") + t.table + " SET " + c.column + " = :v WHERE ";
                    for (std::size_t i = 0; i < t.keys.size(); ++i) {
                        sql +=
                            std::string(i ? " AND " : "") + t.keys[i] + " = :k" + std::to_string(i);
                    }
                    sql += " AND " + c.column + " = :old";
                    Query q(tx, sql);
                    q.use(c.new_value);
                    if (t.integer_key) {
                        q.use(c.key.seq);
                    } else {
                        q.use(c.key.k1);
                        if (t.keys.size() > 1) q.use(c.key.k2);
                    }
                    q.use(c.old_value);
                    if (q.run() == 1) {
                        ++done;
                    } else {
                        ++changed;
                    }
                }
                return std::pair{done, changed};
            });
            if (!written) return fail(written.error());
            report.resealed += written->first;
            report.skipped_changed += written->second;
        }
    }
    return report;
}

}  // namespace redloop::db
