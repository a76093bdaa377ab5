#pragma once
// Repositories: the engine's types in and out of SQL. They throw on database failure
// (Database::read/write turn that into an Error); "no such row" is an empty optional.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "redloop/db/page.hpp"
#include "redloop/db/tx.hpp"
#include "redloop/engine/catalog.hpp"
#include "redloop/engine/merchant.hpp"
#include "redloop/engine/notes.hpp"
#include "redloop/engine/promotion.hpp"

namespace redloop::db {

// ---- merchants and users ----
std::optional<engine::Merchant> find_merchant(Tx& tx, const engine::MerchantId& id);
// Inserts the merchant unless it exists; returns true when inserted.
bool insert_merchant_if_absent(Tx& tx, const engine::Merchant& m);
void update_merchant(Tx& tx, const engine::Merchant& m);
bool insert_user_if_absent(Tx& tx, const engine::UserId& id, engine::Timestamp now);

// ---- catalog ----
void insert_product(Tx& tx, const engine::ProductCreated& created);
std::optional<engine::Product> find_product(Tx& tx, const engine::ProductId& id);
std::vector<engine::Sku> skus_of_product(Tx& tx, const engine::ProductId& id);
void update_product(Tx& tx, const engine::Product& p);
std::optional<engine::Sku> find_sku(Tx& tx, const engine::SkuId& id);
// Writes title, price and per-user limit (stock moves only through apply_stock_movement).
void update_sku(Tx& tx, const engine::Sku& sku);
// Applies the movement with a guarded update (on_hand + d1 >= reserved + d2, both >= 0) and
// appends it to the ledger. Returns false, changing nothing, when the guard fails.
bool apply_stock_movement(Tx& tx, const engine::StockMovement& m);
// The ledger of one SKU, oldest first.
std::vector<engine::StockMovement> ledger_of_sku(Tx& tx, const engine::SkuId& id);
// A shop's SKUs with their product's title, newest first (the dashboard's inventory).
struct InventoryItem {
    engine::Sku sku;
    std::string product_title;
};
Page<InventoryItem> merchant_inventory(Tx& tx, const engine::MerchantId& merchant,
                                       std::optional<std::int64_t> before_seq, int limit);

// ---- notes ----
void insert_note(Tx& tx, const engine::Note& note);
std::optional<engine::Note> find_note(Tx& tx, const engine::NoteId& id);
Page<engine::Note> notes_by_sku(Tx& tx, const engine::SkuId& sku,
                                std::optional<std::int64_t> before_seq, int limit);
// Listings of the note's SKUs, in tag order, with their products' commission rates.
std::vector<engine::TaggedListing> tagged_listings(Tx& tx, const engine::Note& note);
void add_note_views(Tx& tx, const std::vector<std::pair<engine::NoteId, std::int64_t>>& views);
std::int64_t note_views(Tx& tx, const engine::NoteId& id);

// ---- attribution (analytics: not in the state hash) ----
// One more add-to-cart of the SKU from the note.
void count_add_to_cart(Tx& tx, const engine::NoteId& note, const engine::SkuId& sku);
// What each note did for one shop: every note that tags one of its SKUs or is named on a line
// of its sold orders. A sale is an order of the shop that was paid and not cancelled (paid,
// shipped, delivered, completed or refunded); GMV is the sum of its lines from the note, before
// refunds; discount the sum of those lines' parts of their orders' coupon discounts; commission
// what those lines earn their creators (accrued - reversed). Ordered by GMV, then units, then
// note id.
struct NoteAttribution {
    engine::NoteId note_id;
    std::string title;
    std::string author_id;
    std::int64_t views = 0;
    std::int64_t add_to_carts = 0;
    std::int64_t orders = 0;
    std::int64_t units = 0;
    std::int64_t gmv_minor = 0;
    std::int64_t discount_minor = 0;
    std::int64_t commission_minor = 0;
};
std::vector<NoteAttribution> note_attribution(Tx& tx, const engine::MerchantId& merchant);

// ---- idempotency ----
struct StoredResponse {
    std::string request_hash;
    int status = 0;
    std::string body;
};
std::optional<StoredResponse> find_idempotent(Tx& tx, const std::string& caller,
                                              const std::string& key);
void store_idempotent(Tx& tx, const std::string& caller, const std::string& key,
                      const StoredResponse& response, engine::Timestamp now);
// Deletes keys created before `cutoff`; returns how many.
std::int64_t purge_idempotency(Tx& tx, engine::Timestamp cutoff);

}  // namespace redloop::db

#include "redloop/engine/cart.hpp"
#include "redloop/engine/checkout.hpp"
#include "redloop/engine/commission.hpp"
#include "redloop/engine/order.hpp"
#include "redloop/engine/payment.hpp"

