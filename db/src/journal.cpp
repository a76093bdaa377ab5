#include "redloop/db/journal.hpp"

#include <openssl/evp.h>
#include <soci/soci.h>
#include <sqlite3.h>

#include <charconv>
#include <memory>
#include <sstream>

#include "base64.hpp"
#include "effects.hpp"
#include "redloop/db/locks.hpp"
#include "redloop/db/sealer.hpp"
#include "soci_util.hpp"
#include "statement_cache.hpp"

namespace redloop::db {

namespace {

std::string join_ids(const std::vector<std::string>& ids) {
    std::string out;
    for (const auto& id : ids) out += (out.empty() ? "" : " ") + id;
    return out;
}

std::vector<std::string> split_ids(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string id; in >> id;) out.push_back(id);
    return out;
}

}  // namespace

namespace {

// One journal row, its body already sealed; `effects` empty for NULL.
void insert_journal_row(Tx& tx, const JournalEntry& e, const std::string& sealed_body,
                        const std::string& effects) {
    // A replay applies entries in seq order, so seq order must be commit order: on PostgreSQL,
    // where several processes write, the commit-order lock is held from here to the commit
    // (SQLite's writers already take turns).
    lock_commit_order(tx);
    const long long at = e.at.unix_ms;
    const std::string ids = join_ids(e.ids);
    std::string key = e.idem_key.value_or("");
    soci::indicator key_ind = e.idem_key ? soci::i_ok : soci::i_null;
    soci::indicator effects_ind = effects.empty() ? soci::i_null : soci::i_ok;
    Query q(tx,
            "INSERT INTO journal (at, kind, actor, role, method, target, idem_key, request_id, "
            "body, ids, status, response_sha256, effects) VALUES (:at, :k, :a, :r, :m, :t, :ik, "
            ":rid, :b, :ids, :s, :h, :e)");
    q.use(at)
        .use(e.kind)
        .use(e.actor)
        .use(e.role)
        .use(e.method)
        .use(e.target)
        .use(key, key_ind)
        .use(e.request_id)
        .use(sealed_body)
        .use(ids)
        .use(e.status)
        .use(e.response_sha256)
        .use(effects, effects_ind);
    q.run();
}

}  // namespace

std::int64_t append_journal(Tx& tx, const JournalEntry& e) {
    // Bodies carry personal data (a checkout's shipping address): every body is sealed.
    // A replay copies the entry's effects; a live command marks it as in the open epoch.
    insert_journal_row(tx, e, seal_journal_body(e.body),
                       e.effects ? *e.effects : tx.effects_mark());
    const std::int64_t seq = last_journal_seq(tx);
    tx.note_journal_entry(seq);
    return seq;
}

std::string seal_journal_body(std::string_view body) {
    return seal_value(body, kSealJournalBody);
}

void append_journal_copy(Tx& tx, const JournalEntry& e, const std::string& sealed_body) {
    insert_journal_row(tx, e, sealed_body, std::string());
}

engine::Result<DecodedEffects> decode_effects(std::string_view payload) {
    using engine::ErrorCode;
    using engine::fail;
    const auto semi = payload.find(';');
    if (semi == std::string_view::npos)
        return fail(ErrorCode::invalid_request, "effects without their counters");
    auto raw = base64_decode(payload.substr(0, semi));
    if (!raw) return fail(ErrorCode::invalid_request, "effects are not base64");
    return DecodedEffects{std::move(*raw), std::string(payload.substr(semi + 1))};
}

engine::Status apply_effects(Tx& tx, const std::vector<std::string_view>& payloads) {
    std::vector<DecodedEffects> decoded;
    decoded.reserve(payloads.size());
    for (const auto p : payloads) {
        auto d = decode_effects(p);
        if (!d) return engine::fail(d.error());
        decoded.push_back(std::move(*d));
    }
    std::vector<const DecodedEffects*> effects;
    for (const auto& d : decoded) effects.push_back(&d);
    return apply_effects(tx, effects);
}

