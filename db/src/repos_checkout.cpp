#include <soci/soci.h>

#include <algorithm>
#include <cassert>
#include <limits>
#include <string_view>

#include "redloop/db/repos.hpp"
#include "redloop/db/sealer.hpp"
#include "redloop/engine/flash_sale.hpp"
#include "soci_util.hpp"

namespace redloop::db {

using namespace redloop::engine;

// ---------------------------------------------------------------- cart

std::vector<CartLine> cart_of(Tx& tx, const UserId& user) {
    std::string sku, note;
    long long quantity = 0, added = 0, updated = 0;
    soci::indicator note_ind = soci::i_null;
    Query q(tx,
            "SELECT sku_id, quantity, note_id, added_at, updated_at FROM cart_lines "
            "WHERE user_id = :u ORDER BY seq");
    q.into(sku).into(quantity).into(note, note_ind).into(added).into(updated).use(user.str());
    q.execute();
    std::vector<CartLine> out;
    while (q.fetch()) {
        CartLine l;
        l.sku_id = SkuId::trusted(sku);
        l.quantity = quantity;
        if (note_ind == soci::i_ok) l.note_id = NoteId::trusted(note);
        l.added_at = Timestamp{added};
        l.updated_at = Timestamp{updated};
        out.push_back(std::move(l));
    }
    return out;
}

void upsert_cart_line(Tx& tx, const UserId& user, const CartLine& l) {
    const long long quantity = l.quantity, added = l.added_at.unix_ms,
                    updated = l.updated_at.unix_ms;
    NullableText note = nullable(l.note_id);
    Query q(tx,
            "INSERT INTO cart_lines (user_id, sku_id, quantity, note_id, added_at, updated_at) "
            "VALUES (:u, :s, :q, :n, :a, :up) ON CONFLICT (user_id, sku_id) DO UPDATE SET "
            "quantity = excluded.quantity, note_id = excluded.note_id, "
            "updated_at = excluded.updated_at");
    q.use(user.str())
        .use(l.sku_id.str())
        .use(quantity)
        .use(note.value, note.ind)
        .use(added)
        .use(updated);
    q.run();
}

bool delete_cart_line(Tx& tx, const UserId& user, const SkuId& sku) {
    Query q(tx, "DELETE FROM cart_lines WHERE user_id = :u AND sku_id = :s");
    q.use(user.str()).use(sku.str());
    return q.run() > 0;
}

void clear_cart(Tx& tx, const UserId& user) {
    Query q(tx, "DELETE FROM cart_lines WHERE user_id = :u");
    q.use(user.str());
    q.run();
}

// ---------------------------------------------------------------- payments

std::optional<Payment> find_payment(Tx& tx, const PaymentId& id) {
    std::string checkout, user, status, currency;
    long long amount = 0, refunded = 0, created = 0, updated = 0;
    Query q(tx,
            "SELECT checkout_id, user_id, status, amount_minor, refunded_minor, currency, "
            "created_at, updated_at FROM payments WHERE id = :id");
    q.into(checkout)
        .into(user)
        .into(status)
        .into(amount)
        .into(refunded)
        .into(currency)
        .into(created)
        .into(updated)
        .use(id.str());
    q.execute();
    if (!q.fetch()) return std::nullopt;
    Payment p;
    p.id = id;
    p.checkout_id = CheckoutId::trusted(checkout);
    p.user_id = UserId::trusted(user);
    p.status = parse_payment_status(status).value_or(PaymentStatus::failed);
    p.amount = money_from(amount, currency);
    p.refunded = money_from(refunded, currency);
    p.created_at = Timestamp{created};
    p.updated_at = Timestamp{updated};
    std::string h_status;
    long long at = 0;
    Query h(tx, "SELECT status, at FROM payment_history WHERE payment_id = :p ORDER BY seq");
    h.into(h_status).into(at).use(id.str());
    h.execute();
    while (h.fetch()) {
        p.history.push_back(PaymentHistoryEntry{
            parse_payment_status(h_status).value_or(PaymentStatus::failed), Timestamp{at}});
    }
    return p;
}

namespace {
void append_payment_history(Tx& tx, const PaymentId& id, const PaymentHistoryEntry& h) {
    const std::string status(to_string(h.status));
    const long long at = h.at.unix_ms;
    Query q(tx, "INSERT INTO payment_history (payment_id, status, at) VALUES (:p, :s, :a)");
    q.use(id.str()).use(status).use(at);
    q.run();
}

void insert_payment(Tx& tx, const Payment& p) {
    const std::string status(to_string(p.status)), currency(p.amount.currency.code());
    const long long amount = p.amount.minor, created = p.created_at.unix_ms,
                    updated = p.updated_at.unix_ms;
    Query q(tx,
            "INSERT INTO payments (id, checkout_id, user_id, status, amount_minor, currency, "
            "created_at, updated_at) VALUES (:id, :c, :u, :s, :a, :cur, :ca, :ua)");
    q.use(p.id.str())
        .use(p.checkout_id.str())
        .use(p.user_id.str())
        .use(status)
        .use(amount)
        .use(currency)
        .use(created)
        .use(updated);
    q.run();
    for (const auto& h : p.history) append_payment_history(tx, p.id, h);
}
}  // namespace

bool update_payment(Tx& tx, const Payment& p, PaymentStatus from) {
    const std::string status(to_string(p.status)), from_s(to_string(from));
    const long long amount = p.amount.minor, refunded = p.refunded.minor,
                    updated = p.updated_at.unix_ms;
    Query q(tx,
            "UPDATE payments SET status = :s, amount_minor = :a, refunded_minor = :r, "
            "updated_at = :ua WHERE id = :id AND status = :f");
    q.use(status).use(amount).use(refunded).use(updated).use(p.id.str()).use(from_s);
    if (q.run() != 1) return false;
    if (p.status != from && !p.history.empty()) append_payment_history(tx, p.id, p.history.back());
    tx.changes().note(TxChanges::Entity::payment, p.id.str(),
                      p.status != from ? "payment." + status : std::string("payment.updated"));
    return true;
}

// ---------------------------------------------------------------- orders

namespace {

struct OrderRow {
    std::string id, checkout, user, merchant, status, currency;
    long long subtotal = 0, fee = 0, total = 0, refunded = 0, created = 0, updated = 0, seq = 0,
              discount = 0;
    int restocked = 0;
    std::string name, phone, line1, city, postal, country, carrier, tracking;
    soci::indicator name_i = soci::i_null, phone_i = soci::i_null, line1_i = soci::i_null,
                    city_i = soci::i_null, postal_i = soci::i_null, country_i = soci::i_null,
                    carrier_i = soci::i_null, tracking_i = soci::i_null;

