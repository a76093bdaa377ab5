#include "redloop/engine/commission.hpp"

#include <algorithm>
#include <cassert>

#include "redloop/engine/promotion.hpp"

namespace redloop::engine {

namespace {
__extension__ typedef __int128 Wide;
}  // namespace

std::string_view to_string(CommissionKind k) {
    switch (k) {
        case CommissionKind::accrue:
            return "accrue";
        case CommissionKind::reverse:
            return "reverse";
        case CommissionKind::settle:
            return "settle";
    }
    return "accrue";
}

std::string_view commission_event_type(CommissionKind k) {
    switch (k) {
        case CommissionKind::accrue:
            return "commission.accrued";
        case CommissionKind::reverse:
            return "commission.reversed";
        case CommissionKind::settle:
            return "commission.settled";
    }
    return "commission.accrued";
}

std::optional<CommissionKind> parse_commission_kind(std::string_view s) {
    if (s == "accrue") return CommissionKind::accrue;
    if (s == "reverse") return CommissionKind::reverse;
    if (s == "settle") return CommissionKind::settle;
    return std::nullopt;
}

std::optional<CommissionTerms> commission_terms(const std::optional<ActorId>& note_author,
                                                const UserId& buyer, int rate_bps) {
    if (!note_author || !note_author->is_user() || rate_bps <= 0) return std::nullopt;
    if (note_author->str() == buyer.str()) return std::nullopt;
    return CommissionTerms{UserId::trusted(note_author->str()), rate_bps};
}

std::int64_t commission_of(std::int64_t base_minor, int rate_bps) {
    if (base_minor <= 0 || rate_bps <= 0) return 0;
    return static_cast<std::int64_t>(static_cast<Wide>(base_minor) * rate_bps / kBpsPerWhole);
}

namespace {

CommissionEntry entry_of(const Order& order, int position, const NoteId& note,
                         const UserId& creator, CommissionKind kind, std::string ref,
                         std::int64_t amount, Timestamp now) {
    return CommissionEntry{order.id,
                           position,
                           note,
                           creator,
                           order.merchant_id,
                           kind,
                           std::move(ref),
                           Money{amount, order.total.currency},
                           now};
}

}  // namespace

std::vector<CommissionEntry> decide_accrual(const Order& order, Timestamp now) {
    std::vector<CommissionEntry> out;
    for (std::size_t i = 0; i < order.lines.size(); ++i) {
        const auto& l = order.lines[i];
        if (!l.creator || !l.note_id || l.commission_rate_bps <= 0) continue;
        const auto amount =
            commission_of(l.line_total.minor - l.discount.minor, l.commission_rate_bps);
        if (amount <= 0) continue;
        out.push_back(entry_of(order, static_cast<int>(i), *l.note_id, *l.creator,
                               CommissionKind::accrue, "", amount, now));
    }
    return out;
}

std::vector<CommissionEntry> decide_reversal(const Order& order,
                                             const std::vector<CommissionLine>& lines,
                                             const RefundId& refund, Timestamp now) {
    std::int64_t accrued = 0, reversed = 0;
    std::vector<std::int64_t> left;
    for (const auto& l : lines) {
        accrued += l.accrued;
        reversed += l.reversed;
        left.push_back(std::max<std::int64_t>(0, l.accrued - l.reversed));
    }
    const std::int64_t total = order.total.minor, refunded = order.refunded.minor;
    std::int64_t target = accrued;
    if (refunded < total) {
        target = static_cast<std::int64_t>(static_cast<Wide>(accrued) *
                                           std::max<std::int64_t>(0, refunded) / total);
    }
    const std::int64_t delta = target - reversed;
    std::vector<CommissionEntry> out;
    if (delta <= 0) return out;
    // delta <= what is left in all (target <= accrued), so each part stays within its line.
    const auto parts = split_proportionally(delta, left);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (parts[i] <= 0) continue;
        assert(parts[i] <= left[i]);
        out.push_back(entry_of(order, lines[i].position, lines[i].note_id, lines[i].creator,
                               CommissionKind::reverse, refund.str(), parts[i], now));
    }
    return out;
}

std::optional<Timestamp> completed_at(const Order& order) {
    for (auto it = order.history.rbegin(); it != order.history.rend(); ++it) {
        if (it->status == OrderStatus::completed) return it->at;
    }
    return std::nullopt;
}

bool settlement_due(const Order& order, int return_window_days, Timestamp now) {
    if (order.status != OrderStatus::completed) return false;
    const auto done = completed_at(order);
    if (!done) return false;
    return done->unix_ms + std::max(0, return_window_days) * kDayMs <= now.unix_ms;
}

std::vector<CommissionEntry> decide_settlement(const Order& order,
                                               const std::vector<CommissionLine>& lines,
                                               Timestamp now) {
    std::vector<CommissionEntry> out;
    for (const auto& l : lines) {
        if (l.settled_once) continue;
        const std::int64_t net = l.accrued - l.reversed - l.settled;
        if (net <= 0) continue;
        out.push_back(entry_of(order, l.position, l.note_id, l.creator, CommissionKind::settle, "",
                               net, now));
    }
    return out;
}

}  // namespace redloop::engine