engine::Status apply_effects(Tx& tx, const std::vector<const DecodedEffects*>& effects) {
    using engine::ErrorCode;
    using engine::fail;
    if (tx.dialect() != Dialect::sqlite || !tx.statements())
        return fail(ErrorCode::internal, "recorded effects apply to an SQLite file only");
    EffectBatch batch;
    for (const auto* e : effects) {
        auto added = batch.add(e->patchset);
        if (!added) return fail(added.error());
        if (*added) continue;
        // Recorded under another schema than the batch so far: that first, then this.
        if (auto s = batch.apply(tx.statements()->db()); !s) return s;
        added = batch.add(e->patchset);
        if (!added) return fail(added.error());
        if (!*added) return fail(ErrorCode::internal, "effects that fit no batch");
    }
    if (auto s = batch.apply(tx.statements()->db()); !s) return s;
    if (effects.empty()) return {};
    // The counters as the last carrier saw them ("table=value,..."): they only grow.
    std::string_view rest = effects.back()->counters;
    while (!rest.empty()) {
        const auto comma = rest.find(',');
        const auto item = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        const auto eq = item.find('=');
        if (eq == std::string_view::npos || eq == 0)
            return fail(ErrorCode::invalid_request, "effects with a malformed counter");
        const std::string table(item.substr(0, eq));
        long long value = 0;
        const auto digits = item.substr(eq + 1);
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
        if (ec != std::errc{} || end != digits.data() + digits.size())
            return fail(ErrorCode::invalid_request, "effects with a malformed counter");
        long long rows = 0;
        {
            Query q(tx, "SELECT COUNT(*) FROM sqlite_sequence WHERE name = :n");
            q.into(rows).use(table);
            q.run();
        }
        Query q(tx, rows ? "UPDATE sqlite_sequence SET seq = MAX(seq, :v) WHERE name = :n"
                         : "INSERT INTO sqlite_sequence (seq, name) VALUES (:v, :n)");
        q.use(value).use(table);
        q.run();
    }
    return {};
}

std::vector<IndexDefinition> drop_secondary_indexes(Tx& tx) {
    std::vector<IndexDefinition> out;
    if (tx.dialect() != Dialect::sqlite || !tx.statements()) return out;
    {
        IndexDefinition d;
        Query q(tx,
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                "ORDER BY name");
        q.into(d.name).into(d.sql);
        q.execute();
        while (q.fetch()) out.push_back(d);
    }
    // Not through the statement cache: each runs once.
    for (const auto& d : out) tx.statements()->exec("DROP INDEX \"" + d.name + "\"");
    return out;
}

void create_indexes(Tx& tx, const std::vector<IndexDefinition>& indexes) {
    for (const auto& d : indexes) tx.statements()->exec(d.sql);
}

std::int64_t last_journal_seq(Tx& tx) {
    long long seq = 0;
    soci::indicator ind = soci::i_null;
    Query q(tx, "SELECT MAX(seq) FROM journal");
    q.into(seq, ind);
    q.run();
    return ind == soci::i_ok ? seq : 0;
}

std::vector<JournalEntry> journal_since(Tx& tx, std::int64_t after_seq, int limit) {
    JournalEntry e;
    long long seq = 0, at = 0;
    std::string ids, key, effects;
    soci::indicator key_ind = soci::i_null, effects_ind = soci::i_null;
    const long long after = after_seq;
    Query q(tx,
            "SELECT seq, at, kind, actor, role, method, target, idem_key, request_id, body, ids, "
            "status, response_sha256, effects FROM journal WHERE seq > :s ORDER BY seq LIMIT :l");
    q.into(seq)
        .into(at)
        .into(e.kind)
        .into(e.actor)
        .into(e.role)
        .into(e.method)
        .into(e.target)
        .into(key, key_ind)
        .into(e.request_id)
        .into(e.body)
        .into(ids)
        .into(e.status)
        .into(e.response_sha256)
        .into(effects, effects_ind)
        .use(after)
        .use(limit);
    q.execute();
    std::vector<JournalEntry> out;
    while (q.fetch()) {
        JournalEntry copy = e;
        copy.seq = seq;
        copy.body = open_value(e.body, kSealJournalBody);
        copy.at = engine::Timestamp{at};
        copy.ids = split_ids(ids);
        copy.idem_key = key_ind == soci::i_ok ? std::optional<std::string>(key) : std::nullopt;
        copy.effects =
            effects_ind == soci::i_ok ? std::optional<std::string>(effects) : std::nullopt;
        out.push_back(std::move(copy));
    }
    return out;
}

std::optional<std::string> last_journal_body(Tx& tx, const std::string& kind) {
    std::string body;
    Query q(tx, "SELECT body FROM journal WHERE kind = :k ORDER BY seq DESC LIMIT 1");
    q.into(body).use(kind);
    q.execute();
    if (!q.fetch()) return std::nullopt;
    return open_value(body, kSealJournalBody);
}

