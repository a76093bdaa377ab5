// The user's cart: GET /v1/cart, PUT/DELETE /v1/cart/items/{sku_id}.
#include <fmt/format.h>
#include <boost/json.hpp>

#include "codec.hpp"
#include "handler_util.hpp"
#include "redloop/db/repos.hpp"

namespace redloop::api {

using namespace redloop::engine;

Result<PricedCart> load_priced_cart(db::Tx& tx, const UserId& user) {
    const auto lines = db::cart_of(tx, user);
    std::vector<Sku> skus;
    std::vector<std::string> titles;
    for (const auto& l : lines) {
        auto sku = db::find_sku(tx, l.sku_id);
        auto product = sku ? db::find_product(tx, sku->product_id) : std::nullopt;
        if (!sku || !product) return fail(ErrorCode::internal, "cart names a missing sku");
        skus.push_back(*sku);
        titles.push_back(product->title);
    }
    return price_cart(lines, skus, titles);
}

namespace {

UserId user_of(const Principal& p) {
    return UserId::trusted(p.sub.str());
}

Result<Response> cart_response(db::Tx& tx, const UserId& user) {
    auto cart = load_priced_cart(tx, user);
    if (!cart) return fail(cart.error());
    return json_response(200, encode_cart(*cart));
}

Result<Response> get_cart(Context& ctx) {
    auto p = ctx.require({Role::user});
    if (!p) return fail(p.error());
    return ctx.app.db().read([&](db::Tx& tx) { return cart_response(tx, user_of(*p)); });
}

Result<Response> put_item(Context& ctx) {
    auto p = ctx.require({Role::user});
    if (!p) return fail(p.error());
    auto sku = path_id<SkuId>(ctx, 0);
    if (!sku) return fail(sku.error());
    auto body = ctx.json_body();
    if (!body) return fail(body.error());
    auto cmd = decode_set_cart_line(*sku, *body);
    if (!cmd) return fail(cmd.error());
    const auto user = user_of(*p);
    return ctx.app.write(ctx, [&](db::Tx& tx) -> Result<Response> {
        CartLineContext found;
        found.sku = db::find_sku(tx, *sku);
        if (found.sku && found.sku->per_user_limit && cmd->quantity > 0) {
            found.units_bought = db::units_bought(tx, user, *sku);
        }
        if (cmd->note_id) {
            found.note = db::find_note(tx, *cmd->note_id);
            if (found.note) {
                for (const auto& tagged : found.note->skus) {
                    if (auto s = db::find_sku(tx, tagged))
                        found.note_products.push_back(s->product_id);
                }
            }
        }
        const auto cart = db::cart_of(tx, user);
        auto line = decide_set_line(cart, *cmd, found, ctx.now);
        if (!line) return fail(line.error());
        if (*line) {
            db::upsert_cart_line(tx, user, **line);
            // Attribution: a line created or raised with a note named is one add-to-cart.
            std::int64_t before = 0;
            for (const auto& l : cart) {
                if (l.sku_id == *sku) before = l.quantity;
            }
            if (cmd->note_id && (*line)->quantity > before) {
                db::count_add_to_cart(tx, *cmd->note_id, *sku);
            }
        } else {
            db::delete_cart_line(tx, user, *sku);
        }
        return cart_response(tx, user);
    });
}

Result<Response> delete_item(Context& ctx) {
    auto p = ctx.require({Role::user});
    if (!p) return fail(p.error());
    auto sku = path_id<SkuId>(ctx, 0);
    if (!sku) return fail(sku.error());
    if (auto s = decode_empty(ctx.req.body); !s) return fail(s.error());
    const auto user = user_of(*p);
    return ctx.app.write(ctx, [&](db::Tx& tx) -> Result<Response> {
        db::delete_cart_line(tx, user, *sku);
        return cart_response(tx, user);
    });
}

}  // namespace

void add_cart_routes(Router& r) {
    r.add("GET", "/v1/cart", get_cart);
    r.add("PUT", "/v1/cart/items/{sku_id}", put_item);
    r.add("DELETE", "/v1/cart/items/{sku_id}", delete_item);
}

}  // namespace redloop::api
