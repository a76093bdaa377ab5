#include "redloop/db/locks.hpp"

#include <soci/soci.h>

#include "soci_util.hpp"

namespace redloop::db {

namespace {
// pg_advisory_xact_lock(bigint): ours alone. The two-integer form used by lock_key has a key
// space of its own (PostgreSQL keeps the two forms apart).
constexpr long long kCommitOrderKey = 727375;
}  // namespace

void lock_commit_order(Tx& tx) {
    if (tx.dialect() != Dialect::postgresql) return;
    tx.sql() << "SELECT pg_advisory_xact_lock(" + std::to_string(kCommitOrderKey) + ")";
}

void lock_key(Tx& tx, LockSpace space, const std::string& key) {
    if (tx.dialect() != Dialect::postgresql) return;
    const int s = static_cast<int>(space);
    tx.sql() << "SELECT pg_advisory_xact_lock(:s, hashtext(:k))", soci::use(s), soci::use(key);
}

bool try_lock_checkout(Tx& tx, const std::string& checkout_id) {
    if (tx.dialect() != Dialect::postgresql) return true;
    std::string id;
    Query q(tx, "SELECT id FROM checkouts WHERE id = :id FOR UPDATE SKIP LOCKED");
    q.into(id).use(checkout_id);
    q.execute();
    return q.fetch();
}

}  // namespace redloop::db