    void bind(Query& q) {
        q.into(id)
            .into(checkout)
            .into(user)
            .into(merchant)
            .into(status)
            .into(currency)
            .into(subtotal)
            .into(fee)
            .into(total)
            .into(refunded)
            .into(name, name_i)
            .into(phone, phone_i)
            .into(line1, line1_i)
            .into(city, city_i)
            .into(postal, postal_i)
            .into(country, country_i)
            .into(carrier, carrier_i)
            .into(tracking, tracking_i)
            .into(created)
            .into(updated)
            .into(seq)
            .into(restocked)
            .into(discount);
    }
};

constexpr const char* kOrderSelect =
    "SELECT id, checkout_id, user_id, merchant_id, status, currency, subtotal_minor, "
    "shipping_fee_minor, total_minor, refunded_minor, ship_name, ship_phone, ship_line1, "
    "ship_city, ship_postal_code, ship_country, carrier, tracking_number, created_at, updated_at, "
    "seq, restocked, discount_minor FROM orders ";

// The order's own columns; its lines and history are added by the caller. Strings are moved
// out of the row (the next fetch assigns them again).
Order order_from(OrderRow& r) {
    const Currency currency = money_from(0, r.currency).currency;
    Order o;
    o.id = OrderId::trusted(std::move(r.id));
    o.checkout_id = CheckoutId::trusted(std::move(r.checkout));
    o.user_id = UserId::trusted(std::move(r.user));
    o.merchant_id = MerchantId::trusted(std::move(r.merchant));
    o.status = parse_order_status(r.status).value_or(OrderStatus::cancelled);
    o.subtotal = Money{r.subtotal, currency};
    o.shipping_fee = Money{r.fee, currency};
    o.discount = Money{r.discount, currency};
    o.total = Money{r.total, currency};
    o.refunded = Money{r.refunded, currency};
    if (r.name_i == soci::i_ok) {
        // Sealed at rest (see sealer.hpp); rows from before sealing read as they are.
        auto open = [](soci::indicator i, const std::string& v, const char* column) {
            return i == soci::i_ok ? open_value(v, column) : std::string();
        };
        o.address = ShippingAddress{open(r.name_i, r.name, kSealShipName),
                                    open(r.phone_i, r.phone, kSealShipPhone),
                                    open(r.line1_i, r.line1, kSealShipLine1),
                                    open(r.city_i, r.city, kSealShipCity),
                                    open(r.postal_i, r.postal, kSealShipPostal),
                                    open(r.country_i, r.country, kSealShipCountry)};
    }
    if (r.carrier_i == soci::i_ok) {
        o.shipment = Shipment{std::move(r.carrier),
                              r.tracking_i == soci::i_ok ? std::move(r.tracking) : std::string()};
    }
    o.restocked = r.restocked != 0;
    o.created_at = Timestamp{r.created};
    o.updated_at = Timestamp{r.updated};
    return o;
}

// One row of order_lines or order_history, as the single load (find_order) and the page load
// (list_orders) both read it: the same columns in the same order, so the two cannot drift.
constexpr const char* kLineColumns =
    "l.sku_id, l.title, l.quantity, l.unit_price_minor, l.line_total_minor, l.note_id, "
    "l.discount_minor, l.creator_id, l.commission_rate_bps ";
constexpr const char* kHistoryColumns = "h.status, h.at ";

struct LineRow {
    std::string sku, title, note, creator;
    long long quantity = 0, unit = 0, line_total = 0, discount = 0;
    int rate = 0;
    soci::indicator note_i = soci::i_null, creator_i = soci::i_null, rate_i = soci::i_null;