namespace {

struct TableSpec {
    const char* name;
    const char* columns;  // hashed, in this order
    const char* order;    // a total order that both databases agree on (text by its bytes)
    // Added after journals were recorded: the rows `where` picks (all when empty) are hashed,
    // under a header of their own, only when there are some. A journal that never used the
    // feature hashes as it did before the feature existed, and one that did hashes all of it.
    const char* where = nullptr;
    const char* label = nullptr;
};

// Every business table. seq columns are not hashed (PostgreSQL sequences may skip numbers),
// but insertion order still decides the order of rows that have no natural key.
constexpr TableSpec kTables[] = {
    {"merchants",
     "id, name, currency, shipping_fee_minor, free_shipping_over_minor, return_window_days, "
     "created_at, updated_at",
     "id"},
    {"users", "id, created_at", "id"},
    {"products",
     "id, merchant_id, title, description, status, commission_rate_bps, created_at, updated_at",
     "id"},
    {"product_media", "product_id, position, type, url", "product_id, position"},
    {"skus",
     "id, product_id, merchant_id, title, price_minor, currency, on_hand, reserved, position, "
     "created_at, updated_at, per_user_limit",
     "id"},
    {"inventory_ledger", "sku_id, kind, on_hand_delta, reserved_delta, reason, ref, actor_id, at",
     "sku_id, seq"},
    {"notes", "id, author_id, title, body, created_at", "id"},
    {"note_media", "note_id, position, type, url", "note_id, position"},
    {"note_skus", "note_id, sku_id, position", "note_id, sku_id"},
    {"cart_lines", "user_id, sku_id, quantity, note_id, added_at, updated_at", "user_id, seq"},
    {"checkouts",
     "id, user_id, status, payment_id, created_at, expires_at, updated_at, extended_at", "id"},
    {"payments",
     "id, checkout_id, user_id, status, amount_minor, refunded_minor, currency, created_at, "
     "updated_at",
     "id"},
    {"payment_history", "payment_id, status, at", "payment_id, seq"},
    {"orders",
     "id, checkout_id, user_id, merchant_id, status, currency, subtotal_minor, shipping_fee_minor, "
     "total_minor, refunded_minor, ship_name, ship_phone, ship_line1, ship_city, ship_postal_code, "
     "ship_country, carrier, tracking_number, restocked, created_at, updated_at",
     "id"},
    {"order_lines",
     "order_id, position, sku_id, title, quantity, unit_price_minor, line_total_minor, note_id",
     "order_id, position"},
    {"order_history", "order_id, status, at", "order_id, seq"},
    {"reservations", "order_id, sku_id, quantity, state, created_at, updated_at",
     "order_id, sku_id"},
    {"refunds",
     "id, order_id, payment_id, amount_minor, currency, reason, restock, status, created_at, "
     "updated_at",
     "id"},
    {"webhook_events", "id, type, payload, status, attempts, detail, received_at, updated_at",
     "id"},
    // Promotions (migration 0008).
    {"coupons",
     "code, merchant_id, kind, value, currency, min_spend_minor, starts_at, ends_at, "
     "max_redemptions, per_user_limit, status, in_use, redeemed, created_by, created_at, "
     "updated_at",
     "code", "", "coupons"},
    {"coupon_redemptions",
     "coupon_code, order_id, position, checkout_id, user_id, merchant_id, amount_minor, currency, "
     "state, created_at, updated_at",
     "order_id, coupon_code", "", "coupon_redemptions"},
    {"orders", "id, discount_minor", "id", "discount_minor <> 0", "orders.discount"},
    {"order_lines", "order_id, position, discount_minor", "order_id, position",
     "discount_minor <> 0", "order_lines.discount"},
    // Commissions (migration 0010).
    {"order_lines",
     "order_id, position, creator_id, commission_rate_bps, commission_minor, "
     "commission_settled_at",
     "order_id, position", "creator_id IS NOT NULL", "order_lines.commission"},
    {"commission_entries",
     "order_id, position, note_id, creator_id, merchant_id, kind, ref, amount_minor, currency, at",
     "order_id, position, kind, ref", "", "commission_entries"},
};

struct DigestDeleter {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

}  // namespace

namespace {

// Passes each row of `sql` (`columns` columns, all text or NULL) to `on_row`. On SQLite straight
// through the C API: SOCI's dynamic rows were most of hashing a large database.
template <typename OnRow>
void for_each_text_row(Tx& tx, const std::string& sql, std::size_t columns, OnRow on_row) {
    std::vector<std::optional<std::string_view>> row(columns);
    if (tx.dialect() == Dialect::sqlite && tx.statements()) {
        sqlite3* db = tx.statements()->db();
        sqlite3_stmt* raw = nullptr;
        if (sqlite3_prepare_v2(db, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK)
            throw std::runtime_error(std::string("state hash: ") + sqlite3_errmsg(db));
        std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> st(raw, sqlite3_finalize);
        int rc = SQLITE_ROW;
        while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
            for (std::size_t i = 0; i < columns; ++i) {
                const int c = static_cast<int>(i);
                if (sqlite3_column_type(st.get(), c) == SQLITE_NULL) {
                    row[i].reset();
                    continue;
                }
                const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(st.get(), c));
                row[i] = std::string_view(
                    text, static_cast<std::size_t>(sqlite3_column_bytes(st.get(), c)));
            }
            on_row(row);
        }
        if (rc != SQLITE_DONE)
            throw std::runtime_error(std::string("state hash: ") + sqlite3_errmsg(db));
        return;
    }
    soci::rowset<soci::row> rows = (tx.sql().prepare << sql);
    std::vector<std::string> held(columns);
    for (const auto& r : rows) {
        for (std::size_t i = 0; i < columns; ++i) {
            if (r.get_indicator(i) == soci::i_null) {
                row[i].reset();
            } else {
                held[i] = r.get<std::string>(i);
                row[i] = held[i];
            }
        }
        on_row(row);
    }
}

}  // namespace

