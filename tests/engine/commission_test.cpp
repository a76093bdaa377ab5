#include <doctest/doctest.h>

#include <numeric>

#include "redloop/engine/commission.hpp"

using namespace redloop::engine;

namespace {

const Timestamp kNow{1'800'000'000'000};
const UserId kBuyer = UserId::trusted("usr_buyer");
const UserId kCreator = UserId::trusted("usr_creator");

// An order of `totals.size()` lines, each from a note by kCreator at `rate` with its discount;
// shipping adds to the total only.
Order order_of(const std::vector<std::int64_t>& totals, const std::vector<std::int64_t>& discounts,
               int rate, std::int64_t shipping = 0) {
    Order o;
    o.id = OrderId::trusted("ord_1");
    o.merchant_id = MerchantId::trusted("mer_1");
    o.user_id = kBuyer;
    std::int64_t subtotal = 0, discount = 0;
    for (std::size_t i = 0; i < totals.size(); ++i) {
        OrderLine l;
        l.sku_id = SkuId::trusted("sku_" + std::to_string(i));
        l.quantity = 1;
        l.line_total = Money{totals[i], Currency::cny()};
        l.discount = Money{discounts.empty() ? 0 : discounts[i], Currency::cny()};
        l.note_id = NoteId::trusted("nte_" + std::to_string(i));
        l.creator = kCreator;
        l.commission_rate_bps = rate;
        subtotal += totals[i];
        discount += l.discount.minor;
        o.lines.push_back(l);
    }
    o.subtotal = Money{subtotal, Currency::cny()};
    o.shipping_fee = Money{shipping, Currency::cny()};
    o.discount = Money{discount, Currency::cny()};
    o.total = Money{subtotal + shipping - discount, Currency::cny()};
    o.refunded = Money{0, Currency::cny()};
    o.status = OrderStatus::paid;
    return o;
}

// The ledger lines after the accrual of `o`.
std::vector<CommissionLine> lines_after_accrual(const Order& o) {
    std::vector<CommissionLine> out;
    for (const auto& e : decide_accrual(o, kNow)) {
        out.push_back(
            CommissionLine{e.position, e.note_id, e.creator, e.amount.minor, 0, 0, false});
    }
    return out;
}

void post(std::vector<CommissionLine>& lines, const std::vector<CommissionEntry>& entries) {
    for (const auto& e : entries) {
        for (auto& l : lines) {
            if (l.position != e.position) continue;
            switch (e.kind) {
                case CommissionKind::accrue:
                    l.accrued += e.amount.minor;
                    break;
                case CommissionKind::reverse:
                    l.reversed += e.amount.minor;
                    break;
                case CommissionKind::settle:
                    l.settled += e.amount.minor;
                    break;
            }
        }
    }
}

std::int64_t sum(const std::vector<CommissionEntry>& entries) {
    std::int64_t s = 0;
    for (const auto& e : entries) s += e.amount.minor;
    return s;
}

std::int64_t reversed(const std::vector<CommissionLine>& lines) {
    std::int64_t s = 0;
    for (const auto& l : lines) s += l.reversed;
    return s;
}

}  // namespace

TEST_CASE("who earns on a line: a user's note, a paying rate, another buyer") {
    struct Row {
        const char* name;
        std::optional<ActorId> author;
        int rate;
        bool earns;
    };
    const Row rows[] = {
        {"a user's note, 10 %", ActorId::trusted("usr_creator"), 1000, true},
        {"a brand's note", ActorId::trusted("mer_1"), 1000, false},
        {"no note", std::nullopt, 1000, false},
        {"rate 0", ActorId::trusted("usr_creator"), 0, false},
        {"the buyer's own note", ActorId::trusted("usr_buyer"), 1000, false},
        {"the highest rate", ActorId::trusted("usr_creator"), 8000, true},
    };
    for (const auto& r : rows) {
        CAPTURE(r.name);
        const auto t = commission_terms(r.author, kBuyer, r.rate);
        CHECK(t.has_value() == r.earns);
        if (t) {
            CHECK(t->creator == kCreator);
            CHECK(t->rate_bps == r.rate);
        }
    }
}

