#include "codec.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>

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
        if (!item.is_null("per_user_limit")) {
            s.per_user_limit = item.opt_integer("per_user_limit", 1, kPerUserLimitMax);
        }
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
    if (r.is_null("per_user_limit")) {
        p.set_per_user_limit = true;
    } else if (auto limit = r.opt_integer("per_user_limit", 1, kPerUserLimitMax)) {
        p.set_per_user_limit = true;
        p.per_user_limit = limit;
    }
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

Result<SetCartLine> decode_set_cart_line(const SkuId& sku, const json::value& body) {
    JsonReader r(body);
    SetCartLine cmd;
    cmd.sku_id = sku;
    cmd.quantity = r.integer("quantity", 0, kLineQuantityMax);
    if (!r.is_null("note_id")) {
        if (auto note = r.opt_string("note_id")) {
            auto id = NoteId::parse(*note);
            if (!id) {
                r.reject("note_id", id.error().detail);
            } else {
                cmd.note_id = *id;
            }
        }
    }
    return finish(r, std::move(cmd));
}

Result<CheckoutRequest> decode_checkout(const json::value& body) {
    JsonReader r(body);
    CheckoutRequest out;
    ShippingAddress& a = out.address;
    r.each_object_field("shipping_address", true, [&](JsonReader& addr) {
        a.name = addr.string("name");
        a.phone = addr.string("phone");
        a.line1 = addr.string("line1");
        a.city = addr.string("city");
        a.postal_code = addr.string("postal_code");
        a.country = addr.string("country");
    });
    auto codes = r.opt_string_array("coupon_codes", kCouponsPerCheckoutMax);
    if (auto s = r.finish(); !s) return fail(s.error());
    if (auto s = validate("shipping_address", a); !s) return fail(s.error());
    for (const auto& c : codes.value_or(std::vector<std::string>{})) {
        auto code = normalize_coupon_code(c);
        if (!code) return fail(ErrorCode::invalid_request, "coupon_codes: " + code.error().detail);
        if (std::find(out.coupon_codes.begin(), out.coupon_codes.end(), *code) !=
            out.coupon_codes.end()) {
            return fail(ErrorCode::invalid_request, "coupon_codes: " + *code + " is given twice");
        }
        out.coupon_codes.push_back(*code);
    }
    return out;
}

Result<CreateCoupon> decode_create_coupon(const json::value& body) {
    JsonReader r(body);
    CreateCoupon c;
    c.code = r.string("code");
    const auto kind = r.string("kind");
    // Minor units (or a percent), or money like every other amount: {"amount", "currency"}.
    const auto* given = body.is_object() ? body.as_object().if_contains("value") : nullptr;
    if (given && given->is_object()) {
        const auto money = r.money("value");
        c.value = money.minor;
        c.value_currency = money.currency;
    } else {
        c.value = r.integer("value", 1, kMoneyMinorMax);
    }
    c.min_spend = r.opt_money("min_spend");
    c.starts_at = r.opt_time("starts_at");
    c.ends_at = r.opt_time("ends_at");
    c.max_redemptions = r.opt_integer("max_redemptions", 1, kCouponLimitMax);
    c.per_user_limit = r.opt_integer("per_user_limit", 1, kCouponLimitMax);
    if (auto s = r.finish(); !s) return fail(s.error());
    auto k = parse_coupon_kind(kind);
    if (!k) return fail(ErrorCode::invalid_request, "kind: expected \"percent\" or \"amount\"");
    c.kind = *k;
    return c;
}

Result<CouponPatch> decode_coupon_patch(const json::value& body) {
    JsonReader r(body);
    CouponPatch p;
    const auto status = r.opt_string("status");
    p.ends_at = r.opt_time("ends_at");
    p.max_redemptions = r.opt_integer("max_redemptions", 1, kCouponLimitMax);
    if (auto s = r.finish(); !s) return fail(s.error());
    if (status) {
        p.status = parse_coupon_status(*status);
        if (!p.status) {
            return fail(ErrorCode::invalid_request, "status: expected \"active\" or \"disabled\"");
        }
    }
    if (!p.status && !p.ends_at && !p.max_redemptions) {
        return fail(ErrorCode::invalid_request,
                    "nothing to change: give status, ends_at or max_redemptions");
    }
    return p;
}

