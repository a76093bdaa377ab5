#pragma once
// JSON shapes of the contract: decoders from request bodies into engine commands and encoders
// of engine objects into response bodies. The only place that knows the wire field names.
#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "redloop/engine/cart.hpp"
#include "redloop/engine/catalog.hpp"
#include "redloop/engine/checkout.hpp"
#include "redloop/engine/commission.hpp"
#include "redloop/engine/merchant.hpp"
#include "redloop/engine/notes.hpp"
#include "redloop/engine/promotion.hpp"
#include "redloop/engine/result.hpp"
#include "redloop/engine/settlement.hpp"

namespace redloop::api {

// ---- decoders: body -> command (shape and types; engine::validate checks the rest) ----
engine::Result<engine::CreateProduct> decode_create_product(const boost::json::value& body);
engine::Result<engine::ProductPatch> decode_product_patch(const boost::json::value& body);
engine::Result<engine::SkuPatch> decode_sku_patch(const boost::json::value& body);
engine::Result<engine::StockAdjustment> decode_stock_adjustment(const boost::json::value& body);
engine::Result<engine::MerchantPatch> decode_merchant_patch(const boost::json::value& body);
engine::Result<engine::CreateNote> decode_create_note(const boost::json::value& body);
// PUT /v1/cart/items/{sku_id}: {quantity, note_id?}
engine::Result<engine::SetCartLine> decode_set_cart_line(const engine::SkuId& sku,
                                                         const boost::json::value& body);
// POST /v1/checkouts: {shipping_address:{...}, coupon_codes?:[...]}
struct CheckoutRequest {
    engine::ShippingAddress address;
    std::vector<std::string> coupon_codes;  // normalized (upper case), no repeats
};
engine::Result<CheckoutRequest> decode_checkout(const boost::json::value& body);
// POST /v1/coupons: {code, kind, value, min_spend?, starts_at?, ends_at?, max_redemptions?,
// per_user_limit?}
engine::Result<engine::CreateCoupon> decode_create_coupon(const boost::json::value& body);
// PATCH /v1/coupons/{code}: {status?, ends_at?, max_redemptions?}
engine::Result<engine::CouponPatch> decode_coupon_patch(const boost::json::value& body);
// POST /v1/orders/{id}/ship: {carrier, tracking_number}
engine::Result<engine::Shipment> decode_shipment(const boost::json::value& body);
// POST /v1/payments/{id}/confirm: {card_number}
engine::Result<std::string> decode_confirm(const boost::json::value& body);
// POST /v1/orders/{id}/refunds: {amount, reason, restock?}
engine::Result<engine::CreateRefund> decode_create_refund(const boost::json::value& body);
// A provider event: {id, type, data:{payment_id, amount, refund_id?}}
struct ProviderEvent {
    engine::EventId id;
    std::string type;  // payment.succeeded | payment.failed | refund.succeeded
    engine::PaymentId payment_id;
    std::optional<engine::RefundId> refund_id;
    engine::Money amount;
};
engine::Result<ProviderEvent> decode_provider_event(const boost::json::value& body);
// An action with no parameters: the body may be absent or {}.
engine::Status decode_empty(const std::string& raw_body);

// ---- encoders ----
// The encoders that take a storage_ptr build the value in it (a page of orders in one
// monotonic_resource instead of a malloc per node).
boost::json::value encode_money(const engine::Money& m, boost::json::storage_ptr sp = {});
boost::json::value encode_merchant(const engine::Merchant& m);
boost::json::value encode_sku(const engine::Sku& s);
boost::json::value encode_product(const engine::Product& p, const std::vector<engine::Sku>& skus);
boost::json::value encode_inventory(const engine::Sku& s);
boost::json::value encode_note(const engine::Note& n,
                               const std::vector<engine::TaggedListing>& listings);
boost::json::value encode_cart(const engine::PricedCart& cart);
boost::json::value encode_order(const engine::Order& o, boost::json::storage_ptr sp = {});
// `counts`: the redemption counts, shown to the coupon's owner (its shop, or an admin).
boost::json::value encode_coupon(const engine::Coupon& c, bool counts);
// {order_id, note_id, creator_id?, kind, amount, at}: one commission ledger entry.
boost::json::value encode_commission_entry(const engine::CommissionEntry& e, bool with_creator);
boost::json::value encode_payment(const engine::Payment& p);
boost::json::value encode_refund(const engine::Refund& r);
boost::json::value encode_checkout(const engine::Checkout& c,
                                   const std::vector<engine::Order>& orders,
                                   const engine::Payment& p);
// {"data": [...], "next_cursor": "..."|null}, in the storage of `data`.
boost::json::value encode_list(boost::json::array data, const std::optional<std::string>& cursor);
// The same envelope around items already serialized (each one JSON value), as text.
std::string encode_list_text(const std::vector<std::string_view>& items,
                             const std::optional<std::string>& cursor);

std::string to_body(const boost::json::value& v);

}  // namespace redloop::api
