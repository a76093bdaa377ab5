#pragma once
#include <optional>
#include <string>

#include "redloop/engine/ids.hpp"
#include "redloop/engine/money.hpp"
#include "redloop/engine/time.hpp"

namespace redloop::engine {

inline constexpr int kReturnWindowDaysDefault = 7;
inline constexpr int kReturnWindowDaysMax = 365;
inline constexpr std::size_t kMerchantNameMax = 100;

struct Merchant {
    MerchantId id;
    std::string name;
    Currency currency = Currency::cny();
    Money shipping_fee;                       // flat fee per order, in `currency`
    std::optional<Money> free_shipping_over;  // subtotal from which shipping is free
    int return_window_days = kReturnWindowDaysDefault;
    Timestamp created_at;
    Timestamp updated_at;
};

// A merchant as it first appears (identity lives upstream): no fee, 7-day returns, CNY.
Merchant new_merchant(const MerchantId& id, Timestamp now);

struct MerchantPatch {
    std::optional<std::string> name;
    std::optional<Money> shipping_fee;
    bool set_free_shipping_over = false;  // true with nullopt clears the threshold
    std::optional<Money> free_shipping_over;
    std::optional<int> return_window_days;
};

// Checks what needs no state (lengths, ranges).
Status validate(const MerchantPatch& patch);
// Applies a validated patch; currencies must be the merchant's.
Result<Merchant> apply_patch(const Merchant& merchant, const MerchantPatch& patch, Timestamp now);

// The shipping fee of an order with this subtotal.
Money shipping_fee_for(const Merchant& merchant, const Money& subtotal);

}  // namespace redloop::engine