TEST_CASE("accrual: floor((line total - line discount) * rate / 10000) per line") {
    struct Row {
        std::int64_t line_total, discount;
        int rate;
        std::int64_t expected;
    };
    const Row rows[] = {
        {10000, 0, 1000, 1000},  {10000, 2000, 1000, 800},
        {999, 0, 1000, 99},      {9, 0, 1000, 0},
        {10000, 10000, 1000, 0}, {1, 0, 8000, 0},
        {12345, 45, 1234, 1517}, {100'000'000'000, 0, 8000, 80'000'000'000},
    };
    for (const auto& r : rows) {
        CAPTURE(r.line_total);
        CAPTURE(r.discount);
        CAPTURE(r.rate);
        const auto entries = decide_accrual(order_of({r.line_total}, {r.discount}, r.rate), kNow);
        CHECK(sum(entries) == r.expected);
        CHECK(entries.size() == (r.expected > 0 ? 1u : 0u));  // nothing earned: no entry
        for (const auto& e : entries) {
            CHECK(e.kind == CommissionKind::accrue);
            CHECK(e.creator == kCreator);
            CHECK(e.note_id == NoteId::trusted("nte_0"));
            CHECK(e.at == kNow);
        }
    }
    // lines without a creator (a brand's note, the buyer's own) accrue nothing
    auto o = order_of({10000, 10000}, {}, 1000);
    o.lines[1].creator.reset();
    const auto entries = decide_accrual(o, kNow);
    REQUIRE(entries.size() == 1);
    CHECK(entries[0].position == 0);
}

TEST_CASE("reversal keeps the cumulative share at floor(accrued * refunded / total)") {
    struct Row {
        const char* name;
        std::vector<std::int64_t> totals;
        std::int64_t shipping;
        std::vector<std::int64_t> refunds;  // successive refund amounts
    };
    const Row rows[] = {
        {"one line, half then the rest", {10000}, 0, {5000, 5000}},
        {"one line, shipping counts in the total", {10000}, 1000, {1100, 9900}},
        {"three lines, uneven thirds", {3333, 3333, 3334}, 7, {1, 2, 3, 5000, 5001}},
        {"many small refunds", {999, 1, 5001}, 0, {1, 1, 1, 1, 1, 1, 1, 5994}},
        {"full at once", {2500, 7500}, 500, {10500}},
    };
    for (const auto& r : rows) {
        CAPTURE(r.name);
        auto o = order_of(r.totals, {}, 1000, r.shipping);
        auto lines = lines_after_accrual(o);
        std::int64_t accrued = 0;
        for (const auto& l : lines) accrued += l.accrued;
        std::int64_t refunded = 0;
        int n = 0;
        for (const auto refund : r.refunds) {
            refunded += refund;
            o.refunded = Money{refunded, Currency::cny()};
            const auto entries =
                decide_reversal(o, lines, RefundId::trusted("ref_" + std::to_string(n++)), kNow);
            for (const auto& e : entries) {
                CHECK(e.kind == CommissionKind::reverse);
                CHECK(e.amount.minor > 0);
                CHECK(e.ref == "ref_" + std::to_string(n - 1));
            }
            post(lines, entries);
            const std::int64_t expected =
                refunded >= o.total.minor ? accrued : accrued * refunded / o.total.minor;
            CHECK(reversed(lines) == expected);
            for (const auto& l : lines) {
                CHECK(l.reversed <= l.accrued);  // never more than a line earned
            }
        }
        // the last refund took everything: each line is reversed exactly
        for (const auto& l : lines) CHECK(l.reversed == l.accrued);
    }
}