std::string state_hash(Tx& tx) {
    std::unique_ptr<EVP_MD_CTX, DigestDeleter> ctx(EVP_MD_CTX_new());
    EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
    auto feed = [&](const std::string& s) {
        // length-prefixed, so "ab"+"c" and "a"+"bc" differ
        const std::string prefix = std::to_string(s.size()) + ":";
        EVP_DigestUpdate(ctx.get(), prefix.data(), prefix.size());
        EVP_DigestUpdate(ctx.get(), s.data(), s.size());
    };
    for (const auto& t : kTables) {
        bool header_fed = false;
        auto header = [&] {
            if (header_fed) return;
            header_fed = true;
            feed(std::string("table ") + (t.label ? t.label : t.name));
        };
        if (!t.where) header();
        // Every column as text (NULL stays NULL), read as strings: no driver type differences.
        std::string select;
        std::string cols = t.columns;
        std::size_t n = 0;
        std::vector<std::string> sealed;  // per column: its seal context, or empty
        for (std::size_t pos = 0; pos <= cols.size();) {
            auto comma = cols.find(',', pos);
            if (comma == std::string::npos) comma = cols.size();
            std::string col = cols.substr(pos, comma - pos);
            while (!col.empty() && col.front() == ' ') col.erase(col.begin());
            select += (n++ ? ", " : "") + std::string("CAST(") + col + " AS TEXT)";
            const std::string context = std::string(t.name) + "." + col;
            sealed.push_back(std::string(t.name) == "orders" && col.rfind("ship_", 0) == 0
                                 ? context
                                 : std::string());
            pos = comma + 1;
        }
        const std::string filter =
            t.where && *t.where ? std::string(" WHERE ") + t.where : std::string();
        // Text keys by their bytes on either database; seq and position are integers.
        std::string order;
        const std::string keys = t.order;
        for (std::size_t pos = 0; pos <= keys.size();) {
            auto comma = keys.find(',', pos);
            if (comma == std::string::npos) comma = keys.size();
            std::string key = keys.substr(pos, comma - pos);
            while (!key.empty() && key.front() == ' ') key.erase(key.begin());
            const bool integer = key == "seq" || key == "position";
            order += (order.empty() ? "" : ", ") + (integer ? key : bytewise(tx.dialect(), key));
            pos = comma + 1;
        }
        const std::string sql =
            "SELECT " + select + " FROM " + t.name + filter + " ORDER BY " + order;
        std::string line;
        for_each_text_row(tx, sql, n, [&](const std::vector<std::optional<std::string_view>>& row) {
            header();
            line.clear();
            for (std::size_t i = 0; i < row.size(); ++i) {
                if (!row[i]) {
                    line += "\\N";
                } else if (!sealed[i].empty()) {
                    // The plaintext: a fresh nonce (or another key) changes nothing.
                    line += open_value(std::string(*row[i]), sealed[i]);
                } else {
                    line += *row[i];
                }
                line += '\x1f';
            }
            feed(line);
        });
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx.get(), digest, &len);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < len; ++i) {
        out.push_back(kHex[digest[i] >> 4]);
        out.push_back(kHex[digest[i] & 15]);
    }
    return out;
}

}  // namespace redloop::db
