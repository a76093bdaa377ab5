#include "codec.hpp"

#include <boost/json.hpp>

#include "json_reader.hpp"

namespace redloop::api {

namespace json = boost::json;
using namespace redloop::engine;

namespace {

std::vector<Media> read_media(JsonReader& r) {
    std::vector<Media> media;
    r.each_object("media", false, kMediaMax, [&](JsonReader& item, std::size_t) {
        const auto type = item.string("type");
        const auto url = item.string("url");
        if (!item.ok()) return;
        const auto t = parse_media_type(type);
        if (!t) {
            item.reject("type", "must be \"image\" or \"video\"");
            return;
        }
        media.push_back(Media{*t, url});
    });
    return media;
}

template <typename T>
Result<T> finish(JsonReader& r, T value) {
    if (auto s = r.finish(); !s) return fail(s.error());
    if (auto s = validate(value); !s) return fail(s.error());
    return value;
}

}  // namespace

Result<CreateProduct> decode_create_product(const json::value& body) {
    JsonReader r(body);
    CreateProduct cmd;
    cmd.title = r.string("title");
    cmd.description = r.opt_string("description").value_or("");
    cmd.media = read_media(r);
    cmd.commission_rate_bps =
        static_cast<int>(r.opt_integer("commission_rate_bps", 0, kCommissionBpsMax).value_or(0));
    r.each_object("skus", true, kSkusPerProductMax, [&](JsonReader& item, std::size_t) {
        NewSku s;
        s.title = item.string("title");
        s.price = item.money("price");
        s.stock = item.integer("stock", 0, kStockMax);
        cmd.skus.push_back(std::move(s));
    });
    return finish(r, std::move(cmd));
}

Result<ProductPatch> decode_product_patch(const json::value& body) {
    JsonReader r(body);
    ProductPatch p;
    p.title = r.opt_string("title");
    p.description = r.opt_string("description");
    if (auto status = r.opt_string("status")) {
        p.status = parse_product_status(*status);
        if (!p.status) r.reject("status", "must be \"active\" or \"archived\"");
    }
    if (auto bps = r.opt_integer("commission_rate_bps", 0, kCommissionBpsMax)) {
        p.commission_rate_bps = static_cast<int>(*bps);
    }
    return finish(r, std::move(p));
}

Result<SkuPatch> decode_sku_patch(const json::value& body) {
    JsonReader r(body);
    SkuPatch p;
    p.title = r.opt_string("title");
    p.price = r.opt_money("price");
    return finish(r, std::move(p));
}

Result<StockAdjustment> decode_stock_adjustment(const json::value& body) {
    JsonReader r(body);
    StockAdjustment a;
    a.delta = r.integer("delta", -kStockMax, kStockMax);
    a.reason = r.string("reason");
    return finish(r, std::move(a));
}

Result<MerchantPatch> decode_merchant_patch(const json::value& body) {
    JsonReader r(body);
    MerchantPatch p;
    p.name = r.opt_string("name");
    p.shipping_fee = r.opt_money("shipping_fee");
    if (r.is_null("free_shipping_over")) {
        p.set_free_shipping_over = true;
    } else if (auto m = r.opt_money("free_shipping_over")) {
        p.set_free_shipping_over = true;
        p.free_shipping_over = m;
    }
    if (auto d = r.opt_integer("return_window_days", 0, kReturnWindowDaysMax)) {
        p.return_window_days = static_cast<int>(*d);
    }
    return finish(r, std::move(p));
}

Result<CreateNote> decode_create_note(const json::value& body) {
    JsonReader r(body);
    CreateNote cmd;
    cmd.title = r.string("title");
    cmd.body = r.opt_string("body").value_or("");
    cmd.media = read_media(r);
    r.each_object("products", false, kNoteSkusMax, [&](JsonReader& item, std::size_t) {
        const auto text = item.string("sku_id");
        if (!item.ok()) return;
        auto id = SkuId::parse(text);
        if (!id) {
            item.reject("sku_id", id.error().detail);
            return;
        }
        cmd.skus.push_back(*id);
    });
    return finish(r, std::move(cmd));
}

// ---------------------------------------------------------------- encoders

json::value encode_money(const Money& m) {
    return json::object{{"amount", m.minor}, {"currency", m.currency.code()}};
}

json::value encode_merchant(const Merchant& m) {
    json::object o;
    o["id"] = m.id.str();
    o["name"] = m.name;
    o["currency"] = m.currency.code();
    o["shipping_fee"] = encode_money(m.shipping_fee);
    o["free_shipping_over"] =
        m.free_shipping_over ? encode_money(*m.free_shipping_over) : json::value(nullptr);
    o["return_window_days"] = m.return_window_days;
    o["created_at"] = to_rfc3339(m.created_at);
    o["updated_at"] = to_rfc3339(m.updated_at);
    return o;
}

json::value encode_sku(const Sku& s) {
    json::object o;
    o["id"] = s.id.str();
    o["product_id"] = s.product_id.str();
    o["merchant_id"] = s.merchant_id.str();
    o["title"] = s.title;
    o["price"] = encode_money(s.price);
    o["available"] = s.available();
    o["status"] = to_string(s.status);
    return o;
}

namespace {
json::array encode_media(const std::vector<Media>& media) {
    json::array a;
    for (const auto& m : media)
        a.push_back(json::object{{"type", to_string(m.type)}, {"url", m.url}});
    return a;
}
}  // namespace

json::value encode_product(const Product& p, const std::vector<Sku>& skus) {
    json::object o;
    o["id"] = p.id.str();
    o["merchant_id"] = p.merchant_id.str();
    o["title"] = p.title;
    o["description"] = p.description;
    o["media"] = encode_media(p.media);
    o["status"] = to_string(p.status);
    o["commission_rate_bps"] = p.commission_rate_bps;
    json::array a;
    for (const auto& s : skus) a.push_back(encode_sku(s));
    o["skus"] = std::move(a);
    o["created_at"] = to_rfc3339(p.created_at);
    o["updated_at"] = to_rfc3339(p.updated_at);
    return o;
}

json::value encode_inventory(const Sku& s) {
    return json::object{{"sku_id", s.id.str()},
                        {"on_hand", s.on_hand},
                        {"reserved", s.reserved},
                        {"available", s.available()}};
}

json::value encode_note(const Note& n, const std::vector<TaggedListing>& listings) {
    json::object o;
    o["id"] = n.id.str();
    o["author_id"] = n.author_id.str();
    o["title"] = n.title;
    o["body"] = n.body;
    o["media"] = encode_media(n.media);
    o["created_at"] = to_rfc3339(n.created_at);
    const auto disclosure = to_string(disclosure_of(n.author_id, listings));
    o["disclosure"] = disclosure ? json::value(*disclosure) : json::value(nullptr);
    json::array products;
    for (const auto& l : listings) {
        json::object p;
        p["sku_id"] = l.sku.id.str();
        p["product_id"] = l.sku.product_id.str();
        p["merchant_id"] = l.sku.merchant_id.str();
        p["title"] = l.product_title;
        p["sku_title"] = l.sku.title;
        p["price"] = encode_money(l.sku.price);
        p["available"] = l.sku.available();
        p["purchasable"] = purchasable(l.sku);
        products.push_back(std::move(p));
    }
    o["products"] = std::move(products);
    return o;
}

json::value encode_list(json::array data, const std::optional<std::string>& cursor) {
    json::object o;
    o["data"] = std::move(data);
    o["next_cursor"] = cursor ? json::value(*cursor) : json::value(nullptr);
    return o;
}

std::string to_body(const json::value& v) {
    return json::serialize(v);
}

}  // namespace redloop::api