TEST_CASE("a reversal is split over the lines by largest remainder") {
    // 3 lines of 1000 accrued 100 each: 10 % refunded reverses 30, 10 each; 1/3 of 100 once more
    auto o = order_of({1000, 1000, 1000}, {}, 1000);
    auto lines = lines_after_accrual(o);
    o.refunded = Money{100, Currency::cny()};  // floor(300 * 100 / 3000) = 10
    auto entries = decide_reversal(o, lines, RefundId::trusted("ref_a"), kNow);
    REQUIRE(entries.size() == 3);
    CHECK(entries[0].amount.minor == 4);  // 10 over three equal lines: the first gets the extra
    CHECK(entries[1].amount.minor == 3);
    CHECK(entries[2].amount.minor == 3);
    post(lines, entries);
    // the same refunded amount again reverses nothing more
    CHECK(decide_reversal(o, lines, RefundId::trusted("ref_b"), kNow).empty());
    // a refund too small to reach a whole fen reverses nothing yet
    auto small = order_of({10000}, {}, 100);  // accrued 100
    auto small_lines = lines_after_accrual(small);
    small.refunded = Money{99, Currency::cny()};  // floor(100 * 99 / 10000) = 0
    CHECK(decide_reversal(small, small_lines, RefundId::trusted("ref_c"), kNow).empty());
}

TEST_CASE("settlement: completed, and the return window counted from completion has passed") {
    const std::int64_t day = kDayMs;
    struct Row {
        const char* name;
        OrderStatus status;
        int window_days;
        std::int64_t now_after_completion_ms;
        bool due;
    };
    const Row rows[] = {
        {"window 0, at once", OrderStatus::completed, 0, 0, true},
        {"window 7, a day early", OrderStatus::completed, 7, 6 * day, false},
        {"window 7, a millisecond early", OrderStatus::completed, 7, 7 * day - 1, false},
        {"window 7, exactly", OrderStatus::completed, 7, 7 * day, true},
        {"delivered, not completed", OrderStatus::delivered, 0, day, false},
        {"refunded after completion", OrderStatus::refunded, 0, day, false},
    };
    for (const auto& r : rows) {
        CAPTURE(r.name);
        auto o = order_of({1000}, {}, 1000);
        o.status = r.status;
        o.history = {HistoryEntry{OrderStatus::paid, kNow + (-10 * day)},
                     HistoryEntry{OrderStatus::completed, kNow}};
        if (r.status == OrderStatus::refunded) {
            o.history.push_back(HistoryEntry{OrderStatus::refunded, kNow + 1});
        }
        CHECK(settlement_due(o, r.window_days, kNow + r.now_after_completion_ms) == r.due);
    }
    auto never = order_of({1000}, {}, 1000);
    never.status = OrderStatus::completed;  // no completion in the history: not due
    CHECK_FALSE(settlement_due(never, 0, kNow));
}

TEST_CASE("settlement pays the net of each line once; a later refund claws back") {
    auto o = order_of({10000, 5000, 20}, {}, 1000);  // accrues 1000, 500, 2
    auto lines = lines_after_accrual(o);
    REQUIRE(lines.size() == 3);
    o.refunded = Money{5000, Currency::cny()};  // a third: reverses floor(1502 / 3) = 500
    post(lines, decide_reversal(o, lines, RefundId::trusted("ref_1"), kNow));
    CHECK(reversed(lines) == 500);
    const auto settled = decide_settlement(o, lines, kNow + 1);
    std::int64_t net = 0;
    for (const auto& l : lines) net += l.accrued - l.reversed;
    CHECK(sum(settled) == net);
    for (const auto& e : settled) CHECK(e.kind == CommissionKind::settle);
    post(lines, settled);
    for (auto& l : lines) l.settled_once = true;
    CHECK(decide_settlement(o, lines, kNow + 2).empty());  // a second sweep settles nothing
    // a full refund afterwards reverses everything accrued: the balance goes negative
    o.refunded = o.total;
    post(lines, decide_reversal(o, lines, RefundId::trusted("ref_2"), kNow + 3));
    std::int64_t balance = 0;
    for (const auto& l : lines) {
        CHECK(l.reversed == l.accrued);
        balance += l.accrued - l.reversed - l.settled;
    }
    CHECK(balance == -net);
    CommissionTotals t{1502, 1502, net};
    CHECK(t.balance() == -net);
}

TEST_CASE("commission kinds round-trip") {
    for (auto k : {CommissionKind::accrue, CommissionKind::reverse, CommissionKind::settle}) {
        CHECK(parse_commission_kind(to_string(k)) == k);
    }
    CHECK_FALSE(parse_commission_kind("refund"));
}
