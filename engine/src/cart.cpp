#include "redloop/engine/cart.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>

#include "redloop/engine/flash_sale.hpp"

namespace redloop::engine {

Status validate(const SetCartLine& cmd) {
    if (cmd.quantity < 0 || cmd.quantity > kLineQuantityMax) {
        return fail(ErrorCode::invalid_request,
                    fmt::format("quantity must be between 0 and {}", kLineQuantityMax));
    }
    return {};
}

Result<std::optional<CartLine>> decide_set_line(const std::vector<CartLine>& cart,
                                                const SetCartLine& cmd, const CartLineContext& ctx,
                                                Timestamp now) {
    if (auto s = validate(cmd); !s) return fail(s.error());
    const auto existing = std::find_if(cart.begin(), cart.end(),
                                       [&](const CartLine& l) { return l.sku_id == cmd.sku_id; });
    if (cmd.quantity == 0) return std::optional<CartLine>{};
    if (!ctx.sku) return fail(ErrorCode::not_found, fmt::format("no sku {}", cmd.sku_id.str()));
    const Sku& sku = *ctx.sku;
    if (sku.status != ProductStatus::active) {
        return fail(
            ErrorCode::conflict,
            fmt::format("sku {} belongs to an archived product and can't be bought", sku.id.str()));
    }
    if (auto s = check_purchase_limit(sku, ctx.units_bought, cmd.quantity); !s) {
        return fail(s.error());
    }
    if (cmd.quantity > sku.available()) {
        return fail(ErrorCode::out_of_stock,
                    fmt::format("sku {} has {} available; {} requested", sku.id.str(),
                                sku.available(), cmd.quantity));
    }
    if (cmd.note_id) {
        if (!ctx.note) {
            return fail(ErrorCode::invalid_request,
                        fmt::format("note_id: no note {}", cmd.note_id->str()));
        }
        const bool tags_product = std::find(ctx.note_products.begin(), ctx.note_products.end(),
                                            sku.product_id) != ctx.note_products.end();
        if (!tags_product) {
            return fail(ErrorCode::invalid_request,
                        fmt::format("note_id: note {} does not tag a sku of product {}",
                                    cmd.note_id->str(), sku.product_id.str()));
        }
    }
    if (existing == cart.end() && cart.size() >= kCartLinesMax) {
        return fail(ErrorCode::conflict,
                    fmt::format("the cart is full: at most {} lines", kCartLinesMax));
    }
    CartLine line;
    line.sku_id = cmd.sku_id;
    line.quantity = cmd.quantity;
    // Attribution stays with the note the item was first added from unless a new one is given.
    line.note_id =
        cmd.note_id ? cmd.note_id : (existing != cart.end() ? existing->note_id : std::nullopt);
    line.added_at = existing != cart.end() ? existing->added_at : now;
    line.updated_at = now;
    return std::optional<CartLine>{line};
}

std::optional<std::string_view> to_string(LineProblem p) {
    switch (p) {
        case LineProblem::none:
            return std::nullopt;
        case LineProblem::archived:
            return "archived";
        case LineProblem::insufficient_stock:
            return "insufficient_stock";
    }
    return std::nullopt;
}

Result<PricedCart> price_cart(const std::vector<CartLine>& cart, const std::vector<Sku>& skus,
                              const std::vector<std::string>& titles) {
    assert(cart.size() == skus.size() && cart.size() == titles.size());
    PricedCart out;
    out.subtotal = Money{0, skus.empty() ? Currency::cny() : skus.front().price.currency};
    for (std::size_t i = 0; i < cart.size(); ++i) {
        auto total = multiply(skus[i].price, cart[i].quantity);
        if (!total) return fail(total.error());
        PricedLine line{cart[i], skus[i], titles[i], *total, LineProblem::none};
        if (skus[i].status != ProductStatus::active) {
            line.problem = LineProblem::archived;
        } else if (skus[i].available() < cart[i].quantity) {
            line.problem = LineProblem::insufficient_stock;
        }
        auto sum = add(out.subtotal, *total);
        if (!sum) return fail(sum.error());
        out.subtotal = *sum;
        out.lines.push_back(std::move(line));
    }
    return out;
}

}  // namespace redloop::engine
