// Creator commissions: the ledger moves with the money (accrual when an order is paid, reversal
// when a refund succeeds), the settlement sweep, and the two views of the ledger:
// GET /v1/creators/me/earnings (the creator's) and GET /v1/merchants/me/commissions (the shop's).
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <algorithm>

#include "codec.hpp"
#include "handler_util.hpp"
#include "redloop/db/journal.hpp"
#include "redloop/db/locks.hpp"
#include "redloop/db/repos.hpp"

namespace redloop::api {

using namespace redloop::engine;

void accrue_commissions(db::Tx& tx, const Order& paid, Timestamp now) {
    db::insert_commission_entries(tx, decide_accrual(paid, now));
}

void reverse_commissions(db::Tx& tx, const Order& order, const RefundId& refund, Timestamp now) {
    const auto lines = db::commission_lines(tx, order.id);
    if (lines.empty()) return;
    db::insert_commission_entries(tx, decide_reversal(order, lines, refund, now));
}

bool settle_commissions(db::Database& db, const OrderId& id, Timestamp now) {
    auto done = db.write([&](db::Tx& tx) -> Result<bool> {
        tx.changes().at_ms = now.unix_ms;
        // Several nodes sweep (PostgreSQL): one at a time per order; what is read after the
        // lock includes a settlement another node just committed.
        db::lock_key(tx, db::LockSpace::settlement, id.str());
        auto order = db::find_order(tx, id);
        if (!order) return false;
        auto merchant = db::find_merchant(tx, order->merchant_id);
        if (!merchant) return fail(ErrorCode::internal, "merchant missing for " + id.str());
        if (!settlement_due(*order, merchant->return_window_days, now)) return false;
        const auto lines = db::commission_lines(tx, id);
        const bool open = std::any_of(lines.begin(), lines.end(),
                                      [](const CommissionLine& l) { return !l.settled_once; });
        if (!open) return false;
        const auto entries = decide_settlement(*order, lines, now);
        db::insert_commission_entries(tx, entries);
        db::mark_commission_settled(tx, id, now);
        std::int64_t paid = 0;
        for (const auto& e : entries) paid += e.amount.minor;
        db::JournalEntry e;
        e.at = now;
        e.kind = "settle";
        e.actor = "system";
        e.role = "system";
        e.target = id.str();
        e.status = 200;
        e.response_sha256 = fmt::format("settled {}", paid);
        db::append_journal(tx, e);
        return true;
    });
    if (!done) {
        spdlog::warn("could not settle the commissions of order {}: {}", id.str(),
                     done.error().detail);
        return false;
    }
    if (*done) spdlog::info("commissions of order {} settled", id.str());
    return *done;
}

int settle_due_commissions(db::Database& db, Timestamp now) {
    auto due = db.read([&](db::Tx& tx) -> Result<std::vector<OrderId>> {
        return db::orders_to_settle(tx, now, 200);
    });
    if (!due) {
        spdlog::warn("settlement sweep could not list due orders: {}", due.error().detail);
        return 0;
    }
    int settled = 0;
    for (const auto& id : *due) settled += settle_commissions(db, id, now) ? 1 : 0;
    return settled;
}

namespace {

// The ledger of one side: totals, then a page of entries newest first.
Result<Response> ledger_view(Context& ctx, const db::CommissionFilter& filter,
                             const Currency& currency, const char* balance_name) {
    auto page = page_params(ctx.req);
    if (!page) return fail(page.error());
    return ctx.app.db().read([&](db::Tx& tx) -> Result<Response> {
        const auto totals = db::commission_totals(tx, filter);
        auto entries = db::commission_entries(tx, filter, page->before, page->limit);
        boost::json::array data;
        for (const auto& e : entries.items) {
            data.push_back(encode_commission_entry(e, filter.merchant.has_value()));
        }
        const auto money = [&](std::int64_t minor) { return encode_money(Money{minor, currency}); };
        boost::json::object out{{"accrued", money(totals.accrued)},
                                {"reversed", money(totals.reversed)},
                                {"settled", money(totals.settled)},
                                {balance_name, money(totals.balance())},
                                {"entries", std::move(data)}};
        out["next_cursor"] = entries.next_before
                                 ? boost::json::value(encode_cursor(*entries.next_before))
                                 : boost::json::value(nullptr);
        return json_response(200, out);
    });
}

Result<Response> creator_earnings(Context& ctx) {
    auto p = ctx.require({Role::user});
    if (!p) return fail(p.error());
    // Every shop sells in CNY today; the entries carry their own currency.
    return ledger_view(ctx, db::CommissionFilter{UserId::trusted(p->sub.str()), std::nullopt},
                       Currency::cny(), "balance");
}

Result<Response> merchant_commissions(Context& ctx) {
    auto p = ctx.require({Role::merchant});
    if (!p) return fail(p.error());
    const auto merchant_id = MerchantId::trusted(p->sub.str());
    auto merchant = ctx.app.db().read([&](db::Tx& tx) -> Result<std::optional<Merchant>> {
        return db::find_merchant(tx, merchant_id);
    });
    if (!merchant) return fail(merchant.error());
    if (!*merchant) return fail(ErrorCode::internal, "merchant row missing for " + p->sub.str());
    return ledger_view(ctx, db::CommissionFilter{std::nullopt, merchant_id}, (*merchant)->currency,
                       "owed");
}

}  // namespace

void add_commission_routes(Router& r) {
    r.add("GET", "/v1/creators/me/earnings", creator_earnings);
    r.add("GET", "/v1/merchants/me/commissions", merchant_commissions);
}

}  // namespace redloop::api