Result<Shipment> decode_shipment(const json::value& body) {
    JsonReader r(body);
    Shipment s;
    s.carrier = r.string("carrier");
    s.tracking_number = r.string("tracking_number");
    return finish(r, std::move(s));
}

Result<std::string> decode_confirm(const json::value& body) {
    JsonReader r(body);
    auto card = r.string("card_number");
    if (auto s = r.finish(); !s) return fail(s.error());
    if (card.size() < 12 || card.size() > 19 ||
        card.find_first_not_of("0123456789") != std::string::npos) {
        return fail(ErrorCode::invalid_request, "card_number: expected 12 to 19 digits");
    }
    return card;
}

Result<CreateRefund> decode_create_refund(const json::value& body) {
    JsonReader r(body);
    CreateRefund cmd;
    cmd.amount = r.money("amount");
    cmd.reason = r.string("reason");
    cmd.restock = r.opt_boolean("restock").value_or(false);
    return finish(r, std::move(cmd));
}

Result<ProviderEvent> decode_provider_event(const json::value& body) {
    JsonReader r(body);
    const auto id = r.string("id");
    const auto type = r.string("type");
    std::string payment, refund;
    bool has_refund = false;
    Money amount;
    r.each_object_field("data", true, [&](JsonReader& d) {
        payment = d.string("payment_id");
        amount = d.money("amount");
        if (auto ref = d.opt_string("refund_id")) {
            has_refund = true;
            refund = *ref;
        }
    });
    if (auto s = r.finish(); !s) return fail(s.error());
    auto event_id = EventId::parse(id);
    if (!event_id) return fail(ErrorCode::invalid_request, "id: " + event_id.error().detail);
    if (type != "payment.succeeded" && type != "payment.failed" && type != "refund.succeeded") {
        return fail(ErrorCode::invalid_request,
                    "type must be payment.succeeded, payment.failed or refund.succeeded");
    }
    auto payment_id = PaymentId::parse(payment);
    if (!payment_id)
        return fail(ErrorCode::invalid_request, "data.payment_id: " + payment_id.error().detail);
    ProviderEvent e{*event_id, type, *payment_id, std::nullopt, amount};
    if (type == "refund.succeeded") {
        // Optional: without it the payment's oldest pending refund of the amount is meant.
        if (!has_refund) return e;
        auto refund_id = RefundId::parse(refund);
        if (!refund_id)
            return fail(ErrorCode::invalid_request, "data.refund_id: " + refund_id.error().detail);
        e.refund_id = *refund_id;
    } else if (has_refund) {
        return fail(ErrorCode::invalid_request, "data.refund_id: only refund events carry it");
    }
    return e;
}

Status decode_empty(const std::string& raw_body) {
    if (raw_body.empty()) return {};
    auto v = parse_json_object(raw_body);
    if (!v) return fail(v.error());
    JsonReader r(*v);
    return r.finish();
}

// ---------------------------------------------------------------- encoders

