#pragma once
// Locks for several engine processes sharing one PostgreSQL database. On SQLite one process
// writes and its writers take turns, so each of these is a no-op there (and always succeeds).
// Every lock here is transaction-scoped: it is released by COMMIT or ROLLBACK, never by hand.
#include <string>

#include "redloop/db/tx.hpp"

namespace redloop::db {

// The commit-order lock: held from the first write whose order must be commit order (a
// journal entry, an event-log row) to the end of the transaction, so that the journal's and
// the event log's seq values are handed out in commit order (a sequence is not: two
// transactions may commit in the other order than they drew their numbers). One key for both,
// so that no two transactions can take them in opposite orders.
void lock_commit_order(Tx& tx);

// What a keyed lock is about; the key space of each is separate.
enum class LockSpace {
    idempotency_key = 1,  // key: caller + " " + Idempotency-Key
    webhook_event = 2,    // key: the provider's event id
    buyer = 3,            // key: a user id (per-user limits counted, then written)
    settlement = 4,       // key: an order id (its commissions settled once)
};
// Waits for the lock on (space, key). Keys are hashed to 32 bits: two keys that collide only
// wait for each other.
void lock_key(Tx& tx, LockSpace space, const std::string& key);

// Locks the checkout's row for the rest of the transaction unless another transaction holds
// it (FOR UPDATE SKIP LOCKED): false means another node is working on it right now.
bool try_lock_checkout(Tx& tx, const std::string& checkout_id);

}  // namespace redloop::db
