#pragma once
// Strong, opaque ids with the contract's type prefixes ("sku_..."). An id is its prefix followed
// by 1..64 characters of [A-Za-z0-9]. A bare string never stands for an id in a signature.
#include <compare>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "redloop/engine/result.hpp"

namespace redloop::engine {

inline constexpr std::size_t kIdBodyMax = 64;

// True when `text` is `prefix` followed by 1..kIdBodyMax ASCII letters or digits.
bool is_valid_id(std::string_view text, std::string_view prefix);

template <typename Tag>
class Id {
  public:
    static constexpr std::string_view prefix() { return Tag::kPrefix; }

    static Result<Id> parse(std::string_view text) {
        if (!is_valid_id(text, Tag::kPrefix)) {
            return fail(ErrorCode::invalid_request,
                        std::string("not a valid ") + std::string(Tag::kNoun) + " id: expected '" +
                            std::string(Tag::kPrefix) + "' followed by 1-64 letters or digits");
        }
        return Id(std::string(text));
    }
    // For ids whose validity the caller has established (database rows, generator output).
    static Id trusted(std::string text) { return Id(std::move(text)); }

    Id() = default;
    const std::string& str() const { return value_; }
    bool empty() const { return value_.empty(); }

    friend auto operator<=>(const Id&, const Id&) = default;
    friend bool operator==(const Id&, const Id&) = default;

  private:
    explicit Id(std::string v) : value_(std::move(v)) {}
    std::string value_;
};

// clang-format off
struct UserTag     { static constexpr std::string_view kPrefix = "usr_"; static constexpr std::string_view kNoun = "user"; };
struct MerchantTag { static constexpr std::string_view kPrefix = "mer_"; static constexpr std::string_view kNoun = "merchant"; };
struct ProductTag  { static constexpr std::string_view kPrefix = "prd_"; static constexpr std::string_view kNoun = "product"; };
struct SkuTag      { static constexpr std::string_view kPrefix = "sku_"; static constexpr std::string_view kNoun = "sku"; };
struct NoteTag     { static constexpr std::string_view kPrefix = "nte_"; static constexpr std::string_view kNoun = "note"; };
struct CheckoutTag { static constexpr std::string_view kPrefix = "chk_"; static constexpr std::string_view kNoun = "checkout"; };
struct OrderTag    { static constexpr std::string_view kPrefix = "ord_"; static constexpr std::string_view kNoun = "order"; };
struct PaymentTag  { static constexpr std::string_view kPrefix = "pay_"; static constexpr std::string_view kNoun = "payment"; };
struct RefundTag   { static constexpr std::string_view kPrefix = "ref_"; static constexpr std::string_view kNoun = "refund"; };
struct EventTag    { static constexpr std::string_view kPrefix = "evt_"; static constexpr std::string_view kNoun = "event"; };
// clang-format on

using UserId = Id<UserTag>;
using MerchantId = Id<MerchantTag>;
using ProductId = Id<ProductTag>;
using SkuId = Id<SkuTag>;
using NoteId = Id<NoteTag>;
using CheckoutId = Id<CheckoutTag>;
using OrderId = Id<OrderTag>;
using PaymentId = Id<PaymentTag>;
using RefundId = Id<RefundTag>;
using EventId = Id<EventTag>;

// Who acts: a user or a merchant id (the JWT `sub`). Authors of notes are actors too.
class ActorId {
  public:
    static Result<ActorId> parse(std::string_view text);
    static ActorId of(const UserId& u) { return ActorId(u.str()); }
    static ActorId of(const MerchantId& m) { return ActorId(m.str()); }
    static ActorId trusted(std::string text) { return ActorId(std::move(text)); }
    // The engine itself (the expiry sweeper), in ledgers and histories.
    static ActorId system() { return ActorId("system"); }

    ActorId() = default;
    bool is_user() const;
    bool is_merchant() const;
    const std::string& str() const { return value_; }

    friend auto operator<=>(const ActorId&, const ActorId&) = default;
    friend bool operator==(const ActorId&, const ActorId&) = default;

  private:
    explicit ActorId(std::string v) : value_(std::move(v)) {}
    std::string value_;
};

}  // namespace redloop::engine

template <typename Tag>
struct std::hash<redloop::engine::Id<Tag>> {
    std::size_t operator()(const redloop::engine::Id<Tag>& id) const noexcept {
        return std::hash<std::string>{}(id.str());
    }
};
