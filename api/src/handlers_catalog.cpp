// Products, SKUs and stock adjustments. Writes are the owning merchant's; reads are public.
#include <fmt/format.h>
#include <boost/json.hpp>

#include "codec.hpp"
#include "handler_util.hpp"
#include "id_generator.hpp"
#include "redloop/db/repos.hpp"

namespace redloop::api {

using namespace redloop::engine;

namespace {

Unexpected no_such(std::string_view noun, const std::string& id) {
    return fail(ErrorCode::not_found, fmt::format("no {} {}", noun, id));
}

Result<Response> create_product(Context& ctx) {
    auto p = ctx.require({Role::merchant});
    if (!p) return fail(p.error());
    auto body = ctx.json_body();
    if (!body) return fail(body.error());
    auto cmd = decode_create_product(*body);
    if (!cmd) return fail(cmd.error());
    const auto product_id = new_id<ProductId>();
    std::vector<SkuId> sku_ids;
    for (std::size_t i = 0; i < cmd->skus.size(); ++i) sku_ids.push_back(new_id<SkuId>());
    return ctx.app.write(ctx, [&](db::Tx& tx) -> Result<Response> {
        auto merchant = db::find_merchant(tx, MerchantId::trusted(p->sub.str()));
        if (!merchant) return fail(ErrorCode::internal, "merchant row missing");
        auto created = decide_create_product(*merchant, *cmd, product_id, sku_ids, ctx.now);
        if (!created) return fail(created.error());
        db::insert_product(tx, *created);
        return json_response(201, encode_product(created->product, created->skus));
    });
}

Result<Response> get_product(Context& ctx) {
    auto id = path_id<ProductId>(ctx, 0);
    if (!id) return fail(id.error());
    return ctx.app.db().read([&](db::Tx& tx) -> Result<Response> {
        auto product = db::find_product(tx, *id);
        if (!product) return no_such("product", id->str());
        return json_response(200, encode_product(*product, db::skus_of_product(tx, *id)));
    });
}

Result<Response> patch_product(Context& ctx) {
    auto p = ctx.require({Role::merchant});
    if (!p) return fail(p.error());
    auto id = path_id<ProductId>(ctx, 0);
    if (!id) return fail(id.error());
    auto body = ctx.json_body();
    if (!body) return fail(body.error());
    auto patch = decode_product_patch(*body);
    if (!patch) return fail(patch.error());
    return ctx.app.write(ctx, [&](db::Tx& tx) -> Result<Response> {
        auto product = db::find_product(tx, *id);
        if (!product || !owns(*p, product->merchant_id)) return no_such("product", id->str());
        const auto updated = apply_patch(*product, *patch, ctx.now);
        db::update_product(tx, updated);
        return json_response(200, encode_product(updated, db::skus_of_product(tx, *id)));
    });
}

Result<Response> get_sku(Context& ctx) {
    auto id = path_id<SkuId>(ctx, 0);
    if (!id) return fail(id.error());
    return ctx.app.db().read([&](db::Tx& tx) -> Result<Response> {
        auto sku = db::find_sku(tx, *id);
        if (!sku) return no_such("sku", id->str());
        return json_response(200, encode_sku(*sku));
    });
}

Result<Response> patch_sku(Context& ctx) {
    auto p = ctx.require({Role::merchant});
    if (!p) return fail(p.error());
    auto id = path_id<SkuId>(ctx, 0);
    if (!id) return fail(id.error());
    auto body = ctx.json_body();
    if (!body) return fail(body.error());
    auto patch = decode_sku_patch(*body);
    if (!patch) return fail(patch.error());
    return ctx.app.write(ctx, [&](db::Tx& tx) -> Result<Response> {
        auto sku = db::find_sku(tx, *id);
        if (!sku || !owns(*p, sku->merchant_id)) return no_such("sku", id->str());
        auto merchant = db::find_merchant(tx, sku->merchant_id);
        if (!merchant) return fail(ErrorCode::internal, "merchant row missing");
        auto updated = apply_patch(*merchant, *sku, *patch, ctx.now);
        if (!updated) return fail(updated.error());
        db::update_sku(tx, *updated);
        return json_response(200, encode_sku(*updated));
    });
}

Result<Response> get_inventory(Context& ctx) {
    auto p = ctx.require({Role::merchant, Role::admin});
    if (!p) return fail(p.error());
    auto id = path_id<SkuId>(ctx, 0);
    if (!id) return fail(id.error());
    return ctx.app.db().read([&](db::Tx& tx) -> Result<Response> {
        auto sku = db::find_sku(tx, *id);
        if (!sku || (p->role != Role::admin && !owns(*p, sku->merchant_id))) {
            return no_such("sku", id->str());
        }
        return json_response(200, encode_inventory(*sku));
    });
}

Result<Response> adjust_stock(Context& ctx) {
    auto p = ctx.require({Role::merchant});
    if (!p) return fail(p.error());
    auto id = path_id<SkuId>(ctx, 0);
    if (!id) return fail(id.error());
    auto body = ctx.json_body();
    if (!body) return fail(body.error());
    auto cmd = decode_stock_adjustment(*body);
    if (!cmd) return fail(cmd.error());
    return ctx.app.write(ctx, [&](db::Tx& tx) -> Result<Response> {
        auto sku = db::find_sku(tx, *id);
        if (!sku || !owns(*p, sku->merchant_id)) return no_such("sku", id->str());
        auto movement = decide_adjust_stock(*sku, *cmd, p->sub, ctx.now);
        if (!movement) return fail(movement.error());
        if (!db::apply_stock_movement(tx, *movement)) {
            return fail(ErrorCode::conflict,
                        fmt::format("sku {}: on_hand may not go below reserved", id->str()));
        }
        auto after = db::find_sku(tx, *id);
        return json_response(200, encode_inventory(*after));
    });
}

}  // namespace

void add_catalog_routes(Router& r) {
    r.add("POST", "/v1/products", create_product);
    r.add("GET", "/v1/products/{id}", get_product);
    r.add("PATCH", "/v1/products/{id}", patch_product);
    r.add("GET", "/v1/skus/{id}", get_sku);
    r.add("PATCH", "/v1/skus/{id}", patch_sku);
    r.add("GET", "/v1/skus/{id}/inventory", get_inventory);
    r.add("POST", "/v1/skus/{id}/stock-adjustments", adjust_stock);
}

}  // namespace redloop::api
