// GET/PATCH /v1/merchants/me.
#include <boost/json.hpp>

#include "codec.hpp"
#include "handler_util.hpp"
#include "redloop/db/repos.hpp"

namespace redloop::api {

using namespace redloop::engine;

namespace {

Result<Merchant> load_merchant(db::Tx& tx, const Principal& p) {
    auto m = db::find_merchant(tx, MerchantId::trusted(p.sub.str()));
    // ensure_actor created it before the handler ran.
    if (!m) return fail(ErrorCode::internal, "merchant row missing for " + p.sub.str());
    return *m;
}

Result<Response> get_me(Context& ctx) {
    auto p = ctx.require({Role::merchant});
    if (!p) return fail(p.error());
    return ctx.app.db().read([&](db::Tx& tx) -> Result<Response> {
        auto m = load_merchant(tx, *p);
        if (!m) return fail(m.error());
        return json_response(200, encode_merchant(*m));
    });
}

Result<Response> patch_me(Context& ctx) {
    auto p = ctx.require({Role::merchant});
    if (!p) return fail(p.error());
    auto body = ctx.json_body();
    if (!body) return fail(body.error());
    auto patch = decode_merchant_patch(*body);
    if (!patch) return fail(patch.error());
    return ctx.app.write(ctx, [&](db::Tx& tx) -> Result<Response> {
        auto m = load_merchant(tx, *p);
        if (!m) return fail(m.error());
        auto updated = apply_patch(*m, *patch, ctx.now);
        if (!updated) return fail(updated.error());
        db::update_merchant(tx, *updated);
        return json_response(200, encode_merchant(*updated));
    });
}

}  // namespace

void add_merchant_routes(Router& r) {
    r.add("GET", "/v1/merchants/me", get_me);
    r.add("PATCH", "/v1/merchants/me", patch_me);
}

}  // namespace redloop::api
