#pragma once
// Products, SKUs and their stock: the decisions, with no storage.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "redloop/engine/ids.hpp"
#include "redloop/engine/merchant.hpp"
#include "redloop/engine/money.hpp"
#include "redloop/engine/time.hpp"

namespace redloop::engine {

inline constexpr std::size_t kTitleMax = 200;
inline constexpr std::size_t kDescriptionMax = 10'000;
inline constexpr std::size_t kMediaMax = 20;
inline constexpr std::size_t kSkusPerProductMax = 100;
inline constexpr std::size_t kReasonMax = 200;
inline constexpr std::int64_t kStockMax = 10'000'000;        // units on hand of one SKU
inline constexpr std::int64_t kPriceMinorMax = 100'000'000;  // 1 000 000.00 CNY per unit
inline constexpr int kCommissionBpsMax = 8000;
inline constexpr std::int64_t kPerUserLimitMax = 999;  // units of one SKU per buyer (flash sales)

enum class MediaType { image, video };
std::string_view to_string(MediaType t);
std::optional<MediaType> parse_media_type(std::string_view s);

struct Media {
    MediaType type = MediaType::image;
    std::string url;
    friend bool operator==(const Media&, const Media&) = default;
};
// `field` is the JSON name of the list ("media").
Status validate_media(std::string_view field, const std::vector<Media>& media);

enum class ProductStatus { active, archived };
std::string_view to_string(ProductStatus s);
std::optional<ProductStatus> parse_product_status(std::string_view s);

struct Product {
    ProductId id;
    MerchantId merchant_id;
    std::string title;
    std::string description;
    std::vector<Media> media;
    ProductStatus status = ProductStatus::active;
    int commission_rate_bps = 0;
    Timestamp created_at;
    Timestamp updated_at;
};

struct Sku {
    SkuId id;
    ProductId product_id;
    MerchantId merchant_id;
    std::string title;
    Money price;
    std::int64_t on_hand = 0;
    std::int64_t reserved = 0;
    int position = 0;
    ProductStatus status = ProductStatus::active;  // its product's status
    Timestamp created_at;
    Timestamp updated_at;
    // Units one buyer may hold in orders that are not cancelled, expired or refunded
    // (flash_sale.hpp); nullopt: no limit.
    std::optional<std::int64_t> per_user_limit = std::nullopt;

    std::int64_t available() const { return on_hand - reserved; }
};

// A SKU can be bought when its product is active and a unit is available.
bool purchasable(const Sku& sku);

// What moved in a SKU's stock, and why: every change of on_hand or reserved is one row of the
// inventory ledger, so on_hand is always the sum of the ledger's on_hand deltas.
enum class MovementKind { adjustment, reservation, release, sale, restock };
std::string_view to_string(MovementKind k);
std::optional<MovementKind> parse_movement_kind(std::string_view s);

struct StockMovement {
    SkuId sku_id;
    MovementKind kind = MovementKind::adjustment;
    std::int64_t on_hand_delta = 0;
    std::int64_t reserved_delta = 0;
    std::string reason;
    std::string ref;  // the object that caused it (an order id), or empty
    ActorId actor;
    Timestamp at;
};

// ---- create product ----
struct NewSku {
    std::string title;
    Money price;
    std::int64_t stock = 0;
    std::optional<std::int64_t> per_user_limit = std::nullopt;  // 1..kPerUserLimitMax, or none
};

struct CreateProduct {
    std::string title;
    std::string description;
    std::vector<Media> media;
    std::vector<NewSku> skus;
    int commission_rate_bps = 0;
};

Status validate(const CreateProduct& cmd);

struct ProductCreated {
    Product product;
    std::vector<Sku> skus;
    std::vector<StockMovement> movements;  // the initial stock of each SKU
};

// `sku_ids` has one fresh id per cmd.skus entry. Prices must be in the merchant's currency.
Result<ProductCreated> decide_create_product(const Merchant& merchant, const CreateProduct& cmd,
                                             const ProductId& product_id,
                                             const std::vector<SkuId>& sku_ids, Timestamp now);

// ---- patch product ----
struct ProductPatch {
    std::optional<std::string> title;
    std::optional<std::string> description;
    std::optional<ProductStatus> status;
    std::optional<int> commission_rate_bps;
};
Status validate(const ProductPatch& patch);
Product apply_patch(const Product& product, const ProductPatch& patch, Timestamp now);

// ---- patch sku ----
struct SkuPatch {
    std::optional<std::string> title;
    std::optional<Money> price;
    bool set_per_user_limit = false;  // true with nullopt removes the limit
    std::optional<std::int64_t> per_user_limit = std::nullopt;
};
Status validate(const SkuPatch& patch);
Result<Sku> apply_patch(const Merchant& merchant, const Sku& sku, const SkuPatch& patch,
                        Timestamp now);

// ---- stock adjustment ----
struct StockAdjustment {
    std::int64_t delta = 0;
    std::string reason;
};
Status validate(const StockAdjustment& cmd);

// Decides the adjustment against the SKU as read; storage applies it with a guarded update
// (on_hand + delta >= reserved) so a concurrent reservation can't be undercut.
Result<StockMovement> decide_adjust_stock(const Sku& sku, const StockAdjustment& cmd,
                                          const ActorId& actor, Timestamp now);

}  // namespace redloop::engine
