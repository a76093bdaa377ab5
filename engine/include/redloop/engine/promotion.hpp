#pragma once
// Promotions: merchant coupons (off one shop's order) and platform coupons (funded by the
// platform, split across a checkout's orders in proportion to what each still costs). Pure:
// the storage counts how often a coupon is in use and passes the counts in.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "redloop/engine/checkout.hpp"
#include "redloop/engine/ids.hpp"
#include "redloop/engine/money.hpp"
#include "redloop/engine/time.hpp"

namespace redloop::engine {

enum class CouponKind { percent, amount };
std::string_view to_string(CouponKind k);
std::optional<CouponKind> parse_coupon_kind(std::string_view s);

enum class CouponStatus { active, disabled };
std::string_view to_string(CouponStatus s);
std::optional<CouponStatus> parse_coupon_status(std::string_view s);

inline constexpr std::size_t kCouponCodeMin = 3;
inline constexpr std::size_t kCouponCodeMax = 32;
inline constexpr std::size_t kCouponsPerCheckoutMax = 5;
inline constexpr std::int64_t kCouponLimitMax = 1'000'000'000;

// Codes are letters, digits, '-' and '_', compared without case: stored upper case.
Result<std::string> normalize_coupon_code(std::string_view code);

struct Coupon {
    std::string code;                       // upper case
    std::optional<MerchantId> merchant_id;  // nullopt: a platform coupon
    CouponKind kind = CouponKind::amount;
    std::int64_t value = 0;  // percent (1..100) or minor units of `currency`
    Currency currency = Currency::cny();
    Money min_spend;  // of the goods it applies to, before any discount
    std::optional<Timestamp> starts_at;
    std::optional<Timestamp> ends_at;  // exclusive
    std::optional<std::int64_t> max_redemptions;
    std::optional<std::int64_t> per_user_limit;
    CouponStatus status = CouponStatus::active;
    ActorId created_by = ActorId::system();
    Timestamp created_at;
    Timestamp updated_at;
    // Checkouts holding it now (unpaid) or that paid with it: what the limits count.
    std::int64_t in_use = 0;
    // Checkouts that paid with it (and were not cancelled since).
    std::int64_t redeemed = 0;

    bool is_platform() const { return !merchant_id.has_value(); }
};

struct CreateCoupon {
    std::string code;
    CouponKind kind = CouponKind::amount;
    std::int64_t value = 0;
    // Set when `value` came as money ({amount, currency}) rather than minor units: an amount
    // coupon's must be in the coupon's currency; a percent coupon's value is never money.
    std::optional<Currency> value_currency;
    std::optional<Money> min_spend;
    std::optional<Timestamp> starts_at;
    std::optional<Timestamp> ends_at;
    std::optional<std::int64_t> max_redemptions;
    std::optional<std::int64_t> per_user_limit;
};

// `merchant` is the shop that funds it, or nullopt for a platform coupon (an admin's).
Result<Coupon> decide_create_coupon(const CreateCoupon& cmd, std::optional<MerchantId> merchant,
                                    Currency currency, const ActorId& creator, Timestamp now);

struct CouponPatch {
    std::optional<CouponStatus> status;
    std::optional<Timestamp> ends_at;
    std::optional<std::int64_t> max_redemptions;
};
Result<Coupon> decide_update_coupon(const Coupon& c, const CouponPatch& p, Timestamp now);

// How often the checking-out user has the coupon in use (held or redeemed checkouts).
struct CouponRequest {
    Coupon coupon;
    std::int64_t user_in_use = 0;
};

// A coupon's part of one order: what it took off, and so what the platform or the shop funds.
struct CouponShare {
    std::string code;
    OrderId order_id;
    Money amount;
};

// Applies the coupons (in the order given) to the plan: each order gets its discount lines and
// its total after discounts, each order line its part of the order's discount, the payment the
// new sum. Merchant coupons apply first, each to its shop's order; a platform coupon then to
// what the orders still cost, split in proportion to that and rounded to the minor unit with
// the remainders going to the largest fractions, so the shares add up exactly. At most one
// coupon per shop and one platform coupon. A coupon that does not apply is a conflict naming
// its code and the reason; nothing is applied then. Shares of nothing are left out: a coupon
// that took nothing off any order is not counted as used.
Result<std::vector<CouponShare>> apply_coupons(CheckoutPlan& plan,
                                               const std::vector<CouponRequest>& coupons,
                                               Timestamp now);

// Splits `amount` (>= 0) over `weights` (>= 0, not all 0 when amount > 0) in proportion, each
// part rounded down and the leftover minor units given one each to the largest remainders
// (the first on ties). The parts add up to `amount` exactly.
std::vector<std::int64_t> split_proportionally(std::int64_t amount,
                                               const std::vector<std::int64_t>& weights);

// What a coupon's redemption is while its order is in `s`: held until paid, redeemed once paid,
// returned when the order is cancelled or expires (a later refund keeps it redeemed).
enum class RedemptionState { held, redeemed, returned };
std::string_view to_string(RedemptionState s);
RedemptionState redemption_state_for(OrderStatus s);

}  // namespace redloop::engine
