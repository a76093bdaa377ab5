#include "redloop/engine/catalog.hpp"

#include <fmt/format.h>

#include <cassert>
#include <set>

#include "redloop/engine/text.hpp"

namespace redloop::engine {

std::string_view to_string(MediaType t) {
    switch (t) {
        case MediaType::image:
            return "image";
        case MediaType::video:
            return "video";
    }
    return "image";
}

std::optional<MediaType> parse_media_type(std::string_view s) {
    if (s == "image") return MediaType::image;
    if (s == "video") return MediaType::video;
    return std::nullopt;
}

std::string_view to_string(ProductStatus s) {
    switch (s) {
        case ProductStatus::active:
            return "active";
        case ProductStatus::archived:
            return "archived";
    }
    return "active";
}

std::optional<ProductStatus> parse_product_status(std::string_view s) {
    if (s == "active") return ProductStatus::active;
    if (s == "archived") return ProductStatus::archived;
    return std::nullopt;
}

std::string_view to_string(MovementKind k) {
    switch (k) {
        case MovementKind::adjustment:
            return "adjustment";
        case MovementKind::reservation:
            return "reservation";
        case MovementKind::release:
            return "release";
        case MovementKind::sale:
            return "sale";
        case MovementKind::restock:
            return "restock";
    }
    return "adjustment";
}

std::optional<MovementKind> parse_movement_kind(std::string_view s) {
    for (auto k : {MovementKind::adjustment, MovementKind::reservation, MovementKind::release,
                   MovementKind::sale, MovementKind::restock}) {
        if (to_string(k) == s) return k;
    }
    return std::nullopt;
}

bool purchasable(const Sku& sku) {
    return sku.status == ProductStatus::active && sku.available() > 0;
}

Status validate_media(std::string_view field, const std::vector<Media>& media) {
    if (media.size() > kMediaMax) {
        return fail(ErrorCode::invalid_request,
                    fmt::format("{} has {} items, at most {}", field, media.size(), kMediaMax));
    }
    for (std::size_t i = 0; i < media.size(); ++i) {
        if (auto s = check_media_url(fmt::format("{}[{}].url", field, i), media[i].url); !s) {
            return s;
        }
    }
    return {};
}

namespace {
Status check_price(std::string_view field, const Money& price) {
    if (price.minor < 0 || price.minor > kPriceMinorMax) {
        return fail(ErrorCode::invalid_request,
                    fmt::format("{}.amount must be between 0 and {}", field, kPriceMinorMax));
    }
    return {};
}
Status check_commission(int bps) {
    if (bps < 0 || bps > kCommissionBpsMax) {
        return fail(ErrorCode::invalid_request,
                    fmt::format("commission_rate_bps must be between 0 and {}", kCommissionBpsMax));
    }
    return {};
}
Status check_per_user_limit(std::string_view field, const std::optional<std::int64_t>& limit) {
    if (limit && (*limit < 1 || *limit > kPerUserLimitMax)) {
        return fail(ErrorCode::invalid_request,
                    fmt::format("{} must be between 1 and {}, or null for no limit", field,
                                kPerUserLimitMax));
    }
    return {};
}
Status check_shop_currency(std::string_view field, const Merchant& merchant, const Money& m) {
    if (!(m.currency == merchant.currency)) {
        return fail(ErrorCode::invalid_request,
                    fmt::format("{}.currency {} does not match the shop's currency {}", field,
                                m.currency.code(), merchant.currency.code()));
    }
    return {};
}
}  // namespace

Status validate(const CreateProduct& cmd) {
    if (auto s = check_text("title", cmd.title, 1, kTitleMax, Lines::single); !s) return s;
    if (auto s = check_text("description", cmd.description, 0, kDescriptionMax, Lines::multi); !s) {
        return s;
    }
    if (auto s = validate_media("media", cmd.media); !s) return s;
    if (auto s = check_commission(cmd.commission_rate_bps); !s) return s;
    if (cmd.skus.empty() || cmd.skus.size() > kSkusPerProductMax) {
        return fail(ErrorCode::invalid_request,
                    fmt::format("skus must have 1 to {} entries", kSkusPerProductMax));
    }
    std::set<std::string> titles;
    for (std::size_t i = 0; i < cmd.skus.size(); ++i) {
        const auto& sku = cmd.skus[i];
        const auto field = fmt::format("skus[{}]", i);
        if (auto s = check_text(field + ".title", sku.title, 1, kTitleMax, Lines::single); !s) {
            return s;
        }
        if (!titles.insert(sku.title).second) {
            return fail(ErrorCode::invalid_request,
                        fmt::format("{}.title '{}' repeats another SKU's title", field, sku.title));
        }
        if (auto s = check_price(field + ".price", sku.price); !s) return s;
        if (sku.stock < 0 || sku.stock > kStockMax) {
            return fail(ErrorCode::invalid_request,
                        fmt::format("{}.stock must be between 0 and {}", field, kStockMax));
        }
        if (auto s = check_per_user_limit(field + ".per_user_limit", sku.per_user_limit); !s) {
            return s;
        }
    }
    return {};
}

Result<ProductCreated> decide_create_product(const Merchant& merchant, const CreateProduct& cmd,
                                             const ProductId& product_id,
                                             const std::vector<SkuId>& sku_ids, Timestamp now) {
    assert(sku_ids.size() == cmd.skus.size());
    if (auto s = validate(cmd); !s) return fail(s.error());
    ProductCreated out;
    out.product = Product{product_id,
                          merchant.id,
                          cmd.title,
                          cmd.description,
                          cmd.media,
                          ProductStatus::active,
                          cmd.commission_rate_bps,
                          now,
                          now};
    for (std::size_t i = 0; i < cmd.skus.size(); ++i) {
        const auto& n = cmd.skus[i];
        if (auto s = check_shop_currency(fmt::format("skus[{}].price", i), merchant, n.price); !s) {
            return fail(s.error());
        }
        Sku sku;
        sku.id = sku_ids[i];
        sku.product_id = product_id;
        sku.merchant_id = merchant.id;
        sku.title = n.title;
        sku.price = n.price;
        sku.on_hand = n.stock;
        sku.reserved = 0;
        sku.position = static_cast<int>(i);
        sku.status = ProductStatus::active;
        sku.created_at = now;
        sku.updated_at = now;
        sku.per_user_limit = n.per_user_limit;
        out.skus.push_back(sku);
        if (n.stock > 0) {
            out.movements.push_back(StockMovement{sku.id, MovementKind::adjustment, n.stock, 0,
                                                  "initial stock", product_id.str(),
                                                  ActorId::of(merchant.id), now});
        }
    }
    return out;
}

Status validate(const ProductPatch& p) {
    if (p.title) {
        if (auto s = check_text("title", *p.title, 1, kTitleMax, Lines::single); !s) return s;
    }
    if (p.description) {
        if (auto s = check_text("description", *p.description, 0, kDescriptionMax, Lines::multi);
            !s) {
            return s;
        }
    }
    if (p.commission_rate_bps) return check_commission(*p.commission_rate_bps);
    return {};
}

Product apply_patch(const Product& product, const ProductPatch& p, Timestamp now) {
    Product out = product;
    if (p.title) out.title = *p.title;
    if (p.description) out.description = *p.description;
    if (p.status) out.status = *p.status;
    if (p.commission_rate_bps) out.commission_rate_bps = *p.commission_rate_bps;
    out.updated_at = now;
    return out;
}

Status validate(const SkuPatch& p) {
    if (p.title) {
        if (auto s = check_text("title", *p.title, 1, kTitleMax, Lines::single); !s) return s;
    }
    if (p.price) {
        if (auto s = check_price("price", *p.price); !s) return s;
    }
    return check_per_user_limit("per_user_limit", p.per_user_limit);
}

Result<Sku> apply_patch(const Merchant& merchant, const Sku& sku, const SkuPatch& p,
                        Timestamp now) {
    Sku out = sku;
    if (p.title) out.title = *p.title;
    if (p.price) {
        if (auto s = check_shop_currency("price", merchant, *p.price); !s) return fail(s.error());
        out.price = *p.price;
    }
    if (p.set_per_user_limit) out.per_user_limit = p.per_user_limit;
    out.updated_at = now;
    return out;
}

Status validate(const StockAdjustment& cmd) {
    if (cmd.delta == 0 || cmd.delta > kStockMax || cmd.delta < -kStockMax) {
        return fail(ErrorCode::invalid_request,
                    fmt::format("delta must be a non-zero integer between -{} and {}", kStockMax,
                                kStockMax));
    }
    return check_text("reason", cmd.reason, 1, kReasonMax, Lines::single);
}

Result<StockMovement> decide_adjust_stock(const Sku& sku, const StockAdjustment& cmd,
                                          const ActorId& actor, Timestamp now) {
    if (auto s = validate(cmd); !s) return fail(s.error());
    const std::int64_t after = sku.on_hand + cmd.delta;
    if (after < sku.reserved) {
        return fail(ErrorCode::conflict,
                    fmt::format("sku {} has {} on hand and {} reserved: on_hand may not go below "
                                "reserved (delta {} would leave {})",
                                sku.id.str(), sku.on_hand, sku.reserved, cmd.delta, after));
    }
    if (after > kStockMax) {
        return fail(ErrorCode::invalid_request,
                    fmt::format("on_hand would be {}, above the limit of {}", after, kStockMax));
    }
    return StockMovement{sku.id, MovementKind::adjustment, cmd.delta, 0, cmd.reason, "", actor,
                         now};
}

}  // namespace redloop::engine
