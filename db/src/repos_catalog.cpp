#include <soci/soci.h>

#include <limits>

#include "redloop/db/repos.hpp"
#include "soci_util.hpp"

namespace redloop::db {

using namespace redloop::engine;

// ---------------------------------------------------------------- merchants and users

std::optional<Merchant> find_merchant(Tx& tx, const MerchantId& id) {
    std::string name, currency;
    long long fee = 0, free_over = 0, created = 0, updated = 0;
    int days = 0;
    soci::indicator free_ind = soci::i_null;
    Query q(tx,
            "SELECT name, currency, shipping_fee_minor, free_shipping_over_minor, "
            "return_window_days, created_at, updated_at FROM merchants WHERE id = :id");
    q.into(name)
        .into(currency)
        .into(fee)
        .into(free_over, free_ind)
        .into(days)
        .into(created)
        .into(updated)
        .use(id.str());
    q.execute();
    if (!q.fetch()) return std::nullopt;
    Merchant m;
    m.id = id;
    m.name = name;
    m.currency = money_from(0, currency).currency;
    m.shipping_fee = money_from(fee, currency);
    if (free_ind == soci::i_ok) m.free_shipping_over = money_from(free_over, currency);
    m.return_window_days = days;
    m.created_at = Timestamp{created};
    m.updated_at = Timestamp{updated};
    return m;
}

namespace {
void bind_merchant_columns(Query& q, const Merchant& m, const std::string& currency,
                           const long long& fee, const long long& free_over,
                           soci::indicator& free_ind, const long long& created,
                           const long long& updated) {
    q.use(m.name)
        .use(currency)
        .use(fee)
        .use(free_over, free_ind)
        .use(m.return_window_days)
        .use(created)
        .use(updated)
        .use(m.id.str());
}
}  // namespace

bool insert_merchant_if_absent(Tx& tx, const Merchant& m) {
    const std::string currency(m.currency.code());
    const long long fee = m.shipping_fee.minor;
    const long long free_over = m.free_shipping_over ? m.free_shipping_over->minor : 0;
    soci::indicator free_ind = m.free_shipping_over ? soci::i_ok : soci::i_null;
    const long long created = m.created_at.unix_ms, updated = m.updated_at.unix_ms;
    Query q(tx,
            "INSERT INTO merchants (name, currency, shipping_fee_minor, free_shipping_over_minor, "
            "return_window_days, created_at, updated_at, id) "
            "VALUES (:n, :c, :f, :fo, :d, :ca, :ua, :id) ON CONFLICT (id) DO NOTHING");
    bind_merchant_columns(q, m, currency, fee, free_over, free_ind, created, updated);
    return q.run() == 1;
}

void update_merchant(Tx& tx, const Merchant& m) {
    const std::string currency(m.currency.code());
    const long long fee = m.shipping_fee.minor;
    const long long free_over = m.free_shipping_over ? m.free_shipping_over->minor : 0;
    soci::indicator free_ind = m.free_shipping_over ? soci::i_ok : soci::i_null;
    const long long created = m.created_at.unix_ms, updated = m.updated_at.unix_ms;
    Query q(tx,
            "UPDATE merchants SET name = :n, currency = :c, shipping_fee_minor = :f, "
            "free_shipping_over_minor = :fo, return_window_days = :d, created_at = :ca, "
            "updated_at = :ua WHERE id = :id");
    bind_merchant_columns(q, m, currency, fee, free_over, free_ind, created, updated);
    q.run();
}

bool insert_user_if_absent(Tx& tx, const UserId& id, Timestamp now) {
    const long long at = now.unix_ms;
    Query q(tx, "INSERT INTO users (id, created_at) VALUES (:id, :at) ON CONFLICT (id) DO NOTHING");
    q.use(id.str()).use(at);
    return q.run() == 1;
}

// ---------------------------------------------------------------- products

namespace {

void insert_media(Tx& tx, const std::string& table, const std::string& owner_column,
                  const std::string& owner_id, const std::vector<Media>& media) {
    for (std::size_t i = 0; i < media.size(); ++i) {
        const int position = static_cast<int>(i);
        const std::string type(to_string(media[i].type));
        Query q(tx, "INSERT INTO " + table + " (" + owner_column +
                        ", position, type, url) VALUES (:o, :p, :t, :u)");
        q.use(owner_id).use(position).use(type).use(media[i].url);
        q.run();
    }
}

std::vector<Media> load_media(Tx& tx, const std::string& table, const std::string& owner_column,
                              const std::string& owner_id) {
    std::string type, url;
    Query q(tx, "SELECT type, url FROM " + table + " WHERE " + owner_column +
                    " = :o ORDER BY position");
    q.into(type).into(url).use(owner_id);
    q.execute();
    std::vector<Media> out;
    while (q.fetch()) {
        out.push_back(Media{parse_media_type(type).value_or(MediaType::image), url});
    }
    return out;
}

struct SkuRow {
    std::string id, product_id, merchant_id, title, currency, status;
    long long price = 0, on_hand = 0, reserved = 0, created = 0, updated = 0, limit = 0;
    int position = 0;
    soci::indicator limit_ind = soci::i_null;