json::value encode_money(const Money& m, json::storage_ptr sp) {
    return json::object({{"amount", m.minor}, {"currency", m.currency.code()}}, std::move(sp));
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
    o["per_user_limit"] = s.per_user_limit ? json::value(*s.per_user_limit) : json::value(nullptr);
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

namespace {
template <typename IdT>
json::value optional_id(const std::optional<IdT>& id, json::storage_ptr sp = {}) {
    return id ? json::value(id->str(), std::move(sp)) : json::value(nullptr, std::move(sp));
}
}  // namespace

json::value encode_cart(const PricedCart& cart) {
    json::array items;
    for (const auto& l : cart.lines) {
        json::object o;
        o["sku_id"] = l.sku.id.str();
        o["product_id"] = l.sku.product_id.str();
        o["merchant_id"] = l.sku.merchant_id.str();
        o["title"] = l.title;
        o["sku_title"] = l.sku.title;
        o["quantity"] = l.line.quantity;
        o["note_id"] = optional_id(l.line.note_id);
        o["unit_price"] = encode_money(l.sku.price);
        o["line_total"] = encode_money(l.line_total);
        o["available"] = l.sku.available();
        o["purchasable"] = l.problem == LineProblem::none;
        const auto problem = to_string(l.problem);
        o["problem"] = problem ? json::value(*problem) : json::value(nullptr);
        items.push_back(std::move(o));
    }
    return json::object{{"items", std::move(items)}, {"subtotal", encode_money(cart.subtotal)}};
}

namespace {

// to_rfc3339(t) written straight into the JSON string, without a std::string and fmt in between
// (a listing page has a few hundred timestamps). The same text byte for byte; outside the years
// 0000-9999, where the widths would differ, it is to_rfc3339's.
json::string rfc3339(Timestamp t) {
    using namespace std::chrono;
    constexpr std::int64_t kMsPerDay = 86'400'000;
    std::int64_t days = t.unix_ms / kMsPerDay;
    if (t.unix_ms % kMsPerDay < 0) --days;
    const std::int64_t ms_of_day = t.unix_ms - days * kMsPerDay;
    const year_month_day ymd{sys_days{std::chrono::days{days}}};
    const int year = int(ymd.year());
    if (year < 0 || year > 9999) return json::string(to_rfc3339(t));
    char buf[24];
    auto put = [&buf](std::size_t at, std::int64_t v, std::size_t width) {
        for (std::size_t i = width; i-- > 0; v /= 10) buf[at + i] = static_cast<char>('0' + v % 10);
    };
    put(0, year, 4);
    buf[4] = '-';
    put(5, unsigned(ymd.month()), 2);
    buf[7] = '-';
    put(8, unsigned(ymd.day()), 2);
    buf[10] = 'T';
    put(11, ms_of_day / 3'600'000, 2);
    buf[13] = ':';
    put(14, (ms_of_day / 60'000) % 60, 2);
    buf[16] = ':';
    put(17, (ms_of_day / 1000) % 60, 2);
    buf[19] = '.';
    put(20, ms_of_day % 1000, 3);
    buf[23] = 'Z';
    return json::string(json::string_view(buf, sizeof buf));
}

}  // namespace

// Built with initializer lists, whose rvalue members (lines, money, history) are moved in, so
// each object is allocated once at its final size and nothing is copied twice.
json::value encode_order(const Order& o, json::storage_ptr sp) {
    json::array lines(sp);
    lines.reserve(o.lines.size());
    for (const auto& l : o.lines) {
        lines.emplace_back(json::object({{"sku_id", l.sku_id.str()},
                                         {"title", l.title},
                                         {"quantity", l.quantity},
                                         {"unit_price", encode_money(l.unit_price, sp)},
                                         {"line_total", encode_money(l.line_total, sp)},
                                         {"discount", encode_money(l.discount, sp)},
                                         {"note_id", optional_id(l.note_id, sp)}},
                                        sp));
    }
    json::array discounts(sp);
    for (const auto& d : o.discounts) {
        discounts.emplace_back(
            json::object({{"code", d.code}, {"amount", encode_money(d.amount, sp)}}, sp));
    }
    json::value address(nullptr, sp);
    if (o.address) {
        address = json::object({{"name", o.address->name},
                                {"phone", o.address->phone},
                                {"line1", o.address->line1},
                                {"city", o.address->city},
                                {"postal_code", o.address->postal_code},
                                {"country", o.address->country}},
                               sp);
    }
    json::value shipment(nullptr, sp);
    if (o.shipment) {
        shipment = json::object(
            {{"carrier", o.shipment->carrier}, {"tracking_number", o.shipment->tracking_number}},
            sp);
    }
    json::array history(sp);
    history.reserve(o.history.size());
    for (const auto& h : o.history) {
        history.emplace_back(
            json::object({{"status", to_string(h.status)}, {"at", rfc3339(h.at)}}, sp));
    }
    return json::object({{"id", o.id.str()},
                         {"checkout_id", o.checkout_id.str()},
                         {"user_id", o.user_id.str()},
                         {"merchant_id", o.merchant_id.str()},
                         {"status", to_string(o.status)},
                         {"lines", std::move(lines)},
                         {"subtotal", encode_money(o.subtotal, sp)},
                         {"shipping_fee", encode_money(o.shipping_fee, sp)},
                         {"discount", encode_money(o.discount, sp)},
                         {"discounts", std::move(discounts)},
                         {"total", encode_money(o.total, sp)},
                         {"refunded_amount", encode_money(o.refunded, sp)},
                         {"shipping_address", std::move(address)},
                         {"shipment", std::move(shipment)},
                         {"history", std::move(history)},
                         {"created_at", rfc3339(o.created_at)},
                         {"updated_at", rfc3339(o.updated_at)}},
                        sp);
}

json::value encode_coupon(const Coupon& c, bool counts) {
    auto time_or_null = [](const std::optional<Timestamp>& t) {
        return t ? json::value(to_rfc3339(*t)) : json::value(nullptr);
    };
    auto int_or_null = [](const std::optional<std::int64_t>& n) {
        return n ? json::value(*n) : json::value(nullptr);
    };
    json::object o{{"code", c.code},
                   {"scope", c.is_platform() ? "platform" : "merchant"},
                   {"merchant_id", optional_id(c.merchant_id)},
                   {"kind", to_string(c.kind)},
                   {"value", c.value},
                   {"currency", c.currency.code()},
                   {"min_spend", encode_money(c.min_spend)},
                   {"starts_at", time_or_null(c.starts_at)},
                   {"ends_at", time_or_null(c.ends_at)},
                   {"max_redemptions", int_or_null(c.max_redemptions)},
                   {"per_user_limit", int_or_null(c.per_user_limit)},
                   {"status", to_string(c.status)},
                   {"created_at", to_rfc3339(c.created_at)},
                   {"updated_at", to_rfc3339(c.updated_at)}};
    if (counts) {
        o["in_use"] = c.in_use;
        o["redeemed"] = c.redeemed;
    }
    return o;
}

json::value encode_commission_entry(const CommissionEntry& e, bool with_creator) {
    json::object item{{"order_id", e.order_id.str()}, {"note_id", e.note_id.str()}};
    if (with_creator) item["creator_id"] = e.creator.str();
    item["kind"] = to_string(e.kind);
    item["amount"] = encode_money(e.amount);
    item["at"] = to_rfc3339(e.at);
    return item;
}

json::value encode_payment(const Payment& p) {
    json::array history;
    for (const auto& h : p.history) {
        history.push_back(json::object{{"status", to_string(h.status)}, {"at", to_rfc3339(h.at)}});
    }
    return json::object{{"id", p.id.str()},
                        {"checkout_id", p.checkout_id.str()},
                        {"status", to_string(p.status)},
                        {"amount", encode_money(p.amount)},
                        {"refunded_amount", encode_money(p.refunded)},
                        {"history", std::move(history)},
                        {"created_at", to_rfc3339(p.created_at)},
                        {"updated_at", to_rfc3339(p.updated_at)}};
}

json::value encode_refund(const Refund& r) {
    return json::object{
        {"id", r.id.str()},
        {"order_id", r.order_id ? json::value(r.order_id->str()) : json::value(nullptr)},
        {"payment_id", r.payment_id.str()},
        {"amount", encode_money(r.amount)},
        {"reason", r.reason},
        {"restock", r.restock},
        {"status", to_string(r.status)},
        {"created_at", to_rfc3339(r.created_at)},
        {"updated_at", to_rfc3339(r.updated_at)}};
}

json::value encode_checkout(const Checkout& c, const std::vector<Order>& orders, const Payment& p) {
    json::array os;
    for (const auto& o : orders) os.push_back(encode_order(o));
    return json::object{{"id", c.id.str()},
                        {"status", to_string(c.status)},
                        {"created_at", to_rfc3339(c.created_at)},
                        {"expires_at", to_rfc3339(c.expires_at)},
                        {"extended", c.extended_at.has_value()},
                        {"orders", std::move(os)},
                        {"payment", encode_payment(p)}};
}

json::value encode_list(json::array data, const std::optional<std::string>& cursor) {
    const json::storage_ptr sp = data.storage();
    json::object o(sp);
    o.emplace("data", std::move(data));
    o.emplace("next_cursor", cursor ? json::value(*cursor, sp) : json::value(nullptr, sp));
    return o;
}

std::string encode_list_text(const std::vector<std::string_view>& items,
                             const std::optional<std::string>& cursor) {
    std::string out = "{\"data\":[";
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i) out += ',';
        out += items[i];
    }
    out += "],\"next_cursor\":";
    out += cursor ? json::serialize(json::value(*cursor)) : std::string("null");
    out += '}';
    return out;
}

std::string to_body(const json::value& v) {
    return json::serialize(v);
}

}  // namespace redloop::api
