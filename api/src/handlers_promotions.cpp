// Coupons: POST/GET /v1/coupons, GET/PATCH /v1/coupons/{code}. A merchant's coupon takes money
// off its own orders; an admin's is a platform coupon, split across a checkout's orders.
#include <fmt/format.h>
#include <boost/json.hpp>

#include "codec.hpp"
#include "handler_util.hpp"
#include "redloop/db/repos.hpp"

namespace redloop::api {

using namespace redloop::engine;

namespace {

// The shop of a merchant's coupon, or nullopt for an admin's (platform) coupon.
std::optional<MerchantId> scope_of(const Principal& p) {
    if (p.role == Role::merchant) return MerchantId::trusted(p.sub.str());
    return std::nullopt;
}

// The coupon's owner sees its counts and may change it: its shop, or an admin for a platform one.
bool may_manage(const Principal& p, const Coupon& c) {
    if (c.is_platform()) return p.role == Role::admin;
    return owns(p, *c.merchant_id);
}

Result<std::string> path_code(const Context& ctx) {
    auto code = normalize_coupon_code(ctx.param(0));
    if (!code) return fail(ErrorCode::not_found, "no coupon " + ctx.param(0));
    return code;
}

Result<Response> create_coupon(Context& ctx) {
    auto p = ctx.require({Role::merchant, Role::admin});
    if (!p) return fail(p.error());
    auto body = ctx.json_body();
    if (!body) return fail(body.error());
    auto cmd = decode_create_coupon(*body);
    if (!cmd) return fail(cmd.error());
    return ctx.app.write(ctx, [&](db::Tx& tx) -> Result<Response> {
        const auto shop = scope_of(*p);
        Currency currency = Currency::cny();
        if (shop) {
            auto m = db::find_merchant(tx, *shop);
            if (!m) return fail(ErrorCode::internal, "merchant row missing for " + shop->str());
            currency = m->currency;
        }
        auto coupon = decide_create_coupon(*cmd, shop, currency, p->sub, ctx.now);
        if (!coupon) return fail(coupon.error());
        if (!db::insert_coupon(tx, *coupon)) {
            return fail(ErrorCode::conflict,
                        fmt::format("a coupon with code {} exists; codes are unique across shops "
                                    "and compared without case",
                                    coupon->code));
        }
        return json_response(201, encode_coupon(*coupon, true));
    });
}

// Anyone signed in may look a code up (the app shows what a code gives before checkout); the
// counts are for its owner.
Result<Response> get_coupon(Context& ctx) {
    auto p = ctx.require({Role::user, Role::merchant, Role::admin});
    if (!p) return fail(p.error());
    auto code = path_code(ctx);
    if (!code) return fail(code.error());
    return ctx.app.db().read([&](db::Tx& tx) -> Result<Response> {
        auto c = db::find_coupon(tx, *code);
        if (!c) return fail(ErrorCode::not_found, "no coupon " + *code);
        return json_response(200, encode_coupon(*c, may_manage(*p, *c)));
    });
}

// A merchant's own coupons; an admin's list is the platform's.
Result<Response> list_coupons(Context& ctx) {
    auto p = ctx.require({Role::merchant, Role::admin});
    if (!p) return fail(p.error());
    auto page = page_params(ctx.req);
    if (!page) return fail(page.error());
    return ctx.app.db().read([&](db::Tx& tx) -> Result<Response> {
        auto coupons = db::list_coupons(tx, scope_of(*p), page->before, page->limit);
        boost::json::array data;
        for (const auto& c : coupons.items) data.push_back(encode_coupon(c, true));
        std::optional<std::string> cursor;
        if (coupons.next_before) cursor = encode_cursor(*coupons.next_before);
        return json_response(200, encode_list(std::move(data), cursor));
    });
}

Result<Response> patch_coupon(Context& ctx) {
    auto p = ctx.require({Role::merchant, Role::admin});
    if (!p) return fail(p.error());
    auto code = path_code(ctx);
    if (!code) return fail(code.error());
    auto body = ctx.json_body();
    if (!body) return fail(body.error());
    auto patch = decode_coupon_patch(*body);
    if (!patch) return fail(patch.error());
    return ctx.app.write(ctx, [&](db::Tx& tx) -> Result<Response> {
        auto c = db::find_coupon(tx, *code);
        if (!c || !may_manage(*p, *c)) return fail(ErrorCode::not_found, "no coupon " + *code);
        auto updated = decide_update_coupon(*c, *patch, ctx.now);
        if (!updated) return fail(updated.error());
        if (!db::update_coupon(tx, *updated)) {
            return fail(ErrorCode::conflict,
                        fmt::format("max_redemptions {} is below the {} checkouts that already "
                                    "hold or paid with {}",
                                    updated->max_redemptions.value_or(0), c->in_use, c->code));
        }
        return json_response(200, encode_coupon(*updated, true));
    });
}

}  // namespace

// The coupons a checkout names, with the user's own use of each; unknown codes are a conflict
// naming them (handlers_checkout.cpp).
Result<std::vector<CouponRequest>> load_coupons(db::Tx& tx, const std::vector<std::string>& codes,
                                                const UserId& user) {
    std::vector<CouponRequest> out;
    for (const auto& code : codes) {
        auto c = db::find_coupon(tx, code);
        if (!c) {
            return fail(ErrorCode::conflict,
                        fmt::format("coupon {} does not apply: there is no such coupon", code));
        }
        const auto used = c->per_user_limit ? db::coupon_user_in_use(tx, code, user) : 0;
        out.push_back(CouponRequest{std::move(*c), used});
    }
    return out;
}

void add_promotion_routes(Router& r) {
    r.add("POST", "/v1/coupons", create_coupon);
    r.add("GET", "/v1/coupons", list_coupons);
    r.add("GET", "/v1/coupons/{code}", get_coupon);
    r.add("PATCH", "/v1/coupons/{code}", patch_coupon);
}

}  // namespace redloop::api
