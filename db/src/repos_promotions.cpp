#include <fmt/format.h>
#include <soci/soci.h>

#include <limits>
#include <map>
#include <set>

#include "redloop/db/repos.hpp"
#include "soci_util.hpp"

namespace redloop::db {

using namespace redloop::engine;

namespace {

struct CouponRow {
    std::string code, merchant, kind, currency, status, created_by;
    long long value = 0, min_spend = 0, starts = 0, ends = 0, max_red = 0, per_user = 0, in_use = 0,
              redeemed = 0, created = 0, updated = 0, seq = 0;
    soci::indicator merchant_i = soci::i_null, starts_i = soci::i_null, ends_i = soci::i_null,
                    max_i = soci::i_null, per_user_i = soci::i_null;

    void bind(Query& q) {
        q.into(code)
            .into(merchant, merchant_i)
            .into(kind)
            .into(value)
            .into(currency)
            .into(min_spend)
            .into(starts, starts_i)
            .into(ends, ends_i)
            .into(max_red, max_i)
            .into(per_user, per_user_i)
            .into(status)
            .into(in_use)
            .into(redeemed)
            .into(created_by)
            .into(created)
            .into(updated)
            .into(seq);
    }

    Coupon take() const {
        Coupon c;
        c.code = code;
        if (merchant_i == soci::i_ok) c.merchant_id = MerchantId::trusted(merchant);
        c.kind = parse_coupon_kind(kind).value_or(CouponKind::amount);
        c.value = value;
        c.min_spend = money_from(min_spend, currency);
        c.currency = c.min_spend.currency;
        if (starts_i == soci::i_ok) c.starts_at = Timestamp{starts};
        if (ends_i == soci::i_ok) c.ends_at = Timestamp{ends};
        if (max_i == soci::i_ok) c.max_redemptions = max_red;
        if (per_user_i == soci::i_ok) c.per_user_limit = per_user;
        c.status = parse_coupon_status(status).value_or(CouponStatus::disabled);
        c.in_use = in_use;
        c.redeemed = redeemed;
        if (auto actor = ActorId::parse(created_by)) c.created_by = *actor;
        c.created_at = Timestamp{created};
        c.updated_at = Timestamp{updated};
        return c;
    }
};

constexpr const char* kCouponSelect =
    "SELECT code, merchant_id, kind, value, currency, min_spend_minor, starts_at, ends_at, "
    "max_redemptions, per_user_limit, status, in_use, redeemed, created_by, created_at, "
    "updated_at, seq FROM coupons ";

NullableInt nullable_time(const std::optional<Timestamp>& t) {
    return t ? NullableInt{t->unix_ms, soci::i_ok} : NullableInt{};
}

}  // namespace

bool insert_coupon(Tx& tx, const Coupon& c) {
    {
        long long n = 0;
        Query q(tx, "SELECT COUNT(*) FROM coupons WHERE code = :c");
        q.into(n).use(c.code);
        q.execute();
        q.fetch();
        if (n > 0) return false;
    }
    NullableText merchant = nullable(c.merchant_id);
    const std::string kind(to_string(c.kind)), currency(c.currency.code()),
        status(to_string(c.status)), creator = c.created_by.str();
    const long long value = c.value, min_spend = c.min_spend.minor, created = c.created_at.unix_ms,
                    updated = c.updated_at.unix_ms;
    auto starts = nullable_time(c.starts_at), ends = nullable_time(c.ends_at);
    auto max_red = nullable_int(c.max_redemptions), per_user = nullable_int(c.per_user_limit);
    Query q(tx,
            "INSERT INTO coupons (code, merchant_id, kind, value, currency, min_spend_minor, "
            "starts_at, ends_at, max_redemptions, per_user_limit, status, in_use, redeemed, "
            "created_by, created_at, updated_at) VALUES (:c, :m, :k, :v, :cur, :ms, :sa, :ea, "
            ":mr, :pu, :st, 0, 0, :cb, :ca, :ua)");
    q.use(c.code)
        .use(merchant.value, merchant.ind)
        .use(kind)
        .use(value)
        .use(currency)
        .use(min_spend)
        .use(starts.value, starts.ind)
        .use(ends.value, ends.ind)
        .use(max_red.value, max_red.ind)
        .use(per_user.value, per_user.ind)
        .use(status)
        .use(creator)
        .use(created)
        .use(updated);
    q.run();
    return true;
}

std::optional<Coupon> find_coupon(Tx& tx, const std::string& code) {
    CouponRow row;
    Query q(tx, std::string(kCouponSelect) + "WHERE code = :c");
    row.bind(q);
    q.use(code);
    q.execute();
    if (!q.fetch()) return std::nullopt;
    return row.take();
}

bool update_coupon(Tx& tx, const Coupon& c) {
    const std::string status(to_string(c.status));
    const long long updated = c.updated_at.unix_ms;
    auto ends = nullable_time(c.ends_at);
    auto max_red = nullable_int(c.max_redemptions);
    // A limit may not go below the checkouts that already hold or paid with the coupon.
    Query q(tx, std::string("UPDATE coupons SET status = :s, ends_at = :e, max_redemptions = :m, "
                            "updated_at = :u WHERE code = :c") +
                    (c.max_redemptions ? " AND in_use <= :m2" : ""));
    q.use(status)
        .use(ends.value, ends.ind)
        .use(max_red.value, max_red.ind)
        .use(updated)
        .use(c.code);
    if (c.max_redemptions) q.use(max_red.value);
    return q.run() == 1;
}

Page<Coupon> list_coupons(Tx& tx, const std::optional<MerchantId>& merchant,
                          std::optional<std::int64_t> before_seq, int limit) {
    const long long before = before_seq ? *before_seq : std::numeric_limits<long long>::max();
    const std::string m = merchant ? merchant->str() : "";
    const int fetch_n = limit + 1;
    CouponRow row;
    Query q(tx, std::string(kCouponSelect) +
                    (merchant ? "WHERE merchant_id = :m AND seq < :b "
                              : "WHERE merchant_id IS NULL AND seq < :b ") +
                    "ORDER BY seq DESC LIMIT :l");
    row.bind(q);
    if (merchant) q.use(m);
    q.use(before).use(fetch_n);
    q.execute();
    return fetch_page<Coupon>(q, row, limit);
}

std::int64_t coupon_user_in_use(Tx& tx, const std::string& code, const UserId& user) {
    long long n = 0;
    Query q(tx,
            "SELECT COUNT(DISTINCT checkout_id) FROM coupon_redemptions WHERE coupon_code = :c "
            "AND user_id = :u AND state IN ('held', 'redeemed')");
    q.into(n).use(code).use(user.str());
    q.execute();
    q.fetch();
    return n;
}

std::optional<CouponRefusal> hold_coupons(Tx& tx, const CheckoutPlan& plan,
                                          const std::vector<CouponShare>& shares,
                                          const std::vector<CouponRequest>& coupons) {
    std::set<std::string> counted;
    int position = 0;
    for (const auto& s : shares) {
        if (counted.insert(s.code).second) {
            Query q(tx,
                    "UPDATE coupons SET in_use = in_use + 1 WHERE code = :c AND "
                    "(max_redemptions IS NULL OR in_use < max_redemptions)");
            q.use(s.code);
            if (q.run() != 1) return CouponRefusal{s.code, "it has been fully redeemed"};
            for (const auto& r : coupons) {
                if (r.coupon.code != s.code || !r.coupon.per_user_limit) continue;
                const auto used = coupon_user_in_use(tx, s.code, plan.checkout.user_id);
                if (used >= *r.coupon.per_user_limit) {
                    return CouponRefusal{s.code, fmt::format("you have used it {} times already "
                                                             "(limit {} per person)",
                                                             used, *r.coupon.per_user_limit)};
                }
            }
        }
        std::string merchant;
        for (const auto& o : plan.orders) {
            if (o.id == s.order_id) merchant = o.merchant_id.str();
        }
        const long long amount = s.amount.minor, at = plan.checkout.created_at.unix_ms;
        const std::string currency(s.amount.currency.code());
        Query q(tx,
                "INSERT INTO coupon_redemptions (coupon_code, order_id, position, checkout_id, "
                "user_id, merchant_id, amount_minor, currency, state, created_at, updated_at) "
                "VALUES (:c, :o, :p, :k, :u, :m, :a, :cur, 'held', :ca, :ua)");
        q.use(s.code)
            .use(s.order_id.str())
            .use(position)
            .use(plan.checkout.id.str())
            .use(plan.checkout.user_id.str())
            .use(merchant)
            .use(amount)
            .use(currency)
            .use(at)
            .use(at);
        q.run();
        ++position;
    }
    return std::nullopt;
}

namespace {

// Whether the checkout's rows of a coupon make it count as in use, and as redeemed.
struct Standing {
    bool in_use = false;
    bool redeemed = false;
};
Standing standing_of(Tx& tx, const std::string& code, const std::string& checkout) {
    std::string state;
    Query q(tx, "SELECT state FROM coupon_redemptions WHERE coupon_code = :c AND checkout_id = :k");
    q.into(state).use(code).use(checkout);
    q.execute();
    Standing s;
    while (q.fetch()) {
        if (state != "returned") s.in_use = true;
        if (state == "redeemed") s.redeemed = true;
    }
    return s;
}

}  // namespace

void sync_redemptions(Tx& tx, const Order& order) {
    if (order.discounts.empty()) return;
    const std::string state(to_string(redemption_state_for(order.status)));
    const std::string checkout = order.checkout_id.str();
    std::map<std::string, Standing> before;
    for (const auto& d : order.discounts) before[d.code] = standing_of(tx, d.code, checkout);
    const long long at = order.updated_at.unix_ms;
    Query q(tx,
            "UPDATE coupon_redemptions SET state = :s, updated_at = :u WHERE order_id = :o AND "
            "state <> :s2");
    q.use(state).use(at).use(order.id.str()).use(state);
    if (q.run() == 0) return;
    for (const auto& [code, was] : before) {
        const Standing now = standing_of(tx, code, checkout);
        const long long in_use = static_cast<int>(now.in_use) - static_cast<int>(was.in_use);
        const long long redeemed = static_cast<int>(now.redeemed) - static_cast<int>(was.redeemed);
        if (in_use == 0 && redeemed == 0) continue;
        Query u(
            tx,
            "UPDATE coupons SET in_use = in_use + :i, redeemed = redeemed + :r WHERE code = :c");
        u.use(in_use).use(redeemed).use(code);
        u.run();
    }
}

}  // namespace redloop::db
