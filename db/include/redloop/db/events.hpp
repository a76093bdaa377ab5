#pragma once
// The event log (migration 0005): rows written inside the transaction of the change they report,
// read back in seq order by the live stream.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "redloop/db/tx.hpp"

namespace redloop::db {

struct EventRow {
    std::int64_t seq = 0;  // assigned on insert
    std::int64_t at_ms = 0;
    std::string scope;  // "orders" | "sku" | "earnings"
    std::string type;
    std::optional<std::string> user_id;
    std::optional<std::string> merchant_id;
    std::optional<std::string> sku_id;
    std::string data;  // a JSON object
};

void insert_event(Tx& tx, const EventRow& e);
// PostgreSQL: the commit-order lock (locks.hpp), so that seq order is commit order.
void lock_event_log(Tx& tx);
// PostgreSQL: the channel on which a transaction that wrote events notifies, on commit, the
// other nodes' stream hubs (Database::listen), and the notification itself (in the transaction:
// PostgreSQL delivers it when, and only if, the transaction commits).
inline constexpr const char* kEventChannel = "redloop_events";
void notify_event_log(Tx& tx);
// The highest seq written so far (0 for an empty log).
std::int64_t last_event_seq(Tx& tx);
// Every event with after < seq <= upto, in seq order, at most `limit`.
std::vector<EventRow> events_between(Tx& tx, std::int64_t after, std::int64_t upto, int limit);

// Which events one topic reads from the log.
struct EventFilter {
    std::string scope;                       // "orders" | "sku" | "earnings"
    std::optional<std::string> user_id;      // orders of this user
    std::optional<std::string> merchant_id;  // orders, or SKUs, of this shop
    std::vector<std::string> sku_ids;        // events of these SKUs (a note's tags)
    bool everything = false;                 // every event of the scope (admin)
};
std::vector<EventRow> events_matching(Tx& tx, const EventFilter& f, std::int64_t after,
                                      std::int64_t upto, int limit);

// Retention: removes events older than `cutoff_ms` and remembers the highest seq removed.
std::int64_t purge_events(Tx& tx, std::int64_t cutoff_ms);
std::int64_t events_purged_through(Tx& tx);

}  // namespace redloop::db
