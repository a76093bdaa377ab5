#pragma once
// Creator commissions: the share of an attributed sale paid to the note's author. Pure rules:
// who earns on a line (decided once, at checkout), what a paid order accrues, what a refund
// reverses, and when the net is settled. Storage keeps the ledger and passes its sums in.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "redloop/engine/ids.hpp"
#include "redloop/engine/money.hpp"
#include "redloop/engine/order.hpp"
#include "redloop/engine/time.hpp"

namespace redloop::engine {

inline constexpr std::int64_t kBpsPerWhole = 10'000;
inline constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;

enum class CommissionKind { accrue, reverse, settle };
std::string_view to_string(CommissionKind k);
std::optional<CommissionKind> parse_commission_kind(std::string_view s);
// The live event of an entry: "commission.accrued", "commission.reversed", "commission.settled".
std::string_view commission_event_type(CommissionKind k);

// The creator of a line and the rate, snapshotted at checkout so that a later change of the
// product's rate does not alter past sales.
struct CommissionTerms {
    UserId creator;
    int rate_bps = 0;
};

// A line earns commission when it names a note whose author is a user, the product's rate is
// above 0, and the buyer is not the author (no commission on one's own purchase).
std::optional<CommissionTerms> commission_terms(const std::optional<ActorId>& note_author,
                                                const UserId& buyer, int rate_bps);

// floor(base * rate_bps / 10000) for base >= 0 (0 otherwise), without overflow.
std::int64_t commission_of(std::int64_t base_minor, int rate_bps);

// One ledger entry. (order_id, position, kind, ref) is its natural key: one accrual and one
// settlement per line, one reversal per line and refund (ref = the refund's id).
struct CommissionEntry {
    OrderId order_id;
    int position = 0;  // of the order line
    NoteId note_id;
    UserId creator;
    MerchantId merchant_id;
    CommissionKind kind = CommissionKind::accrue;
    std::string ref;  // the refund id of a reversal, else empty
    Money amount;     // >= 0; a reversal or settlement is a positive amount of its kind
    Timestamp at;
};

// What the ledger holds for one attributed line.
struct CommissionLine {
    int position = 0;
    NoteId note_id;
    UserId creator;
    std::int64_t accrued = 0;
    std::int64_t reversed = 0;
    std::int64_t settled = 0;
    bool settled_once = false;  // the settlement ran for this line (even of nothing)
};

// The order became paid: per attributed line (creator set and rate > 0),
// floor((line_total - line discount) * rate_bps / 10000). Lines that earn 0 give no entry.
std::vector<CommissionEntry> decide_accrual(const Order& order, Timestamp now);

// A refund of the order succeeded; `order` already carries the new refunded amount. The order's
// cumulative reversal is kept at floor(accrued * refunded / total) (all of it once refunded
// reaches total, so a full refund reverses exactly what accrued); what that adds is split over
// the lines in proportion to what each still has unreversed, by largest remainder (never more
// than a line has). One entry per line that gets a part; none when nothing moves.
std::vector<CommissionEntry> decide_reversal(const Order& order,
                                             const std::vector<CommissionLine>& lines,
                                             const RefundId& refund, Timestamp now);

// When the order was completed (its last move to completed in the history), if it was.
std::optional<Timestamp> completed_at(const Order& order);

// Settle-able: the order is completed and its merchant's return window, counted in days from
// the completion, has passed (completed_at + days <= now).
bool settlement_due(const Order& order, int return_window_days, Timestamp now);

// The settlement: per line not settled yet, the net (accrued - reversed) when above 0.
std::vector<CommissionEntry> decide_settlement(const Order& order,
                                               const std::vector<CommissionLine>& lines,
                                               Timestamp now);

// Totals of a ledger as the creator (balance) and the merchant (owed) see them:
// accrued - reversed - settled. May be negative after a refund of a settled sale (a clawback).
struct CommissionTotals {
    std::int64_t accrued = 0;
    std::int64_t reversed = 0;
    std::int64_t settled = 0;
    std::int64_t balance() const { return accrued - reversed - settled; }
};

}  // namespace redloop::engine