    void bind(Query& q) {
        q.into(id)
            .into(product_id)
            .into(merchant_id)
            .into(title)
            .into(price)
            .into(currency)
            .into(on_hand)
            .into(reserved)
            .into(position)
            .into(created)
            .into(updated)
            .into(status)
            .into(limit, limit_ind);
    }
    Sku to_sku() const {
        Sku s;
        s.id = SkuId::trusted(id);
        s.product_id = ProductId::trusted(product_id);
        s.merchant_id = MerchantId::trusted(merchant_id);
        s.title = title;
        s.price = money_from(price, currency);
        s.on_hand = on_hand;
        s.reserved = reserved;
        s.position = position;
        s.status = parse_product_status(status).value_or(ProductStatus::archived);
        s.created_at = Timestamp{created};
        s.updated_at = Timestamp{updated};
        if (limit_ind == soci::i_ok) s.per_user_limit = limit;
        return s;
    }
};

constexpr const char* kSkuSelect =
    "SELECT s.id, s.product_id, s.merchant_id, s.title, s.price_minor, s.currency, s.on_hand, "
    "s.reserved, s.position, s.created_at, s.updated_at, p.status, s.per_user_limit "
    "FROM skus s JOIN products p ON p.id = s.product_id ";

}  // namespace

void insert_product(Tx& tx, const ProductCreated& created) {
    const Product& p = created.product;
    const std::string status(to_string(p.status));
    const long long ca = p.created_at.unix_ms, ua = p.updated_at.unix_ms;
    Query q(tx,
            "INSERT INTO products (id, merchant_id, title, description, status, "
            "commission_rate_bps, created_at, updated_at) VALUES (:id, :m, :t, :d, :s, :c, :ca, "
            ":ua)");
    q.use(p.id.str())
        .use(p.merchant_id.str())
        .use(p.title)
        .use(p.description)
        .use(status)
        .use(p.commission_rate_bps)
        .use(ca)
        .use(ua);
    q.run();
    insert_media(tx, "product_media", "product_id", p.id.str(), p.media);
    for (const Sku& s : created.skus) {
        const std::string currency(s.price.currency.code());
        const long long price = s.price.minor;
        const long long zero = 0;
        const long long sca = s.created_at.unix_ms, sua = s.updated_at.unix_ms;
        auto limit = nullable_int(s.per_user_limit);
        Query qs(tx,
                 "INSERT INTO skus (id, product_id, merchant_id, title, price_minor, currency, "
                 "on_hand, reserved, position, created_at, updated_at, per_user_limit) VALUES "
                 "(:id, :p, :m, :t, :pr, :c, :oh, :r, :pos, :ca, :ua, :lim)");
        // Stock starts at zero and arrives through the ledger, so on_hand = SUM(ledger).
        qs.use(s.id.str())
            .use(s.product_id.str())
            .use(s.merchant_id.str())
            .use(s.title)
            .use(price)
            .use(currency)
            .use(zero)
            .use(zero)
            .use(s.position)
            .use(sca)
            .use(sua)
            .use(limit.value, limit.ind);
        qs.run();
    }
    for (const StockMovement& m : created.movements) apply_stock_movement(tx, m);
}

std::optional<Product> find_product(Tx& tx, const ProductId& id) {
    std::string merchant, title, description, status;
    int bps = 0;
    long long created = 0, updated = 0;
    Query q(tx,
            "SELECT merchant_id, title, description, status, commission_rate_bps, created_at, "
            "updated_at FROM products WHERE id = :id");
    q.into(merchant)
        .into(title)
        .into(description)
        .into(status)
        .into(bps)
        .into(created)
        .into(updated)
        .use(id.str());
    q.execute();
    if (!q.fetch()) return std::nullopt;
    Product p;
    p.id = id;
    p.merchant_id = MerchantId::trusted(merchant);
    p.title = title;
    p.description = description;
    p.status = parse_product_status(status).value_or(ProductStatus::archived);
    p.commission_rate_bps = bps;
    p.created_at = Timestamp{created};
    p.updated_at = Timestamp{updated};
    p.media = load_media(tx, "product_media", "product_id", id.str());
    return p;
}

std::vector<Sku> skus_of_product(Tx& tx, const ProductId& id) {
    SkuRow row;
    Query q(tx, std::string(kSkuSelect) + "WHERE s.product_id = :p ORDER BY s.position");
    row.bind(q);
    q.use(id.str());
    q.execute();
    std::vector<Sku> out;
    while (q.fetch()) out.push_back(row.to_sku());
    return out;
}

void update_product(Tx& tx, const Product& p) {
    const std::string status(to_string(p.status));
    const long long ua = p.updated_at.unix_ms;
    Query q(tx,
            "UPDATE products SET title = :t, description = :d, status = :s, "
            "commission_rate_bps = :c, updated_at = :ua WHERE id = :id");
    q.use(p.title)
        .use(p.description)
        .use(status)
        .use(p.commission_rate_bps)
        .use(ua)
        .use(p.id.str());
    q.run();
}

std::optional<Sku> find_sku(Tx& tx, const SkuId& id) {
    SkuRow row;
    Query q(tx, std::string(kSkuSelect) + "WHERE s.id = :id");
    row.bind(q);
    q.use(id.str());
    q.execute();
    if (!q.fetch()) return std::nullopt;
    return row.to_sku();
}

void update_sku(Tx& tx, const Sku& s) {
    const long long price = s.price.minor;
    const std::string currency(s.price.currency.code());
    const long long ua = s.updated_at.unix_ms;
    long long old_price = 0;
    std::string old_currency;
    Query old(tx, "SELECT price_minor, currency FROM skus WHERE id = :id");
    old.into(old_price).into(old_currency).use(s.id.str());
    old.run();
    if (old_price != price || old_currency != currency)
        tx.changes().note(TxChanges::Entity::sku, s.id.str(), "sku.price_changed");
    auto limit = nullable_int(s.per_user_limit);
    Query q(tx,
            "UPDATE skus SET title = :t, price_minor = :p, currency = :c, per_user_limit = :l, "
            "updated_at = :ua WHERE id = :id");
    q.use(s.title).use(price).use(currency).use(limit.value, limit.ind).use(ua).use(s.id.str());
    q.run();
}

bool apply_stock_movement(Tx& tx, const StockMovement& m) {
    const long long d_on_hand = m.on_hand_delta, d_reserved = m.reserved_delta;
    const long long at = m.at.unix_ms;
    Query q(tx,
            "UPDATE skus SET on_hand = on_hand + :a, reserved = reserved + :b, updated_at = :at "
            "WHERE id = :id AND on_hand + :a2 >= reserved + :b2 AND on_hand + :a3 >= 0 "
            "AND reserved + :b3 >= 0");
    q.use(d_on_hand)
        .use(d_reserved)
        .use(at)
        .use(m.sku_id.str())
        .use(d_on_hand)
        .use(d_reserved)
        .use(d_on_hand)
        .use(d_reserved);
    if (q.run() != 1) return false;
    tx.changes().note(TxChanges::Entity::sku, m.sku_id.str(), "sku.stock_changed");
    const std::string kind(to_string(m.kind));
    Query l(tx,
            "INSERT INTO inventory_ledger (sku_id, kind, on_hand_delta, reserved_delta, reason, "
            "ref, actor_id, at) VALUES (:s, :k, :a, :b, :r, :ref, :actor, :at)");
    l.use(m.sku_id.str())
        .use(kind)
        .use(d_on_hand)
        .use(d_reserved)
        .use(m.reason)
        .use(m.ref)
        .use(m.actor.str())
        .use(at);
    l.run();
    return true;
}

std::vector<StockMovement> ledger_of_sku(Tx& tx, const SkuId& id) {
    std::string kind, reason, ref, actor;
    long long a = 0, b = 0, at = 0;
    Query q(tx,
            "SELECT kind, on_hand_delta, reserved_delta, reason, ref, actor_id, at "
            "FROM inventory_ledger WHERE sku_id = :s ORDER BY seq");
    q.into(kind).into(a).into(b).into(reason).into(ref).into(actor).into(at).use(id.str());
    q.execute();
    std::vector<StockMovement> out;
    while (q.fetch()) {
        out.push_back(StockMovement{id,
                                    parse_movement_kind(kind).value_or(MovementKind::adjustment), a,
                                    b, reason, ref, ActorId::trusted(actor), Timestamp{at}});
    }
    return out;
}

Page<InventoryItem> merchant_inventory(Tx& tx, const MerchantId& merchant,
                                       std::optional<std::int64_t> before_seq, int limit) {
    SkuRow row;
    std::string product_title;
    long long seq = 0;
    const long long before = before_seq ? *before_seq : std::numeric_limits<long long>::max();
    const int fetch_n = limit + 1;
    Query q(tx,
            "SELECT s.id, s.product_id, s.merchant_id, s.title, s.price_minor, s.currency, "
            "s.on_hand, s.reserved, s.position, s.created_at, s.updated_at, p.status, "
            "s.per_user_limit, p.title, s.seq FROM skus s JOIN products p ON p.id = s.product_id "
            "WHERE s.merchant_id = :m AND s.seq < :b ORDER BY s.seq DESC LIMIT :l");
    row.bind(q);
    q.into(product_title).into(seq).use(merchant.str()).use(before).use(fetch_n);
    q.execute();
    Page<InventoryItem> page;
    std::int64_t last_seq = 0;
    while (q.fetch()) {
        if (static_cast<int>(page.items.size()) == limit) {
            page.next_before = last_seq;
            break;
        }
        page.items.push_back(InventoryItem{row.to_sku(), product_title});
        last_seq = seq;
    }
    return page;
}

}  // namespace redloop::db
