#pragma once
// Repositories: the engine's types in and out of SQL. They throw on database failure
// (Database::read/write turn that into an Error); "no such row" is an empty optional.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "redloop/db/page.hpp"
#include "redloop/db/tx.hpp"
#include "redloop/engine/catalog.hpp"
#include "redloop/engine/merchant.hpp"
#include "redloop/engine/notes.hpp"

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
// Writes title and price (stock moves only through apply_stock_movement).
void update_sku(Tx& tx, const engine::Sku& sku);
// Applies the movement with a guarded update (on_hand + d1 >= reserved + d2, both >= 0) and
// appends it to the ledger. Returns false, changing nothing, when the guard fails.
bool apply_stock_movement(Tx& tx, const engine::StockMovement& m);
// The ledger of one SKU, oldest first.
std::vector<engine::StockMovement> ledger_of_sku(Tx& tx, const engine::SkuId& id);

// ---- notes ----
void insert_note(Tx& tx, const engine::Note& note);
std::optional<engine::Note> find_note(Tx& tx, const engine::NoteId& id);
Page<engine::Note> notes_by_sku(Tx& tx, const engine::SkuId& sku,
                                std::optional<std::int64_t> before_seq, int limit);
// Listings of the note's SKUs, in tag order, with their products' commission rates.
std::vector<engine::TaggedListing> tagged_listings(Tx& tx, const engine::Note& note);
void add_note_views(Tx& tx, const std::vector<std::pair<engine::NoteId, std::int64_t>>& views);
std::int64_t note_views(Tx& tx, const engine::NoteId& id);

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