namespace redloop::db {

// ---- cart ----
std::vector<engine::CartLine> cart_of(Tx& tx, const engine::UserId& user);
void upsert_cart_line(Tx& tx, const engine::UserId& user, const engine::CartLine& line);
bool delete_cart_line(Tx& tx, const engine::UserId& user, const engine::SkuId& sku);
void clear_cart(Tx& tx, const engine::UserId& user);

// ---- checkout ----
// Writes the checkout, its orders, payment and reservations, reserving stock with guarded
// updates. Returns the SKUs whose reservation failed (then the caller must roll back).
std::vector<engine::SkuId> insert_checkout(Tx& tx, const engine::CheckoutPlan& plan);
std::optional<engine::Checkout> find_checkout(Tx& tx, const engine::CheckoutId& id);
// Writes the extension (expires_at, extended_at) if the checkout still awaits payment and was
// not extended; false (nothing written) otherwise.
bool extend_checkout(Tx& tx, const engine::Checkout& checkout);
// Units of `sku` in the user's orders counted by per-user limits (engine::counts_toward_limit):
// the user's orders (orders_by_user_status) joined to their lines.
std::int64_t units_bought(Tx& tx, const engine::UserId& user, const engine::SkuId& sku);
// Moves the checkout from `from` to its new status; false when it was no longer `from`.
bool update_checkout_status(Tx& tx, const engine::Checkout& checkout, engine::CheckoutStatus from);
std::vector<engine::CheckoutId> due_checkouts(Tx& tx, engine::Timestamp now, int limit);

// ---- payments ----
std::optional<engine::Payment> find_payment(Tx& tx, const engine::PaymentId& id);
// Writes status, amount, refunded and the newest history entry if the stored status is still
// `from`; false (nothing written) when another writer moved it first.
bool update_payment(Tx& tx, const engine::Payment& p, engine::PaymentStatus from);

// ---- refunds ----
void insert_refund(Tx& tx, const engine::Refund& r);
std::optional<engine::Refund> find_refund(Tx& tx, const engine::RefundId& id);
std::vector<engine::Refund> refunds_of_order(Tx& tx, const engine::OrderId& id);
// A payment's refunds still waiting for the provider, oldest first.
std::vector<engine::Refund> pending_refunds_of_payment(Tx& tx, const engine::PaymentId& id);
// One page of an order's refunds, oldest first, after `after_seq`; next_before is the seq to
// continue after.
Page<engine::Refund> refunds_page(Tx& tx, const engine::OrderId& id,
                                  std::optional<std::int64_t> after_seq, int limit);
// pending -> succeeded; false when it was not pending any more.
bool mark_refund_succeeded(Tx& tx, const engine::Refund& r);

// ---- provider webhook events ----
struct WebhookEvent {
    std::string id;
    std::string type;
    std::string payload;
    std::string status;  // processed | pending | rejected
    int attempts = 0;
    std::string detail;
    engine::Timestamp received_at;
    engine::Timestamp updated_at;
};
std::optional<WebhookEvent> find_webhook_event(Tx& tx, const std::string& id);
// Inserts or replaces the record of an event.
void save_webhook_event(Tx& tx, const WebhookEvent& e);
std::vector<WebhookEvent> pending_webhook_events(Tx& tx, int limit);

// ---- orders ----
std::optional<engine::Order> find_order(Tx& tx, const engine::OrderId& id);
std::vector<engine::Order> orders_of_checkout(Tx& tx, const engine::CheckoutId& id);
// Erases name, phone and address from the user's finished orders (completed, cancelled,
// expired, refunded); returns how many orders had something erased. Money records stay.
std::int64_t erase_personal_data(Tx& tx, const engine::UserId& user, engine::Timestamp now);
// The user's finished orders that still carry personal data: what erase_personal_data erases.
struct ErasableOrder {
    std::string order_id, checkout_id, merchant_id;
};
std::vector<ErasableOrder> erasable_orders(Tx& tx, const engine::UserId& user);
// Whether no order of the checkout carries personal data any more.
bool checkout_fully_erased(Tx& tx, const engine::CheckoutId& id);

// ---- the copies of personal data beside the orders (see erase_personal_data in the API) ----
// The stored idempotent responses of a caller (key, opened body).
std::vector<std::pair<std::string, std::string>> idempotent_responses_of(Tx& tx,
                                                                         const std::string& caller);
// Replaces a stored response's body (sealed again).
void replace_idempotent_body(Tx& tx, const std::string& caller, const std::string& key,
                             const std::string& body);
// The order-scope events of a user (seq, opened data).
std::vector<std::pair<std::int64_t, std::string>> order_events_of_user(Tx& tx,
                                                                       const std::string& user);
void replace_event_data(Tx& tx, std::int64_t seq, const std::string& data);
// The journal's checkout requests by an actor (seq, opened body, ids created).
struct JournalCheckout {
    std::int64_t seq = 0;
    std::string body;
    std::vector<std::string> ids;
    std::string response_sha256;
};
std::vector<JournalCheckout> journal_checkouts_of(Tx& tx, const std::string& actor);
// Replaces an entry's body (sealed again) and its response hash, and drops its recorded effects.
void redact_journal_entry(Tx& tx, std::int64_t seq, const std::string& body,
                          const std::string& response_sha256);

// (status, count) for every status that has orders.
std::vector<std::pair<std::string, std::int64_t>> order_counts_by_status(Tx& tx);
struct OrderFilter {
    std::optional<engine::UserId> user;
    std::optional<engine::MerchantId> merchant;
    std::optional<engine::OrderStatus> status;
};
// `with_children(order)` false: that order comes without its lines, history and discounts (the
// caller has what it needs of them, e.g. the order's JSON); none are read for it.
Page<engine::Order> list_orders(
    Tx& tx, const OrderFilter& filter, std::optional<std::int64_t> before_seq, int limit,
    const std::function<bool(const engine::Order&)>& with_children = {});
// Writes the order's status, shipment, refunded amount and the newest history entry, if the
// stored status is still `from`. False (nothing written) when another writer moved it first.
bool update_order(Tx& tx, const engine::Order& order, engine::OrderStatus from);

// ---- reservations ----
// Applies the release movements of an order and marks its held reservations released.
// False when a reservation was no longer held (nothing is written then by the caller's rollback).
bool release_reservations(Tx& tx, const engine::OrderId& order,
                          const std::vector<engine::StockMovement>& releases);
// Applies the sale movements of a paid order and marks its held reservations sold.
bool sell_reservations(Tx& tx, const engine::OrderId& order,
                       const std::vector<engine::StockMovement>& sales);
// SUM(quantity) of the SKU's held reservations (for invariant checks).
std::int64_t held_quantity(Tx& tx, const engine::SkuId& sku);

// ---- promotions (repos_promotions.cpp) ----
// False (nothing written) when a coupon with that code exists.
bool insert_coupon(Tx& tx, const engine::Coupon& c);
std::optional<engine::Coupon> find_coupon(Tx& tx, const std::string& code);
// Writes status, ends_at and max_redemptions; false when the limit is below what is in use.
bool update_coupon(Tx& tx, const engine::Coupon& c);
// A shop's coupons, or the platform's (nullopt), newest first.
Page<engine::Coupon> list_coupons(Tx& tx, const std::optional<engine::MerchantId>& merchant,
                                  std::optional<std::int64_t> before_seq, int limit);
// Checkouts of this user that hold the coupon or paid with it.
std::int64_t coupon_user_in_use(Tx& tx, const std::string& code, const engine::UserId& user);
// Records the coupons of a new checkout (held) and counts each coupon once more in use, guarded
// by its limit; then checks the user's own limit again, after that update (on PostgreSQL the
// update locks the coupon's row, so two checkouts of one user can't both pass). Returns the
// code and why when a limit was reached meanwhile (the caller fails the transaction).
struct CouponRefusal {
    std::string code;
    std::string reason;
};
std::optional<CouponRefusal> hold_coupons(Tx& tx, const engine::CheckoutPlan& plan,
                                          const std::vector<engine::CouponShare>& shares,
                                          const std::vector<engine::CouponRequest>& coupons);
// Moves the order's coupon redemptions to what its status means (held, redeemed, returned) and
// the coupons' counts with them. update_order calls it; a no-op for an order without coupons.
void sync_redemptions(Tx& tx, const engine::Order& order);

// ---- commissions (repos_commissions.cpp) ----
// What a checkout needs to fix a line's commission terms: the note's author (nullopt: no such
// note) and the commission rate of the SKU's product (0 when unknown).
std::optional<engine::ActorId> note_author(Tx& tx, const engine::NoteId& note);
int commission_rate_of_sku(Tx& tx, const engine::SkuId& sku);
// The order's lines that earn commission (a creator was fixed at checkout), with what the
// ledger holds for each, by position.
std::vector<engine::CommissionLine> commission_lines(Tx& tx, const engine::OrderId& order);
// Appends the entries to the ledger and moves each line's commission (accrued - reversed) with
// them. A repeated entry (same order, line, kind and ref) is a conflict.
void insert_commission_entries(Tx& tx, const std::vector<engine::CommissionEntry>& entries);
// One ledger entry by its seq (the id its live event names).
std::optional<engine::CommissionEntry> find_commission_entry(Tx& tx, std::int64_t seq);
// Marks the order's commission lines settled at `at` (the settlement ran, even of nothing).
void mark_commission_settled(Tx& tx, const engine::OrderId& order, engine::Timestamp at);
// Completed orders with lines not settled yet whose return window (from their completion) has
// passed by `now`, completed first.
std::vector<engine::OrderId> orders_to_settle(Tx& tx, engine::Timestamp now, int limit);
// One side of the ledger: a creator's entries, or a shop's (exactly one of the two is set).
struct CommissionFilter {
    std::optional<engine::UserId> creator;
    std::optional<engine::MerchantId> merchant;
};
// Newest first.
Page<engine::CommissionEntry> commission_entries(Tx& tx, const CommissionFilter& f,
                                                 std::optional<std::int64_t> before_seq, int limit);
engine::CommissionTotals commission_totals(Tx& tx, const CommissionFilter& f);

}  // namespace redloop::db
