#pragma once
// A user's cart: lines of SKUs, each remembering the note it was added from.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "redloop/engine/catalog.hpp"
#include "redloop/engine/ids.hpp"
#include "redloop/engine/notes.hpp"
#include "redloop/engine/time.hpp"

namespace redloop::engine {

inline constexpr std::size_t kCartLinesMax = 100;
inline constexpr std::int64_t kLineQuantityMax = 999;

struct CartLine {
    SkuId sku_id;
    std::int64_t quantity = 0;
    std::optional<NoteId> note_id;
    Timestamp added_at;
    Timestamp updated_at;
};

struct SetCartLine {
    SkuId sku_id;
    std::int64_t quantity = 0;  // 0 removes the line
    std::optional<NoteId> note_id;
};
Status validate(const SetCartLine& cmd);

// What storage found for a SetCartLine: the SKU and, when note_id was given, the note.
struct CartLineContext {
    std::optional<Sku> sku;
    std::optional<Note> note;
    std::vector<ProductId> note_products;  // products of the SKUs the note tags
    // Units of the SKU the user already has in orders counted by its per-user limit (read only
    // when the SKU has one; see flash_sale.hpp).
    std::int64_t units_bought = 0;
};

// The line after the command (nullopt: remove it). Refuses an unknown or archived SKU, more
// than the SKU's per-user limit allows (409 conflict), more than is available, a note that
// doesn't exist or doesn't tag the SKU's product, a full cart.
Result<std::optional<CartLine>> decide_set_line(const std::vector<CartLine>& cart,
                                                const SetCartLine& cmd, const CartLineContext& ctx,
                                                Timestamp now);

enum class LineProblem { none, archived, insufficient_stock };
std::optional<std::string_view> to_string(LineProblem p);  // nullopt for none

struct PricedLine {
    CartLine line;
    Sku sku;
    std::string title;  // product title
    Money line_total;
    LineProblem problem = LineProblem::none;
};

struct PricedCart {
    std::vector<PricedLine> lines;
    Money subtotal;
};

// Prices the cart at the SKUs' current prices. `skus` and `titles` are in line order.
Result<PricedCart> price_cart(const std::vector<CartLine>& cart, const std::vector<Sku>& skus,
                              const std::vector<std::string>& titles);

}  // namespace redloop::engine