    void bind(Query& q) {
        q.into(sku)
            .into(title)
            .into(quantity)
            .into(unit)
            .into(line_total)
            .into(note, note_i)
            .into(discount)
            .into(creator, creator_i)
            .into(rate, rate_i);
    }
    OrderLine take(const Currency& currency) {
        OrderLine l{SkuId::trusted(std::move(sku)),
                    std::move(title),
                    quantity,
                    Money{unit, currency},
                    Money{line_total, currency},
                    std::nullopt,
                    Money{discount, currency}};
        if (note_i == soci::i_ok) l.note_id = NoteId::trusted(std::move(note));
        if (creator_i == soci::i_ok) {
            l.creator = UserId::trusted(std::move(creator));
            l.commission_rate_bps = rate_i == soci::i_ok ? rate : 0;
        }
        return l;
    }
};

// One coupon's part of an order (coupon_redemptions), in the order the coupons were applied.
constexpr const char* kDiscountColumns = "d.coupon_code, d.amount_minor ";

struct DiscountRow {
    std::string code;
    long long amount = 0;

    void bind(Query& q) { q.into(code).into(amount); }
    OrderDiscount take(const Currency& currency) const {
        return OrderDiscount{code, Money{amount, currency}};
    }
};

struct HistoryRow {
    std::string status;
    long long at = 0;

