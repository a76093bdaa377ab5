// The shop's own views for the dashboard: GET /v1/inventory and GET /v1/analytics/notes.
#include <boost/json.hpp>

#include <algorithm>

#include "codec.hpp"
#include "handler_util.hpp"
#include "redloop/db/repos.hpp"

namespace redloop::api {

using namespace redloop::engine;

namespace {

Result<Response> list_inventory(Context& ctx) {
    auto p = ctx.require({Role::merchant});
    if (!p) return fail(p.error());
    auto page = page_params(ctx.req);
    if (!page) return fail(page.error());
    const auto merchant = MerchantId::trusted(p->sub.str());
    return ctx.app.db().read([&](db::Tx& tx) -> Result<Response> {
        auto items = db::merchant_inventory(tx, merchant, page->before, page->limit);
        boost::json::array data;
        for (const auto& item : items.items) {
            const Sku& s = item.sku;
            data.push_back(boost::json::object{{"sku_id", s.id.str()},
                                               {"product_id", s.product_id.str()},
                                               {"product_title", item.product_title},
                                               {"title", s.title},
                                               {"price", encode_money(s.price)},
                                               {"on_hand", s.on_hand},
                                               {"reserved", s.reserved},
                                               {"available", s.available()},
                                               {"status", to_string(s.status)}});
        }
        std::optional<std::string> cursor;
        if (items.next_before) cursor = encode_cursor(*items.next_before);
        return json_response(200, encode_list(std::move(data), cursor));
    });
}

Result<Response> note_analytics(Context& ctx) {
    auto p = ctx.require({Role::merchant});
    if (!p) return fail(p.error());
    // A list like any other (?limit=, ?cursor=), in the order of GMV: the cursor is the
    // position of the next note in that order, computed again for each page.
    auto page = page_params(ctx.req);
    if (!page) return fail(page.error());
    const auto merchant_id = MerchantId::trusted(p->sub.str());
    return ctx.app.db().read([&](db::Tx& tx) -> Result<Response> {
        auto merchant = db::find_merchant(tx, merchant_id);
        if (!merchant) return fail(ErrorCode::internal, "merchant row missing for " + p->sub.str());
        boost::json::array data;
        const auto money = [&](std::int64_t minor) {
            return encode_money(Money{minor, merchant->currency});
        };
        const auto all = db::note_attribution(tx, merchant_id);
        const auto from = static_cast<std::size_t>(std::min<std::int64_t>(
            page->before.value_or(0), static_cast<std::int64_t>(all.size())));
        const auto to = std::min(all.size(), from + static_cast<std::size_t>(page->limit));
        for (std::size_t i = from; i < to; ++i) {
            const auto& a = all[i];
            // The same disclosure a reader sees on the note (brand, affiliate or none).
            boost::json::value disclosure = nullptr;
            if (auto note = db::find_note(tx, a.note_id)) {
                if (auto d =
                        to_string(disclosure_of(note->author_id, db::tagged_listings(tx, *note)))) {
                    disclosure = boost::json::value(*d);
                }
            }
            data.push_back(boost::json::object{
                {"note_id", a.note_id.str()},
                {"title", a.title},
                {"author_id", a.author_id},
                {"disclosure", std::move(disclosure)},
                {"views", a.views},
                {"add_to_carts", a.add_to_carts},
                {"orders", a.orders},
                {"units", a.units},
                {"gmv", money(a.gmv_minor)},
                {"discount", money(a.discount_minor)},
                {"commission", money(a.commission_minor)},
                {"net", money(a.gmv_minor - a.discount_minor - a.commission_minor)}});
        }
        std::optional<std::string> cursor;
        if (to < all.size()) cursor = encode_cursor(static_cast<std::int64_t>(to));
        return json_response(200, encode_list(std::move(data), cursor));
    });
}

}  // namespace

void add_analytics_routes(Router& r) {
    r.add("GET", "/v1/inventory", list_inventory);
    r.add("GET", "/v1/analytics/notes", note_analytics);
}

}  // namespace redloop::api