    void bind(Query& q) { q.into(status).into(at); }
    HistoryEntry take() const {
        return HistoryEntry{parse_order_status(status).value_or(OrderStatus::cancelled),
                            Timestamp{at}};
    }
};

// Passes each row that `sql` (Row's columns of the order named by :o) returns to `add`.
template <typename Row, typename Add>
void load_children(Tx& tx, const std::string& sql, const OrderId& id, Add add) {
    Row row;
    Query q(tx, sql);
    row.bind(q);
    q.use(id.str());
    q.execute();
    while (q.fetch()) add(row);
}

// Lines (by position), history (oldest first) and coupon discounts (as applied) of one order.
Order complete(Tx& tx, OrderRow& r) {
    Order o = order_from(r);
    const Currency currency = o.total.currency;
    load_children<LineRow>(tx,
                           std::string("SELECT ") + kLineColumns +
                               "FROM order_lines l WHERE l.order_id = :o ORDER BY l.position",
                           o.id, [&](LineRow& l) { o.lines.push_back(l.take(currency)); });
    load_children<HistoryRow>(tx,
                              std::string("SELECT ") + kHistoryColumns +
                                  "FROM order_history h WHERE h.order_id = :o ORDER BY h.seq",
                              o.id, [&](HistoryRow& h) { o.history.push_back(h.take()); });
    if (o.discount.minor > 0) {
        load_children<DiscountRow>(
            tx,
            std::string("SELECT ") + kDiscountColumns +
                "FROM coupon_redemptions d WHERE d.order_id = :o ORDER BY d.position",
            o.id, [&](DiscountRow& d) { o.discounts.push_back(d.take(currency)); });
    }
    return o;
}

void append_history(Tx& tx, const OrderId& id, const HistoryEntry& h) {
    const std::string status(to_string(h.status));
    const long long at = h.at.unix_ms;
    Query q(tx, "INSERT INTO order_history (order_id, status, at) VALUES (:o, :s, :a)");
    q.use(id.str()).use(status).use(at);
    q.run();
}

void insert_order(Tx& tx, const Order& o) {
    tx.changes().note(TxChanges::Entity::order, o.id.str(), "order.created");
    const std::string status(to_string(o.status)), currency(o.total.currency.code());
    const long long subtotal = o.subtotal.minor, fee = o.shipping_fee.minor, total = o.total.minor,
                    refunded = o.refunded.minor, created = o.created_at.unix_ms,
                    updated = o.updated_at.unix_ms, discount = o.discount.minor;
    ShippingAddress a = o.address.value_or(ShippingAddress{});
    if (o.address) {
        a.name = seal_value(a.name, kSealShipName);
        a.phone = seal_value(a.phone, kSealShipPhone);
        a.line1 = seal_value(a.line1, kSealShipLine1);
        a.city = seal_value(a.city, kSealShipCity);
        a.postal_code = seal_value(a.postal_code, kSealShipPostal);
        a.country = seal_value(a.country, kSealShipCountry);
    }
    soci::indicator ai = o.address ? soci::i_ok : soci::i_null;
    Query q(tx,
            "INSERT INTO orders (id, checkout_id, user_id, merchant_id, status, currency, "
            "subtotal_minor, shipping_fee_minor, total_minor, refunded_minor, ship_name, "
            "ship_phone, ship_line1, ship_city, ship_postal_code, ship_country, created_at, "
            "updated_at, discount_minor) VALUES (:id, :c, :u, :m, :s, :cur, :st, :f, :t, :r, :n, "
            ":p, :l1, :city, :pc, :co, :ca, :ua, :d)");
    q.use(o.id.str())
        .use(o.checkout_id.str())
        .use(o.user_id.str())
        .use(o.merchant_id.str())
        .use(status)
        .use(currency)
        .use(subtotal)
        .use(fee)
        .use(total)
        .use(refunded)
        .use(a.name, ai)
        .use(a.phone, ai)
        .use(a.line1, ai)
        .use(a.city, ai)
        .use(a.postal_code, ai)
        .use(a.country, ai)
        .use(created)
        .use(updated)
        .use(discount);
    q.run();
    for (std::size_t i = 0; i < o.lines.size(); ++i) {
        const auto& l = o.lines[i];
        const int position = static_cast<int>(i);
        const long long quantity = l.quantity, unit = l.unit_price.minor,
                        line_total = l.line_total.minor, line_discount = l.discount.minor;
        NullableText note = nullable(l.note_id);
        NullableText creator = nullable(l.creator);
        const int rate = l.commission_rate_bps;
        soci::indicator rate_i = l.creator ? soci::i_ok : soci::i_null;
        Query ql(tx,
                 "INSERT INTO order_lines (order_id, position, sku_id, title, quantity, "
                 "unit_price_minor, line_total_minor, note_id, discount_minor, creator_id, "
                 "commission_rate_bps) VALUES (:o, :p, :s, :t, :q, :u, :lt, :n, :d, :cr, :rt)");
        ql.use(o.id.str())
            .use(position)
            .use(l.sku_id.str())
            .use(l.title)
            .use(quantity)
            .use(unit)
            .use(line_total)
            .use(note.value, note.ind)
            .use(line_discount)
            .use(creator.value, creator.ind)
            .use(rate, rate_i);
        ql.run();
    }
    for (const auto& h : o.history) append_history(tx, o.id, h);
}

}  // namespace

std::optional<Order> find_order(Tx& tx, const OrderId& id) {
    OrderRow row;
    Query q(tx, std::string(kOrderSelect) + "WHERE id = :id");
    row.bind(q);
    q.use(id.str());
    q.execute();
    if (!q.fetch()) return std::nullopt;
    return complete(tx, row);
}

std::vector<Order> orders_of_checkout(Tx& tx, const CheckoutId& id) {
    std::vector<OrderRow> rows;
    {
        OrderRow row;
        Query q(tx, std::string(kOrderSelect) + "WHERE checkout_id = :c ORDER BY " +
                        bytewise(tx.dialect(), "merchant_id"));
        row.bind(q);
        q.use(id.str());
        q.execute();
        while (q.fetch()) rows.push_back(row);
    }
    std::vector<Order> out;
    for (auto& r : rows) out.push_back(complete(tx, r));
    return out;
}

std::int64_t erase_personal_data(Tx& tx, const UserId& user, Timestamp now) {
    const long long at = now.unix_ms;
    Query q(tx,
            "UPDATE orders SET ship_name = NULL, ship_phone = NULL, ship_line1 = NULL, "
            "ship_city = NULL, ship_postal_code = NULL, ship_country = NULL, updated_at = :t "
            "WHERE user_id = :u AND ship_name IS NOT NULL AND status IN ('completed', "
            "'cancelled', 'expired', 'refunded')");
    q.use(at).use(user.str());
    return q.run();
}

std::vector<std::pair<std::string, std::int64_t>> order_counts_by_status(Tx& tx) {
    std::string status;
    long long n = 0;
    Query q(tx, "SELECT status, COUNT(*) FROM orders GROUP BY status ORDER BY status");
    q.into(status).into(n);
    q.execute();
    std::vector<std::pair<std::string, std::int64_t>> out;
    while (q.fetch()) out.emplace_back(status, n);
    return out;
}

namespace {

// The children (lines, history) of a page of orders are read by order id in chunks of this many
// ids: one fixed SQL text (a short chunk repeats its last id), so the statement is prepared once
// per connection, and a page of the default and the usual sizes takes one query per child table.
constexpr std::size_t kIdsPerQuery = 50;

// ":o0, :o1, ..., :o49"
const std::string& id_placeholders() {
    static const std::string s = [] {
        std::string out;
        for (std::size_t i = 0; i < kIdsPerQuery; ++i) {
            if (i) out += ", ";
            out += ":o" + std::to_string(i);
        }
        return out;
    }();
    return s;
}

// Adds each row that `sql` returns (the order id, then Row's columns; `IN (<id_placeholders>)`
// picks the orders and its ORDER BY keeps one order's rows together and in their order) to its
// order among `orders`. The rows of an order arrive in the same order as in the single load.
template <typename Row, typename Add>
void attach_children(Tx& tx, const std::string& sql, const std::vector<Order*>& orders, Add add) {
    // Order ids sorted, to find a row's order (the SQL sorts by the database's collation,
    // which need not be byte order, so rows are looked up rather than merged).
    std::vector<std::pair<std::string_view, std::size_t>> index;
    index.reserve(orders.size());
    for (std::size_t i = 0; i < orders.size(); ++i) index.emplace_back(orders[i]->id.str(), i);
    std::sort(index.begin(), index.end());
    for (std::size_t begin = 0; begin < orders.size(); begin += kIdsPerQuery) {
        const std::size_t end = std::min(orders.size(), begin + kIdsPerQuery);
        std::string order_id;
        Row row;
        Query q(tx, sql);
        q.into(order_id);
        row.bind(q);
        for (std::size_t i = 0; i < kIdsPerQuery; ++i) {
            q.use(orders[std::min(begin + i, end - 1)]->id.str());
        }
        q.execute();
        while (q.fetch()) {
            auto it = std::lower_bound(
                index.begin(), index.end(), std::string_view(order_id),
                [](const auto& entry, std::string_view id) { return entry.first < id; });
            assert(it != index.end() && it->first == order_id && "a row of another order");
            if (it == index.end() || it->first != order_id) continue;
            add(*orders[it->second], row);
        }
    }
}

}  // namespace

// The page, then the lines of all its orders in one query and their history in another (not
// one query per order). The children are read by order id rather than by repeating the page's
// predicate: an order's status can change between two statements under PostgreSQL's READ
// COMMITTED, its id cannot.
Page<Order> list_orders(Tx& tx, const OrderFilter& f, std::optional<std::int64_t> before_seq,
                        int limit, const std::function<bool(const Order&)>& with_children) {
    assert(limit > 0);
    std::string sql = std::string(kOrderSelect) + "WHERE seq < :b";
    const long long before = before_seq ? *before_seq : std::numeric_limits<long long>::max();
    const std::string user = f.user ? f.user->str() : "";
    const std::string merchant = f.merchant ? f.merchant->str() : "";
    const std::string status = f.status ? std::string(to_string(*f.status)) : "";
    if (f.user) sql += " AND user_id = :u";
    if (f.merchant) sql += " AND merchant_id = :m";
    if (f.status) sql += " AND status = :s";
    sql += " ORDER BY seq DESC LIMIT :l";
    const int fetch_n = limit + 1;
    Page<Order> page;
    {
        OrderRow row;
        long long last_seq = 0;
        Query q(tx, sql);
        row.bind(q);
        q.use(before);
        if (f.user) q.use(user);
        if (f.merchant) q.use(merchant);
        if (f.status) q.use(status);
        q.use(fetch_n);
        q.execute();
        while (q.fetch()) {
            if (static_cast<int>(page.items.size()) == limit) {
                page.next_before = last_seq;
                break;
            }
            last_seq = row.seq;
            page.items.push_back(order_from(row));
        }
    }
    std::vector<Order*> targets;
    targets.reserve(page.items.size());
    for (auto& o : page.items) {
        if (!with_children || with_children(o)) targets.push_back(&o);
    }
    if (targets.empty()) return page;
    static const std::string lines_sql = std::string("SELECT l.order_id, ") + kLineColumns +
                                         "FROM order_lines l WHERE l.order_id IN (" +
                                         id_placeholders() + ") ORDER BY l.order_id, l.position";
    static const std::string history_sql = std::string("SELECT h.order_id, ") + kHistoryColumns +
                                           "FROM order_history h WHERE h.order_id IN (" +
                                           id_placeholders() + ") ORDER BY h.order_id, h.seq";
    attach_children<LineRow>(tx, lines_sql, targets, [](Order& o, LineRow& line) {
        o.lines.push_back(line.take(o.total.currency));
    });
    attach_children<HistoryRow>(tx, history_sql, targets,
                                [](Order& o, HistoryRow& h) { o.history.push_back(h.take()); });
    const bool discounted = std::any_of(targets.begin(), targets.end(),
                                        [](const Order* o) { return o->discount.minor > 0; });
    if (discounted) {
        static const std::string discounts_sql =
            std::string("SELECT d.order_id, ") + kDiscountColumns +
            "FROM coupon_redemptions d WHERE d.order_id IN (" + id_placeholders() +
            ") ORDER BY d.order_id, d.position";
        attach_children<DiscountRow>(tx, discounts_sql, targets, [](Order& o, DiscountRow& d) {
            o.discounts.push_back(d.take(o.total.currency));
        });
    }
    return page;
}

bool update_order(Tx& tx, const Order& o, OrderStatus from) {
    const std::string status(to_string(o.status)), from_s(to_string(from));
    const long long refunded = o.refunded.minor, updated = o.updated_at.unix_ms;
    const Shipment s = o.shipment.value_or(Shipment{});
    soci::indicator si = o.shipment ? soci::i_ok : soci::i_null;
    const int restocked = o.restocked ? 1 : 0;
    Query q(tx,
            "UPDATE orders SET status = :s, refunded_minor = :r, carrier = :c, "
            "tracking_number = :t, restocked = :rs, updated_at = :ua "
            "WHERE id = :id AND status = :from");
    q.use(status)
        .use(refunded)
        .use(s.carrier, si)
        .use(s.tracking_number, si)
        .use(restocked)
        .use(updated)
        .use(o.id.str())
        .use(from_s);
    if (q.run() != 1) return false;
    if (!o.history.empty() && o.status != from) append_history(tx, o.id, o.history.back());
    if (o.status != from) sync_redemptions(tx, o);
    tx.changes().note(TxChanges::Entity::order, o.id.str(),
                      o.status != from ? "order." + status : std::string("order.updated"));
    return true;
}

// ---------------------------------------------------------------- checkouts

std::vector<SkuId> insert_checkout(Tx& tx, const CheckoutPlan& plan) {
    const Checkout& c = plan.checkout;
    const std::string status(to_string(c.status));
    const long long created = c.created_at.unix_ms, expires = c.expires_at.unix_ms,
                    updated = c.updated_at.unix_ms;
    Query q(tx,
            "INSERT INTO checkouts (id, user_id, status, payment_id, created_at, expires_at, "
            "updated_at) VALUES (:id, :u, :s, :p, :ca, :ea, :ua)");
    q.use(c.id.str())
        .use(c.user_id.str())
        .use(status)
        .use(c.payment_id.str())
        .use(created)
        .use(expires)
        .use(updated);
    q.run();
    for (const auto& o : plan.orders) insert_order(tx, o);
    insert_payment(tx, plan.payment);
    std::vector<SkuId> failed;
    for (const auto& m : plan.reservations) {
        if (!apply_stock_movement(tx, m)) {
            failed.push_back(m.sku_id);
            continue;
        }
        const long long quantity = m.reserved_delta, at = m.at.unix_ms;
        Query r(tx,
                "INSERT INTO reservations (order_id, sku_id, quantity, state, created_at, "
                "updated_at) VALUES (:o, :s, :q, 'held', :ca, :ua)");
        r.use(m.ref).use(m.sku_id.str()).use(quantity).use(at).use(at);
        r.run();
    }
    return failed;
}

std::optional<Checkout> find_checkout(Tx& tx, const CheckoutId& id) {
    std::string user, status, payment;
    long long created = 0, expires = 0, updated = 0, extended = 0;
    soci::indicator extended_ind = soci::i_null;
    Query q(tx,
            "SELECT user_id, status, payment_id, created_at, expires_at, updated_at, extended_at "
            "FROM checkouts WHERE id = :id");
    q.into(user)
        .into(status)
        .into(payment)
        .into(created)
        .into(expires)
        .into(updated)
        .into(extended, extended_ind)
        .use(id.str());
    q.execute();
    if (!q.fetch()) return std::nullopt;
    return Checkout{
        id,
        UserId::trusted(user),
        parse_checkout_status(status).value_or(CheckoutStatus::cancelled),
        PaymentId::trusted(payment),
        Timestamp{created},
        Timestamp{expires},
        Timestamp{updated},
        extended_ind == soci::i_ok ? std::optional<Timestamp>(Timestamp{extended}) : std::nullopt};
}

bool extend_checkout(Tx& tx, const Checkout& c) {
    if (!c.extended_at) return false;
    const long long expires = c.expires_at.unix_ms, extended = c.extended_at->unix_ms,
                    updated = c.updated_at.unix_ms;
    Query q(tx,
            "UPDATE checkouts SET expires_at = :e, extended_at = :x, updated_at = :ua "
            "WHERE id = :id AND status = 'awaiting_payment' AND extended_at IS NULL");
    q.use(expires).use(extended).use(updated).use(c.id.str());
    return q.run() == 1;
}

namespace {
// "'awaiting_payment', 'paid', ..." from the engine's list, so SQL and engine agree.
const std::string& limit_statuses_sql() {
    static const std::string list = [] {
        std::string out;
        for (const auto s : kLimitCountedStatuses) {
            out += (out.empty() ? "'" : ", '") + std::string(to_string(s)) + "'";
        }
        return out;
    }();
    return list;
}
}  // namespace

std::int64_t units_bought(Tx& tx, const UserId& user, const SkuId& sku) {
    long long n = 0;
    soci::indicator ind = soci::i_null;
    Query q(tx,
            "SELECT SUM(l.quantity) FROM orders o JOIN order_lines l ON l.order_id = o.id "
            "WHERE o.user_id = :u AND o.status IN (" +
                limit_statuses_sql() + ") AND l.sku_id = :s");
    q.into(n, ind).use(user.str()).use(sku.str());
    q.execute();
    if (!q.fetch() || ind != soci::i_ok) return 0;
    return n;
}

bool update_checkout_status(Tx& tx, const Checkout& c, CheckoutStatus from) {
    const std::string status(to_string(c.status)), from_s(to_string(from));
    const long long updated = c.updated_at.unix_ms;
    Query q(tx,
            "UPDATE checkouts SET status = :s, updated_at = :ua WHERE id = :id AND status = :f");
    q.use(status).use(updated).use(c.id.str()).use(from_s);
    return q.run() == 1;
}

std::vector<CheckoutId> due_checkouts(Tx& tx, Timestamp now, int limit) {
    std::string id;
    const long long at = now.unix_ms;
    Query q(tx,
            "SELECT id FROM checkouts WHERE status = 'awaiting_payment' AND expires_at <= :t "
            "ORDER BY expires_at LIMIT :l");
    q.into(id).use(at).use(limit);
    q.execute();
    std::vector<CheckoutId> out;
    while (q.fetch()) out.push_back(CheckoutId::trusted(id));
    return out;
}

// ---------------------------------------------------------------- reservations

bool release_reservations(Tx& tx, const OrderId& order,
                          const std::vector<StockMovement>& releases) {
    for (const auto& m : releases) {
        const long long at = m.at.unix_ms;
        Query q(tx,
                "UPDATE reservations SET state = 'released', updated_at = :ua "
                "WHERE order_id = :o AND sku_id = :s AND state = 'held'");
        q.use(at).use(order.str()).use(m.sku_id.str());
        if (q.run() != 1) return false;
        if (!apply_stock_movement(tx, m)) return false;
    }
    return true;
}

std::int64_t held_quantity(Tx& tx, const SkuId& sku) {
    long long n = 0;
    soci::indicator ind = soci::i_null;
    tx.sql() << "SELECT SUM(quantity) FROM reservations WHERE sku_id = :s AND state = 'held'",
        soci::use(sku.str()), soci::into(n, ind);
    return ind == soci::i_ok ? n : 0;
}

}  // namespace redloop::db
